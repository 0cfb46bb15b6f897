"""Find architecture and workload files by path or by bundled name.

`neupims`, `neupims.yaml`, `arch/neupims.yaml` and an absolute path all name
a file. Bundled files live in the source checkout's top-level folders (arch/,
workloads/, configs/) or, after a non-editable install, in the package's
`_bundled/` folder; both are tried so the same names work everywhere.
"""
from __future__ import annotations

import difflib
from pathlib import Path

from .errors import ResolveError

FOLDERS = {"arch": "arch", "workload": "workloads", "config": "configs"}
_PREFIXES = ("arch/", "workload/", "workloads/", "configs/")


def _roots() -> list[Path]:
    package = Path(__file__).resolve().parent
    roots = []
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "arch").is_dir():
        roots.append(checkout)
    if (package / "_bundled").is_dir():
        roots.append(package / "_bundled")
    return roots


def bundled_dir(kind: str) -> Path | None:
    for root in _roots():
        folder = root / FOLDERS[kind]
        if folder.is_dir():
            return folder
    return None


def bundled_names(kind: str) -> list[str]:
    folder = bundled_dir(kind)
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder else []


def bundled_file(kind: str, relative: str) -> Path:
    folder = bundled_dir(kind)
    if folder is None or not (folder / relative).is_file():
        raise ResolveError(f"bundled file {FOLDERS[kind]}/{relative} is missing from this installation")
    return folder / relative


def resolve(name: str, kind: str) -> Path:
    """Path of the file that `name` means for `kind` ('arch' or 'workload')."""
    path = Path(name).expanduser()
    if path.is_file():
        return path.resolve()
    if path.is_dir():
        raise ResolveError(f"{name}: is a directory, expected a YAML file")
    stem = name
    for prefix in _PREFIXES:
        if stem.startswith(prefix):
            stem = stem[len(prefix):]
            break
    if stem.endswith((".yaml", ".yml")):
        stem = stem.rsplit(".", 1)[0]
    folder = bundled_dir(kind)
    if folder is not None and "/" not in stem and (folder / f"{stem}.yaml").is_file():
        return (folder / f"{stem}.yaml").resolve()
    names = bundled_names(kind)
    close = difflib.get_close_matches(stem, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; bundled: {', '.join(names)}"
    raise ResolveError(f"{name}: no such file and no bundled {kind} of that name{hint}")
