"""Functional mode: real values of small workloads through the unit models vs NumPy."""
from __future__ import annotations

import numpy as np
import pytest

from accsim.errors import AccsimError
from accsim.functional import FunctionalError, FunctionalSizeError, check_functional, int8, run_functional

pytestmark = pytest.mark.unit


def test_int8_gemms_equal_numpy_exactly():
    report = run_functional("sa8_int8", "gemm-int8-small")
    assert report.ok and report.precision == "int8" and report.accumulator == "int32"
    assert [row.check for row in report.rows] == ["exact"] * 4
    assert {row.folds for row in report.rows} >= {1} and max(row.folds for row in report.rows) > 1
    assert "all match" in report.format()


@pytest.mark.parametrize("accumulator", ["fp32", "fp16"])
def test_fp16_gemms_within_the_rounding_bound(accumulator):
    report = run_functional("npu", "gemm-fp16-small", [f"components.sa.accumulator={accumulator}"])
    assert report.ok, report.format()
    assert all(row.check == "bound" and 0 < row.max_error_over_bound <= 1 for row in report.rows)


@pytest.mark.parametrize("arch, workload", [("sa8_int8", "gemm-int8-small"), ("npu", "gemm-fp16-small")])
def test_output_stationary_value_path(arch, workload):
    report = run_functional(arch, workload, ["components.sa.dataflow=os"])
    assert report.ok and report.dataflow == "os", report.format()
    assert "8x8 os" in report.format() or "128x128 os" in report.format()


def test_same_seed_same_values_other_seed_other_values():
    first = run_functional("npu", "gemm-fp16-small", seed=1)
    again = run_functional("npu", "gemm-fp16-small", seed=1)
    other = run_functional("npu", "gemm-fp16-small", seed=2)
    assert first.rows == again.rows and first.rows != other.rows


def test_too_big_is_refused_with_the_cap_and_a_way_out():
    with pytest.raises(FunctionalSizeError) as caught:
        run_functional("sa32", "gemm-256")
    message = str(caught.value)
    with pytest.raises(FunctionalSizeError):
        check_functional("sa32", "gemm-256")      # refused before any simulation
    check_functional("sa8_int8", "gemm-int8-small")
    assert "262,144" in message and "16,777,216" in message and "Shrink" in message
    assert isinstance(caught.value, AccsimError)


def test_unsupported_precision_or_dataflow_is_refused():
    with pytest.raises(FunctionalError, match="int4"):
        run_functional("sa8_int8", "gemm-int8-small", ["components.sa.precision=int4"])
    with pytest.raises(FunctionalError, match="'is'"):
        run_functional("sa8_int8", "gemm-int8-small", ["components.sa.dataflow=is"])


def test_a_wrong_pe_model_is_caught(monkeypatch):
    """Proof the check bites: a PE model whose sum is off by one whenever a = 127
    disagrees with NumPy."""
    monkeypatch.setattr(int8, "pe_mac", lambda psum, a, w: int8.wrap_int32(psum + a * w + (a == 127)))
    report = run_functional("sa8_int8", "gemm-int8-small")
    assert not report.ok and "differ" in report.format()


def test_a_lost_fold_is_caught_in_fp16(monkeypatch):
    from accsim.functional import systolic_ws

    real = systolic_ws.fp_units

    def forgetful(accumulator):
        mac, add, zero = real(accumulator)
        return mac, (lambda c, psum: psum), zero       # later K folds overwrite instead of add
    monkeypatch.setattr(systolic_ws, "fp_units", forgetful)
    report = run_functional("npu", "gemm-fp16-small")
    assert not report.ok
    assert [row.ok for row in report.rows] == [True, True, False]   # only deep_k has K folds


def test_reference_wraps_like_the_hardware():
    a = np.full((1, 4), -128)
    b = np.full((4, 1), -128)
    assert int8.wrap_int32(np.int64(1 << 31)) == int8.INT32_MIN
    assert (int8.wrap_int32(a @ b) == 65536).all()
