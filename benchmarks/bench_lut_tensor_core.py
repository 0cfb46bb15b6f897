"""Speed of the LUT Tensor Core model: BitNet b1.58 3B, batch 1, 2048-token prefill + 128
decode steps on arch/lut_tensor_core.yaml (A100-LUT-4X). Target: under 60 s of wall time.

    python benchmarks/bench_lut_tensor_core.py [--arch ARCH] [--decode N] [--exact]
    python benchmarks/bench_lut_tensor_core.py --table     # the Table 1 reproduction (docs/lut_tensor_core.md)

Prints the wall time (total, inside the components, SimPy schedule), the simulated prefill
and decode times and the LUT unit's share of the GEMM work. The first run on a machine
also compiles the Numba kernels (cached afterwards); run twice to see the warm time.
"""
from __future__ import annotations

import argparse
import time

import accsim
from accsim.system import System
from accsim.workload.lower import lower

TARGET_SECONDS = 60.0


# The LUT Tensor Core paper's Table 1 (shared/reference/lut_tensor_core.md): latency BS1 SEQ2048
# and BS1024 SEQ1 (ms), tensor-core area per SM (mm2), compute density (T(FL)OPs/mm2), energy
# efficiency (T(FL)OPs/W).
PAPER = {
    "A100 FP16 TC": (106.71, 41.15, 0.975, 2.96, 2.98),
    "A100 INT8 TC": (67.06, 21.70, 0.312, 17.73, 19.94),
    "A100-LUT-4X": (42.49, 11.41, 0.187, 61.84, 33.32),
    "A100-LUT-8X": (38.02, 7.47, 0.373, 61.95, 33.65),
    "H100-LUT-8X": (23.48, 5.97, 0.909, 25.40, 17.32),
}
FP16 = ["workload.dtypes.weights=fp16", "workload.dtypes.activations=fp16", "workload.dtypes.kv=fp16"]
FP8 = ["workload.dtypes.activations=fp8", "workload.dtypes.kv=fp8"]
LUT8X = ["components.lut.arrays_per_unit=8", "components.lut.register_file=2 MiB"]
# label, arch, GEMM unit, overrides (arch and workload)
CONFIGS = [
    ("A100 FP16 TC", "arch/a100_fp16_tc.yaml", "tc", FP16),
    ("A100 INT8 TC", "arch/a100_int8_tc.yaml", "tc", []),
    ("A100-LUT-4X", "arch/lut_tensor_core.yaml", "lut", []),
    ("A100-LUT-8X", "arch/lut_tensor_core.yaml", "lut", LUT8X),
    ("H100-LUT-8X", "arch/h100_lut_8x.yaml", "lut", FP8),
]


def unit_figures(arch: str, unit: str, overrides: list) -> dict:
    """Area per SM, peak density and energy efficiency of the GEMM unit, measured on the
    paper's kernel shape (M=4096 N=27648 K=5120): ops of the unit's GEMMs over the energy of
    its events, with and without the register-file reads; its leakage over its busy time."""
    result = accsim.run(arch, "workloads/lut-kernel.yaml", overrides=overrides)
    component = result.summary["components"][unit]
    sms = component["count"]
    area = result.summary["area"]["by_component"][unit] / sms
    frame = result.energy[(result.energy["component"] == unit)]
    datapath = frame[(frame["op_kind"] == "gemm") & (frame["event"] != "register_read_bytes")]["energy_pj"].sum()
    registers = frame[(frame["op_kind"] == "gemm") & (frame["event"] == "register_read_bytes")]["energy_pj"].sum()
    leak_w = frame[frame["event"] == "leakage"]["energy_pj"].sum() / 1e12 / result.total_seconds
    leak_pj = leak_w * component["busy_seconds"] * 1e12
    ops = result.ops
    gemm = ops[(ops["kind"] == "gemm") & (ops["unit"] == unit)]
    flops = float(gemm["flops"].sum())
    system = System(accsim.load_arch(arch, [o for o in overrides if o.startswith("components.")]))
    shape = accsim.load_workload("workloads/lut-kernel.yaml",
                                 [o.removeprefix("workload.") for o in overrides if o.startswith("workload.")])
    op = lower(shape)[0]
    gpu = system.components[unit]
    peak = 2 * gpu.peak_macs_per_cycle(op) * gpu.clock.frequency_hz * sms     # FLOP/s of all SMs
    return {"area_mm2": area, "density": peak / sms / area / 1e12,
            "efficiency": flops / (datapath + leak_pj), "efficiency_rf": flops / (datapath + registers + leak_pj),
            "kernel_ms": result.total_seconds * 1e3}


def table() -> None:
    rows = []
    for label, arch, unit, overrides in CONFIGS:
        arch_over = [o for o in overrides if o.startswith("components.")]
        seq = accsim.run(arch, "workloads/bitnet-3b-seq2048.yaml", overrides=overrides).total_seconds * 1e3
        batch = accsim.run(arch, "workloads/bitnet-3b-bs1024.yaml", overrides=overrides).total_seconds * 1e3
        kernel_over = arch_over + [o for o in overrides if "activations" in o or "weights" in o]
        rows.append((label, seq, batch, unit_figures(arch, unit, kernel_over)))
        print(f"measured {label}", flush=True)
    print("| config | BS1 SEQ2048 ms (paper / ours) | BS1024 SEQ1 ms | TC area/SM mm2 | density T(FL)OPs/mm2 "
          "| efficiency T(FL)OPs/W (datapath; with RF reads) | kernel M4096 N27648 K5120 ms |")
    print("|---|---|---|---|---|---|---|")
    for label, seq, batch, unit in rows:
        p = PAPER[label]
        print(f"| {label} | {p[0]:.2f} / {seq:.2f} | {p[1]:.2f} / {batch:.2f} | {p[2]:.3f} / {unit['area_mm2']:.3f} "
              f"| {p[3]:.2f} / {unit['density']:.2f} | {p[4]:.2f} / {unit['efficiency']:.2f}; "
              f"{unit['efficiency_rf']:.2f} | {unit['kernel_ms']:.2f} |")
    ours = {label: (seq, batch, unit) for label, seq, batch, unit in rows}
    fp16, int8, lut4 = ours["A100 FP16 TC"], ours["A100 INT8 TC"], ours["A100-LUT-4X"]
    print()
    print(f"LUT-4X vs INT8 TC: density {lut4[2]['density'] / int8[2]['density']:.2f}x "
          f"(paper {PAPER['A100-LUT-4X'][3] / PAPER['A100 INT8 TC'][3]:.2f}x), efficiency "
          f"{lut4[2]['efficiency'] / int8[2]['efficiency']:.2f}x (paper "
          f"{PAPER['A100-LUT-4X'][4] / PAPER['A100 INT8 TC'][4]:.2f}x)")
    print(f"LUT-4X vs FP16 TC: density {lut4[2]['density'] / fp16[2]['density']:.2f}x "
          f"(paper {PAPER['A100-LUT-4X'][3] / PAPER['A100 FP16 TC'][3]:.2f}x), efficiency "
          f"{lut4[2]['efficiency'] / fp16[2]['efficiency']:.2f}x (paper "
          f"{PAPER['A100-LUT-4X'][4] / PAPER['A100 FP16 TC'][4]:.2f}x)")
    best = ours["A100-LUT-8X"]
    print(f"end to end, BS1024: A100 FP16 / A100-LUT-8X = {fp16[1] / best[1]:.2f}x (paper "
          f"{PAPER['A100 FP16 TC'][1] / PAPER['A100-LUT-8X'][1]:.2f}x); SEQ2048: {fp16[0] / best[0]:.2f}x "
          f"(paper {PAPER['A100 FP16 TC'][0] / PAPER['A100-LUT-8X'][0]:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="arch/lut_tensor_core.yaml")
    parser.add_argument("--decode", type=int, default=128, help="decode steps after the prefill")
    parser.add_argument("--exact", action="store_true", help="simulate every op (no identical-op reuse)")
    parser.add_argument("--table", action="store_true", help="the Table 1 reproduction instead of the speed run")
    args = parser.parse_args()
    if args.table:
        table()
        return
    started, cpu = time.perf_counter(), time.process_time()
    result = accsim.run(args.arch, "workloads/bitnet-3b.yaml",
                        overrides=[f"serving.generate_tokens={args.decode + 1}"], exact=args.exact)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    meta = result.summary["metadata"]
    phases = result.summary["phases"]
    ops = result.ops
    gemm = ops[ops["kind"] == "gemm"]
    print(f"BitNet b1.58 3B, batch 1, 2048 prefill + {args.decode} decode on {result.summary['arch']}")
    print(f"  wall time          {wall:8.2f} s   (target < {TARGET_SECONDS:.0f} s: "
          f"{'met' if wall < TARGET_SECONDS else 'MISSED'}); CPU time {cpu:.2f} s "
          f"(wall > CPU: other processes share the cores)")
    reuse = meta["shortcuts"].get("identical_op_reuse", {})
    print(f"  ops                {len(ops):8,d}   simulated {reuse.get('simulated', len(ops)):,d} (the rest reused)")
    print(f"  inside components  {meta['wall_seconds']['kernels']:8.2f} s   SimPy schedule "
          f"{meta['wall_seconds']['schedule']:.2f} s")
    print(f"  prefill (sim)      {phases['prefill']['seconds'] * 1e3:8.3f} ms")
    if "decode" in phases:
        steps = phases["decode"]["steps"]
        print(f"  decode (sim)       {phases['decode']['seconds'] * 1e3:8.3f} ms  "
              f"({phases['decode']['seconds'] / steps * 1e3:.3f} ms per step, {steps} steps)")
    print(f"  weight GEMMs       {gemm['seconds'].sum() / result.total_seconds:8.1%} of the simulated time "
          f"(units: {', '.join(sorted(gemm['unit'].unique()))})")
    print(f"  tokens/s (sim)     {result.summary['tokens']['per_second']:8.1f}")


if __name__ == "__main__":
    main()
