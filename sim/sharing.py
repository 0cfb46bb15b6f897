"""Memory bandwidth shared by ops that run at the same time (the scheduler's fluid model).

Each op's cost is simulated on an idle memory: it takes `ticks` and keeps the memory
busy for `busy_ticks[memory]` of them, i.e. it asks for a fraction
`demand = busy / ticks` of the memory's bandwidth while it runs. When ops on
different units overlap and their demands on one memory add up to more than 1, the
memory cannot serve them all: it is shared max-min fairly (water-filling: an op that
asks for less than an equal share gets what it asks, the rest is split among the
others), and an op granted `share < demand` progresses at `share / demand` of its
speed (its compute waits for its data), so its remaining isolated time stretches
accordingly. Alone, or when the demands fit, every op runs exactly its own ticks.

Rates change only when an op starts or finishes; between those events every op's
progress is linear, so finishing times are computed, not stepped: each op waits for
its own finishing time and is interrupted only when its rate changes (so a schedule
without oversubscription costs what plain timeouts cost). Times are whole ticks (an
op ends on the first tick at which its work is done).
"""
from __future__ import annotations

import math

import simpy

EPSILON = 1e-9


def max_min_shares(demands: list[float], capacity: float = 1.0) -> list[float]:
    """Water-filling: each demand gets min(demand, fair level), the level set so that
    the shares add up to `capacity` (or every demand is met)."""
    shares = [0.0] * len(demands)
    left, pending = capacity, sorted(range(len(demands)), key=demands.__getitem__)
    while pending:
        level = left / len(pending)
        i = pending[0]
        if demands[i] > level:
            for j in pending:
                shares[j] = level
            break
        shares[i] = demands[i]
        left -= demands[i]
        pending.pop(0)
    return shares


class _Running:
    """An op in progress: isolated ticks of work left as of `since`, at `rate`."""

    __slots__ = ("demands", "process", "rate", "remaining", "since")

    def __init__(self, ticks: int, now: int, demands: dict, process):
        self.remaining, self.since, self.rate, self.demands, self.process = float(ticks), now, 1.0, demands, process


class SharedMemories:
    """Progress of the running ops under shared memory bandwidth (see the module docstring)."""

    def __init__(self, env: simpy.Environment, memories: list[str]):
        self.env = env
        self.memories = memories
        self.running: list[_Running] = []

    def run(self, ticks: int, busy_ticks: dict):
        """Process body: hold for `ticks` of isolated time, stretched while the memories
        this op uses are oversubscribed."""
        demands = {m: min(busy_ticks.get(m, 0) / ticks, 1.0)
                   for m in self.memories if ticks and busy_ticks.get(m, 0)}
        if not demands:
            yield self.env.timeout(ticks)
            return
        me = _Running(ticks, self.env.now, demands, self.env.active_process)
        self.running.append(me)
        self._rebalance()
        while True:
            try:
                yield self.env.timeout(max(math.ceil(me.remaining / me.rate - EPSILON), 0))
                break
            except simpy.Interrupt:
                continue            # its rate changed (remaining brought up to date): wait anew
        self.running.remove(me)
        self._rebalance()

    def _rates(self) -> list[float]:
        """Speed of each running op: its smallest share / demand over the memories it uses."""
        rates = [1.0] * len(self.running)
        if len(self.running) < 2:
            return rates        # alone, an op cannot oversubscribe a memory (its demand is at most 1)
        for memory in self.memories:
            users = [i for i, op in enumerate(self.running) if memory in op.demands]
            asked = [self.running[i].demands[memory] for i in users]
            if sum(asked) <= 1.0 + EPSILON:
                continue
            for i, want, share in zip(users, asked, max_min_shares(asked)):
                rates[i] = min(rates[i], share / want)
        return rates

    def _rebalance(self) -> None:
        """New rates after an op started or finished; interrupt the ops whose rate changed."""
        now = self.env.now
        for op, rate in zip(self.running, self._rates()):
            if rate != op.rate:
                op.remaining -= (now - op.since) * op.rate
                op.since, op.rate = now, rate
                if op.process is not self.env.active_process:
                    op.process.interrupt()
