"""MixPE benchmark and reproduction table.

    python benchmarks/bench_mixpe.py            # LLaMA-2-13B (batch 64, all 40 layers) on mixpe_int: wall time
    python benchmarks/bench_mixpe.py --table    # the docs/mixpe.md table: every arch x model, time and
                                                # energy normalised to the FP16 array (a few minutes)

Wall times are printed, never asserted (tests/test_mixpe*.py check behaviour).
"""
from __future__ import annotations

import argparse
import sys
import time

ARCHS = {   # label -> bundled arch
    "MixPE-W4A8": "mixpe_int", "MixPE-W4A16": "mixpe_fp", "FP16": "mixpe_base_fp16",
    "INT8 (W8A8)": "mixpe_base_int8", "W4A16 dequant+FP16": "mixpe_base_w4a16",
    "BitFusion": "mixpe_base_bitfusion", "ANT": "mixpe_base_ant", "OLAccel": "mixpe_base_olaccel",
}
MODELS = {"ViT-B": "vit-b", "ViT-H": "vit-h", "OPT-6.7B": "opt-6.7b", "LLaMA-2-13B": "llama2-13b",
          "LLaMA-2-13B SwiGLU": "llama2-13b-swiglu"}
PUBLIC_TIME = {   # public MixPE simulator, results/mixpe_res.csv (last run), time / FP16
    "MixPE-W4A8": {"ViT-B": 0.15, "ViT-H": 0.12, "OPT-6.7B": 0.10, "LLaMA-2-13B": 0.10, "mean": 0.12},
    "ANT": {"ViT-B": 0.61, "ViT-H": 0.47, "OPT-6.7B": 0.40, "LLaMA-2-13B": 0.40, "mean": 0.47},
    "BitFusion": {"ViT-B": 0.70, "ViT-H": 0.67, "OPT-6.7B": 0.68, "LLaMA-2-13B": 0.68, "mean": 0.68},
    "INT8 (W8A8)": {"ViT-B": 0.82, "ViT-H": 0.82, "OPT-6.7B": 0.86, "LLaMA-2-13B": 0.86, "mean": 0.84},
    "MixPE-W4A16": {"ViT-B": 0.53, "ViT-H": 0.32, "OPT-6.7B": 0.19, "LLaMA-2-13B": 0.19, "mean": 0.31},
    "FP16": {"ViT-B": 1.0, "ViT-H": 1.0, "OPT-6.7B": 1.0, "LLaMA-2-13B": 1.0, "mean": 1.0},
}


# The public simulator's assumptions as overrides (docs/mixpe.md, "Gaps"): its MixPE PEs take
# datapath width / weight width weights per cycle, and its BitFusion runs the model at 8 bits.
PUBLIC_OVERRIDES = {"MixPE-W4A8": ["components.pe.pe_lanes=2"], "MixPE-W4A16": ["components.pe.pe_lanes=4"],
                    "BitFusion": ["components.pe.weight_bits=8"]}


def breakdown(result) -> dict:
    """Energy (pJ) split as the public simulator does: PE dynamic, leakage, SRAM, DRAM."""
    frame = result.energy
    leak = frame["event"].isin(["leakage"])
    is_pe = frame["type"].str.endswith("_array")
    return {"pe": float(frame[is_pe & ~leak]["energy_pj"].sum()),
            "leakage": float(frame[leak]["energy_pj"].sum()),
            "sram": float(frame[(frame["type"] == "scratchpad") & ~leak]["energy_pj"].sum()),
            "dram": float(frame[frame["type"].isin(["ideal_memory", "dram", "dma"]) & ~leak]["energy_pj"].sum())}


def run_one(arch: str, workload: str, overrides=()) -> dict:
    import accsim

    result = accsim.run(arch, workload, overrides=list(overrides))
    return {"total_s": _total_seconds(result), "energy": breakdown(result)}


def _total_seconds(result) -> float:
    return float(result.summary["total"]["seconds"])


def table(models=MODELS, archs=ARCHS, out=sys.stdout, overrides=None) -> dict:
    measured = {}
    for model, workload in models.items():
        for label, arch in archs.items():
            start = time.perf_counter()
            measured[(label, model)] = run_one(arch, workload, (overrides or {}).get(label, ()))
            print(f"  {label:20s} {model:20s} {time.perf_counter() - start:6.1f} s wall", file=sys.stderr)
    base = {m: measured[("FP16", m)] for m in models}
    print("\n| accelerator | " + " | ".join(models) + " | mean (4 sheet models) |", file=out)
    print("|---|" + "---|" * (len(models) + 1), file=out)
    sheet = [m for m in models if "SwiGLU" not in m]
    for label in archs:
        times = {m: measured[(label, m)]["total_s"] / base[m]["total_s"] for m in models}
        cells = []
        for m in models:
            public = PUBLIC_TIME.get(label, {}).get(m)
            cells.append(f"{times[m]:.2f}" + (f" ({public:.2f})" if public is not None else ""))
        mean = sum(times[m] for m in sheet) / len(sheet)
        public = PUBLIC_TIME.get(label, {}).get("mean")
        print(f"| {label} | " + " | ".join(cells) + f" | {mean:.2f}" + (f" ({public:.2f})" if public else "")
              + " |", file=out)
    print("\nEnergy / FP16 energy (PE dynamic + leakage + SRAM + DRAM):\n", file=out)
    print("| accelerator | " + " | ".join(models) + " |", file=out)
    print("|---|" + "---|" * len(models), file=out)
    for label in archs:
        cells = []
        for m in models:
            e = measured[(label, m)]["energy"]
            total_base = sum(base[m]["energy"].values())
            parts = "/".join(f"{e[k] / total_base:.2f}" for k in ("pe", "leakage", "sram", "dram"))
            cells.append(f"{sum(e.values()) / total_base:.2f} ({parts})")
        print(f"| {label} | " + " | ".join(cells) + " |", file=out)
    return measured


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", action="store_true", help="the reproduction table (all archs x models)")
    parser.add_argument("--public", action="store_true",
                        help="with --table: the public simulator's assumptions (PUBLIC_OVERRIDES)")
    parser.add_argument("--exact", action="store_true", help="no reuse of identical ops")
    args = parser.parse_args(argv)
    if args.table:
        table(overrides=PUBLIC_OVERRIDES if args.public else None)
        return 0
    import accsim

    start = time.perf_counter()
    accsim.load_arch("mixpe_int")
    loaded = time.perf_counter()
    result = accsim.run("mixpe_int", "llama2-13b", exact=args.exact)
    done = time.perf_counter()
    print(f"LLaMA-2-13B, batch 64, 40 layers x 4 GEMMs on mixpe_int ({'exact' if args.exact else 'reuse'}): "
          f"{done - loaded:.2f} s wall (import + arch load {loaded - start:.2f} s); simulated "
          f"{_total_seconds(result) * 1e3:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
