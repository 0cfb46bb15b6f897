"""accsim report: one run, a comparison, a sweep directory, and directories that are not results."""
import sys
import types

import pytest

import accsim
from accsim.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = ("energy_breakdown", "area_breakdown", "timeline", "roofline", "bandwidth")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    path = root / "tiny.yaml"
    path.write_text("schema_version: 1\nname: tiny\ndescription: d\nkind: llm\n"
                    "model: {layers: 2, d_model: 128, heads: 4, ffn: 512, ffn_kind: gelu, vocab: 512, "
                    "context: 64, norm: layernorm}\nserving: {batch_size: 2, prompt_tokens: 8, generate_tokens: 3}\n")
    accsim.run("npu", str(path)).save(root / "npu")
    accsim.run("sa32", "gemm-256").save(root / "sa32")
    return root


@pytest.mark.unit
def test_single_run_report(saved, capsys):
    assert main(["report", str(saved / "npu")]) == 0
    out = saved / "npu"
    for name in FIGURES:
        assert (out / f"{name}.png").read_bytes().startswith(PNG_MAGIC), name
        assert (out / f"{name}.svg").read_text().lstrip().startswith("<?xml"), name
    markdown = (out / "report.md").read_text()
    for name in FIGURES:
        assert f"({name}.png)" in markdown
    for heading in ("Energy", "Area", "Utilization timeline", "Roofline", "Memory bandwidth",
                    "Top 10 ops by time", "Top 10 ops by energy", "Who priced what"):
        assert f"## {heading}" in markdown
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(FIGURES)     # self-contained
    assert "src='energy_breakdown.png'" not in page
    assert "report.html" in capsys.readouterr().out


@pytest.mark.unit
def test_comparison_of_two_runs(saved, tmp_path):
    out = tmp_path / "cmp"
    assert main(["report", str(saved / "npu"), str(saved / "sa32"), "--out", str(out)]) == 0
    markdown = (out / "report.md").read_text()
    assert "tiny on npu" in markdown and "gemm-256 on sa32" in markdown
    assert (out / "comparison.png").read_bytes().startswith(PNG_MAGIC)
    # the comparison table holds both runs' totals, read from their summaries
    header = next(line for line in markdown.splitlines() if line.startswith("| metric"))
    assert "npu" in header and "sa32" in header


@pytest.mark.unit
def test_directory_that_is_not_a_result(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a result directory" in err and "summary.json" in err
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


@pytest.mark.unit
def test_summary_without_energy_is_refused(saved, tmp_path, capsys):
    import json
    import shutil

    copy = tmp_path / "old"
    shutil.copytree(saved / "sa32", copy)
    summary = json.loads((copy / "summary.json").read_text())
    del summary["energy"]
    (copy / "summary.json").write_text(json.dumps(summary))
    assert main(["report", str(copy)]) == 2
    assert "energy and area" in capsys.readouterr().err


@pytest.mark.unit
def test_sweep_directory_goes_to_the_sweep_renderer(tmp_path, monkeypatch, capsys):
    (tmp_path / "sweep_manifest.json").write_text("{}")
    calls = []
    fake = types.ModuleType("accsim.sweep.report")
    fake.render_sweep = lambda directory: calls.append(directory) or tmp_path / "report.html"
    monkeypatch.setitem(sys.modules, "accsim.sweep.report", fake)
    assert main(["report", str(tmp_path)]) == 0
    assert calls == [str(tmp_path)]


@pytest.mark.unit
def test_sweep_directory_without_the_sweep_renderer(tmp_path, monkeypatch, capsys):
    (tmp_path / "sweep_manifest.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "accsim.sweep.report", None)    # import fails
    assert main(["report", str(tmp_path)]) == 2
    assert "sweep directory" in capsys.readouterr().err
