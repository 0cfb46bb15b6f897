"""Trace mode: parsing of DRAMsim3 / Ramulator traces and `accsim mem`."""
import json
import subprocess
import sys

import pytest

from accsim.errors import ConfigError
from accsim.memory.trace import parse_trace

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, fmt, writes, arrivals", [
    ("0x40 READ 0\n0x80 WRITE 3\n", "dramsim3", [False, True], [0, 3]),
    ("0x40 R\n0x80 W\n", "ramulator", [False, True], [0, 0]),
    ("LD 0x40\nST 0x80\n", "ramulator2", [False, True], [0, 0]),
    ("# comment\n\n0x40 READ 0\n\n0x80 WRITE 3\n", "dramsim3", [False, True], [0, 3]),   # slow path
])
def test_formats(tmp_path, text, fmt, writes, arrivals):
    path = tmp_path / "t.trace"
    path.write_text(text)
    trace = parse_trace(path)
    assert trace.format == fmt
    assert trace.address.tolist() == [0x40, 0x80]
    assert trace.is_write.tolist() == writes and trace.arrive_cycle.tolist() == arrivals


def test_malformed_lines_are_all_reported_with_line_numbers(tmp_path):
    path = tmp_path / "bad.trace"
    path.write_text("0x10 READ 1\n0xzz READ 2\n0x40 WRITE 0\n0x50 READ\n0x60 FETCH 9\n")
    with pytest.raises(ConfigError) as info:
        parse_trace(path)
    assert [(p.line, p.message) for p in info.value.problems] == [
        (2, "'0xzz' is not a hexadecimal address"),
        (3, "cycle 0 is before the previous request's 1"),
        (4, "expected '0xADDR READ|WRITE CYCLE'"),
        (5, "expected '0xADDR READ|WRITE CYCLE'")]


def test_unknown_format_and_empty_trace(tmp_path):
    (tmp_path / "a").write_text("hello world again and again\n")
    (tmp_path / "b").write_text("# nothing\n")
    with pytest.raises(ConfigError, match="not a DRAMsim3"):
        parse_trace(tmp_path / "a")
    with pytest.raises(ConfigError, match="no requests"):
        parse_trace(tmp_path / "b")


@pytest.mark.cli
def test_mem_cli_reports_bandwidth_latency_hits_commands_energy(tmp_path):
    path = tmp_path / "seq.trace"
    path.write_text("".join(f"0x{i * 64:x} READ {i}\n" for i in range(4000)))
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "hbm2", str(path), "--json",
                           "--frontend", "unlimited"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    s = json.loads(done.stdout)
    assert s["requests"]["total"] == 4000 and s["trace_format"] == "dramsim3"
    assert s["row_buffer"]["hit_rate"] == pytest.approx(1 - 64 / 2048, abs=0.01)
    assert s["commands"]["RD"] == 4000
    assert s["read_latency_cycles"]["max"] >= s["read_latency_cycles"]["p99"] >= s["read_latency_cycles"]["p50"]
    assert 0 < s["bandwidth"]["fraction_of_peak"] <= 1
    assert s["energy_pj"]["total"] > 0
    # the in-order front end can never beat one request per cycle
    slow = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "hbm2", str(path), "--json"],
                          capture_output=True, text=True)
    assert json.loads(slow.stdout)["completion"]["cycles"] >= 4000


@pytest.mark.cli
def test_mem_cli_bad_input_exit_2(tmp_path):
    path = tmp_path / "bad.trace"
    path.write_text("0x10 READ 1\nnonsense\n")
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "hbm2", str(path)], capture_output=True,
                          text=True)
    assert done.returncode == 2 and f"{path}:2:" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "hbm2", str(path), "--set",
                           "address_mapping=ro-ch"], capture_output=True, text=True)
    assert done.returncode == 2 and "address_mapping" in done.stderr


@pytest.mark.cli
def test_mem_takes_an_architecture_with_dram(tmp_path):
    path = tmp_path / "t.trace"
    path.write_text("0x0 READ 0\n0x40 READ 1\n")
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "npu_hbm2", str(path), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bandwidth"]["peak_gb_per_s"] == pytest.approx(1024.0)     # npu_hbm2: 32 channels
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "npu", str(path)], capture_output=True,
                          text=True)
    assert done.returncode == 2 and "no `type: dram` memory" in done.stderr
