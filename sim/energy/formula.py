"""Formula estimator: physical laws fitted to the table's points.

* SRAM: energy per access from the capacity of one bank (power law between the
  table's measured capacities), plus the wire from the macro's edge to the bank
  (half the side of the square macro); area from bit cells / array efficiency.
* Wires (DMA): bits x pJ/bit/mm x the distance from the memory PHY at the die
  edge to the middle of the die (half the side of a square die).
* Off-chip memory: pJ/bit of the interface; PHY area per PHY of the interface's
  bandwidth (bump-limited: not scaled with the logic node).
* Vector exp: a degree-3 polynomial after range reduction (3 mult + 3 add:
  accsim assumption; no published per-exp energy in our sources).
"""
from __future__ import annotations

import math

from .estimator import AreaQuote, Decline, Estimator, register
from .tech import sram_read_pj_per_64b

BITS_PER_BYTE = 8
UM2_PER_MM2 = 1e6
EXP_OPERATIONS = {"mult": 3, "add": 3}    # Horner evaluation of a cubic: 3 multiply-adds


@register
class FormulaEstimator(Estimator):
    NAME = "formula"
    RANK = 30
    ACCURACY = ("fitted laws: SRAM energy ~ capacity power law between measured sizes, wire energy ~ "
                "distance, memory energy per bit; within about 3x")

    def event_pj(self, component, event: str) -> float:
        handler = getattr(self, f"_event_{component.TYPE}", None)
        if handler is None:
            raise Decline(f"no formula for a {component.TYPE}")
        return handler(component, event)

    def area(self, component) -> AreaQuote:
        handler = getattr(self, f"_area_{component.TYPE}", None)
        if handler is None:
            raise Decline(f"no formula for a {component.TYPE}")
        return handler(component)

    # --- scratchpad
    def banks(self, component) -> int:
        given = component.params.get("banks") or 0
        if given:
            return given
        per_bank = self.table.sram["max_bank_bytes"]
        return 2 ** math.ceil(math.log2(max(1.0, component.capacity_bytes / per_bank)))

    def _sram_mm2(self, capacity_bytes: float) -> float:
        cell = self.table.sram["bitcell_um2"] / self.table.sram["array_efficiency"]
        return capacity_bytes * BITS_PER_BYTE * cell * self.tech.area_factor / UM2_PER_MM2

    def _event_scratchpad(self, component, event: str) -> float:
        if event not in ("read_bytes", "write_bytes"):
            raise Decline(f"scratchpad event {event!r} unknown")
        bank = component.capacity_bytes / self.banks(component)
        per_byte = sram_read_pj_per_64b(self.table, bank) / 8 * self.tech.energy_factor
        if event == "write_bytes":
            per_byte *= self.table.sram["write_to_read"]
        distance_mm = math.sqrt(self._sram_mm2(component.capacity_bytes)) / 2
        return per_byte + BITS_PER_BYTE * self.table.wire_pj_per_bit_mm * distance_mm

    def _area_scratchpad(self, component) -> AreaQuote:
        mm2 = self._sram_mm2(component.capacity_bytes) * component.count
        return AreaQuote(sram_mm2=mm2, note=f"{component.count} x {component.capacity_bytes} B in "
                                            f"{self.banks(component)} bank(s) each")

    # --- DMA: the wires between the memory PHY and the buffers
    def _event_dma(self, component, event: str) -> float:
        if event != "bytes":
            raise Decline(f"dma event {event!r} unknown")
        if not self.chip_area_mm2:
            raise Decline("needs the die area")
        return BITS_PER_BYTE * self.table.wire_pj_per_bit_mm * math.sqrt(self.chip_area_mm2) / 2

    def _area_dma(self, component) -> AreaQuote:
        return AreaQuote(note="address generators and descriptor queues: small next to the buffers; not modelled")

    # --- memories
    def interface(self, component, name: str) -> dict:
        try:
            return self.table.interfaces[name]
        except KeyError:
            raise Decline(f"no memory interface {name!r}", missing=f"memory_interfaces [{name}, ...]") from None

    def _memory_event(self, component, event: str, interface: str) -> float:
        if event not in ("read_bytes", "write_bytes"):
            raise Decline(f"memory event {event!r} is priced by the per-bit energy (reads and writes)")
        return self.interface(component, interface)["pj_per_bit"] * BITS_PER_BYTE

    def _phy_area(self, component, interface: str, bytes_per_s: float) -> AreaQuote:
        row = self.interface(component, interface)
        if row["phy_area_mm2"] is None:
            raise Decline(f"no PHY area for {interface}", missing=f"memory_interfaces [{interface}] phy_area_mm2")
        phys = math.ceil(bytes_per_s / row["phy_bytes_per_s"] - 1e-9)
        return AreaQuote(phy_mm2=phys * row["phy_area_mm2"],
                         note=f"{phys} {interface} PHY(s) of {row['phy_area_mm2']} mm2 (DRAM dies are off-chip)")

    def _event_ideal_memory(self, component, event: str) -> float:
        return self._memory_event(component, event, component.params["interface"])

    def _area_ideal_memory(self, component) -> AreaQuote:
        return self._phy_area(component, component.params["interface"], component.bandwidth_bytes_per_s)

    def _event_dram(self, component, event: str) -> float:
        if event in ("read_bytes", "write_bytes"):
            return self._memory_event(component, event, dram_interface(component))
        # without currents the per-bit energy covers the whole access: commands add nothing
        return 0.0

    def _area_dram(self, component) -> AreaQuote:
        return self._phy_area(component, dram_interface(component), component.preset.peak_bytes_per_s)

    # --- vector unit: exp from multiplies and adds
    def _event_vector_unit(self, component, event: str) -> float:
        kind, _, dtype = event.partition("_")
        if kind != "exp":
            raise Decline(f"no formula for vector event {event!r}")
        return sum(count * self.operation(component, event, op, dtype)[0] for op, count in EXP_OPERATIONS.items())


def dram_interface(component) -> str:
    """The interface row of a DRAM preset: its name up to the first '-' (hbm2, ddr4, ...)."""
    return str(component.params["preset"]).lower().removesuffix(".yaml").split("/")[-1].split("-")[0]
