"""Every problem is reported at once, at the right line, whatever else is wrong."""
import json
import os
import subprocess
import sys

import pytest

from accsim.cli import main
from accsim.resolve import resolve

pytestmark = pytest.mark.unit
NPU = resolve("npu", "arch")
GPT2 = resolve("gpt2", "workload")


def _errors(capsys, argv):
    code = main(argv)
    return code, [line for line in capsys.readouterr().err.splitlines() if line.startswith("accsim: error")]


def test_duplicate_key_does_not_hide_other_errors(tmp_path, capsys):
    path = tmp_path / "mix.yaml"
    path.write_text(f"extends: {GPT2}\nname: a\nname: b\nmodel: {{base: gpt2-small, layers: 0}}\n"
                    "serving: {batch_size: 1, prompt_tokens: 4, generate_tokens: 2, colour: red}\n")
    code, errors = _errors(capsys, ["check", str(path)])
    assert code == 2 and len(errors) == 3
    assert any(":3: name: duplicate key (first defined on line 2)" in e for e in errors)
    assert any(":4: model.layers:" in e for e in errors) and any(":5: serving.colour:" in e for e in errors)


def test_duplicate_key_path_is_complete(tmp_path, capsys):
    path = tmp_path / "a.yaml"
    path.write_text(f"extends: {NPU}\ncomponents:\n  sa:\n    rows: 64\n    rows: 32\n")
    _, errors = _errors(capsys, ["check", str(path)])
    assert errors == [f"accsim: error: {path}:5: components.sa.rows: duplicate key (first defined on line 4)"]


def test_cross_checks_run_beside_unrelated_errors(tmp_path, capsys):
    path = tmp_path / "three.yaml"
    path.write_text(f"extends: {NPU}\ncomponents:\n  hbm: {{latency: -3 ns}}\n"
                    "  spad:\n    capacity: 1 KiB\n  vu: {lanez: 3}\n")
    _, errors = _errors(capsys, ["check", str(path)])
    assert len(errors) == 3
    scratchpad_line = next(n for n, line in enumerate(NPU.read_text().splitlines(), 1)
                           if line.strip().startswith("scratchpad: spad") and n > 20)
    assert any(f"npu.yaml:{scratchpad_line}: components.sa.scratchpad: the smallest tile" in e for e in errors)


def test_run_reports_arch_and_workload_problems_together(tmp_path, capsys):
    arch = tmp_path / "a.yaml"
    arch.write_text(f"extends: {NPU}\ncomponents: {{sa: {{rows: 0}}}}\n")
    work = tmp_path / "w.yaml"
    work.write_text(f"extends: {GPT2}\nserving: {{batch_size: -1}}\n")
    code, errors = _errors(capsys, ["run", str(arch), str(work), "--set", "components.spad.colour=1"])
    assert code == 2
    assert {e.split(": ")[3] for e in errors} >= {"components.sa.rows", "serving.batch_size", "components.spad.colour"}


def test_check_follows_bundled_extends(tmp_path, capsys):
    path = tmp_path / "ok.yaml"
    path.write_text("extends: npu\nname: ok\n")
    assert main(["check", str(path)]) == 0
    assert "architecture" in capsys.readouterr().out


def test_parallel_error_points_at_its_own_line(tmp_path, capsys):
    path = tmp_path / "w.yaml"
    path.write_text(f"extends: {GPT2}\nparallel:\n  pipeline: 1\n  tensor: 5\n")
    _, errors = _errors(capsys, ["check", str(path)])
    assert errors and all(":4: parallel.tensor:" in e for e in errors)


def test_top_level_debug_flag_shows_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {GPT2}\nserving: {{batch_size: 0}}\n")
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "--debug", "check", str(path)],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "Traceback" in done.stderr


def test_out_is_never_half_written(tmp_path):
    """A failure while serialising leaves no file behind; a rerun replaces both files
    and summary.json names the ops.csv it belongs to."""
    small = tmp_path / "s.yaml"
    small.write_text(f"extends: {GPT2}\nmodel: {{base: gpt2-small, layers: 1}}\n"
                     "serving: {batch_size: 1, prompt_tokens: 4, generate_tokens: 2}\n")
    code = ("import sys, accsim.result as r\n"
            "r.Result.to_json = lambda self: 1/0\n"
            "import json; json.dumps = lambda *a, **k: 1/0\n"
            "from accsim.cli import main; sys.exit(main(['run', 'npu', sys.argv[1], '--out', sys.argv[2]]))")
    out = tmp_path / "o"
    env = {**os.environ, "ACCSIM_CRASH_DIR": str(tmp_path / "crash")}
    done = subprocess.run([sys.executable, "-c", code, str(small), str(out)], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert not out.exists() or not list(out.iterdir())
    assert main(["run", "npu", str(small), "--out", str(out), "--quiet"]) == 0
    import hashlib
    saved = json.loads((out / "summary.json").read_text())
    assert saved["metadata"]["ops_csv_sha256"] == hashlib.sha256((out / "ops.csv").read_bytes()).hexdigest()


def test_out_on_a_file_is_an_input_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    small = tmp_path / "s.yaml"
    small.write_text(f"extends: {GPT2}\nmodel: {{base: gpt2-small, layers: 1}}\n"
                     "serving: {batch_size: 1, prompt_tokens: 4, generate_tokens: 2}\n")
    code, errors = _errors(capsys, ["run", "npu", str(small), "--out", str(blocker / "sub"), "--quiet"])
    assert code == 2 and "cannot write results" in errors[0]


@pytest.mark.parametrize("body, path, message", [
    ("{preset: hbm9}", "components.hbm.preset", "no bundled DRAM preset"),
    ("{channels: -8}", "components.hbm.channels", "at least 0"),
    ("{address_mapping: ro-ch}", "components.hbm.address_mapping", "must name each of"),
    ("{refresh: per_bank}", "components.hbm.refresh", "no per-bank refresh"),
    ("{write_low_watermark: 0.9}", "components.hbm.write_low_watermark", "below write_high_watermark"),
])
def test_dram_component_problems_are_located(tmp_path, capsys, body, path, message):
    arch = tmp_path / "a.yaml"
    arch.write_text(f"extends: npu\ncomponents:\n  hbm: {body}\n")
    code, errors = _errors(capsys, ["check", str(arch)])
    assert code == 2 and len(errors) == 1
    assert f"a.yaml:3: {path}: " in errors[0] and message in errors[0]
