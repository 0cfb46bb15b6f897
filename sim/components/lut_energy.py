"""Energy and area of the GPU tensor-core components (lut_tensor_core, tensor_core_mac)
from the technology table: an estimator plug-in (accsim.energy.estimator) registered here,
next to the components it prices, so both units are priced by the same rules.

LUT array (per column of each of the M rows): an 8:1 multiplexer of the table entry
(7 MUX2 per entry bit), the conditional negation (one XOR per entry bit), the shift by the
bit position (integers: a 4-way shifter, 2 MUX2 per bit of the widened entry; FP: an
exponent add, a 5-bit adder) and the accumulator adder and register; per row the 8-entry
table registers; per array the N x K weight bit-plane register. Cell areas: the table's
`cells` (NanGate 45 nm) and `operations` (Horowitz 45 nm adders, multipliers).
Lookup energy: the table has no energy for multiplexers, so the lookup logic's energy is the
8-bit adder's energy [H14] scaled by the ratio of its cell area to that adder's area (equal
switching energy per unit of cell area: an accsim assumption, stated in docs/lut_tensor_core.md).

MAC tensor core: per MAC a multiplier of the operand type and an adder of the accumulator
type [H14] plus two operand registers and the accumulator register (as the table estimator
prices a systolic PE). Register-file reads: the SRAM energy of a bank of `register_bank_bytes`.
"""
from __future__ import annotations

from ..dtypes import BYTES_PER_ELEMENT
from ..energy.estimator import AreaQuote, Decline, Estimator, register
from ..energy.tech import sram_read_pj_per_64b

UM2_PER_MM2 = 1e6
BITS = 8


def _entry_bits(dtype: str) -> int:
    return int(BYTES_PER_ELEMENT[dtype] * BITS)


@register
class TensorCoreEstimator(Estimator):
    NAME = "tensor_core"
    RANK = 15
    ACCURACY = ("GPU tensor-core units from the technology table's adders, multipliers and cells "
                "(LUT lookup energy scaled from adder energy by cell area): within about 2-3x")

    def _cells_um2(self, component, **counts) -> float:
        total = 0.0
        for cell, count in counts.items():
            name = f"$_{cell}_"
            if name not in self.table.cells:
                raise Decline(f"no cell {name}", missing=f"cells [{name}, ...]")
            total += count * self.table.cells[name]
        return total * self.tech.area_factor

    # --- LUT
    def _lookup_um2(self, component) -> float:
        table, _ = component.types
        bits = _entry_bits(table)
        cells = {"MUX": 7 * bits, "XOR": bits}
        if table.startswith("int"):
            cells["MUX"] += 2 * (bits + 3)
            return self._cells_um2(component, **cells)
        _, add_um2 = self.operation(component, "area", "add", "int8")
        return self._cells_um2(component, **cells) + add_um2 * 5 / 8     # 5-bit exponent adder

    def _lookup_pj(self, component) -> float:
        pj8, um2_8 = self.operation(component, "table_lookup", "add", "int8")
        return pj8 * self._lookup_um2(component) / um2_8

    def _register_pj_per_byte(self, component) -> float:
        return sram_read_pj_per_64b(self.table, component.register_bank_bytes) / 8 * self.tech.energy_factor

    def event_pj(self, component, event: str) -> float:
        if component.TYPE == "lut_tensor_core":
            if event == "table_lookup":
                return self._lookup_pj(component)
            if event == "register_read_bytes":
                return self._register_pj_per_byte(component)
            kind, _, dtype = event.partition("_")
            if kind == "add":
                return self.operation(component, event, "add", dtype)[0]
            raise Decline(f"unknown LUT event {event!r}")
        if component.TYPE == "tensor_core_mac":
            kind, _, dtype = event.partition("_")
            if event == "register_read_bytes":
                return self._register_pj_per_byte(component)
            if kind == "mac":
                return (self.operation(component, event, "mult", dtype)[0]
                        + self.operation(component, event, "add", component.params["accumulator"])[0])
            if kind == "dequant":
                if dtype.startswith("int"):
                    return self.operation(component, event, "add", "int8")[0]     # unpack: shift/mask ~ an 8-bit op
                return self.operation(component, event, "mult", dtype)[0] + self.operation(component, event, "add", dtype)[0]
            raise Decline(f"unknown tensor-core event {event!r}")
        raise Decline(f"prices tensor-core units only, not a {component.TYPE}")

    def area(self, component) -> AreaQuote:
        if component.TYPE == "lut_tensor_core":
            um2 = self.lut_array_um2(component)
            arrays = component.arrays * component.count
            return AreaQuote(logic_mm2=arrays * um2 / UM2_PER_MM2,
                             note=f"{arrays} LMMA arrays x {um2:.0f} um2 (lookup mux/sign/shift, adder, registers)")
        if component.TYPE == "tensor_core_mac":
            um2 = self.mac_um2(component)
            macs = component.params["units_per_sm"] * component.params["macs_per_cycle"] * component.count
            return AreaQuote(logic_mm2=macs * um2 / UM2_PER_MM2,
                             note=f"{macs} MACs x {um2:.0f} um2 (mult {component.params['precision']} + add "
                                  f"{component.params['accumulator']} + registers)")
        raise Decline(f"prices tensor-core units only, not a {component.TYPE}")

    def lut_array_um2(self, component) -> float:
        p = component.params
        table, acc = component.types
        _, add_um2 = self.operation(component, "area", "add", acc)
        dff = self.table.dff_area_um2 * self.tech.area_factor
        per_column = self._lookup_um2(component) + add_um2 + _entry_bits(acc) * dff
        tables = p["lmma_m"] * 2 ** (p["lmma_k"] - 1) * _entry_bits(table) * dff
        weights = p["lmma_n"] * p["lmma_k"] * dff
        return p["lmma_m"] * p["lmma_n"] * per_column + tables + weights

    def mac_um2(self, component) -> float:
        p = component.params
        _, mult_um2 = self.operation(component, "area", "mult", p["precision"])
        _, add_um2 = self.operation(component, "area", "add", p["accumulator"])
        bits = 2 * _entry_bits(p["precision"]) + _entry_bits(p["accumulator"])
        return mult_um2 + add_um2 + bits * self.table.dff_area_um2 * self.tech.area_factor
