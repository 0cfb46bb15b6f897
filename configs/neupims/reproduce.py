"""Regenerate the NeuPIMs comparison table (docs/neupims.md):

    python configs/neupims/reproduce.py [--models 7b,13b,30b,175b] [--datasets sharegpt,alpaca]
        [--batches 64,128,256,512] [--iterations 10] [--jobs 2] [--out reports/neupims]

Every (architecture, model, dataset, batch) point runs the bundled serving
workload workloads/gpt3-<model>-<dataset>.yaml (continuous batching, a window
of iterations in steady state) with serving.batch_size and
serving.max_iterations overridden, on npu (arch/npu.yaml: the NPU-only
baseline on the same cycle-level HBM2 as the PIM systems), npu_pim, neupims and gpu_a100, plus
the ablation on neupims without sub-batch interleaving (dual row buffer alone)
and npu_pim with interleaving. Throughput is tokens emitted in the window per
second. Writes points.csv and table.md under --out; prints the table.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

ARCHS = {"npu": [], "npu_pim": [], "neupims": [], "gpu_a100": [],
         "neupims_no_interleave": ["arch.sub_batches=1"], "npu_pim_interleave": ["arch.sub_batches=2"]}
# the NPU-only baseline (npu.yaml) runs on the same cycle-level HBM2 as neupims and npu_pim
BASE_ARCH = {"neupims_no_interleave": "neupims", "npu_pim_interleave": "npu_pim"}


def point(args):
    label, model, dataset, batch, iterations = args
    import accsim

    from accsim.errors import AccsimError

    overrides = ARCHS[label] + [f"serving.batch_size={batch}", f"serving.max_iterations={iterations}"]
    try:
        result = accsim.run(BASE_ARCH.get(label, label), f"gpt3-{model}-{dataset}", overrides=overrides)
    except AccsimError as exc:      # e.g. the KV caches of the batch do not fit: recorded, not fatal
        return {"arch": label, "model": model, "dataset": dataset, "batch": batch, "tokens_per_s": float("nan"),
                "error": str(exc).splitlines()[0]}
    s = result.summary
    units = s["components"]
    return {"arch": label, "model": model, "dataset": dataset, "batch": batch,
            "seconds": s["total"]["seconds"], "tokens_per_s": s["tokens"]["per_second"],
            "npu_util": units.get("sa", {}).get("utilization"), "pim_util": units.get("pim", {}).get("utilization"),
            "energy_j": s.get("energy", {}).get("total_pj", float("nan")) / 1e12,
            "power_w": s.get("energy", {}).get("average_power_w")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="7b,13b,30b,175b")
    parser.add_argument("--datasets", default="sharegpt,alpaca")
    parser.add_argument("--batches", default="64,128,256,512")
    parser.add_argument("--archs", default=",".join(ARCHS))
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="reports/neupims")
    args = parser.parse_args(argv)
    grid = list(itertools.product(args.archs.split(","), args.models.split(","), args.datasets.split(","),
                                  [int(b) for b in args.batches.split(",")], [args.iterations]))
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for done, row in enumerate(pool.map(point, grid), start=1):
            rows.append(row)
            outcome = row.get("error") or f"{row['tokens_per_s']:,.0f} tokens/s"
            print(f"[{done}/{len(grid)}] {row['arch']} {row['model']} {row['dataset']} b{row['batch']}: {outcome}",
                  file=sys.stderr)
    frame = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "points.csv", index=False)
    table = frame.pivot_table(index=["model", "dataset", "batch"], columns="arch", values="tokens_per_s")
    for a, b in (("neupims", "npu"), ("neupims", "npu_pim"), ("npu_pim", "npu"),
                 ("neupims_no_interleave", "npu_pim"), ("neupims", "neupims_no_interleave")):
        if a in table and b in table:
            table[f"{a}/{b}"] = table[a] / table[b]
    text = _markdown(table.round(2).reset_index())
    (out / "table.md").write_text(text + "\n")
    print(text)
    return 0


def _markdown(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
