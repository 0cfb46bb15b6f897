"""Functional mode: compute the real outputs of a small workload's GEMMs through the unit
models and check them against NumPy.

For every GEMM-class op (ops with `.gemms`), seeded random operands in the systolic
array's `precision` go through `accsim.functional.systolic_ws` (the fold-by-fold value
path of rtl/systolic_array_ws.v) or, for dataflow os, `systolic_os` (rtl/systolic_array_os.v:
one unbroken chain over K per output, j = K below) with the units matching the array:

- int8 (accumulator int32): the INT8 PE's wrapping int32 MAC. Reference: NumPy's int64
  matmul wrapped to int32. Must be equal, element for element.
- fp16 (accumulator fp16 or fp32): each PE is a fused multiply-add rounding once (RNE)
  into the accumulator format (fp16: the rtl/fp16_fma.v unit; fp32: the same fused rule
  at binary32, model only); partial sums start at -0 in the top row and pass down the
  rows in k order; the output accumulator adds each later K fold's partial sum with one
  more rounding. C is kept in the accumulator format. Reference: float64 matmul of the
  same (exactly representable) inputs. Bound, per element, from the rounding: with
  j = K + (folds along K) - 1 roundings on the path of any product,
      |C - ref| <= gamma_j(u) * S + gamma_K(2^-53) * S + j * 2^(e_min - 1)
  where S = (|A| @ |B|), u = 2^-(p+1) the accumulator's unit roundoff, gamma_j(u) =
  j*u / (1 - j*u) (the recursive-summation bound, Higham, Accuracy and Stability of
  Numerical Algorithms, 2nd ed., sec. 3.1), the second term the float64 reference's own
  error and the last the absolute error of gradual underflow (2^e_min the smallest
  subnormal). Inputs are N(0, 1) rounded to fp16, so no sum comes near overflow.

Work is capped (every MAC of a floating-point GEMM is a Python call): over the cap the
run is refused with FunctionalSizeError, which says the cap and how to shrink the workload.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ..errors import AccsimError
from . import fp, int8, systolic_os, systolic_ws

MAX_MACS = {"int8": 1 << 24, "fp16": 1 << 18}   # 256^3 int8 / 64^3 fp16 MACs per run
ACCUMULATORS = {"int8": ("int32",), "fp16": ("fp16", "fp32")}


class FunctionalError(AccsimError):
    """The architecture or workload is outside what functional mode covers."""


class FunctionalSizeError(FunctionalError):
    """The workload has more MACs than functional mode computes."""


@dataclass(frozen=True)
class FunctionalRow:
    op_index: int
    op_name: str
    m: int
    n: int
    k: int
    folds: int
    check: str               # "exact" or "bound"
    max_abs_error: float
    max_error_over_bound: float   # 0 for exact checks; <= 1 passes
    mismatches: int          # elements outside the check
    ok: bool


@dataclass(frozen=True)
class FunctionalReport:
    arch: str
    workload: str
    array: str
    rows_cols: tuple[int, int]
    precision: str
    accumulator: str
    unit: str
    seed: int
    rows: tuple[FunctionalRow, ...]
    notes: tuple[str, ...] = ()
    dataflow: str = "ws"

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def format(self) -> str:
        r, c = self.rows_cols
        lines = [f"functional check: {self.workload} on {self.arch} (array {self.array!r} {r}x{c} {self.dataflow}, "
                 f"{self.precision} x {self.precision} -> {self.accumulator}, unit {self.unit}, seed {self.seed})"]
        lines += [f"  note: {note}" for note in self.notes]
        lines.append(f"  {'op':<24} {'m':>5} {'n':>5} {'k':>5} {'folds':>5}  {'check':<6} "
                     f"{'max |err|':>10} {'err/bound':>9}  result")
        for row in self.rows:
            lines.append(f"  {row.op_name[:24]:<24} {row.m:>5} {row.n:>5} {row.k:>5} {row.folds:>5}  "
                         f"{row.check:<6} {row.max_abs_error:>10.3g} {row.max_error_over_bound:>9.3f}  "
                         f"{'ok' if row.ok else f'FAIL ({row.mismatches} elements)'}")
        failed = sum(not row.ok for row in self.rows)
        lines.append(f"  {len(self.rows)} GEMMs, " + ("all match the NumPy reference" if self.ok
                                                      else f"{failed} differ from the NumPy reference"))
        return "\n".join(lines)


def _array(arch):
    for spec in arch.components:
        if spec.type == "systolic_array":
            return spec
    raise FunctionalError(f"{arch.name}: functional mode computes GEMMs on a systolic_array component "
                          f"and this architecture has none")


def _gemms(ops) -> list[tuple[int, str, int, int, int]]:
    return [(op.index, op.name if len(op.gemms) == 1 else f"{op.name}[{i}]", m, n, k)
            for op in ops for i, (m, n, k) in enumerate(op.gemms)]


def _check_size(gemms, precision: str, workload: str) -> None:
    macs = sum(m * n * k for _, _, m, n, k in gemms)
    cap = MAX_MACS[precision]
    if macs > cap:
        largest = max(gemms, key=lambda g: g[2] * g[3] * g[4])
        raise FunctionalSizeError(
            f"{workload}: functional mode computes every MAC through the Python unit models and is "
            f"capped at {cap:,} MACs for {precision} arrays; this workload has {macs:,} MACs in "
            f"{len(gemms)} GEMMs (largest: {largest[1]} m={largest[2]} n={largest[3]} k={largest[4]}). "
            f"Shrink it: a kind: ops workload with smaller m/n/k (e.g. workloads/gemm-int8-small.yaml), "
            f"fewer ops or count, or --set ops[0].gemm.m=..., or for an LLM fewer layers/tokens")


def _check_int8(a, b, rows, cols, dataflow: str):
    gemm = systolic_os.os_gemm_int8 if dataflow == "os" else systolic_ws.ws_gemm_int8
    got = gemm(a, b, rows, cols).astype(np.int64)
    reference = int8.wrap_int32(a.astype(np.int64) @ b.astype(np.int64))
    wrong = int((got != reference).sum())
    return "exact", float(np.abs(got - reference).max(initial=0)), 0.0, wrong


def _check_fp16(a_bits, b_bits, rows, cols, accumulator: str, dataflow: str):
    target = fp.FORMATS[accumulator]
    mac, add, zero = systolic_ws.fp_units(accumulator)
    if dataflow == "os":
        rows = a_bits.shape[1]      # os: one unbroken chain over all of K per output
    out_bits = systolic_ws.ws_gemm_bits(a_bits, b_bits, rows, cols, mac, add, zero)
    got = np.array([[fp.to_float(int(x), target) for x in row] for row in out_bits])
    a = a_bits.view(np.float16).astype(np.float64)
    b = b_bits.view(np.float16).astype(np.float64)
    k = a.shape[1]
    roundings = k + -(-k // rows) - 1
    bound = _error_bound(np.abs(a) @ np.abs(b), roundings, k, target)
    error = np.abs(got - a @ b)
    error = np.where(np.isfinite(got), error, np.inf)
    ratio = float((error / bound).max(initial=0.0))
    return "bound", float(error.max(initial=0.0)), ratio, int((error > bound).sum())


def _gamma(count: int, roundoff: float) -> float:
    return count * roundoff / (1 - count * roundoff)


def _error_bound(magnitude_sum, roundings: int, k: int, target: fp.FloatFormat):
    underflow = roundings * 2.0 ** (target.lsb_exponent - 1)
    return (_gamma(roundings, fp.unit_roundoff(target)) + _gamma(k, 2.0 ** -53)) * magnitude_sum + underflow


UNIT_OF = {("int8", "int32"): "systolic_pe_int8", ("fp16", "fp16"): "fp16_fma",
           ("fp16", "fp32"): "fp16 x fp16 + fp32 fused MAC (model only)"}


@dataclass(frozen=True)
class _Plan:
    arch: object
    workload: object
    array: object
    gemms: list


def _plan(arch, workload, overrides) -> _Plan:
    from ..api import load_pair
    from ..workload.lower import lower

    arch_spec, workload_spec = load_pair(arch, workload, overrides)
    array = _array(arch_spec)
    params = array.params
    precision, accumulator = params["precision"], params["accumulator"]
    if precision not in ACCUMULATORS or accumulator not in ACCUMULATORS[precision]:
        supported = "; ".join(f"precision {p} with accumulator {' or '.join(a)}" for p, a in ACCUMULATORS.items())
        raise FunctionalError(f"{arch_spec.name}: components.{array.name}: functional models exist for "
                              f"{supported}, not {precision} with {accumulator}")
    if params["dataflow"] not in ("ws", "os"):
        raise FunctionalError(f"{arch_spec.name}: components.{array.name}: functional mode models the "
                              f"ws and os value paths; dataflow {params['dataflow']!r} is not modelled yet")
    gemms = _gemms(lower(workload_spec))
    _check_size(gemms, precision, workload_spec.name)
    return _Plan(arch_spec, workload_spec, array, gemms)


def check_functional(arch, workload, overrides: Iterable[str] = ()) -> None:
    """Raise what run_functional would refuse (no systolic array, unsupported precision or
    dataflow, too many MACs) without computing anything: call it before a long simulation."""
    _plan(arch, workload, tuple(overrides))


def run_functional(arch, workload, overrides: Iterable[str] = (), seed: int = 0) -> FunctionalReport:
    """Compute every GEMM of `workload` on `arch`'s systolic array through the unit models
    and compare with NumPy (see the module docstring for the checks and their bounds)."""
    plan = _plan(arch, workload, tuple(overrides))
    params = plan.array.params
    precision, accumulator = params["precision"], params["accumulator"]
    rows, cols = params["rows"], params["cols"]
    notes = []
    declared = {plan.workload.dtypes.get("weights"), plan.workload.dtypes.get("activations")}
    if declared != {precision}:
        notes.append(f"the workload declares {'/'.join(sorted(d for d in declared if d))} operands; "
                     f"inputs are generated as {precision}, the array's operand type")
    result_rows = []
    for op_index, name, m, n, k in plan.gemms:
        rng = np.random.default_rng([seed, op_index, m, n, k])
        if precision == "int8":
            a, b = rng.integers(-128, 128, (m, k)), rng.integers(-128, 128, (k, n))
            kind, max_error, ratio, wrong = _check_int8(a, b, rows, cols, params["dataflow"])
        else:
            a = rng.standard_normal((m, k)).astype(np.float16).view(np.uint16)
            b = rng.standard_normal((k, n)).astype(np.float16).view(np.uint16)
            kind, max_error, ratio, wrong = _check_fp16(a, b, rows, cols, accumulator, params["dataflow"])
        folds = (-(-m // rows) if params["dataflow"] == "os" else -(-k // rows)) * -(-n // cols)
        result_rows.append(FunctionalRow(op_index, name, m, n, k, folds, kind, max_error, ratio, wrong, wrong == 0))
    return FunctionalReport(plan.arch.name, plan.workload.name, plan.array.name, (rows, cols), precision,
                            accumulator, UNIT_OF[precision, accumulator], seed, tuple(result_rows), tuple(notes),
                            params["dataflow"])
