"""Component registry: the YAML `type:` of a component picks its class.

Each component lives in its own module and registers itself with
`@register("type_name")`; adding a part never edits a switch. Importing this
package imports every bundled component module so the registry is complete.
"""
from __future__ import annotations

import importlib
import pkgutil

from .base import REGISTRY, Component, register  # noqa: F401


def _load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")


_load_all()
