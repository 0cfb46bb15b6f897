"""On-chip SRAM scratchpad private to one compute unit.

Its capacity bounds the tiles the mapper may choose; `double_buffer` splits
operand space in two slots so the next tile loads while the current computes.
`weight_pool` sets part of it aside for weights that stay on chip between ops
(the sub-batches of a layer reuse them; accsim.residency): tiles get the rest.
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
        "weight_pool": opt("size_bytes", 0, "bytes of each instance kept for weights that later ops of the "
                                            "same layer reuse (sub-batch interleaving); tiles use the rest",
                           minimum=0),
    }

    @classmethod
    def cross_check(cls, name, params, peers, checker, node) -> None:
        if params["weight_pool"] >= params["capacity"]:
            checker.add(node.location("weight_pool"), f"components.{name}.weight_pool",
                        f"{params['weight_pool']} bytes leave no room for tiles in the "
                        f"{params['capacity']}-byte scratchpad")

    @property
    def capacity_bytes(self) -> int:
        return self.params["capacity"]

    @property
    def tile_capacity_bytes(self) -> int:
        """What the tiles of one op may use: the capacity less the weight pool."""
        return self.params["capacity"] - self.params["weight_pool"]

    @property
    def weight_pool_bytes(self) -> int:
        """Weight pool of all instances together."""
        return self.params["weight_pool"] * self.count

    @property
    def slots(self) -> int:
        return 2 if self.params["double_buffer"] else 1
