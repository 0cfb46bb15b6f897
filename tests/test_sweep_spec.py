"""Sweep specs, sampling, point planning, objectives and the Pareto set (no simulation)."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from accsim.errors import ConfigError
from accsim.sweep.objectives import METRICS, parse_constraint, parse_objective, pareto_mask
from accsim.sweep.points import plan_sweep, spread
from accsim.sweep.spec import load_spec

BASE = """\
schema_version: 1
name: t
arch: sa32
workload: gemm-256
"""


def spec_file(tmp_path, body: str, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(BASE + textwrap.dedent(body))
    return path


def problems_of(excinfo) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


@pytest.mark.unit
def test_grid_of_lists_ranges_and_linked_paths(tmp_path):
    path = spec_file(tmp_path, """\
        parameters:
          array:
            paths: [components.sa.rows, components.sa.cols]
            values: [16, 32]
          components.dram.bandwidth: {from: 32, to: 128, factor: 2, unit: GB/s}
          components.dram.latency: {from: 0, to: 20, step: 10, unit: ns}
        objectives: [latency]
        """)
    plan = plan_sweep(load_spec(path))
    assert len(plan.points) == 2 * 3 * 3
    first = plan.points[0]
    assert first.arch_overrides == ("components.sa.rows=16", "components.sa.cols=16",
                                    "components.dram.bandwidth=32 GB/s", "components.dram.latency=0 ns")
    assert {p.values[1][1] for p in plan.points} == {32, 64, 128}
    assert len({p.key for p in plan.points}) == len(plan.points)


@pytest.mark.unit
def test_keys_follow_the_resolved_configuration_not_the_spelling(tmp_path):
    one = spec_file(tmp_path, "parameters:\n  components.sa.rows: [16, 32]\nobjectives: [latency]\n", "a.yaml")
    # the same configurations, reached through a linked parameter and a fixed override
    two = spec_file(tmp_path, "set: {components.vu.lanes: 32}\nparameters:\n  r:\n    paths: [components.sa.rows]\n"
                              "    values: [16, 32]\nobjectives: [energy]\n", "b.yaml")
    three = spec_file(tmp_path, "parameters:\n  components.sa.rows: [16, 33]\nobjectives: [latency]\n", "c.yaml")
    keys = [[p.key for p in plan_sweep(load_spec(path)).points] for path in (one, two, three)]
    assert keys[0] == keys[1]          # lanes: 32 is already the base value
    assert keys[0][0] == keys[2][0] and keys[0][1] != keys[2][1]


@pytest.mark.unit
@pytest.mark.parametrize("method", ["random", "latin_hypercube"])
def test_sampling_is_seeded_and_stays_in_range(tmp_path, method):
    body = f"""\
        parameters:
          components.dram.latency: {{from: 1, to: 1000, log: true, unit: ns}}
          components.vu.lanes: {{from: 4, to: 64, integer: true}}
          components.sa.dataflow: [ws, os]
        sampling: {{method: {method}, points: 20, seed: SEED}}
        objectives: [latency]
        """
    plans = [plan_sweep(load_spec(spec_file(tmp_path, body.replace("SEED", str(seed)), f"{seed}.yaml")))
             for seed in (1, 1, 2)]
    keys = [[p.key for p in plan.points] for plan in plans]
    assert keys[0] == keys[1] and keys[0] != keys[2]
    values = [dict(p.values) for p in plans[0].points]
    assert all(1 <= v["components.dram.latency"] <= 1000 for v in values)
    assert all(isinstance(v["components.vu.lanes"], int) and 4 <= v["components.vu.lanes"] <= 64 for v in values)
    if method == "latin_hypercube":   # every one of 20 strata of each range is used exactly once
        lanes = np.array([v["components.vu.lanes"] for v in values], dtype=float)
        strata = np.floor((lanes - 4) / (64 - 4) * 20).clip(0, 19)
        assert len(set(np.floor(np.log(np.array([v["components.dram.latency"] for v in values])) /
                                np.log(1000) * 20).clip(0, 19))) == 20
        assert len(set(strata)) >= 17   # integer rounding can move a value into the next stratum


@pytest.mark.unit
def test_spread_keeps_ends_and_spacing():
    assert spread(list(range(10)), 3) == [0, 4, 9]  # round(4.5) == 4
    assert spread(list(range(4)), 9) == [0, 1, 2, 3]


@pytest.mark.unit
def test_every_problem_is_reported_with_file_line_and_field(tmp_path):
    path = spec_file(tmp_path, """\
        parameters:
          components.sb.rows: [16]
          components.sa.rows:
            - 16
            - -4
          components.sa.rowz: [8]
          components.dram.latency: {from: 0, to: 10}
        objectives: [latency, speed]
        constraints: [area <= 800 furlongs]
        """)
    with pytest.raises(ConfigError) as excinfo:
        plan_sweep(load_spec(path))
    found = problems_of(excinfo)
    # the spec is checked first (range without a step in a grid, unknown objective, bad unit)
    assert any(f"{path}:11: parameters.components.dram.latency: a range needs step or factor" in p for p in found)
    assert any(f"{path}:12: objectives[1]: unknown objective 'speed'" in p for p in found)
    assert any(f"{path}:13: constraints[0]: area: unknown unit 'furlongs'" in p for p in found)
    path.write_text(path.read_text().replace("{from: 0, to: 10}", "[0 ns]").replace(", speed", "")
                    .replace("constraints: [area <= 800 furlongs]\n", ""))
    with pytest.raises(ConfigError) as excinfo:
        plan_sweep(load_spec(path))
    found = problems_of(excinfo)
    assert any(p.startswith(f"{path}:6: parameters.components.sb.rows: components.sb.rows: no key 'sb' "
                            "under components") and "keys there: dram, dma, spad, sa, vu" in p for p in found)
    assert f"{path}:9: parameters.components.sa.rows: -4: components.sa.rows: must be greater than zero, " \
           "got -4" in found                                     # the line of the bad value itself
    assert any(p.startswith(f"{path}:10: parameters.components.sa.rowz: 8: components.sa.rowz: unknown key")
               and "valid keys:" in p for p in found)


@pytest.mark.unit
@pytest.mark.parametrize("body, message", [
    ("objectives: [latency]\n", "empty sweep: no parameters"),
    ("parameters:\n  components.sa.rows: []\nobjectives: [latency]\n", "empty sweep: no values"),
    ("parameters:\n  components.sa.rows: [1]\nobjectives: []\n", "name at least one objective"),
    ("parameters:\n  components.sa.rows: [1, 1]\nobjectives: [latency]\n", "duplicate value 1"),
    ("parameters:\n  components.sa.rows: [1]\nobjectives: [latency]\nsampling: {method: random}\n",
     "random sampling needs points"),
    ("parameters:\n  speed: [1]\nobjectives: [latency]\n", "unknown top-level key 'speed'"),
    ("parameters:\n  components.sa.rows: [1]\nobjectives: [latency]\nbogus: 1\n", "unknown key"),
    ("parameters:\n  components.sa.rows: [16]\nobjectives: [throughput]\n",
     "throughput needs an LLM workload (kind: llm); gemm-256 is kind: ops"),
])
def test_bad_specs_are_rejected_before_running(tmp_path, body, message):
    with pytest.raises(ConfigError) as excinfo:
        plan_sweep(load_spec(spec_file(tmp_path, body)))
    found = problems_of(excinfo)
    assert any(message in p and p.startswith(str(tmp_path / "spec.yaml") + ":") for p in found), found


@pytest.mark.unit
def test_objectives_and_constraints_read_the_summary():
    flat = {"total.seconds": 2.0, "energy.total_pj": 10.0, "area.total_mm2": 4.0, "tokens.per_second": 8.0}
    values = {name: kind.compute(flat) for name, kind in METRICS.items()}
    assert values == {"latency": 2.0, "throughput": 8.0, "energy": 10.0, "area": 4.0, "edp": 20.0,
                      "perf_per_area": 2.0}
    assert METRICS["perf_per_area"].compute({"total.seconds": 2.0, "area.total_mm2": 4.0}) == 0.125
    where = ("s.yaml", 3)
    assert parse_constraint("latency <= 20 ms", where, "c").bound == pytest.approx(0.02)
    assert parse_constraint("energy < 1 uJ", where, "c").bound == pytest.approx(1e6)
    assert parse_constraint("area <= 0.5 cm2", where, "c").bound == pytest.approx(50.0)
    area = parse_constraint("area <= 800 mm2", where, "c")
    assert area.holds(800.0) and not area.holds(800.01)
    custom = parse_objective({"components.sa.utilization": "max"}, where, "o")
    assert custom.column == "summary.components.sa.utilization" and custom.sign == -1.0
    from accsim.sweep.objectives import MetricUnavailable

    with pytest.raises(MetricUnavailable, match="energy model is not available"):
        METRICS["energy"].compute({"total.seconds": 1.0})
    with pytest.raises(MetricUnavailable, match="area model is not available"):
        METRICS["area"].compute({"total.seconds": 1.0})


@pytest.mark.unit
def test_pareto_mask_against_brute_force():
    rng = np.random.default_rng(3)
    for objectives in (2, 3):
        values = rng.integers(0, 8, size=(200, objectives)).astype(float)
        expected = [not any(np.all(other <= row) and np.any(other < row) for other in values)
                    for row in values]
        assert pareto_mask(values).tolist() == expected


@pytest.mark.unit
def test_the_module_is_callable_and_still_a_package():
    import accsim.sweep
    import accsim.sweep.report

    assert callable(accsim.sweep) and callable(accsim.sweep.report.render_sweep)
    assert accsim.sweep.run_sweep.__doc__
