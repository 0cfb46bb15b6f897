"""Numba-compiled cycle-level inner loops: pure functions over NumPy arrays.

Every kernel is `@njit(cache=True)` and global-free, so it also runs under
NUMBA_DISABLE_JIT=1 (the tests use that to check the Python semantics).
"""
