import pytest

from accsim.errors import ConfigError
from accsim.yamlio import apply_override, load, parse_text

pytestmark = pytest.mark.unit


def test_locations_are_remembered():
    tree = parse_text("a: 1\nb:\n  c: 2\n  d: [1, 2]\n", "f.yaml")
    assert tree.location("a") == ("f.yaml", 1)
    assert tree["b"].location("d") == ("f.yaml", 4)
    assert tree["b"]["d"].location(1) == ("f.yaml", 4)


def test_duplicate_keys_are_all_reported():
    with pytest.raises(ConfigError) as info:
        parse_text("a: 1\nb: 2\na: 3\nb: 4\n", "f.yaml")
    lines = [str(p) for p in info.value.problems]
    assert lines == ["f.yaml:3: a: duplicate key (first defined on line 1)",
                     "f.yaml:4: b: duplicate key (first defined on line 2)"]


def test_no_code_execution():
    with pytest.raises(ConfigError):
        parse_text("a: !!python/object/apply:os.system ['echo hacked']\n", "f.yaml")


def test_top_level_must_be_mapping():
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        parse_text("- 1\n- 2\n", "f.yaml")


def test_extends_deep_merge(tmp_path):
    (tmp_path / "base.yaml").write_text("x: {a: 1, b: {c: 2, d: 3}}\nlist: [1, 2]\n")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nx: {b: {d: 4}}\nlist: [9]\n")
    loaded = load(tmp_path / "child.yaml")
    assert loaded.tree == {"x": {"a": 1, "b": {"c": 2, "d": 4}}, "list": [9]}
    assert loaded.tree["x"]["b"].location("d")[1] == 2
    assert loaded.tree["x"]["b"].location("c")[0].endswith("base.yaml")
    assert len(loaded.file_hashes) == 2



def test_extends_with_another_type_replaces_the_mapping(tmp_path):
    """A mapping whose `type` differs from the inherited one's keeps none of its fields;
    the same type (or none given) merges key by key."""
    (tmp_path / "base.yaml").write_text("c:\n  mem: {type: ideal_memory, bandwidth: 1, latency: 2}\n"
                                        "  dma: {type: dma, memory: mem}\n")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nc:\n  mem: {type: dram, preset: hbm2}\n"
                                         "  dma: {setup_cycles: 3}\n")
    tree = load(tmp_path / "child.yaml").tree
    assert tree["c"]["mem"] == {"type": "dram", "preset": "hbm2"}
    assert tree["c"]["dma"] == {"type": "dma", "memory": "mem", "setup_cycles": 3}
    assert tree["c"]["mem"].location("preset")[0].endswith("child.yaml")

def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="circular extends"):
        load(tmp_path / "a.yaml")


def test_override_paths():
    tree = parse_text("a: {b: 1}\n", "f.yaml")
    apply_override(tree, "a.b=2 GHz")
    apply_override(tree, "a.c.d=[1, 2]")
    assert tree["a"]["b"] == "2 GHz" and tree["a"]["c"]["d"] == [1, 2]
    assert tree["a"].location("b") == ("--set", None)
    with pytest.raises(ConfigError, match="not a mapping"):
        apply_override(tree, "a.b.x=1")
    with pytest.raises(ConfigError, match="path.to.key=value"):
        apply_override(tree, "a.b")
