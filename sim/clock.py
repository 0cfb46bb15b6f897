"""Clocks turn a component's cycles into integer picosecond ticks.

Simulation time is an integer number of picoseconds everywhere, so clock
domains mix exactly and no float drift accumulates.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TICKS_PER_SECOND = 1_000_000_000_000  # one tick is one picosecond


@dataclass(frozen=True)
class Clock:
    name: str
    frequency_hz: float

    @property
    def period_ticks(self) -> float:
        return TICKS_PER_SECOND / self.frequency_hz

    def ticks(self, cycles: float) -> int:
        """Ticks that `cycles` cycles take, rounded up to a whole picosecond."""
        exact = cycles * TICKS_PER_SECOND / self.frequency_hz
        whole = int(exact)
        return whole if whole >= exact - 1e-9 else whole + 1

    def ticks_array(self, cycles: np.ndarray) -> np.ndarray:
        """Vectorised `ticks` for an integer array of cycle counts."""
        exact = cycles.astype(np.float64) * (TICKS_PER_SECOND / self.frequency_hz)
        return np.ceil(exact - 1e-6).astype(np.int64)

    def cycles(self, ticks: int) -> float:
        return ticks * self.frequency_hz / TICKS_PER_SECOND

    def label(self) -> str:
        return f"{self.name} @ {format_frequency(self.frequency_hz)}"


def format_frequency(hz: float) -> str:
    for unit, scale in (("GHz", 1e9), ("MHz", 1e6), ("kHz", 1e3)):
        if hz >= scale:
            return f"{hz / scale:g} {unit}"
    return f"{hz:g} Hz"
