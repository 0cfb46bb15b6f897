"""Strict YAML reading: safe loading only, duplicate keys rejected, every key
remembers the file and line it came from, `extends:` deep merge, `--set` overrides.

The result is a tree of LocDict / LocList / scalars. Validation (accsim.schema)
uses the remembered locations to report FILE:LINE: path.to.field: message.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from .errors import ConfigError, Problem

Location = tuple[str, "int | None"]


class LocDict(dict):
    """A mapping whose keys remember where they were written."""

    def __init__(self, *args, origin: Location = ("<memory>", None), **kwargs):
        super().__init__(*args, **kwargs)
        self.origin = origin
        self.key_locations: dict[str, Location] = {}
        self.problems: list[Problem] = []   # collected while reading (top level only)

    def location(self, key: str) -> Location:
        return self.key_locations.get(key, self.origin)


class LocList(list):
    """A sequence whose items remember where they were written."""

    def __init__(self, *args, origin: Location = ("<memory>", None)):
        super().__init__(*args)
        self.origin = origin
        self.item_locations: list[Location] = []

    def location(self, index: int) -> Location:
        if 0 <= index < len(self.item_locations):
            return self.item_locations[index]
        return self.origin


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that records locations and collects duplicate keys."""

    def __init__(self, stream, file_name: str):
        super().__init__(stream)
        self.file_name = file_name
        self.problems: list[Problem] = []
        self.duplicates: list[tuple[LocDict, str, int, int]] = []  # mapping, key, line, first line


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> LocDict:
    loader.flatten_mapping(node)
    result = LocDict(origin=(loader.file_name, _line(node)))
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            loader.problems.append(Problem(loader.file_name, _line(key_node), "",
                                           f"keys must be strings, got {key!r}"))
            continue
        if key in result:
            loader.duplicates.append((result, key, _line(key_node), result.key_locations[key][1]))
            continue
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_locations[key] = (loader.file_name, _line(key_node))
    return result


def _construct_sequence(loader: _StrictLoader, node: yaml.SequenceNode) -> LocList:
    result = LocList(origin=(loader.file_name, _line(node)))
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_locations.append((loader.file_name, _line(item)))
    return result


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _paths(node, prefix: str, found: dict[int, str]) -> None:
    if isinstance(node, LocDict):
        found[id(node)] = prefix
        for key, value in node.items():
            _paths(value, f"{prefix}.{key}" if prefix else key, found)
    elif isinstance(node, LocList):
        for index, value in enumerate(node):
            _paths(value, f"{prefix}[{index}]", found)


def _duplicate_problems(loader: _StrictLoader, tree) -> list[Problem]:
    paths: dict[int, str] = {}
    _paths(tree, "", paths)
    problems = []
    for mapping, key, line, first in loader.duplicates:
        parent = paths.get(id(mapping), "")
        problems.append(Problem(loader.file_name, line, f"{parent}.{key}" if parent else key,
                                f"duplicate key (first defined on line {first})"))
    return problems


def parse_text(text: str, file_name: str, collect: bool = False) -> LocDict:
    """Parse one YAML document whose top level must be a mapping.

    Syntax errors raise at once. Duplicate keys raise too, unless `collect` is
    set: then they are left in the returned tree's `problems` list so that
    validation can report them together with everything else."""
    loader = _StrictLoader(text, file_name)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(file_name, line, "", f"not valid YAML: {reason}")]) from None
    finally:
        loader.dispose()
    problems = loader.problems + _duplicate_problems(loader, data)
    if not isinstance(data, LocDict):
        raise ConfigError(problems + [Problem(file_name, 1, "", "the top level must be a mapping of keys")])
    if problems and not collect:
        raise ConfigError(problems)
    data.problems = problems
    return data


def read_file(path: Path) -> str:
    from .errors import ResolveError

    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResolveError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResolveError(f"{path}: cannot read: {exc}") from None


def deep_merge(base: LocDict, override: LocDict) -> LocDict:
    """Mappings merge key by key; anything else in `override` replaces `base`; a key
    set to null (`~`) in `override` removes the key inherited from `base`; a mapping whose
    `type` differs from the inherited one's replaces it whole (the fields of one component
    type mean nothing to another)."""
    merged = LocDict(base, origin=override.origin)
    merged.key_locations = dict(base.key_locations)
    for key, value in override.items():
        if value is None and key in merged:
            del merged[key]
            merged.key_locations.pop(key, None)
            continue
        inherited = merged.get(key)
        if (isinstance(value, LocDict) and isinstance(inherited, LocDict)
                and value.get("type", inherited.get("type")) == inherited.get("type")):
            merged[key] = deep_merge(inherited, value)
        else:
            merged[key] = value
        merged.key_locations[key] = override.location(key)
    return merged


class LoadedFile:
    """A YAML file after `extends:` resolution, with the hashes of every file read
    and the problems found while reading (duplicate keys) for validation to report."""

    def __init__(self, path: Path, tree: LocDict, file_hashes: dict[str, str], problems=()):
        self.path = path
        self.tree = tree
        self.file_hashes = file_hashes
        self.problems: list[Problem] = list(problems)


def _extends_line(path: Path) -> int | None:
    for number, line in enumerate(read_file(path).splitlines(), 1):
        if line.startswith("extends:"):
            return number
    return None


def load(path: Path, resolve_extends=None, _chain: tuple[Path, ...] = ()) -> LoadedFile:
    """Load `path`, following `extends:` (a path relative to the file, or a
    bundled name resolved by `resolve_extends`)."""
    path = path.resolve()
    if path in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, path))
        raise ConfigError([Problem(str(_chain[-1]), _extends_line(_chain[-1]), "extends",
                                   f"circular extends: {cycle}")])
    text = read_file(path)
    tree = parse_text(text, str(path), collect=True)
    hashes = {str(path): hashlib.sha256(text.encode()).hexdigest()}
    where = tree.location("extends")
    parent_name = tree.pop("extends", None)
    if parent_name is None:
        return LoadedFile(path, tree, hashes, tree.problems)
    if not isinstance(parent_name, str):
        raise ConfigError([Problem(where[0], where[1], "extends", "must be a file name")])
    candidate = path.parent / parent_name
    if candidate.exists():
        parent_path = candidate
    elif resolve_extends is not None:
        from .errors import ResolveError

        try:
            parent_path = resolve_extends(parent_name)
        except ResolveError as exc:
            reason = str(exc).split(": ", 1)[-1]
            raise ConfigError([Problem(where[0], where[1], "extends", f"{parent_name!r}: {reason}")]) from None
    else:
        raise ConfigError([Problem(where[0], where[1], "extends", f"no such file {parent_name!r}")])
    parent = load(parent_path, resolve_extends, (*_chain, path))
    tree.key_locations.pop("extends", None)
    return LoadedFile(path, deep_merge(parent.tree, tree), {**parent.file_hashes, **hashes},
                      parent.problems + tree.problems)


def apply_override(tree: LocDict, assignment: str) -> None:
    """Apply one `path.to.key=value` (value read as a YAML scalar or flow item)."""
    where = ("--set", None)
    if "=" not in assignment:
        raise ConfigError([Problem("--set", None, assignment, "expected path.to.key=value")])
    path_text, value_text = assignment.split("=", 1)
    keys = [k for k in path_text.strip().split(".")]
    if not all(keys):
        raise ConfigError([Problem("--set", None, path_text, "empty key in path")])
    try:
        value = parse_text(f"value: {value_text}", "--set")["value"]
    except ConfigError:
        value = value_text
    node = tree
    for depth, key in enumerate(keys[:-1]):
        child = node.get(key)
        if not isinstance(child, LocDict):
            if child is not None:
                shown = ".".join(keys[: depth + 1])
                raise ConfigError([Problem("--set", None, shown, "is not a mapping; cannot set a key inside it")])
            child = LocDict(origin=where)
            node[key] = child
            node.key_locations[key] = where
        node = child
    node[keys[-1]] = value
    node.key_locations[keys[-1]] = where
