"""Weights kept on chip between the ops that share them (sub-batch interleaving).

With sub-batch interleaving (`sub_batches: 2`) every weight GEMM of a layer
runs once per sub-batch, on the same weights. The NPU's SRAM is a
software-managed scratchpad and the schedule is static, so the compiler can
keep the weights the first sub-batch loaded for the later ones, as far as the
executor's weight pool (`scratchpad.weight_pool`) holds them:

* the first sub-batch's GEMM loads its weights from memory (share 0);
* a later sub-batch's GEMM of the same iteration, layer and weight finds a
  share min(1, pool / live) of them on chip, where `live` is the layer's
  weight bytes: between the two uses the interleaved pipeline (stages C and D
  of NeuPIMs) runs at most one layer's weight GEMMs, so those are the weights
  alive at once. A pool smaller than that keeps the same share of each of
  them (a static partition; on this cyclic pattern an LRU cache would keep
  nothing).

Not modelled: reuse across iterations. The next use of a weight is a whole
model's weights later, so a pool of P bytes could pin only P / (the device's
weights) of them, e.g. 96 MiB / 3.0 GiB = 3.1% for GPT-3 7B at TP 4 (its 32 layers).
"""
from __future__ import annotations

from dataclasses import replace

from .workload.ops import Op

WEIGHT_KINDS = frozenset({"gemm"})   # GEMMs whose B operand is a weight (workload lowering)


def _weight_key(op: Op) -> tuple:
    """(phase, step, layer, weight): the same weights across the sub-batches of an iteration."""
    return op.phase, op.step, op.layer, op.name.rsplit(".", 1)[-1]


def _weight_bytes(op: Op) -> float:
    return sum(k * n for _, n, k in op.gemms) * op.b_bytes


def with_residency(ops: list[Op], pool_bytes) -> tuple[list[Op], dict | None]:
    """The ops with `b_resident` set, and a summary for the run's shortcuts/metadata
    (None when nothing is resident). `pool_bytes(op)` is the weight pool of the unit
    that executes `op` (0: none)."""
    first_use: dict[tuple, Op] = {}
    live: dict[tuple, float] = {}
    for op in ops:
        if op.kind in WEIGHT_KINDS and op.sub_batch and _weight_key(op) not in first_use:
            first_use[_weight_key(op)] = op
            layer = _weight_key(op)[:3]
            live[layer] = live.get(layer, 0.0) + _weight_bytes(op)
    out, reused, saved = [], 0, 0.0
    for op in ops:
        key = _weight_key(op) if op.kind in WEIGHT_KINDS and op.sub_batch else None
        pool = pool_bytes(op) if key is not None and first_use[key] is not op else 0
        if pool <= 0:
            out.append(op)
            continue
        share = round(min(1.0, pool / live[key[:3]]), 4)
        out.append(replace(op, b_resident=share))
        reused += 1
        saved += share * _weight_bytes(op)
    if not reused:
        return out, None
    return out, {"what": "weights that a later sub-batch's GEMM of the same layer reuses stay in the "
                         "scratchpads' weight pool instead of being loaded again (accsim.residency)",
                 "ops": reused, "weight_bytes_not_reloaded": saved}
