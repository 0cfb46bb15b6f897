"""Summary of a trace-mode run (`accsim mem`): bandwidth, latency, row hits, commands, energy."""
from __future__ import annotations

import numpy as np

from .simulate import DramRun, latency_stats


def mem_summary(run: DramRun, trace_format: str, frontend: str) -> dict:
    preset, tck_ns = run.preset, run.preset.timing["tCK_ns"]
    reads = ~run.is_write
    latency = run.latency_cycles[reads] if reads.any() else np.zeros(1, np.int64)
    cycles = latency_stats(latency)
    summary = {
        "preset": preset.name, "trace_format": trace_format, "frontend": frontend,
        "requests": {"total": run.requests, "reads": int(reads.sum()), "writes": int((~reads).sum())},
        "completion": {"cycles": run.last_cycle, "seconds": run.seconds, "clock": f"tCK = {tck_ns:g} ns"},
        "bandwidth": {"bytes_per_s": run.bandwidth_bytes_per_s, "gb_per_s": run.bandwidth_bytes_per_s / 1e9,
                      "peak_gb_per_s": preset.peak_bytes_per_s / 1e9,
                      "fraction_of_peak": run.bandwidth_bytes_per_s / preset.peak_bytes_per_s},
        "read_latency_cycles": cycles,
        "read_latency_ns": {k: v * tck_ns for k, v in cycles.items()},
        "row_buffer": {"hits": run.row_hits, "misses": run.row_misses, "conflicts": run.row_conflicts,
                       "hit_rate": run.row_hit_rate},
        "commands": run.command_counts,
        "data_bus_utilization": float(run.bus_busy_cycles.sum()) / (max(run.last_cycle, 1) * preset.org["channels"]),
        "queue_occupancy": {"read": run.read_queue_occupancy, "write": run.write_queue_occupancy},
    }
    energy = run.energy_pj()
    summary["energy_pj"] = energy if energy is not None else "unavailable: the preset has no IDD currents"
    if energy is not None:
        summary["energy_pj_per_bit"] = energy["total"] / (run.requests * preset.burst_bytes * 8)
    return summary


def format_mem_summary(s: dict) -> str:
    b, lat, lat_ns, rb = s["bandwidth"], s["read_latency_cycles"], s["read_latency_ns"], s["row_buffer"]
    lines = [
        f"accsim mem: {s['requests']['total']:,} requests ({s['requests']['reads']:,} reads, "
        f"{s['requests']['writes']:,} writes) on {s['preset']}, {s['trace_format']} trace, {s['frontend']} front end",
        f"  completion      {s['completion']['cycles']:,} cycles ({s['completion']['clock']}) = "
        f"{s['completion']['seconds'] * 1e6:,.3f} us",
        f"  bandwidth       {b['gb_per_s']:,.2f} GB/s = {b['fraction_of_peak']:.1%} of peak {b['peak_gb_per_s']:,.1f} GB/s",
        f"  read latency    mean {lat['mean']:.1f}  p50 {lat['p50']:.0f}  p99 {lat['p99']:.0f}  max {lat['max']:.0f} cycles"
        f"  (mean {lat_ns['mean']:.1f} ns, p99 {lat_ns['p99']:.1f} ns)",
        f"  row buffer      hit rate {rb['hit_rate']:.2%} ({rb['hits']:,} hits, {rb['misses']:,} misses, "
        f"{rb['conflicts']:,} conflicts)",
        "  commands        " + ", ".join(f"{k} {v:,}" for k, v in s["commands"].items() if v),
        f"  data bus busy   {s['data_bus_utilization']:.1%}",
    ]
    energy = s["energy_pj"]
    if isinstance(energy, dict):
        lines.append(f"  energy          {energy['total'] / 1e6:,.3f} uJ ({energy['commands'] / 1e6:,.3f} uJ commands, "
                     f"{energy['background'] / 1e6:,.3f} uJ background) = {s['energy_pj_per_bit']:.2f} pJ/bit")
    else:
        lines.append(f"  energy          {energy}")
    return "\n".join(lines)
