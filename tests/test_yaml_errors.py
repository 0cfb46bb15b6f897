"""Strict YAML input: every mistake is reported as `FILE:LINE: path.to.field: message`.

Most checks call `accsim.cli.main` in-process (fast; marked `unit`); a few run the
real command in a subprocess to check the exit code and the absence of a
traceback (marked `cli`). Line numbers are computed from the fixture text, never
hard-coded, so editing a fixture keeps the expectations right.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# --------------------------------------------------------------------------- helpers

ERROR_LINE = re.compile(
    r"^accsim: error: (?P<file>[^:]+?)(?::(?P<line>\d+))?: (?P<path>[^:]+?): (?P<msg>.*)$")

ARCH = """\
schema_version: 1
name: tiny
description: a small test architecture
clock: 1 GHz
components:
  hbm:
    type: ideal_memory
    bandwidth: 1.8 TB/s
    latency: 28 ns
    capacity: 32 GiB
  dma:
    type: dma
    memory: hbm
  spad:
    type: scratchpad
    capacity: 32 MiB
  sa:
    type: systolic_array
    rows: 128
    cols: 128
    dataflow: ws
    scratchpad: spad
    dma: dma
  vu:
    type: vector_unit
    lanes: 128
    scratchpad: spad
    dma: dma
"""

WORKLOAD = """\
schema_version: 1
name: tinyllm
description: a small test workload
kind: llm
model:
  base: gpt2-small
  layers: 2
serving:
  batch_size: 2
  prompt_tokens: 8
  generate_tokens: 3
dtypes: {weights: fp16, activations: fp16, kv: fp16}
"""


def line_of(text: str, needle: str) -> int:
    """1-based number of the one line of `text` that contains `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"fixture problem: {needle!r} on lines {hits}"
    return hits[0]


def block_of(text: str, needle: str) -> range:
    """Lines of the YAML block whose key line contains `needle` (key line included)."""
    lines = text.splitlines()
    start = line_of(text, needle)
    indent = len(lines[start - 1]) - len(lines[start - 1].lstrip())
    end = start
    while end < len(lines) and (len(lines[end]) - len(lines[end].lstrip()) > indent or not lines[end].strip()):
        end += 1
    return range(start, end + 1)


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"fixture problem: {old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def parse_errors(stderr: str) -> list[dict]:
    """Every stderr line must be a one-line error; return their parts."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "expected at least one error line"
    parsed = []
    for line in lines:
        match = ERROR_LINE.match(line)
        assert match, f"not a `FILE:LINE: path: message` error line: {line!r}"
        item = match.groupdict()
        item["line"] = int(item["line"]) if item["line"] else None
        parsed.append(item)
    return parsed


def by_path(errors: list[dict]) -> dict[str, list[dict]]:
    table: dict[str, list[dict]] = {}
    for error in errors:
        table.setdefault(error["path"], []).append(error)
    return table


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """Call accsim.cli.main in-process from tmp_path; return (exit code, stdout, stderr)."""
    from accsim.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACCSIM_CRASH_DIR", str(tmp_path / "crash"))

    def call(*argv):
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        assert not (tmp_path / "crash").exists(), "an input error must not produce a crash report"
        return code, out, err

    return call


def check_one(cli, path: Path) -> list[dict]:
    code, out, err = cli("check", path)
    assert code == 2, (out, err)
    errors = parse_errors(err)
    for error in errors:
        assert Path(error["file"]).name == path.name or error["file"] == "--set", error
    return errors


def subprocess_env(tmp_path: Path) -> dict:
    return {**os.environ, "ACCSIM_CRASH_DIR": str(tmp_path / "crash")}


def accsim_subprocess(tmp_path: Path, *argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "accsim.cli", *map(str, argv)], cwd=tmp_path,
                          env=subprocess_env(tmp_path), capture_output=True, text=True, timeout=120)


# --------------------------------------------------------------------------- valid fixtures


@pytest.mark.unit
def test_fixtures_are_valid(cli, tmp_path):
    """The base fixtures pass, so every failure below comes from the one edit made."""
    arch = write(tmp_path, "arch.yaml", ARCH)
    workload = write(tmp_path, "wl.yaml", WORKLOAD)
    code, out, err = cli("check", arch, workload)
    assert code == 0, err
    assert err == ""
    assert f"ok: {arch}" in out and f"ok: {workload}" in out


# --------------------------------------------------------------------------- unknown keys


@pytest.mark.unit
def test_unknown_component_key_lists_valid_keys(cli, tmp_path):
    text = edit(ARCH, "    capacity: 32 MiB\n", "    capacity: 32 MiB\n    colour: red\n")
    errors = check_one(cli, write(tmp_path, "a.yaml", text))
    assert len(errors) == 1
    (error,) = errors
    assert error["path"] == "components.spad.colour"
    assert error["line"] == line_of(text, "colour: red")
    assert "unknown key" in error["msg"]
    valid = error["msg"].split("valid keys:", 1)[1]
    for key in ("capacity", "double_buffer", "type", "count"):
        assert re.search(rf"\b{key}\b", valid), (key, valid)


@pytest.mark.unit
def test_unknown_key_suggests_close_name(cli, tmp_path):
    text = edit(ARCH, "    lanes: 128\n", "    lanez: 128\n")
    errors = by_path(check_one(cli, write(tmp_path, "a.yaml", text)))
    (unknown,) = errors["components.vu.lanez"]
    assert unknown["line"] == line_of(text, "lanez")
    assert "lanes" in unknown["msg"]
    # the misspelt key leaves the real one missing: reported too, inside the vu block
    (missing,) = errors["components.vu.lanes"]
    assert "missing" in missing["msg"]
    assert missing["line"] in block_of(text, "  vu:")


@pytest.mark.unit
def test_unknown_top_level_and_nested_workload_keys(cli, tmp_path):
    text = WORKLOAD + "flavour: vanilla\n"
    text = edit(text, "  generate_tokens: 3\n", "  generate_tokens: 3\n  temperature: 0.7\n")
    errors = by_path(check_one(cli, write(tmp_path, "w.yaml", text)))
    assert set(errors) == {"flavour", "serving.temperature"}
    assert errors["flavour"][0]["line"] == line_of(text, "flavour")
    assert errors["serving.temperature"][0]["line"] == line_of(text, "temperature")
    assert "batch_size" in errors["serving.temperature"][0]["msg"]
    assert "serving" in errors["flavour"][0]["msg"]


# --------------------------------------------------------------------------- duplicate keys, syntax


@pytest.mark.unit
def test_duplicate_key_rejected_with_both_lines(cli, tmp_path):
    text = edit(ARCH, "    rows: 128\n", "    rows: 128\n    rows: 64\n")
    (error,) = check_one(cli, write(tmp_path, "a.yaml", text))
    assert error["path"] == "components.sa.rows" or error["path"].endswith("rows")
    assert error["line"] == line_of(text, "rows: 64")
    assert "duplicate" in error["msg"]
    assert str(line_of(text, "rows: 128")) in error["msg"]


@pytest.mark.unit
@pytest.mark.parametrize("text, bad_line", [
    ("schema_version: 1\nname: x\n  bad: indent\nclock: 1 GHz\n", 3),
    ("schema_version: 1\nname: x\n\tclock: 1 GHz\n", 3),
])
def test_yaml_syntax_error_is_one_line_with_location(cli, tmp_path, text, bad_line):
    path = write(tmp_path, "broken.yaml", text)
    code, out, err = cli("check", path)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"accsim: error: {path}:{bad_line}: ")
    assert "YAML" in lines[0]


@pytest.mark.unit
@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "just a string\n"])
def test_top_level_must_be_a_mapping(cli, tmp_path, text):
    path = write(tmp_path, "odd.yaml", text)
    code, out, err = cli("check", path)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"accsim: error: {path}")
    assert "mapping" in lines[0]


# --------------------------------------------------------------------------- several mistakes


@pytest.mark.unit
def test_three_mistakes_give_three_lines(cli, tmp_path):
    text = edit(ARCH, "    capacity: 32 GiB\n", "    capacity: -5 GiB\n")
    text = edit(text, "    capacity: 32 MiB\n", "    capacity: 32 MiB\n    colour: red\n")
    text = edit(text, "    rows: 128\n", "    rows: many\n")
    errors = check_one(cli, write(tmp_path, "a.yaml", text))
    assert len(errors) == 3, errors
    got = {(e["path"], e["line"]) for e in errors}
    assert got == {("components.hbm.capacity", line_of(text, "-5 GiB")),
                   ("components.spad.colour", line_of(text, "colour")),
                   ("components.sa.rows", line_of(text, "rows: many"))}
    messages = by_path(errors)
    assert "zero" in messages["components.hbm.capacity"][0]["msg"]
    assert "whole number" in messages["components.sa.rows"][0]["msg"]


@pytest.mark.unit
def test_workload_mistakes_all_reported(cli, tmp_path):
    text = edit(WORKLOAD, "weights: fp16", "weights: fp17")
    text = edit(text, "  prompt_tokens: 8\n", "  prompt_tokens: 1000\n")
    text = edit(text, "  generate_tokens: 3\n", "  generate_tokens: 100\n  colour: red\n")
    text += "parallel:\n  tensor: 5\n"
    errors = by_path(check_one(cli, write(tmp_path, "w.yaml", text)))
    assert set(errors) == {"dtypes.weights", "serving.colour", "parallel.tensor", "serving"}
    assert errors["dtypes.weights"][0]["line"] == line_of(text, "fp17")
    assert "fp16" in errors["dtypes.weights"][0]["msg"]          # lists the valid choices
    assert errors["serving.colour"][0]["line"] == line_of(text, "colour")
    assert all(e["line"] == line_of(text, "tensor: 5") for e in errors["parallel.tensor"])
    assert any("12" in e["msg"] and "5" in e["msg"] for e in errors["parallel.tensor"])
    (context,) = errors["serving"]
    assert context["line"] in block_of(text, "serving:")
    assert "1100" in context["msg"] and "1024" in context["msg"]


@pytest.mark.unit
def test_check_collects_problems_of_several_files(cli, tmp_path):
    arch = write(tmp_path, "a.yaml", edit(ARCH, "    rows: 128\n", "    rows: 0\n"))
    workload = write(tmp_path, "w.yaml", edit(WORKLOAD, "  batch_size: 2\n", "  batch_size: 0\n"))
    good = write(tmp_path, "good.yaml", ARCH)
    code, out, err = cli("check", arch, good, workload)
    assert code == 2
    errors = parse_errors(err)
    assert {(Path(e["file"]).name, e["path"]) for e in errors} == {
        ("a.yaml", "components.sa.rows"), ("w.yaml", "serving.batch_size")}
    assert f"ok: {good}" in out
    assert str(arch) not in out and str(workload) not in out


# --------------------------------------------------------------------------- wrong types, missing fields


@pytest.mark.unit
@pytest.mark.parametrize("base, old, new, path", [
    ("arch", "    rows: 128\n", '    rows: "128"\n', "components.sa.rows"),
    ("arch", "    rows: 128\n", "    rows: 12.5\n", "components.sa.rows"),
    ("arch", "    capacity: 32 MiB\n", "    capacity: 32 MiB\n    double_buffer: 3\n",
     "components.spad.double_buffer"),
    ("arch", "name: tiny\n", "name: [a, b]\n", "name"),
    ("arch", "clock: 1 GHz\n", "clock: true\n", "clock"),
    ("arch", "    dataflow: ws\n", "    dataflow: diagonal\n", "components.sa.dataflow"),
    ("arch", "  hbm:\n    type: ideal_memory\n    bandwidth: 1.8 TB/s\n    latency: 28 ns\n    capacity: 32 GiB\n",
     "  hbm: 3\n", "components.hbm"),
    ("workload", "  batch_size: 2\n", "  batch_size: two\n", "serving.batch_size"),
    ("workload", "  prompt_tokens: 8\n", "  prompt_tokens: 8.5\n", "serving.prompt_tokens"),
    ("workload", "kind: llm\n", "kind: cnn\n", "kind"),
    ("workload", "  layers: 2\n", "  layers: [2]\n", "model.layers"),
])
def test_wrong_type_is_reported_at_its_line(cli, tmp_path, base, old, new, path):
    text = edit(ARCH if base == "arch" else WORKLOAD, old, new)
    errors = by_path(check_one(cli, write(tmp_path, f"{base}.yaml", text)))
    assert path in errors, errors
    first_new_line = new.splitlines()[-1].strip()
    assert errors[path][0]["line"] == line_of(text, first_new_line)


@pytest.mark.unit
def test_missing_fields_reported_inside_their_block(cli, tmp_path):
    text = edit(ARCH, "    rows: 128\n    cols: 128\n    dataflow: ws\n", "    cols: 128\n")
    text = edit(text, "description: a small test architecture\n", "")
    errors = by_path(check_one(cli, write(tmp_path, "a.yaml", text)))
    assert set(errors) == {"components.sa.rows", "components.sa.dataflow", "description"}
    for path in ("components.sa.rows", "components.sa.dataflow"):
        assert "missing" in errors[path][0]["msg"]
        assert errors[path][0]["line"] in block_of(text, "  sa:")
    assert "missing" in errors["description"][0]["msg"]


@pytest.mark.unit
def test_llm_workload_without_model_and_serving(cli, tmp_path):
    text = "schema_version: 1\nname: w\ndescription: d\nkind: llm\n"
    errors = by_path(check_one(cli, write(tmp_path, "w.yaml", text)))
    assert set(errors) == {"model", "serving"}
    assert all("missing" in e[0]["msg"] for e in errors.values())


@pytest.mark.unit
def test_ops_workload_errors_name_list_items(cli, tmp_path):
    text = """\
schema_version: 1
name: o
description: d
kind: ops
ops:
  - name: a
    gemm: {m: 0, n: 4, k: 4}
  - name: b
    gemm: {m: 4, n: 4, k: 4}
    count: -1
  - 7
"""
    errors = by_path(check_one(cli, write(tmp_path, "o.yaml", text)))
    assert set(errors) == {"ops[0].gemm.m", "ops[1].count", "ops[2]"}
    assert errors["ops[0].gemm.m"][0]["line"] == line_of(text, "m: 0")
    assert errors["ops[1].count"][0]["line"] == line_of(text, "count: -1")
    assert errors["ops[2]"][0]["line"] == line_of(text, "- 7")


@pytest.mark.unit
def test_model_unknown_base_lists_library(cli, tmp_path):
    text = edit(WORKLOAD, "base: gpt2-small", "base: gpt2-smal")
    errors = by_path(check_one(cli, write(tmp_path, "w.yaml", text)))
    (error,) = errors["model.base"]
    assert error["line"] == line_of(text, "gpt2-smal")
    assert "gpt2-small" in error["msg"]


# --------------------------------------------------------------------------- zero / negative sizes


@pytest.mark.unit
@pytest.mark.parametrize("base, old, new, path", [
    ("arch", "    capacity: 32 MiB\n", "    capacity: 0 MiB\n", "components.spad.capacity"),
    ("arch", "    capacity: 32 GiB\n", "    capacity: -1 GiB\n", "components.hbm.capacity"),
    ("arch", "    bandwidth: 1.8 TB/s\n", "    bandwidth: 0 TB/s\n", "components.hbm.bandwidth"),
    ("arch", "    rows: 128\n", "    rows: 0\n", "components.sa.rows"),
    ("arch", "    lanes: 128\n", "    lanes: -4\n", "components.vu.lanes"),
    ("arch", "clock: 1 GHz\n", "clock: 0 GHz\n", "clock"),
    ("arch", "    type: dma\n", "    type: dma\n    count: 0\n", "components.dma.count"),
    ("workload", "  batch_size: 2\n", "  batch_size: 0\n", "serving.batch_size"),
    ("workload", "  prompt_tokens: 8\n", "  prompt_tokens: 0\n", "serving.prompt_tokens"),
    ("workload", "  generate_tokens: 3\n", "  generate_tokens: -1\n", "serving.generate_tokens"),
    ("workload", "  layers: 2\n", "  layers: 0\n", "model.layers"),
])
def test_zero_or_negative_sizes_rejected(cli, tmp_path, base, old, new, path):
    text = edit(ARCH if base == "arch" else WORKLOAD, old, new)
    errors = by_path(check_one(cli, write(tmp_path, f"{base}.yaml", text)))
    assert path in errors, errors
    (error,) = errors[path]
    assert error["line"] == line_of(text, new.splitlines()[-1].strip())
    assert "zero" in error["msg"]


@pytest.mark.unit
def test_negative_latency_rejected(cli, tmp_path):
    text = edit(ARCH, "    latency: 28 ns\n", "    latency: -3 ns\n")
    (error,) = check_one(cli, write(tmp_path, "a.yaml", text))
    assert (error["path"], error["line"]) == ("components.hbm.latency", line_of(text, "-3 ns"))


# --------------------------------------------------------------------------- impossible combinations


@pytest.mark.unit
def test_scratchpad_too_small_for_array_tile(cli, tmp_path):
    text = edit(ARCH, "    capacity: 32 MiB\n", "    capacity: 1 KiB\n")
    (error,) = check_one(cli, write(tmp_path, "a.yaml", text))
    assert error["path"].startswith("components.sa") or error["path"].startswith("components.spad")
    assert error["line"] in set(block_of(text, "  sa:")) | {line_of(text, "1 KiB")}
    assert "1024" in error["msg"] or "1 KiB" in error["msg"]
    assert "128x128" in error["msg"]


@pytest.mark.unit
def test_prompt_plus_generate_beyond_context(cli, tmp_path):
    text = edit(WORKLOAD, "  prompt_tokens: 8\n", "  prompt_tokens: 1000\n")
    text = edit(text, "  generate_tokens: 3\n", "  generate_tokens: 25\n")
    (error,) = check_one(cli, write(tmp_path, "w.yaml", text))
    assert error["path"].startswith("serving")
    assert error["line"] in block_of(text, "serving:")
    assert "1025" in error["msg"] and "1024" in error["msg"]


@pytest.mark.unit
def test_prompt_plus_generate_exactly_context_is_fine(cli, tmp_path):
    text = edit(WORKLOAD, "  prompt_tokens: 8\n", "  prompt_tokens: 1000\n")
    text = edit(text, "  generate_tokens: 3\n", "  generate_tokens: 24\n")
    code, out, err = cli("check", write(tmp_path, "w.yaml", text))
    assert code == 0, err


@pytest.mark.unit
def test_heads_not_divisible_by_tensor_parallel(cli, tmp_path):
    text = WORKLOAD + "parallel:\n  tensor: 5\n"
    errors = by_path(check_one(cli, write(tmp_path, "w.yaml", text)))
    assert set(errors) == {"parallel.tensor"}
    assert any("heads" in e["msg"] for e in errors["parallel.tensor"])
    assert all(e["line"] == line_of(text, "tensor: 5") for e in errors["parallel.tensor"])
    # a degree that divides heads (12) and FFN (3072) is accepted
    code, out, err = cli("check", write(tmp_path, "ok.yaml", WORKLOAD + "parallel:\n  tensor: 4\n"))
    assert code == 0, err


@pytest.mark.unit
def test_d_model_not_multiple_of_heads(cli, tmp_path):
    text = edit(WORKLOAD, "  layers: 2\n", "  layers: 2\n  heads: 7\n")
    errors = by_path(check_one(cli, write(tmp_path, "w.yaml", text)))
    assert "model.heads" in errors
    assert errors["model.heads"][0]["line"] == line_of(text, "heads: 7")


@pytest.mark.unit
def test_unknown_component_type_suggests_close_name(cli, tmp_path):
    text = edit(ARCH, "    type: systolic_array\n", "    type: systolic_aray\n")
    (error,) = check_one(cli, write(tmp_path, "a.yaml", text))
    assert error["path"] == "components.sa.type"
    assert error["line"] == line_of(text, "systolic_aray")
    assert "'systolic_array'" in error["msg"] or "systolic_array?" in error["msg"]


@pytest.mark.unit
def test_reference_to_missing_component(cli, tmp_path):
    text = edit(ARCH, "    memory: hbm\n", "    memory: dram\n")
    (error,) = check_one(cli, write(tmp_path, "a.yaml", text))
    assert (error["path"], error["line"]) == ("components.dma.memory", line_of(text, "memory: dram"))
    assert "dram" in error["msg"] and "hbm" in error["msg"]


# --------------------------------------------------------------------------- schema_version


@pytest.mark.unit
@pytest.mark.parametrize("old, new, needle", [
    ("schema_version: 1\n", "", None),
    ("schema_version: 1\n", "schema_version: 2\n", "schema_version: 2"),
    ("schema_version: 1\n", 'schema_version: "1"\n', 'schema_version: "1"'),
])
def test_schema_version_required_and_checked(cli, tmp_path, old, new, needle):
    text = edit(ARCH, old, new)
    errors = by_path(check_one(cli, write(tmp_path, "a.yaml", text)))
    assert set(errors) == {"schema_version"}
    if needle is None:
        assert "missing" in errors["schema_version"][0]["msg"]
    else:
        assert errors["schema_version"][0]["line"] == line_of(text, needle)


# --------------------------------------------------------------------------- units


@pytest.mark.unit
def test_unit_strings_are_converted(tmp_path):
    from accsim.api import load_arch

    text = edit(ARCH, "    capacity: 32 MiB\n", "    capacity: 1536 KiB\n")
    spec = load_arch(str(write(tmp_path, "a.yaml", text)))
    assert spec.clock_hz == pytest.approx(1e9)
    hbm = spec.component("hbm").params
    assert hbm["bandwidth"] == pytest.approx(1.8e12)
    assert hbm["latency"] == pytest.approx(28e-9)
    assert hbm["capacity"] == 32 * 2**30
    assert spec.component("spad").params["capacity"] == 1536 * 1024


@pytest.mark.unit
@pytest.mark.parametrize("old, new, path, hint", [
    ("clock: 1 GHz\n", "clock: 1 GB\n", "clock", "GHz"),
    ("    capacity: 32 MiB\n", "    capacity: 32 Mib\n", "components.spad.capacity", "bits"),
    ("    bandwidth: 1.8 TB/s\n", "    bandwidth: fast\n", "components.hbm.bandwidth", "fast"),
    ("    latency: 28 ns\n", "    latency: 28 GHz\n", "components.hbm.latency", "GHz"),
    ("    capacity: 32 MiB\n", "    capacity: 1.5 B\n", "components.spad.capacity", "whole"),
])
def test_bad_units_rejected(cli, tmp_path, old, new, path, hint):
    text = edit(ARCH, old, new)
    (error,) = check_one(cli, write(tmp_path, "a.yaml", text))
    assert (error["path"], error["line"]) == (path, line_of(text, new.strip()))
    assert hint in error["msg"]


# --------------------------------------------------------------------------- extends


@pytest.mark.unit
def test_extends_deep_merges(tmp_path):
    from accsim.api import load_arch, load_workload

    write(tmp_path, "base.yaml", ARCH)
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "sub", "child.yaml",
                  "extends: ../base.yaml\nname: child\ncomponents:\n  sa:\n    rows: 64\n  hbm:\n"
                  "    capacity: 8 GiB\n")
    spec = load_arch(str(child))
    assert spec.name == "child"
    assert spec.description == "a small test architecture"
    sa = spec.component("sa").params
    assert (sa["rows"], sa["cols"], sa["dataflow"]) == (64, 128, "ws")
    hbm = spec.component("hbm").params
    assert hbm["capacity"] == 8 * 2**30 and hbm["bandwidth"] == pytest.approx(1.8e12)
    assert {c.name for c in spec.components} == {"hbm", "dma", "spad", "sa", "vu"}
    assert set(spec.file_hashes) == {str((tmp_path / "base.yaml").resolve()), str(child.resolve())}

    write(tmp_path, "wbase.yaml", WORKLOAD)
    wchild = write(tmp_path, "wchild.yaml", "extends: wbase.yaml\nserving:\n  batch_size: 4\n")
    workload = load_workload(str(wchild))
    assert workload.batch_size == 4
    assert workload.prompt_tokens == (8,) * 4 and workload.generate_tokens == (3,) * 4
    assert workload.model.layers == 2 and workload.model.d_model == 768


@pytest.mark.unit
def test_extends_errors_point_to_the_file_that_has_them(cli, tmp_path):
    parent_text = edit(ARCH, "    capacity: 32 GiB\n", "    capacity: 32 Gib\n")
    parent = write(tmp_path, "parent.yaml", parent_text)
    child_text = "extends: parent.yaml\nname: child\ncomponents:\n  sa:\n    rows: 0\n"
    child = write(tmp_path, "child.yaml", child_text)
    code, out, err = cli("check", child)
    assert code == 2
    errors = by_path(parse_errors(err))
    assert set(errors) == {"components.hbm.capacity", "components.sa.rows"}
    capacity, rows = errors["components.hbm.capacity"][0], errors["components.sa.rows"][0]
    assert (Path(capacity["file"]).resolve(), capacity["line"]) == (parent.resolve(), line_of(parent_text, "32 Gib"))
    assert (Path(rows["file"]).resolve(), rows["line"]) == (child.resolve(), line_of(child_text, "rows: 0"))


@pytest.mark.unit
def test_extends_missing_file(cli, tmp_path):
    text = "extends: nowhere.yaml\nname: x\n"
    (error,) = check_one(cli, write(tmp_path, "a.yaml", text))
    assert error["path"] == "extends" and error["line"] == 1
    assert "nowhere.yaml" in error["msg"]


@pytest.mark.unit
def test_extends_cycle(cli, tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    code, out, err = cli("check", tmp_path / "a.yaml")
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "circular" in line and "a.yaml" in line and "b.yaml" in line


# --------------------------------------------------------------------------- --set


@pytest.fixture
def small(tmp_path) -> Path:
    return write(tmp_path, "wl.yaml", WORKLOAD)


@pytest.mark.unit
@pytest.mark.parametrize("assignment, path, words", [
    ("components.spad.colour=red", "components.spad.colour", ("unknown key", "capacity")),
    ("components.sa.rows=12.5", "components.sa.rows", ("whole number",)),
    ("components.sa.rows=0", "components.sa.rows", ("zero",)),
    ("components.hbm.bandwidth=fast", "components.hbm.bandwidth", ("bandwidth",)),
    ("serving.batch_sizes=3", "serving.batch_sizes", ("unknown key", "batch_size")),
    ("serving.batch_size=0", "serving.batch_size", ("zero",)),
    ("workload.dtypes.kv=fp99", "dtypes.kv", ("fp16",)),
    ("arch.schema_version=7", "schema_version", ("1",)),
    ("components.sa.type=systolic_aray", "components.sa.type", ("systolic_array",)),
])
def test_set_is_validated_like_the_files(cli, tmp_path, small, assignment, path, words):
    code, out, err = cli("run", write(tmp_path, "a.yaml", ARCH), small, "--set", assignment)
    assert code == 2
    assert out == ""
    (error,) = parse_errors(err)
    assert error["file"] == "--set"
    assert error["path"] == path
    for word in words:
        assert word in error["msg"], (word, error)


@pytest.mark.unit
@pytest.mark.parametrize("assignment, words", [
    ("nosuchkey", ("nosuchkey",)),
    ("flavour.x=1", ("flavour", "components", "serving")),
    ("name=x", ("arch.name", "workload.name")),
    ("components.hbm.capacity.x=3", ("components.hbm.capacity", "mapping")),
])
def test_set_malformed_assignments(cli, tmp_path, small, assignment, words):
    code, out, err = cli("run", write(tmp_path, "a.yaml", ARCH), small, "--set", assignment)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("accsim: error: --set: ")
    for word in words:
        assert word in lines[0]


@pytest.mark.unit
def test_several_set_mistakes_in_one_file_all_reported(cli, tmp_path, small):
    code, out, err = cli("run", write(tmp_path, "a.yaml", ARCH), small,
                         "--set", "components.sa.rows=-1", "--set", "components.vu.lanes=abc",
                         "--set", "components.spad.colour=1")
    assert code == 2
    errors = by_path(parse_errors(err))
    assert set(errors) == {"components.sa.rows", "components.vu.lanes", "components.spad.colour"}
    assert all(e[0]["file"] == "--set" for e in errors.values())


@pytest.mark.unit
def test_set_makes_impossible_combination(cli, tmp_path, small):
    code, out, err = cli("run", write(tmp_path, "a.yaml", ARCH), small,
                         "--set", "serving.prompt_tokens=1000", "--set", "serving.generate_tokens=100")
    assert code == 2
    (error,) = parse_errors(err)
    assert error["path"].startswith("serving") and "1100" in error["msg"]


# --------------------------------------------------------------------------- real subprocesses


@pytest.mark.cli
def test_subprocess_exit_2_one_line_per_problem_no_traceback(tmp_path):
    text = edit(ARCH, "    capacity: 32 GiB\n", "    capacity: 0 GiB\n")
    text = edit(text, "    dataflow: ws\n", "    dataflow: ws\n    speed: 11\n")
    text = edit(text, "clock: 1 GHz\n", "clock: 1 GB\n")
    path = write(tmp_path, "a.yaml", text)
    proc = accsim_subprocess(tmp_path, "check", "a.yaml")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    errors = parse_errors(proc.stderr)
    assert {(Path(e["file"]).resolve(), e["line"], e["path"]) for e in errors} == {
        (path.resolve(), line_of(text, "0 GiB"), "components.hbm.capacity"),
        (path.resolve(), line_of(text, "speed: 11"), "components.sa.speed"),
        (path.resolve(), line_of(text, "1 GB"), "clock"),
    }
    assert not (tmp_path / "crash").exists()


@pytest.mark.cli
def test_subprocess_debug_shows_traceback(tmp_path):
    write(tmp_path, "a.yaml", edit(ARCH, "    rows: 128\n", "    rows: 0\n"))
    proc = accsim_subprocess(tmp_path, "check", "a.yaml", "--debug")
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "ConfigError" in proc.stderr
    assert "components.sa.rows" in proc.stderr
