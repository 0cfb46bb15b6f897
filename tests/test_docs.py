from pathlib import Path

import pytest

from accsim.schema_doc import field_reference

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.unit
def test_yaml_reference_is_current():
    """docs/yaml.md embeds `accsim list --fields`: python -m accsim.schema_doc docs/yaml.md"""
    assert field_reference() in (ROOT / "docs" / "yaml.md").read_text()


@pytest.mark.unit
def test_bundled_hardware_numbers_cite_a_source():
    """Every numeric hardware field in a bundled architecture has a comment on its
    line or the file header names the source."""
    for path in (ROOT / "arch").glob("*.yaml"):
        lines = path.read_text().splitlines()
        assert lines[0].startswith("#"), f"{path.name}: no source header"
        for number, line in enumerate(lines, 1):
            key = line.split("#")[0].strip()
            if ":" in key and any(ch.isdigit() for ch in key.split(":", 1)[1]) and not key.startswith(
                    ("schema_version", "description", "name")):
                assert "#" in line, f"{path.name}:{number}: number without a cited source"
