"""A non-editable install finds its bundled YAML files from any directory."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.cli
def test_wheel_install_resolves_bundled_names(tmp_path):
    wheels = tmp_path / "wheels"
    # --no-build-isolation: build with the setuptools of the dev extras (no network from tests)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(wheels), str(ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    wheel = next(wheels.glob("accsim-*.whl"))
    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                                str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import accsim, sys; from accsim.resolve import resolve; from accsim.cli import main;"
        "print(accsim.__file__); print(resolve('arch/npu.yaml', 'arch')); print(resolve('workload/gpt2', 'workload'));"
        "sys.exit(main(['run', 'npu', 'workloads/gemm-256.yaml', '--quiet']))")
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(str(site))
    assert lines[1] == str(site / "accsim" / "_bundled" / "arch" / "npu.yaml")
    assert lines[2] == str(site / "accsim" / "_bundled" / "workloads" / "gpt2.yaml")
    assert "gemm-256 on npu" in done.stdout
    # the model library is bundled too (an LLM workload needs it)
    assert (site / "accsim" / "_bundled" / "configs" / "models.yaml").is_file()
