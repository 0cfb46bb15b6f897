"""Our energies next to published ones (docs/energy.md): `python -m accsim.energy.validate`.

Prints a Markdown table. Rows that equal the source by construction (a table
lookup at the table's own node) say so; the others are computed through the
simulator: MAC energy from a run's event counts, DRAM energy per bit from the
cycle-level DRAM model's command counts and datasheet currents, PE area from
Yosys synthesis of the reference RTL.
"""
from __future__ import annotations

import numpy as np

SEQUENTIAL, RANDOM = "sequential", "random"
REQUESTS = 20_000          # enough requests for refresh and row misses to average out (several tREFI)


def mac_row() -> tuple:
    import accsim

    result = accsim.run("sa32", "gemm-256", overrides=["components.sa.accumulator=fp16"])
    macs = result.energy.query("event == 'mac_fp16'")
    pj = macs["energy_pj"].sum() / macs["count"].sum()
    return ("FP16 MAC (mult + add), 45 nm", "1.1 + 0.4 = 1.5 pJ", "Horowitz ISSCC 2014",
            f"{pj:.3f} pJ ({int(macs['count'].sum()):,} MACs counted)",
            "accsim run sa32 gemm-256 --set components.sa.accumulator=fp16 --out DIR; energy.csv mac_fp16")


def sram_rows() -> list[tuple]:
    from .tech import load_table, sram_read_pj_per_64b

    table = load_table("horowitz45")
    rows = []
    for capacity, published in table.sram_points:
        ours = sram_read_pj_per_64b(table, capacity)
        rows.append((f"SRAM {int(capacity) // 1024} KB, 64-bit read", f"{published:g} pJ", "Horowitz ISSCC 2014",
                     f"{ours:.1f} pJ (table point; the scratchpad adds wire to the bank)",
                     "python -m accsim.energy.validate"))
    return rows


def dram_pj_per_bit(preset_name: str, pattern: str) -> float:
    from ..memory.preset import controller_from, load_preset
    from ..memory.simulate import simulate_requests

    preset = load_preset(preset_name)
    rng = np.random.default_rng(7)
    if pattern == SEQUENTIAL:
        address = np.arange(REQUESTS, dtype=np.int64) * 64
    else:
        address = rng.integers(0, preset.capacity_bytes // 64, REQUESTS, dtype=np.int64) * 64
    run = simulate_requests(preset, controller_from({}), np.zeros(REQUESTS, np.int64), address,
                            np.zeros(REQUESTS, bool))
    energy = run.energy_pj()
    return energy["total"] / (run.requests * preset.burst_bytes * 8)


def dram_rows() -> list[tuple]:
    rows = []
    for preset, published, source in (("hbm2", "3.9 pJ/bit", "O'Connor et al., MICRO 2017"),
                                      ("ddr4-3200", "15-20 pJ/bit", "models_and_memory.md (commonly quoted)")):
        for pattern in (SEQUENTIAL, RANDOM):
            ours = dram_pj_per_bit(preset, pattern)
            rows.append((f"{preset} read, {pattern}", published, source,
                         f"{ours:.2f} pJ/bit (cycle-level DRAM, IDD currents, no I/O)",
                         f"python -m accsim.energy.validate  (or accsim mem {preset} TRACE)"))
    rows.append(("hbm2 via ideal_memory", "3.9 pJ/bit", "O'Connor et al., MICRO 2017", "3.9 pJ/bit (table entry)",
                 "accsim run npu_ideal gpt2 --out DIR; energy.csv hbm read_bytes / 8"))
    return rows


def pe_area_row() -> tuple | None:
    """Synthesized INT8 PE (rtl/systolic_pe_int8.v) against the table's int8 mult + int32 add + registers."""
    from pathlib import Path

    from .synthesis import synthesize, yosys_command
    from .tech import load_table

    verilog = Path(__file__).resolve().parents[2] / "rtl" / "systolic_pe_int8.v"
    if yosys_command() is None or not verilog.is_file():
        return None
    table = load_table("horowitz45")
    cells = synthesize(verilog, "systolic_pe_int8")
    synthesized = sum(n * table.cells[c] for c, n in cells.items())
    estimated = (table.operations[("mult", "int8")][1] + table.operations[("add", "int32")][1]
                 + (8 + 8 + 32) * table.dff_area_um2)
    return ("INT8 PE area (mult + int32 add + 48 register bits)", f"{estimated:.0f} um2 (table estimator)",
            "Horowitz areas + NanGate DFF", f"{synthesized:.0f} um2 synthesized ({sum(cells.values())} cells)",
            "python -m accsim.energy.synthesis rtl/systolic_pe_int8.v --top systolic_pe_int8 --unit systolic_pe_int8")


def table_markdown() -> str:
    rows = [mac_row(), *sram_rows(), *dram_rows()]
    area = pe_area_row()
    if area:
        rows.append(area)
    header = ("quantity", "published", "source", "accsim", "reproduce")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table_markdown())
