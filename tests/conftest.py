import os
import tempfile

import pytest

from accsim.resolve import resolve

# The mapper's on-disk cache (accsim.mapping.cache) goes to a fresh directory per test
# session, inherited by CLI subprocesses: tests never read or fill the user's cache. The DRAM
# playbacks' (accsim.components.dram) is off, so that every test that compares two runs on DRAM
# (fast against exact mode, say) simulates both; tests/test_dram_cache.py turns it on.
os.environ["ACCSIM_MAPPING_CACHE"] = tempfile.mkdtemp(prefix="accsim-mapping-cache-")
os.environ["ACCSIM_DRAM_CACHE"] = "off"


@pytest.fixture
def tiny_llm(tmp_path):
    """A 2-layer GPT-2-shaped workload file, small enough for exact runs."""
    path = tmp_path / "tiny.yaml"
    path.write_text(
        f"extends: {resolve('gpt2', 'workload')}\n"
        "name: tiny\n"
        "model: {base: gpt2-small, layers: 2}\n"
        "serving: {batch_size: 3, prompt_tokens: 8, generate_tokens: 4}\n")
    return str(path)
