"""HBM-PIM channels that run attention (NeuPIMs): MAC units in every bank, PIM
commands broadcast per channel, single or dual row buffers.

Executes `attention` ops (QK^T and SV of every request). Each request's KV
cache lives in one channel; requests are spread over the channels round-robin
or greedily by load (longest first onto the least-loaded channel). Rows of a
request that are GEMVs (decode: one query row per head, or the query heads of
one KV head under GQA, up to `max_gemv_rows`) run in the banks through the
PIM command kernel (accsim.kernels.pim); longer rows (a prompt being
prefilled in the same iteration) are GEMMs and run on the NPU array named by
`npu`, after the PIM part. The op ends when the slowest channel ends.

Row buffers: `dual` (NeuPIMs) keeps a PIM row buffer next to the normal one:
the NPU keeps using the memory while the banks compute (`concurrent`), and
PIM precharges need no tRTP; `single` (Newton-style naive PIM) shares the row
buffer: the NPU's rows are closed before each chunk (PREA, tRP), COMP/READRES
-> PRE waits tRTP, and the memory is unusable by the NPU while PIM works
(`blocked`: the engine keeps NPU ops and PIM ops apart in time).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import CapacityError
from ..functional.timing import UNIT_TIMING
from ..memory.preset import CONTROLLER_FIELDS, controller_from, preset_from_params
from ..schema import Checker, opt
from .base import Component, OpCost, register

GWRITE_BURSTS = 32   # neupims.md: GWRITE latency (tCCD_S + tCCD_L) x 32 in the public code


@register("hbm_pim")
class HbmPim(Component):
    SUMMARY = "HBM-PIM channels (NeuPIMs): per-bank MACs, PIM commands, single/dual row buffers"
    EXECUTES = frozenset({"attention"})
    FIELDS = {
        "preset": opt("str", "hbm2-pim", "DRAM preset of the PIM channels (timing, banks, page size)"),
        "channels": opt("int", 32, "PIM channels in all", positive=True),
        "macs_per_bank": opt("int", 16, "multipliers per bank (FP16)", positive=True),
        "row_buffers": opt("str", "dual", "dual (NeuPIMs: PIM row buffer beside the normal one, NPU keeps "
                                          "the memory) | single (naive: shared, NPU blocked)",
                           choices=("dual", "single")),
        "channel_assignment": opt("str", "greedy", "round_robin | greedy (least-loaded channel, longest "
                                                   "request first)", choices=("round_robin", "greedy")),
        "max_gemv_rows": opt("int", 8, "query rows per KV head up to which attention runs in PIM "
                                       "(decode; GQA groups); more rows are a GEMM for the NPU", positive=True),
        "npu": opt("str", None, "GEMM component that takes attention rows beyond max_gemv_rows"),
    }
    REFERENCES = {"npu": "compute"}

    @classmethod
    def cross_check(cls, name, params, peers, checker: Checker, node) -> None:
        from ..errors import ResolveError

        try:
            preset_from_params({**params, **{k: f.default for k, f in CONTROLLER_FIELDS.items()},
                                "channels": 0})
        except ResolveError as exc:
            checker.add(node.location("preset"), f"components.{name}.preset", str(exc).split(": ", 1)[-1])

    def __init__(self, name, count, params, default_clock):
        super().__init__(name, count, params, default_clock)
        settings = {**{k: f.default for k, f in CONTROLLER_FIELDS.items()}, **params, "channels": 0}
        self.preset = preset_from_params(settings)
        self.controller = controller_from(settings)
        self.tck_ps = self.preset.tck_ps
        self.channels = params["channels"]
        self.dual = params["row_buffers"] == "dual"

    @property
    def blocks_memory(self) -> bool:
        """Single row buffer: the NPU cannot use the memory while this unit computes."""
        return not self.dual

    @property
    def channel_bytes(self) -> int:
        return self.preset.capacity_bytes // self.preset.org["channels"]

    def link(self, system) -> None:
        self.npu = system.components[self.params["npu"]] if self.params["npu"] else None

    def kernel_params(self) -> np.ndarray:
        from ..kernels.pim import P_NAMES

        t, o = self.preset.timing, self.preset.org
        values = {"tRCD": t["tRCDRD"], "tRP": t["tRP"], "tRAS": t["tRAS"], "tRRD_S": t["tRRD_S"],
                  "tFAW": t["tFAW"], "tRTP": t["tRTP"], "tCCD_L": t["tCCD_L"], "tREFI": t["tREFI"],
                  "tRFC": t["tRFC"], "banks": o["ranks"] * o["bankgroups"] * o["banks_per_group"],
                  "ranks": o["ranks"], "row_elems": o["row_bytes"] // 2, "macs": self.params["macs_per_bank"],
                  "gwrite_cycles": (t["tCCD_S"] + t["tCCD_L"]) * GWRITE_BURSTS, "dual": int(self.dual),
                  "readres_cycles": t["tCCD_L"],
                  # the bank's MAC unit: rtl/pim_dot16_fp16.v, checked by cocotb against this constant
                  "mac_latency": UNIT_TIMING["pim_dot16_fp16"].latency_cycles}
        return np.array([int(values[n]) for n in P_NAMES], np.int64)

    def check_kv(self, tokens: int, kv_heads: int, d_head: int, layers: int, kv_bytes: float,
                 where: str) -> None:
        """A request's KV cache (all its layers) must fit its channel."""
        need = tokens * layers * 2 * kv_heads * d_head * kv_bytes
        if need > self.channel_bytes:
            raise CapacityError(f"{where}: a request of {tokens} tokens needs {need / 2**20:.1f} MiB of KV cache "
                                f"in its PIM channel ({layers} layers x 2 x {kv_heads} KV heads x {d_head}), "
                                f"a channel of {self.name!r} holds {self.channel_bytes / 2**20:.0f} MiB")
        if d_head > self.preset.org["row_bytes"] // 2 * 64:
            raise CapacityError(f"{where}: head size {d_head} is beyond what a PIM row layout can serve")

    def check_workload(self, spec) -> None:
        """Every request's KV cache must fit one channel (it is laid out in one)."""
        from ..dtypes import BYTES_PER_ELEMENT

        if spec.kind != "llm":
            return
        model = spec.model
        longest = max(p + g for p, g in zip(spec.prompt_tokens, spec.generate_tokens))
        self.check_kv(longest, max(1, model.kv_heads // spec.tensor_parallel), model.d_head,
                      model.layers // spec.pipeline_parallel, BYTES_PER_ELEMENT[spec.dtypes["kv"]],
                      f"workload {spec.name!r} on {self.name!r}")

    def execute(self, op, system) -> OpCost:
        from ..kernels.pim import COMMANDS, simulate_pim

        jobs, npu_gemms = self._split(op)
        channel = self._assign([heads * (k + n) for heads, k, n in jobs])
        order = np.argsort(channel, kind="stable")
        arrays = [np.ascontiguousarray(np.asarray(column, np.int64)[order]) for column in
                  (channel, [j[0] for j in jobs], [j[1] for j in jobs], [j[2] for j in jobs])]
        finish, counts, stalls, bus, _ = simulate_pim(*arrays, self.channels, self.kernel_params())
        pim_ticks = int(math.ceil(int(finish.max(initial=0)) * self.tck_ps))
        # busy: the average channel's busy time, so utilization reads per channel
        busy = int(math.ceil(int(finish.sum()) * self.tck_ps / self.channels))
        cost = OpCost(ticks=pim_ticks, busy_ticks={self.name: busy})
        totals = counts.sum(axis=0)
        for name, count in zip(COMMANDS, totals):
            if count and name != "HEADER":      # a header only carries the job's length on the command bus
                cost.events[(self.name, "PIM_PRECHARGE" if name == "PIM_PRE" else name)] = float(count)
        cost.macs = int(sum(rows * k * n for rows, k, n in jobs))     # in the banks; NPU rows: detail
        org = self.preset.org
        banks = org["ranks"] * org["bankgroups"] * org["banks_per_group"]
        # peak: every bank's MACs once per tCCD_L (one COMP per tCCD_L) in every channel
        cost.peak_macs = (self.channels * banks * self.params["macs_per_bank"] * int(finish.max(initial=0))
                          // self.preset.timing["tCCD_L"])
        cost.detail.update({
            "pim_cycles": int(finish.max(initial=0)), "pim_channels_used": int((finish > 0).sum()),
            "pim_commands": {name: int(c) for name, c in zip(COMMANDS, totals)},
            "pim_refresh_wait_cycles": int(stalls.sum()),
            "pim_data_bus_share": float(bus.sum() / max(1, finish.sum())),
            "compute_cycles": int(finish.max(initial=0))})
        if npu_gemms:
            self._add_npu_part(cost, op, npu_gemms, system)
        return cost

    def _split(self, op):
        """PIM jobs (query rows, reduction length, outputs) per request, and GEMMs for the NPU."""
        jobs, npu_gemms = [], []
        group = max(1, op.group)
        for first in range(0, len(op.gemms), group):
            request = op.gemms[first:first + group]
            if all(m <= self.params["max_gemv_rows"] for m, _, _ in request):
                rows = sum(m for m, _, _ in request)
                _, n, k = request[0]
                jobs.append((rows, k, n))
            else:
                npu_gemms.extend(request)
        return jobs, npu_gemms

    def _assign(self, loads: list[int]) -> np.ndarray:
        channel = np.zeros(len(loads), np.int64)
        if self.params["channel_assignment"] == "round_robin":
            return np.arange(len(loads), dtype=np.int64) % self.channels
        filled = np.zeros(self.channels, np.int64)
        for index in sorted(range(len(loads)), key=lambda i: -loads[i]):
            target = int(np.argmin(filled))
            channel[index] = target
            filled[target] += loads[index]
        return channel

    def _add_npu_part(self, cost, op, gemms, system) -> None:
        if self.npu is None:
            raise CapacityError(f"{op.name}: {len(gemms)} attention GEMM(s) have more than "
                                f"{self.params['max_gemv_rows']} query rows per KV head and {self.name!r} "
                                f"names no `npu` to run them")
        from dataclasses import replace

        part = self.npu.execute(replace(op, gemms=tuple(gemms), group=1), system)
        cost.ticks += part.ticks
        for name, ticks in part.busy_ticks.items():
            cost.busy_ticks[name] = cost.busy_ticks.get(name, 0) + ticks
        for key, count in part.events.items():
            cost.events[key] = cost.events.get(key, 0.0) + count
        for level, nbytes in part.bytes_read.items():
            cost.bytes_read[level] = cost.bytes_read.get(level, 0.0) + nbytes
        for level, nbytes in part.bytes_written.items():
            cost.bytes_written[level] = cost.bytes_written.get(level, 0.0) + nbytes
        cost.detail["npu_cycles"] = round(self.npu.clock.cycles(part.ticks))
        cost.detail["npu_macs"] = part.macs
