"""The op graph: what the simulator executes."""
from __future__ import annotations

from dataclasses import dataclass

GEMM_KINDS = frozenset({"gemm", "matmul", "attention"})


@dataclass(frozen=True, slots=True)
class Op:
    """One operation. GEMM-class ops list their GEMMs as (m, n, k) triples
    (C[m x n] = A[m x k] @ B[k x n]); element-wise ops give an element count.
    `deps` are indices of ops that must finish first."""

    index: int
    name: str
    kind: str
    phase: str            # prefill | decode | ops
    layer: int            # -1 when not inside a decoder layer
    step: int             # decode step (0 for prefill and plain ops)
    deps: tuple[int, ...]
    gemms: tuple[tuple[int, int, int], ...] = ()
    elements: int = 0
    a_bytes: float = 2.0  # bytes per element of A (or of the element-wise input)
    b_bytes: float = 2.0
    c_bytes: float = 2.0
    group: int = 1        # attention: consecutive GEMMs per request (its KV heads on this device)
    sub_batch: int = 0    # sub-batch of the iteration (sub-batch interleaving), 0 when not split
    b_resident: float = 0.0   # share of the weights B already on chip from an earlier op (accsim.residency)

    def signature(self) -> tuple:
        """Everything that determines the op's cost on an idle system."""
        shape = (self.kind, self.gemms, self.elements, self.a_bytes, self.b_bytes, self.c_bytes, self.group)
        return shape + (self.b_resident,) if self.b_resident else shape

    def shape_text(self) -> str:
        if self.gemms:
            first = self.gemms[0]
            text = f"m={first[0]} n={first[1]} k={first[2]}"
            return text if len(self.gemms) == 1 else f"{len(self.gemms)} x [{text} ...]"
        return f"elements={self.elements}"

    @property
    def flops(self) -> int:
        return 2 * sum(m * n * k for m, n, k in self.gemms)
