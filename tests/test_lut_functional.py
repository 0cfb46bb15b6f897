"""Bit-accurate LUT mpGEMM model against the dequantize-then-matmul reference."""
from __future__ import annotations

import numpy as np
import pytest

from accsim.functional import lut

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
def test_integer_lut_mpgemm_equals_dequant_matmul_exactly(bits):
    rng = np.random.default_rng(bits)
    a = rng.integers(-128, 128, (7, 64))
    q = rng.integers(0, 2 ** bits, (33, 64))
    scale = rng.integers(1, 9, 33) / 8.0            # exact binary fractions: float64 stays exact
    zero = rng.integers(0, 2 ** bits, 33).astype(float)
    assert np.array_equal(lut.lut_mpgemm(a, q, bits, scale, zero), lut.dequant_matmul(a, q, scale, zero))
    # the lookup sum alone is the integer product with the reinterpreted weights
    assert np.array_equal(lut.lookup_sum(lut.precompute_tables(a), q, bits), a @ lut.reinterpret(q, bits).T)


def test_ternary_weights_as_two_bit_codes():
    rng = np.random.default_rng(3)
    a = rng.integers(-128, 128, (4, 32))
    w = rng.integers(-1, 2, (16, 32))                 # BitNet b1.58: {-1, 0, 1} = q - 1
    ones = np.ones(16)
    assert np.array_equal(lut.lut_mpgemm(a, w + 1, 2, ones, ones), a @ w.T)


def test_symmetrized_table_gives_all_sixteen_signed_sums():
    a = np.array([[3, -5, 7, 11]])
    tables = lut.precompute_tables(a)
    for index in range(16):
        signs = np.array([1 if (index >> i) & 1 else -1 for i in range(4)])
        assert lut.lookup(tables[0, 0], np.array([index]))[0] == (signs * a[0]).sum()


def test_fp16_tables_stay_within_the_documented_bound():
    rng = np.random.default_rng(7)
    for bits in (1, 2, 4):
        a = (rng.standard_normal((5, 256)) * 4).astype(np.float16)
        q = rng.integers(0, 2 ** bits, (40, 256))
        tables = lut.precompute_tables(a)
        exact = lut.lookup_sum(tables, q, bits)
        error = np.abs(lut.lookup_sum(tables, q, bits, "fp16") - exact)
        bound = lut.fp_error_bound(tables, q, bits)
        assert (error <= bound).all()
        assert error.max() > 0                         # the FP path does round


def test_int8_quantized_tables_stay_within_half_a_step():
    rng = np.random.default_rng(9)
    a = rng.standard_normal((6, 128))
    q = rng.integers(0, 4, (20, 128))
    tables = lut.precompute_tables(a)
    error = np.abs(lut.lookup_sum(tables, q, 2, "int8") - lut.lookup_sum(tables, q, 2))
    assert (error <= lut.int8_table_error_bound(tables, 2)[:, None] + 1e-9).all()


def test_the_lmma_unit_model_equals_the_matrix_model():
    """lut_dot_lmma (what the RTL computes, one LMMA) against lookup_sum on one K-group."""
    rng = np.random.default_rng(11)
    for bits in (1, 2, 3, 4):
        a = rng.integers(-128, 128, (2, 4))
        q = rng.integers(0, 2 ** bits, (8, 4))
        c = rng.integers(-1000, 1000, (2, 8))
        tables = lut.precompute_tables(a)[:, 0, :].tolist()
        got = lut.lut_dot_lmma(tables, q.tolist(), bits, c.tolist())
        assert np.array_equal(np.array(got), c + lut.lookup_sum(lut.precompute_tables(a), q, bits))


def test_weight_width_outside_one_to_four_bits_is_refused():
    with pytest.raises(ValueError, match="1-4 bit"):
        lut.lookup_sum(lut.precompute_tables(np.ones((1, 4), int)), np.zeros((1, 4), int), 5)
