"""Base class and registry of hardware components."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..clock import Clock
from ..schema import Checker, Field, opt

REGISTRY: dict[str, type["Component"]] = {}

COMMON_FIELDS: dict[str, Field] = {
    "type": Field("str", "component type (see `accsim list`)"),
    "count": opt("int", 1, "number of identical instances", positive=True),
    "description": opt("str", "", "free text"),
}


CLOCK_FIELD = opt("frequency_hz", None, "clock of this component (default: the architecture's clock)",
                  positive=True)


def register(type_name: str):
    """Class decorator: make a component selectable as `type: type_name` in YAML."""

    def decorate(cls: type["Component"]) -> type["Component"]:
        if type_name in REGISTRY:
            raise RuntimeError(f"component type {type_name!r} registered twice")
        cls.TYPE = type_name
        REGISTRY[type_name] = cls
        return cls

    return decorate


@dataclass
class OpCost:
    """What executing one op on a component group took."""

    ticks: int
    busy_ticks: dict[str, int] = field(default_factory=dict)       # component -> summed over instances
    bytes_read: dict[str, float] = field(default_factory=dict)     # memory level -> bytes
    bytes_written: dict[str, float] = field(default_factory=dict)
    macs: int = 0
    peak_macs: int = 0     # MACs the busy units could have done in `ticks`
    # activity for the energy model: (component name, event) -> count, e.g.
    # ("sa", "mac_fp16"), ("spad", "read_bytes"), ("hbm", "ACT")
    events: dict[tuple[str, str], float] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


class Component:
    """A hardware block. Subclasses declare FIELDS (their YAML keys beyond
    type/count/description), EXECUTES (op kinds they run) and ROLE."""

    TYPE: ClassVar[str] = ""
    ROLE: ClassVar[str] = "compute"
    FIELDS: ClassVar[dict[str, Field]] = {}
    EXECUTES: ClassVar[frozenset[str]] = frozenset()
    SUMMARY: ClassVar[str] = ""
    REFERENCES: ClassVar[dict[str, str]] = {}   # field -> role of the component it names

    def __init__(self, name: str, count: int, params: dict[str, Any], default_clock: Clock):
        self.name = name
        self.count = count
        self.params = params
        frequency = params.get("clock")
        self.clock = Clock(name, frequency) if frequency else Clock(default_clock.name, default_clock.frequency_hz)

    @classmethod
    def all_fields(cls) -> dict[str, Field]:
        return {**COMMON_FIELDS, **cls.FIELDS}

    @classmethod
    def cross_check(cls, name: str, params: dict, peers: dict, checker: Checker, node) -> None:
        """Checks that involve other components (peers: name -> (type_cls, params));
        `node` is the component's YAML mapping, for locating fields. Only called when
        this component and the ones it names have no problems of their own."""

    def link(self, system) -> None:
        """Resolve references to other components once all are built."""

    def execute(self, op, system) -> OpCost:  # pragma: no cover - compute components override
        raise NotImplementedError(f"{self.TYPE} executes no ops")
