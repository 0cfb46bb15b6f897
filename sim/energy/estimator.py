"""Estimator plug-ins: each prices the events and the area of the components it
knows, or declines with a reason. The accounting (accsim.energy.model) asks them
in order of accuracy; the first that does not decline prices the item, and the
result records who priced what and why the others declined.

    @register
    class MyEstimator(Estimator):
        NAME = "mine"; RANK = 5; ACCURACY = "what it is good for, and its error"
        def event_pj(self, component, event): ...   # or raise Decline("why")
        def area(self, component): ...              # AreaQuote, or raise Decline("why")
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .tech import Technology

ESTIMATORS: dict[str, type["Estimator"]] = {}


def register(cls: type["Estimator"]) -> type["Estimator"]:
    if cls.NAME in ESTIMATORS:
        raise RuntimeError(f"estimator {cls.NAME!r} registered twice")
    ESTIMATORS[cls.NAME] = cls
    return cls


class Decline(Exception):
    """The estimator cannot price this item. `missing` names the table entry it would
    have needed when the estimator knows the item but the table lacks the number."""

    def __init__(self, reason: str, missing: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


@dataclass(frozen=True)
class AreaQuote:
    """Area of all instances of a component, split by what leaks how (mm2)."""

    logic_mm2: float = 0.0
    sram_mm2: float = 0.0
    phy_mm2: float = 0.0      # memory interface: bump-limited; its static power is not modelled
    note: str = ""

    @property
    def total_mm2(self) -> float:
        return self.logic_mm2 + self.sram_mm2 + self.phy_mm2


class Estimator:
    NAME: ClassVar[str] = ""
    RANK: ClassVar[int] = 100           # lower is tried first (more accurate)
    ACCURACY: ClassVar[str] = ""

    def __init__(self, tech: Technology, system, chip_area_mm2: float = 0.0):
        self.tech = tech
        self.table = tech.table
        self.system = system
        self.chip_area_mm2 = chip_area_mm2    # known once areas are priced (0 while pricing areas)

    def event_pj(self, component, event: str) -> float:
        raise Decline("prices no events")

    def area(self, component) -> AreaQuote:
        raise Decline("prices no areas")

    def static_w(self, component) -> float:
        """Static power beyond leakage x area (e.g. DRAM background), or Decline."""
        raise Decline("no static power model")

    # helpers for subclasses
    def operation(self, component, event: str, op: str, dtype: str) -> tuple[float, float]:
        """(pJ at the node, um2 at the node) of one operation from the table."""
        try:
            pj, um2 = self.table.operations[(op, dtype)]
        except KeyError:
            raise Decline(f"no operations row [{op}, {dtype}]", missing=f"operations [{op}, {dtype}]") from None
        return pj * self.tech.energy_factor, um2 * self.tech.area_factor


def ordered(tech: Technology, system, chip_area_mm2: float = 0.0) -> list[Estimator]:
    return [cls(tech, system, chip_area_mm2) for cls in sorted(ESTIMATORS.values(), key=lambda c: (c.RANK, c.NAME))]
