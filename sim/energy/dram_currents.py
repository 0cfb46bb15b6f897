"""DRAM estimator from datasheet currents: the command energies and background power
of the preset (IDD x VDD, Micron TN-41-01 / DRAMsim3 method, accsim.memory.preset)."""
from __future__ import annotations

from ..memory.constraints import COMMANDS
from .estimator import Decline, Estimator, register

# PIM commands (NeuPIMs naming, with or without a PIM_ prefix) priced from the normal command
# they resemble, times the technology table's `pim` ratio when it has one (neupims.md: the
# public model charges COMP = 4 x READ and G_ACT = 4 x ACT; GWRITE writes the global buffer
# like a WRITE burst, READRES reads results like a READ burst, PIM_PRECHARGE is a PRE).
PIM_COMMANDS = {"COMP": ("RD", "comp_to_read"), "DOTPRODUCT": ("RD", "comp_to_read"),
                "G_ACT": ("ACT", "gact_to_act"), "ACTIVATION": ("ACT", "gact_to_act"),
                "READRES": ("RD", None), "RDRESULT": ("RD", None), "GWRITE": ("WR", None),
                "PRECHARGE": ("PRE", None)}


@register
class DramCurrentsEstimator(Estimator):
    NAME = "dram_currents"
    RANK = 10
    ACCURACY = ("command energy and background power from the preset's IDD currents (Micron/DRAMsim3 "
                "method), within about 25% of the device; no I/O termination energy")

    def _compiled(self, component):
        if getattr(component, "preset", None) is None or not hasattr(component, "controller"):
            raise Decline("only cycle-level DRAM (a component with a DRAM preset) has command counts")
        if component.params.get("model") == "analytical":
            raise Decline("the analytical DRAM model counts no commands: its bytes are priced per bit")
        if component.preset.power is None:
            raise Decline(f"preset {component.preset.name} has no IDD currents")
        if not hasattr(component, "_compiled_energy"):
            from ..memory.preset import compile_dram

            component._compiled_energy = compile_dram(component.preset, component.controller)
        return component._compiled_energy

    def event_pj(self, component, event: str) -> float:
        compiled = self._compiled(component)
        if event in COMMANDS:
            return float(compiled.energy_pj[COMMANDS.index(event)])
        pim = PIM_COMMANDS.get(event.removeprefix("PIM_"))
        if pim is not None:
            like, ratio = pim
            factor = self.table.pim[ratio] if ratio else 1.0
            return factor * float(compiled.energy_pj[COMMANDS.index(like)])
        if event in ("read_bytes", "write_bytes"):
            return 0.0      # in the RD / WR command energy
        if event == "active_rank_cycles":
            # IDD3N instead of IDD2N while a bank is open: mW x ns = pJ
            idle_mw, active_mw = compiled.background_mw
            return float((active_mw - idle_mw) * component.preset.timing["tCK_ns"])
        raise Decline(f"DRAM event {event!r} unknown")

    def static_w(self, component) -> float:
        compiled = self._compiled(component)
        ranks = component.preset.org["channels"] * component.preset.org["ranks"]
        return float(compiled.background_mw[0]) * ranks * 1e-3    # all banks precharged standby (IDD2N)
