"""Design-space sweeps: many runs of accsim from one spec file, on a laptop or a cluster.

    import accsim.sweep
    frame = accsim.sweep.run_sweep("configs/sweeps/npu_array_sram.yaml", jobs=2)
    frame = accsim.sweep("npu_array_sram")          # the same: the module is callable
    frame = accsim.sweep.load_results("reports/npu-array-sram")
    accsim.sweep.report.render_sweep("reports/npu-array-sram")   # -> report.html

Stages (each its own module): spec (parse + validate the spec file) ->
points (choose points with a sampler, validate every configuration, key each
point by the hash of its resolved configuration) -> pool / dask_backend (run
points in worker processes) -> store (append-only log, manifest, Parquet and
CSV) -> results (table, objectives, constraints, Pareto) -> report.
"""
from __future__ import annotations

import sys
import types

from .spec import SweepError, SweepSpec, load_spec

__all__ = ["run_sweep", "load_spec", "load_results", "plan_sweep", "SweepError", "SweepSpec"]


def run_sweep(*args, **kwargs):
    from .driver import run_sweep as run

    return run(*args, **kwargs)


run_sweep.__doc__ = "Run a sweep spec; see accsim.sweep.driver.run_sweep."


def load_results(directory, all_points: bool = False):
    """The results table (DataFrame) of a sweep directory."""
    from .results import load_results as load

    return load(directory, all_points)


def plan_sweep(spec):
    """The validated points of a spec (nothing runs)."""
    from .points import plan_sweep as plan

    return plan(spec if isinstance(spec, SweepSpec) else load_spec(spec))


class _CallableModule(types.ModuleType):
    """`accsim.sweep(spec, ...)` is `accsim.sweep.run_sweep(spec, ...)` (the API named in
    the design brief) while `accsim.sweep` stays the package of the sweep modules."""

    def __call__(self, *args, **kwargs):
        return run_sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
