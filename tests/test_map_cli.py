"""`accsim map` and `accsim run --mapping` through real subprocesses."""
from __future__ import annotations

import json
import textwrap

import pytest

from test_cli import SMALL_SETS, accsim_cli

pytestmark = pytest.mark.cli


def test_map_prints_the_loop_nest_costs_and_the_simulation(tmp_path):
    out = accsim_cli(tmp_path, "map", "npu", "gpt2", *SMALL_SETS, "--op", "prefill.L0.ffn_up", "--top", "2")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "== prefill.L0.ffn_up" in text and "GEMM M=16 N=3072 K=768" in text
    assert "spad tile:" in text and "estimate" in text and "cycle-level simulation of this mapping" in text
    assert "#2:" in text and "mappings (" in text


def test_map_json_reports_estimate_next_to_simulation(tmp_path):
    out = accsim_cli(tmp_path, "map", "sa32", "gemm-256", "--json", "--objective", "edp")
    assert out.returncode == 0, out.stderr
    (report,) = json.loads(out.stdout)
    best = report["problems"][0]["best"]
    assert report["op"] == "gemm256" and report["simulated_cycles"] > 0
    assert abs(report["estimate_error"]) < 0.10
    assert best["mapping"]["tiles"][0].keys() == {"M", "N", "K"}
    assert report["problems"][0]["evaluated"] >= report["problems"][0]["valid"] > 0


def test_map_unknown_op_pattern_is_an_input_error(tmp_path):
    out = accsim_cli(tmp_path, "map", "npu", "gpt2", *SMALL_SETS, "--op", "nosuch*")
    assert out.returncode == 2
    assert "matches no mapped op" in out.stderr and "prefill.L0.qkv" in out.stderr


def _rules(tmp_path, body: str):
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def test_a_pinned_mapping_drives_the_run(tmp_path):
    free = json.loads(accsim_cli(tmp_path, "run", "sa32", "gemm-256", "--json").stdout)
    rules = _rules(tmp_path, """\
        schema_version: 1
        rules:
          - ops: "gemm*"
            tile: {M: 32, N: 32, K: 32}
            order: [K, M, N]
        """)
    out = accsim_cli(tmp_path, "run", "sa32", "gemm-256", "--json", "--mapping", rules)
    assert out.returncode == 0, out.stderr
    pinned = json.loads(out.stdout)
    # 512 tiles with partial sums going out and back: slower than the searched mapping
    assert pinned["total"]["cycles"] > free["total"]["cycles"]
    mapped = accsim_cli(tmp_path, "map", "sa32", "gemm-256", "--json", "--mapping", rules)
    best = json.loads(mapped.stdout)[0]["problems"][0]["best"]["mapping"]
    assert best["tiles"][0] == {"M": 32, "N": 32, "K": 32} and best["orders"][0] == ["K", "M", "N"]


def test_a_mapping_that_overflows_the_buffer_names_the_rule_and_the_capacity(tmp_path):
    rules = _rules(tmp_path, """\
        schema_version: 1
        rules:
          - ops: "*"
            tile: {M: 256, N: 256, K: 256}
        """)
    out = accsim_cli(tmp_path, "run", "sa32", "gemm-256", "--set", "components.spad.capacity=256 KiB",
                     "--mapping", rules)
    assert out.returncode == 2
    assert "rules.yaml:3" in out.stderr and "needs" in out.stderr and "256 KiB available" in out.stderr


def test_bad_mapping_files_are_reported_with_lines(tmp_path):
    rules = _rules(tmp_path, """\
        schema_version: 1
        objective: speed
        rules:
          - ops: "*"
            tile: {M: 0}
            splt: N
        """)
    out = accsim_cli(tmp_path, "run", "sa32", "gemm-256", "--mapping", rules)
    assert out.returncode == 2
    assert "rules.yaml:2: objective" in out.stderr
    assert "rules.yaml:5: rules[0].tile.M" in out.stderr
    assert "rules.yaml:6: rules[0].splt: unknown key (did you mean 'split'?)" in out.stderr
    out = accsim_cli(tmp_path, "run", "sa32", "gemm-256", "--mapping", tmp_path / "missing.yaml")
    assert out.returncode == 2 and "missing.yaml" in out.stderr


def test_a_tile_beyond_the_loop_bound_is_rejected(tmp_path):
    rules = _rules(tmp_path, """\
        schema_version: 1
        rules:
          - tile: {K: 512}
        """)
    out = accsim_cli(tmp_path, "map", "sa32", "gemm-256", "--mapping", rules)
    assert out.returncode == 2
    assert "K=512 does not cover the loop bound" in out.stderr


def test_the_bundled_example_rules_load_and_apply(tmp_path):
    from accsim.mapping_rules import load_rules
    from accsim.resolve import bundled_dir

    rules = load_rules(str(bundled_dir("config") / "mappings" / "example.yaml"))
    assert rules.match("prefill.L3.ffn_up").constraints.split == "N"
    assert rules.match("decode7.L0.proj").constraints.fixed_tile(1, "K") == 768
    assert rules.match("prefill.L0.qkv").constraints.no_split


def test_run_functional_checks_values_through_the_unit_models(tmp_path):
    out = accsim_cli(tmp_path, "run", "sa8_int8", "gemm-int8-small", "--functional")
    assert out.returncode == 0, out.stderr
    assert "all match the NumPy reference" in out.stdout


def test_bypass_rules_are_checked_against_the_hierarchy(tmp_path):
    rules = _rules(tmp_path, """\
        schema_version: 1
        rules:
          - bypass: [B@spad, nonsense]
        """)
    out = accsim_cli(tmp_path, "run", "sa32", "gemm-256", "--mapping", rules)
    assert out.returncode == 2 and "expected OPERAND@LEVEL" in out.stderr
    rules.write_text("schema_version: 1\nrules:\n  - bypass: [B@spad]\n")
    out = accsim_cli(tmp_path, "run", "sa32", "gemm-256", "--mapping", rules)
    assert out.returncode == 2 and "the array reads every operand from spad" in out.stderr
