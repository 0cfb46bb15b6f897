"""The `accsim` command line through real subprocesses (run, list, check, exit codes).

Every subprocess runs with cwd=tmp_path (names must resolve from any directory)
and ACCSIM_CRASH_DIR=tmp_path/crash (crash reports never land elsewhere).
`run` uses a small workload (2 layers, batch 2, 8 prompt + 3 generated tokens)
except in one test that runs the bundled npu + gpt2 pair in full.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import accsim
from accsim.resolve import bundled_dir, resolve

ACCSIM_MODULE = [sys.executable, "-m", "accsim.cli"]
SMALL_SERVING = {"batch_size": 2, "prompt_tokens": 8, "generate_tokens": 3}
# the same shrinking, as --set overrides of the bundled gpt2 workload
SMALL_SETS = ["--set", "model.layers=2", "--set", "serving.batch_size=2",
              "--set", "serving.prompt_tokens=8", "--set", "serving.generate_tokens=3"]


# --------------------------------------------------------------------------- helpers


def accsim_cli(tmp_path: Path, *argv, command=None, env=None, timeout=300) -> subprocess.CompletedProcess:
    environment = {**os.environ, "ACCSIM_CRASH_DIR": str(tmp_path / "crash"), **(env or {})}
    return subprocess.run([*(command or ACCSIM_MODULE), *map(str, argv)], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def assert_input_error(proc: subprocess.CompletedProcess, tmp_path: Path) -> list[str]:
    """Exit 2, one `accsim: error:` line per problem, no traceback, no crash report."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines and all(line.startswith("accsim: error: ") for line in lines), proc.stderr
    assert not (tmp_path / "crash").exists() or not list((tmp_path / "crash").iterdir())
    return lines


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def gpt2_path() -> Path:
    return resolve("gpt2", "workload")


@pytest.fixture
def npu_path() -> Path:
    return resolve("npu", "arch")


@pytest.fixture
def small(tmp_path, gpt2_path) -> Path:
    """gpt2 shrunk to 2 layers, batch 2, 8 prompt + 3 generated tokens."""
    path = tmp_path / "small.yaml"
    path.write_text(textwrap.dedent(f"""\
        extends: {gpt2_path}
        name: small
        model:
          layers: 2
        serving:
          batch_size: {SMALL_SERVING['batch_size']}
          prompt_tokens: {SMALL_SERVING['prompt_tokens']}
          generate_tokens: {SMALL_SERVING['generate_tokens']}
        """))
    return path


# --------------------------------------------------------------------------- console script


@pytest.mark.cli
def test_console_script_installed_and_runs(tmp_path, small):
    script = shutil.which("accsim")
    assert script is not None, "the `accsim` console script is not on PATH"
    proc = accsim_cli(tmp_path, "--version", command=[script])
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"accsim {accsim.__version__}"
    proc = accsim_cli(tmp_path, "run", "npu", "small.yaml", command=[script])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.startswith("accsim: small on npu")


@pytest.mark.unit
def test_help_lists_subcommands_and_run_options(capsys):
    from accsim.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for name in ("run", "list", "check"):
        assert re.search(rf"\b{name}\b", text)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--set", "--out", "--json"):
        assert option in text


# --------------------------------------------------------------------------- run: output


@pytest.mark.cli
def test_run_text_summary_and_out_files(tmp_path, small, npu_path, gpt2_path):
    out = tmp_path / "results"
    proc = accsim_cli(tmp_path, "run", "npu", "small.yaml", "--out", "results",
                      "--set", "components.sa.pipelined_folds=false")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    text = proc.stdout
    assert sorted(os.listdir(out)) == ["area.csv", "energy.csv", "ops.csv", "summary.json",
                                       "trace.json"]   # no temporary files left behind
    summary = json.loads((out / "summary.json").read_text())

    # --- summary.json content
    total = summary["total"]
    assert total["seconds"] > 0 and total["cycles"] > 0 and isinstance(total["clock"], str)
    assert total["cycles"] == pytest.approx(total["seconds"] * 1e9, rel=1e-6)     # npu clock: 1 GHz
    tokens = summary["tokens"]
    generated = SMALL_SERVING["batch_size"] * SMALL_SERVING["generate_tokens"]
    assert tokens["generated"] == generated
    assert tokens["batch_size"] == SMALL_SERVING["batch_size"]
    assert tokens["per_second"] == pytest.approx(generated / total["seconds"], rel=1e-6)
    phases = summary["phases"]
    assert set(phases) == {"prefill", "decode"}
    assert all(p["seconds"] > 0 for p in phases.values())
    assert phases["prefill"]["seconds"] + phases["decode"]["seconds"] <= total["seconds"] * (1 + 1e-9)
    components = summary["components"]
    assert {"sa", "vu", "hbm", "dma", "spad"} <= set(components)
    for name, comp in components.items():
        if "peak_occupancy" in comp:          # buffers report how full they got
            assert 0 < comp["peak_occupancy"] <= 1, name
            continue
        assert 0 <= comp["utilization"] <= 1, name
        assert 0 < comp["busy_seconds"] <= total["seconds"] * (1 + 1e-9), name
    assert summary["memory_levels"]["hbm"]["bytes_read"] > 0

    # --- metadata: version, input hashes, overrides, shortcuts
    meta = summary["metadata"]
    assert meta["accsim_version"] == accsim.__version__
    inputs = {str(Path(k).resolve()): v for k, v in meta["inputs"].items()}
    assert inputs == {str(p.resolve()): sha256(p) for p in (npu_path, gpt2_path, small)}
    assert meta["overrides"]["arch"] == ["components.sa.pipelined_folds=false"]
    assert meta["overrides"]["workload"] == []
    assert "shortcuts" in meta

    # --- ops.csv: one row per op
    with open(out / "ops.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == meta["ops"] > 0
    columns = set(rows[0])
    assert {"name", "layer", "phase", "unit", "shape", "cycles", "utilization"} <= columns
    assert any(c.startswith("bytes") for c in columns)
    assert {r["phase"] for r in rows} == {"prefill", "decode"}
    assert {r["unit"] for r in rows} <= set(components)
    assert {int(r["layer"]) for r in rows if r["layer"] not in ("", "-1")} == {0, 1}   # 2 layers
    assert len({r["name"] for r in rows}) == len(rows)
    for row in rows:
        assert float(row["cycles"]) >= 0 and 0 <= float(row["utilization"]) <= 1, row
        assert row["shape"]

    # --- the text summary says the same things
    assert text.startswith("accsim: small on npu")
    time_line = next(line for line in text.splitlines() if "total time" in line)
    assert re.search(r"\d+(\.\d+)? (s|ms|us|ns)\b", time_line)
    printed_cycles = float(re.search(r"([\d,]+) cycles", time_line).group(1).replace(",", ""))
    assert printed_cycles == pytest.approx(total["cycles"], abs=1)
    assert total["clock"] in time_line
    assert re.search(r"tokens/s", text) and f"{generated} tokens" in text
    for phase in ("prefill", "decode"):
        assert re.search(rf"^\s+{phase}\s+\d", text, re.M), phase
    for name in components:
        assert re.search(rf"^\s+{name}\s.*\d+(\.\d+)?%", text, re.M), name
    assert re.search(r"^\s+hbm\s+[\d.]+ [kMGT]?B\s+[\d.]+ [kMGT]?B", text, re.M)
    assert "wrote summary.json, ops.csv, energy.csv, area.csv, trace.json to results" in text


@pytest.mark.cli
def test_run_json_and_rerun_into_same_out_dir(tmp_path, small):
    out = tmp_path / "out"
    first = accsim_cli(tmp_path, "run", "npu", "small.yaml", "--json", "--out", out)
    assert first.returncode == 0, first.stderr
    printed = json.loads(first.stdout)             # stdout is JSON and nothing else
    saved = json.loads((out / "summary.json").read_text())
    assert printed == saved
    assert printed["workload"] == "small" and printed["arch"] == "npu"

    second = accsim_cli(tmp_path, "run", "npu", "small.yaml", "--json", "--out", out,
                        "--set", "serving.batch_size=1")
    assert second.returncode == 0, second.stderr
    saved = json.loads((out / "summary.json").read_text())
    assert saved["metadata"]["overrides"]["workload"] == ["serving.batch_size=1"]
    assert saved["tokens"]["batch_size"] == 1
    with open(out / "ops.csv", newline="") as stream:
        assert sum(1 for _ in csv.DictReader(stream)) == saved["metadata"]["ops"]
    assert sorted(os.listdir(out)) == ["area.csv", "energy.csv", "ops.csv", "summary.json", "trace.json"]


@pytest.mark.cli
def test_out_not_created_when_input_is_bad(tmp_path, small):
    proc = accsim_cli(tmp_path, "run", "npu_ideal", "small.yaml", "--out", "never",
                      "--set", "components.hbm.capacity=1 MiB")
    assert_input_error(proc, tmp_path)
    assert not (tmp_path / "never").exists() or not list((tmp_path / "never").iterdir())


@pytest.mark.cli
@pytest.mark.slow
def test_full_bundled_run_from_other_directory(tmp_path):
    proc = accsim_cli(tmp_path, "run", "arch/npu.yaml", "workload/gpt2.yaml")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    text = proc.stdout
    assert text.startswith("accsim: gpt2 on npu")
    assert "4096 tokens, batch 32" in text       # 32 requests x 128 generated tokens
    assert re.search(r"total time\s+\d+(\.\d+)? (s|ms)\s+\([\d,]+ cycles of .*1 GHz\)", text)
    assert re.search(r"prefill.*1 step", text) and re.search(r"decode.*\d+ step", text)


# --------------------------------------------------------------------------- name resolution


@pytest.mark.unit
@pytest.mark.parametrize("name", ["npu", "npu.yaml", "arch/npu", "arch/npu.yaml"])
def test_resolve_arch_names(monkeypatch, tmp_path, name, npu_path):
    monkeypatch.chdir(tmp_path)
    assert resolve(name, "arch") == npu_path
    assert npu_path.is_file() and npu_path.parent == bundled_dir("arch").resolve()


@pytest.mark.unit
@pytest.mark.parametrize("name", ["gpt2", "gpt2.yaml", "gpt2.yml", "workload/gpt2", "workload/gpt2.yaml",
                                  "workloads/gpt2", "workloads/gpt2.yaml"])
def test_resolve_workload_names(monkeypatch, tmp_path, name, gpt2_path):
    monkeypatch.chdir(tmp_path)
    assert resolve(name, "workload") == gpt2_path


@pytest.mark.cli
@pytest.mark.parametrize("arch, workload", [
    ("arch/npu.yaml", "workload/gpt2"),
    ("npu", "workloads/gpt2.yaml"),
])
def test_run_bundled_names_from_other_directory(tmp_path, arch, workload, gpt2_path):
    proc = accsim_cli(tmp_path, "run", arch, workload, "--json", *SMALL_SETS)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["arch"], summary["workload"]) == ("npu", "gpt2")
    assert summary["tokens"]["generated"] == 6
    assert str(gpt2_path) in summary["metadata"]["inputs"]


@pytest.mark.cli
def test_run_absolute_paths(tmp_path, small, npu_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = accsim_cli(elsewhere, "run", npu_path, small, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["workload"] == "small"


@pytest.mark.cli
def test_local_file_wins_over_bundled_name(tmp_path, small, npu_path):
    (tmp_path / "npu.yaml").write_text(f"extends: {npu_path}\nname: localnpu\n")
    proc = accsim_cli(tmp_path, "run", "npu.yaml", "small.yaml", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["arch"] == "localnpu"


@pytest.mark.cli
def test_unknown_bundled_names_suggest_close_ones(tmp_path):
    lines = assert_input_error(accsim_cli(tmp_path, "run", "npuu", "gpt2"), tmp_path)
    assert len(lines) == 1
    assert "npuu" in lines[0] and re.search(r"\bnpu\b", lines[0])
    lines = assert_input_error(accsim_cli(tmp_path, "run", "npu", "gtp2"), tmp_path)
    assert len(lines) == 1
    assert "gtp2" in lines[0] and re.search(r"\bgpt2\b", lines[0])


@pytest.mark.cli
def test_missing_file(tmp_path):
    lines = assert_input_error(accsim_cli(tmp_path, "run", "npu", "does/not/exist.yaml"), tmp_path)
    assert len(lines) == 1 and "does/not/exist.yaml" in lines[0]


@pytest.mark.cli
def test_missing_directory_and_unreadable_inputs(tmp_path):
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00\x01")
    lines = assert_input_error(accsim_cli(tmp_path, "check", "nothere.yaml", "folder.yaml", "binary.yaml"),
                               tmp_path)
    assert len(lines) == 3
    for line, name in zip(lines, ("nothere.yaml", "folder.yaml", "binary.yaml")):
        assert name in line


# --------------------------------------------------------------------------- list and check


@pytest.mark.cli
def test_list_shows_every_bundled_file_with_its_description(tmp_path):
    proc = accsim_cli(tmp_path, "list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for kind in ("arch", "workload"):
        files = sorted(bundled_dir(kind).glob("*.yaml"))
        assert files, kind
        for path in files:
            description = yaml.safe_load(path.read_text())["description"]
            assert any(re.match(rf"^\s+{re.escape(path.stem)}\s+{re.escape(description)}\s*$", line)
                       for line in lines), (path.stem, description)
    assert re.search(r"^Architectures", proc.stdout, re.M) and re.search(r"^Workloads", proc.stdout, re.M)


@pytest.mark.cli
def test_check_valid_files_and_names(tmp_path, small, npu_path, gpt2_path):
    proc = accsim_cli(tmp_path, "check", "small.yaml", "npu", "arch/npu.yaml", "workloads/gpt2.yaml",
                      "gpt2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.strip().splitlines()
    assert lines == [f"ok: {small.resolve()} (workload)", f"ok: {npu_path} (architecture)",
                     f"ok: {npu_path} (architecture)", f"ok: {gpt2_path} (workload)",
                     f"ok: {gpt2_path} (workload)"]
    assert "total time" not in proc.stdout          # validated, not simulated


@pytest.mark.cli
def test_check_reports_problems_of_every_file(tmp_path, small, gpt2_path):
    (tmp_path / "bad_arch.yaml").write_text(f"extends: {resolve('npu', 'arch')}\nclock: 0 GHz\n")
    (tmp_path / "bad_wl.yaml").write_text(f"extends: {gpt2_path}\nserving:\n  batch_size: -2\n")
    proc = accsim_cli(tmp_path, "check", "bad_arch.yaml", "small.yaml", "bad_wl.yaml")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"accsim: error: {(tmp_path / 'bad_arch.yaml').resolve()}:2: clock: ")
    assert errors[1].startswith(f"accsim: error: {(tmp_path / 'bad_wl.yaml').resolve()}:3: serving.batch_size: ")
    assert f"ok: {small.resolve()}" in proc.stdout


# --------------------------------------------------------------------------- input errors at run time


@pytest.mark.cli
def test_syntax_error_exit_2(tmp_path):
    (tmp_path / "broken.yaml").write_text("schema_version: 1\nname: [a, b\nkind: llm\n")
    lines = assert_input_error(accsim_cli(tmp_path, "run", "npu", "broken.yaml"), tmp_path)
    assert len(lines) == 1
    assert re.match(rf"accsim: error: {re.escape(str((tmp_path / 'broken.yaml').resolve()))}:\d+: .*YAML",
                    lines[0])


@pytest.mark.cli
def test_unknown_component_type_exit_2(tmp_path, small):
    lines = assert_input_error(
        accsim_cli(tmp_path, "run", "npu", "small.yaml", "--set", "components.vu.type=vector_units"), tmp_path)
    assert len(lines) == 1
    assert "components.vu.type" in lines[0] and "vector_units" in lines[0]
    assert "'vector_unit'" in lines[0]


@pytest.mark.cli
def test_validation_error_from_set_exit_2(tmp_path, small):
    lines = assert_input_error(
        accsim_cli(tmp_path, "run", "npu", "small.yaml", "--set", "serving.batch_size=0",
                   "--set", "serving.colour=red"), tmp_path)
    paths = sorted(re.match(r"accsim: error: --set: ([\w.]+): ", line).group(1) for line in lines)
    assert paths == ["serving.batch_size", "serving.colour"]


@pytest.mark.cli
def test_impossible_combination_at_run_time(tmp_path, small):
    lines = assert_input_error(
        accsim_cli(tmp_path, "run", "npu", "small.yaml", "--set", "components.spad.capacity=1 KiB"), tmp_path)
    assert len(lines) == 1 and "components.sa" in lines[0] and "1024" in lines[0]


@pytest.mark.cli
def test_workload_too_big_for_memory(tmp_path, small):
    proc = accsim_cli(tmp_path, "run", "npu", "small.yaml", "--out", "out",
                      "--set", "components.hbm.channels=1", "--set", "model.base=gpt3-7b")   # 1 GiB of hbm2-pim
    lines = assert_input_error(proc, tmp_path)
    assert len(lines) == 1
    line = lines[0]
    assert "hbm" in line and "weights" in line
    assert re.search(r"\b1(\.0+)? GiB", line)                            # the capacity
    sizes = [float(x) for x in re.findall(r"(\d+(?:\.\d+)?) GiB", line)]
    assert any(size > 1 for size in sizes)                                 # what is needed
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    # the same model fits the real 32 GiB HBM
    proc = accsim_cli(tmp_path, "check", "small.yaml")
    assert proc.returncode == 0


# --------------------------------------------------------------------------- internal errors


@pytest.mark.cli
def test_internal_error_writes_crash_report(tmp_path, small):
    script = textwrap.dedent("""\
        import sys
        import accsim.api
        import accsim.cli

        def broken(*args, **kwargs):
            raise RuntimeError("simulated internal failure 4711")

        accsim.api.run = broken
        sys.exit(accsim.cli.main(["run", "npu", "small.yaml", "--out", "out"]))
        """)
    proc = accsim_cli(tmp_path, "-c", script, command=[sys.executable])
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    reports = list((tmp_path / "crash").iterdir())
    assert len(reports) == 1
    report = reports[0]
    assert str(report) in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    content = report.read_text()
    assert "Traceback (most recent call last)" in content
    assert "RuntimeError: simulated internal failure 4711" in content
    assert accsim.__version__ in content
    assert not (tmp_path / "out").exists()


@pytest.mark.cli
def test_internal_error_with_debug_shows_traceback(tmp_path, small):
    script = textwrap.dedent("""\
        import sys
        import accsim.api
        import accsim.cli

        def broken(*args, **kwargs):
            raise RuntimeError("simulated internal failure 4712")

        accsim.api.run = broken
        sys.exit(accsim.cli.main(["run", "npu", "small.yaml", "--debug"]))
        """)
    proc = accsim_cli(tmp_path, "-c", script, command=[sys.executable])
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "simulated internal failure 4712" in proc.stderr


@pytest.mark.unit
def test_the_accsim_command_freezes_the_objects_of_its_imports_then_runs_main(monkeypatch):
    import importlib.metadata

    import accsim.cli as cli

    calls = []
    monkeypatch.setattr(cli.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 3)
    assert cli.console_main() == 3 and calls == ["freeze", "main"]
    scripts = importlib.metadata.entry_points(group="console_scripts", name="accsim")
    assert [script.value for script in scripts] == ["accsim.cli:console_main"]
