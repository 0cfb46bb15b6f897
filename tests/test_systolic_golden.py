"""Systolic compute cycles against SCALE-Sim v3 (tests/golden/scalesim_v3_compute_cycles.csv;
provenance and the regeneration command in scalesim_v3_compute_cycles.md)."""
import csv
from pathlib import Path

import pytest

import accsim
from accsim.kernels.systolic import DATAFLOW_CODE, gemm_cycles

GOLDEN = Path(__file__).parent / "golden" / "scalesim_v3_compute_cycles.csv"
ROWS = list(csv.DictReader(GOLDEN.open()))
# SCALE-Sim reports the 0-based index of the last busy cycle, one less than the count.
SCALESIM_REPORT_OFFSET = 1


def _case(row):
    return (row["dataflow"], int(row["array_rows"]), int(row["array_cols"]),
            int(row["M"]), int(row["N"]), int(row["K"]), int(row["compute_cycles"]))


def _id(row):
    return "{dataflow}-{array_rows}x{array_cols}-m{M}n{N}k{K}".format(**row)


def test_golden_covers_what_the_issue_asks():
    cases = [_case(r) for r in ROWS]
    assert len(cases) >= 20
    assert {c[0] for c in cases} == {"ws", "os", "is"}
    assert any(c[1] != c[2] for c in cases), "non-square arrays"
    assert any(c[3] == 1 for c in cases), "GEMV"
    assert any(c[3] < c[1] and c[4] < c[2] and c[5] < c[1] for c in cases), "smaller than the array"
    assert any(c[3] % c[1] and c[4] % c[2] and c[5] % c[1] for c in cases), "non-divisible"


@pytest.mark.golden
@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_kernel_equals_scalesim(row):
    dataflow, rows, cols, m, n, k, expected = _case(row)
    cycles, _ = gemm_cycles(DATAFLOW_CODE[dataflow], rows, cols, m, n, k, False)
    assert cycles - SCALESIM_REPORT_OFFSET == expected


@pytest.mark.golden
@pytest.mark.parametrize("row", ROWS[::3], ids=_id)
def test_component_equals_scalesim(row, tmp_path):
    """The full path (tiling, kernel, component) keeps SCALE-Sim's count when memory
    does not limit: the tiler must not cut the streamed dimension."""
    dataflow, rows, cols, m, n, k, expected = _case(row)
    workload = tmp_path / "g.yaml"
    workload.write_text("schema_version: 1\nname: g\ndescription: d\nkind: ops\n"
                        f"ops: [{{name: g, gemm: {{m: {m}, n: {n}, k: {k}}}}}]\n")
    result = accsim.run("sa32", str(workload), overrides=[
        f"components.sa.rows={rows}", f"components.sa.cols={cols}", f"components.sa.dataflow={dataflow}",
        "components.dram.bandwidth=1 PB/s", "components.spad.capacity=64 MiB"])
    assert int(result.ops["compute_cycles"].iloc[0]) - SCALESIM_REPORT_OFFSET == expected


@pytest.mark.unit
def test_preload_overlap_hides_all_but_the_first_fill():
    base, folds = gemm_cycles(0, 32, 32, 256, 256, 256, False)
    overlapped, _ = gemm_cycles(0, 32, 32, 256, 256, 256, True)
    assert base - overlapped == (folds - 1) * 32
    assert gemm_cycles(1, 32, 32, 256, 256, 256, True) == gemm_cycles(1, 32, 32, 256, 256, 256, False)


@pytest.mark.unit
def test_pipelined_folds_overlap_skew_and_drain_with_the_next_stream():
    rows = cols = 128
    # decode-sized tile: 8 folds of a 128-row stream on a 128x128 array
    pipelined, folds = gemm_cycles(0, rows, cols, 128, 256, 512, 2)
    assert folds == 8 and pipelined == rows + folds * 128 + rows + cols - 2
    # the NeuPIMs/ONNXim instruction pipeline: each new-weight instruction starts R cycles after
    # the previous one and takes R + C - 2 + size cycles; the last ends at (folds - 1) R + R + C - 2 + size,
    # plus the first block's fill
    assert pipelined == rows + (folds - 1) * rows + rows + cols - 2 + 128
    # a stream shorter than the array still holds it for R cycles (the next block shifts in)
    short, _ = gemm_cycles(0, rows, cols, 16, 256, 512, 2)
    assert short == pipelined
    # a long stream: folds back to back, the latency paid once
    long, _ = gemm_cycles(0, rows, cols, 1000, 256, 512, 2)
    assert long == rows + folds * 1000 + rows + cols - 2
    # never slower than preload overlap alone; os ignores the mode
    assert long <= gemm_cycles(0, rows, cols, 1000, 256, 512, 1)[0]
    assert gemm_cycles(1, 32, 32, 256, 256, 256, 2) == gemm_cycles(1, 32, 32, 256, 256, 256, 0)
