"""Human-readable text of a run summary."""
from __future__ import annotations


def _si(value: float, unit: str) -> str:
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3f} {prefix}{unit}"
    return f"{value:.3f} {unit}"


def _time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3f} {unit}"
    return f"{seconds * 1e12:.0f} ps"


def format_summary(summary: dict) -> str:
    total = summary["total"]
    lines = [f"accsim: {summary['workload']} on {summary['arch']}",
             f"  total time      {_time(total['seconds'])}  ({total['cycles']:,.0f} cycles of {total['clock']})"]
    if "tokens" in summary:
        tokens = summary["tokens"]
        lines.append(f"  throughput      {tokens['per_second']:,.1f} tokens/s  "
                     f"({tokens['generated']} tokens, batch {tokens['batch_size']})")
    lines.append("  phases:")
    for name, phase in summary["phases"].items():
        lines.append(f"    {name:<12} {_time(phase['seconds']):>12}  {phase['cycles']:>16,.0f} cycles"
                     f"  {phase['steps']} step(s)")
    lines.append("  components:                 busy        utilization")
    for name, comp in summary["components"].items():
        if "busy_seconds" not in comp:
            lines.append(f"    {name:<6} {comp['type']:<16} x{comp['count']:<3} peak in use "
                         f"{_si(comp['peak_bytes_in_use'], 'B')} of {_si(comp['capacity_bytes'], 'B')}"
                         f" ({comp['peak_occupancy']:.1%})")
            continue
        extra = ""
        if "mac_utilization_while_busy" in comp:
            extra = f"  (MAC utilization while busy {comp['mac_utilization_while_busy']:.1%})"
        if "row_hit_rate" in comp:
            energy = comp["energy_pj"]
            extra = (f"  (row hits {comp['row_hit_rate']:.1%}"
                     + (f", {energy / 1e6:,.1f} uJ" if energy is not None else "") + ")")
        lines.append(f"    {name:<6} {comp['type']:<16} x{comp['count']:<3} {_time(comp['busy_seconds']):>12}"
                     f"  {comp['utilization']:>8.1%}  [{comp['clock']}]{extra}")
    lines.append("  bytes moved:          read          written")
    for name, level in summary["memory_levels"].items():
        lines.append(f"    {name:<12} {_si(level['bytes_read'], 'B'):>14} {_si(level['bytes_written'], 'B'):>14}")
    lines += _energy_lines(summary)
    residency = summary["metadata"].get("weight_residency")
    if residency:
        lines.append(f"  weights kept on chip between sub-batches: {residency['ops']} GEMMs, "
                     f"{_si(residency['weight_bytes_not_reloaded'], 'B')} not loaded again")
    sharing = summary["metadata"].get("memory_sharing")
    if sharing:
        lines.append(f"  memory bandwidth shared by overlapping ops: {sharing['ops_slowed']:,} of "
                     f"{sharing['ops']:,} ops slowed, {_time(sharing['added_op_seconds'])} added to their durations")
    shortcuts = summary["metadata"]["shortcuts"]
    if shortcuts:
        lines.append("  shortcuts taken (turn off with --exact): " + ", ".join(shortcuts))
    return "\n".join(lines)


def _joules(pj: float) -> str:
    for unit, scale in (("J", 1e12), ("mJ", 1e9), ("uJ", 1e6), ("nJ", 1e3)):
        if abs(pj) >= scale:
            return f"{pj / scale:.3f} {unit}"
    return f"{pj:.3f} pJ"


def _energy_lines(summary: dict) -> list[str]:
    energy, area = summary.get("energy"), summary.get("area")
    if not energy or not area:
        return []
    total = energy["total_pj"]
    tech = energy["technology"]
    lines = [f"  energy          {_joules(total)}  (average {_si(energy['average_power_w'], 'W')}; "
             f"leakage {energy['leakage_pj'] / total if total else 0:.1%})  [{tech['table']} @ {tech['node_nm']} nm]"]
    for name, pj in sorted(energy["by_component"].items(), key=lambda item: -item[1]):
        share = pj / total if total else 0.0
        lines.append(f"    {name:<12} {_joules(pj):>14}  {share:>6.1%}   area {area['by_component'].get(name, 0):,.2f} mm2")
    kinds = area["by_kind"]
    lines.append(f"  area            {area['total_mm2']:,.2f} mm2  (logic {kinds['logic']:,.2f}, SRAM {kinds['sram']:,.2f}, "
                 f"memory PHY {kinds['phy']:,.2f})")
    return lines
