"""Tensor ops as loop nests over named dimensions.

A Problem is a perfect loop nest `for d in dims: out[...] += in0[...] * in1[...]`
with one bound per dimension and, per operand, the index expression of every
tensor axis as a sum of dimensions with integer coefficients (a convolution's
input row is stride*P + R). From that follow which dimensions each operand
depends on (reuse) and the size of any tile of it (halos included).

For arrays, dimensions fall into four roles fixed by the operands:
    reduce  in no output axis                       (GEMM K; conv C, R, S)
    cols    in the output and the second input only (GEMM N; conv K)
    stream  in the output and the first input only  (GEMM M; conv N, P, Q)
    batch   in every operand                        (batched matmul B)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

Axis = tuple[tuple[str, int], ...]   # sum of coefficient * dimension


@dataclass(frozen=True)
class Operand:
    name: str
    axes: tuple[Axis, ...]
    bytes_per_element: float
    output: bool = False
    partial_bytes: float | None = None    # outputs: partial sums (accumulator width); None = bytes_per_element

    @property
    def partial(self) -> float:
        return self.bytes_per_element if self.partial_bytes is None else self.partial_bytes

    @property
    def dims(self) -> frozenset[str]:
        return frozenset(d for axis in self.axes for d, _ in axis)


@dataclass(frozen=True)
class Problem:
    kind: str                            # gemm | bmm | conv | elementwise
    dims: tuple[tuple[str, int], ...]    # (name, bound), loop nest order of the definition
    operands: tuple[Operand, ...]        # inputs first, the output last

    @cached_property
    def bounds(self) -> dict[str, int]:
        return dict(self.dims)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d for d, _ in self.dims)

    @property
    def output(self) -> Operand:
        return self.operands[-1]

    @property
    def inputs(self) -> tuple[Operand, ...]:
        return self.operands[:-1]

    @property
    def macs(self) -> int:
        total = 1
        for _, bound in self.dims:
            total *= bound
        return total

    @cached_property
    def roles(self) -> dict[str, str]:
        out = self.output.dims
        if len(self.inputs) < 2:
            return {d: "stream" for d in self.names}
        first, second = self.inputs[0].dims, self.inputs[1].dims
        roles = {}
        for d in self.names:
            if d not in out:
                roles[d] = "reduce"
            elif d in first and d in second:
                roles[d] = "batch"
            elif d in second:
                roles[d] = "cols"
            else:
                roles[d] = "stream"
        return roles

    def label(self) -> str:
        return f"{self.kind.upper()} " + " ".join(f"{d}={b}" for d, b in self.dims)


def _axis(*terms) -> Axis:
    return tuple((d, 1) for d in terms) if all(isinstance(t, str) for t in terms) else tuple(terms)


def gemm(m: int, n: int, k: int, a_bytes: float = 2, b_bytes: float = 2, c_bytes: float = 2,
         partial_bytes: float | None = None) -> Problem:
    """C[M,N] += A[M,K] * B[K,N]; partial sums of C travel at `partial_bytes` (default c_bytes)."""
    return Problem("gemm", (("M", m), ("N", n), ("K", k)), (
        Operand("A", (_axis("M"), _axis("K")), a_bytes),
        Operand("B", (_axis("K"), _axis("N")), b_bytes),
        Operand("C", (_axis("M"), _axis("N")), c_bytes, output=True, partial_bytes=partial_bytes)))


def bmm(batch: int, m: int, n: int, k: int, a_bytes: float = 2, b_bytes: float = 2,
        c_bytes: float = 2, partial_bytes: float | None = None) -> Problem:
    """C[B,M,N] += A[B,M,K] * B[B,K,N] (attention scores and values per head)."""
    return Problem("bmm", (("B", batch), ("M", m), ("N", n), ("K", k)), (
        Operand("A", (_axis("B"), _axis("M"), _axis("K")), a_bytes),
        Operand("B", (_axis("B"), _axis("K"), _axis("N")), b_bytes),
        Operand("C", (_axis("B"), _axis("M"), _axis("N")), c_bytes, output=True, partial_bytes=partial_bytes)))


def conv2d(n: int, k: int, c: int, p: int, q: int, r: int, s: int, stride: int = 1,
           i_bytes: float = 2, w_bytes: float = 2, o_bytes: float = 2) -> Problem:
    """O[N,K,P,Q] += I[N,C,stride*P+R,stride*Q+S] * W[K,C,R,S]."""
    return Problem("conv", (("N", n), ("K", k), ("C", c), ("P", p), ("Q", q), ("R", r), ("S", s)), (
        Operand("I", (_axis("N"), _axis("C"), (("P", stride), ("R", 1)), (("Q", stride), ("S", 1))), i_bytes),
        Operand("W", (_axis("K"), _axis("C"), _axis("R"), _axis("S")), w_bytes),
        Operand("O", (_axis("N"), _axis("K"), _axis("P"), _axis("Q")), o_bytes, output=True)))


def elementwise(elements: int, inputs: int = 1, in_bytes: float = 2, out_bytes: float = 2) -> Problem:
    """Y[E] = f(X0[E], X1[E], ...)."""
    operands = tuple(Operand(f"X{i}", (_axis("E"),), in_bytes) for i in range(inputs))
    return Problem("elementwise", (("E", elements),), operands + (Operand("Y", (_axis("E"),), out_bytes, True),))


def op_problems(gemms, a_bytes: float, b_bytes: float, c_bytes: float,
                partial_bytes: float | None = None) -> list[Problem]:
    """The distinct problems of an op's GEMM list: identical shapes form one batched matmul."""
    counts: dict[tuple[int, int, int], int] = {}
    for shape in gemms:
        counts[tuple(shape)] = counts.get(tuple(shape), 0) + 1
    return [gemm(m, n, k, a_bytes, b_bytes, c_bytes, partial_bytes) if count == 1
            else bmm(count, m, n, k, a_bytes, b_bytes, c_bytes, partial_bytes)
            for (m, n, k), count in counts.items()]
