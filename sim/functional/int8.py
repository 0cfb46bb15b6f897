"""INT8 multiply-accumulate in exact integer arithmetic: the model of rtl/systolic_pe_int8.v."""
from __future__ import annotations

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def wrap_int32(value):
    """Two's-complement wrap to int32 (Python ints or NumPy int64 arrays)."""
    return ((value - INT32_MIN) & 0xFFFFFFFF) + INT32_MIN


def pe_mac(psum, a, w):
    """psum_out = psum_in + a*w, int8 operands, int32 sum wrapping modulo 2**32.
    Works elementwise on NumPy int64 arrays (exact: |psum + a*w| < 2**63)."""
    if isinstance(psum, np.ndarray) or isinstance(a, np.ndarray) or isinstance(w, np.ndarray):
        psum, a, w = (np.asarray(x, dtype=np.int64) for x in (psum, a, w))
    return wrap_int32(psum + a * w)


def add_int32(x, y):
    """The output accumulator's add (int32, wrapping)."""
    return pe_mac(x, y, 1)
