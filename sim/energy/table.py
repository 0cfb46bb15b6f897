"""Table estimator: published per-operation energies and unit areas (the technology
table's `operations`), scaled to the node. Prices compute arrays and vector units."""
from __future__ import annotations

from ..dtypes import BYTES_PER_ELEMENT
from .estimator import AreaQuote, Decline, Estimator, register

UM2_PER_MM2 = 1e6


@register
class TableEstimator(Estimator):
    NAME = "table"
    RANK = 20
    ACCURACY = ("per-operation energy and area of a published table (Horowitz 45 nm), scaled by node: "
                "arithmetic only, within about 2x of a synthesized unit; PE registers count in area, not energy")

    def event_pj(self, component, event: str) -> float:
        kind, _, dtype = event.partition("_")
        if component.TYPE == "systolic_array" and kind == "mac":
            multiply, _ = self.operation(component, event, "mult", dtype)
            accumulate, _ = self.operation(component, event, "add", component.params["accumulator"])
            return multiply + accumulate
        if component.TYPE == "vector_unit" and kind in ("add", "mult", "cmp"):
            return self.operation(component, event, kind, dtype)[0]
        raise Decline(f"no table row for {component.TYPE} event {event!r}")

    def area(self, component) -> AreaQuote:
        if component.TYPE == "systolic_array":
            p = component.params
            precision, accumulator = p["precision"], p["accumulator"]
            _, mult_um2 = self.operation(component, "area", "mult", precision)
            _, add_um2 = self.operation(component, "area", "add", accumulator)
            # stationary operand + streamed operand + partial sum, each held in a PE register
            bits = 8 * (2 * BYTES_PER_ELEMENT[precision] + BYTES_PER_ELEMENT[accumulator])
            pe_um2 = mult_um2 + add_um2 + bits * self.table.dff_area_um2 * self.tech.area_factor
            pes = p["rows"] * p["cols"] * component.count
            return AreaQuote(logic_mm2=pes * pe_um2 / UM2_PER_MM2,
                             note=f"{pes} PEs x {pe_um2:.0f} um2 (mult {precision} + add {accumulator} + "
                                  f"{bits:.0f} register bits)")
        if component.TYPE == "vector_unit":
            dtype = component.params["precision"]
            lane_um2 = sum(self.operation(component, "area", op, dtype)[1] for op in ("add", "mult", "cmp"))
            lanes = component.params["lanes"] * component.count
            return AreaQuote(logic_mm2=lanes * lane_um2 / UM2_PER_MM2,
                             note=f"{lanes} lanes x {lane_um2:.0f} um2 (add + mult + cmp, {dtype})")
        raise Decline(f"no table rows for a {component.TYPE}")
