"""How a sweep chooses its points: every combination, or seeded samples.

Each method takes the parameters and the sampling settings and returns one
tuple of values per point (in parameter order). Methods are chosen by name
from SAMPLERS; a new method is one function added there.
"""
from __future__ import annotations

import itertools
from typing import Callable

import numpy as np

from .spec import Parameter, Sampling


def grid(parameters: tuple[Parameter, ...], sampling: Sampling) -> list[tuple]:
    return list(itertools.product(*(p.values for p in parameters)))


def random(parameters: tuple[Parameter, ...], sampling: Sampling) -> list[tuple]:
    """Independent uniform draws per parameter (log-uniform for `log: true` ranges)."""
    rng = np.random.default_rng(sampling.seed)
    columns = [_from_unit(p, rng.random(sampling.points)) for p in parameters]
    return list(zip(*columns))


def latin_hypercube(parameters: tuple[Parameter, ...], sampling: Sampling) -> list[tuple]:
    """Each parameter's range is cut into `points` equal strata and every stratum is
    used once, in an independent random order per parameter (McKay et al., 1979)."""
    rng = np.random.default_rng(sampling.seed)
    count = sampling.points
    columns = []
    for parameter in parameters:
        strata = rng.permutation(count)
        columns.append(_from_unit(parameter, (strata + rng.random(count)) / count))
    return list(zip(*columns))


def _from_unit(parameter: Parameter, fractions: np.ndarray) -> list:
    """Map numbers in [0, 1) onto the parameter's values or range."""
    if parameter.values is not None:
        indices = np.minimum((fractions * len(parameter.values)).astype(int), len(parameter.values) - 1)
        return [parameter.values[i] for i in indices]
    low, high = parameter.low, parameter.high
    if parameter.log:
        raw = np.exp(np.log(low) + fractions * (np.log(high) - np.log(low)))
    else:
        raw = low + fractions * (high - low)
    if parameter.integer:
        return [int(v) for v in np.clip(np.round(raw), np.ceil(low), np.floor(high))]
    return [float(f"{v:.6g}") for v in raw]


SAMPLERS: dict[str, Callable[[tuple[Parameter, ...], Sampling], list[tuple]]] = {
    "grid": grid,
    "random": random,
    "latin_hypercube": latin_hypercube,
}
