"""On-chip SRAM scratchpad private to one compute unit.

Its capacity bounds the tiles the mapper may choose; `double_buffer` splits
operand space in two slots so the next tile loads while the current computes.
"""
from __future__ import annotations

from ..schema import opt, req
from .base import Component, register


@register("scratchpad")
class Scratchpad(Component):
    ROLE = "buffer"
    SUMMARY = "SRAM scratchpad per compute unit, capacity enforced, optional double buffering"
    FIELDS = {
        "capacity": req("size_bytes", "capacity of one instance, e.g. 16 MiB", positive=True),
        "double_buffer": opt("bool", True, "two operand slots: load the next tile during compute"),
        "banks": opt("int", 0, "SRAM banks per instance, for energy per access (0: as many as keep each bank "
                               "within the technology table's largest measured array)", minimum=0),
    }

    @property
    def capacity_bytes(self) -> int:
        return self.params["capacity"]

    @property
    def slots(self) -> int:
        return 2 if self.params["double_buffer"] else 1
