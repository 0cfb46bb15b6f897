"""Bit-accurate IEEE binary floating point in integer arithmetic (no host floats).

Every unit here is *fused*: it forms the exact value of its result from the operands
(products of significands are exact integers, terms are aligned exactly on a common
binary point) and rounds once, to nearest, ties to even (RNE). This is what the RTL
(rtl/fp16_fma.v, rtl/pim_dot16_fp16.v with rtl/fp16_round.v) computes.

Special values, for every unit:
- subnormal inputs and outputs are supported (gradual underflow, no flush to zero);
- any NaN input, inf * 0, or infinities of opposite sign being added -> the canonical
  quiet NaN (sign 0, exponent all ones, top fraction bit set: 0x7E00 in binary16);
  NaN payloads are not propagated;
- an infinite term gives an infinity of its sign; a finite result too large rounds to
  infinity (RNE overflow);
- an exact zero sum of nonzero terms is +0; a sum of zero terms only is -0 when every
  term is -0, else +0 (IEEE 754 rules for RNE); a nonzero result that rounds to zero keeps
  its sign.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class FloatFormat:
    name: str
    exponent_bits: int
    fraction_bits: int

    @property
    def bias(self) -> int:
        return (1 << (self.exponent_bits - 1)) - 1

    @property
    def max_exponent_field(self) -> int:
        return (1 << self.exponent_bits) - 1

    @property
    def width(self) -> int:
        return 1 + self.exponent_bits + self.fraction_bits

    @property
    def sign_bit(self) -> int:
        return 1 << (self.width - 1)

    @property
    def inf_bits(self) -> int:
        return self.max_exponent_field << self.fraction_bits

    @property
    def nan_bits(self) -> int:
        return self.inf_bits | (1 << (self.fraction_bits - 1))

    @property
    def lsb_exponent(self) -> int:
        """Exponent of the smallest subnormal: 1 - bias - fraction_bits."""
        return 1 - self.bias - self.fraction_bits


FP16 = FloatFormat("fp16", 5, 10)
FP32 = FloatFormat("fp32", 8, 23)
FORMATS = {"fp16": FP16, "fp32": FP32}

_NAN, _INF, _FINITE = "nan", "inf", "finite"


@dataclass(frozen=True)
class Decoded:
    """bits decoded: value = (-1)**sign * significand * 2**exponent when kind is finite."""
    kind: str
    sign: int
    significand: int
    exponent: int


def decode(bits: int, fmt: FloatFormat = FP16) -> Decoded:
    sign = (bits >> (fmt.width - 1)) & 1
    exponent_field = (bits >> fmt.fraction_bits) & fmt.max_exponent_field
    fraction = bits & ((1 << fmt.fraction_bits) - 1)
    if exponent_field == fmt.max_exponent_field:
        return Decoded(_NAN if fraction else _INF, sign, 0, 0)
    if exponent_field == 0:  # zero or subnormal: no hidden bit, exponent of the smallest normal
        return Decoded(_FINITE, sign, fraction, fmt.lsb_exponent)
    return Decoded(_FINITE, sign, fraction | (1 << fmt.fraction_bits),
                   exponent_field - fmt.bias - fmt.fraction_bits)


def is_nan(bits: int, fmt: FloatFormat = FP16) -> bool:
    return decode(bits, fmt).kind == _NAN


def round_to_format(sign: int, magnitude: int, lsb_exponent: int, fmt: FloatFormat = FP16) -> int:
    """Bits of the value (-1)**sign * magnitude * 2**lsb_exponent rounded to `fmt` (RNE)."""
    if magnitude == 0:
        return fmt.sign_bit if sign else 0
    top = magnitude.bit_length() - 1 + lsb_exponent          # exponent of the leading one
    keep_lsb = max(top - fmt.fraction_bits, fmt.lsb_exponent)  # exponent of the kept LSB
    shift = keep_lsb - lsb_exponent
    if shift <= 0:
        kept = magnitude << -shift
    else:
        kept = magnitude >> shift
        half = 1 << (shift - 1)
        remainder = magnitude & ((1 << shift) - 1)
        if remainder > half or (remainder == half and kept & 1):
            kept += 1
    # kept is the significand with its hidden bit; adding the exponent step above the
    # subnormal range encodes it (a carry out of the significand bumps the exponent).
    bits = ((keep_lsb - fmt.lsb_exponent) << fmt.fraction_bits) + kept
    if bits >= fmt.inf_bits:
        bits = fmt.inf_bits
    return bits | (fmt.sign_bit if sign else 0)


@dataclass(frozen=True)
class Term:
    """One exact addend: a product of decoded operands, or a decoded value."""
    kind: str
    sign: int
    significand: int
    exponent: int
    is_zero: bool


def _product(a: Decoded, b: Decoded) -> Term:
    sign = a.sign ^ b.sign
    if a.kind == _NAN or b.kind == _NAN:
        return Term(_NAN, 0, 0, 0, False)
    if a.kind == _INF or b.kind == _INF:
        other = b if a.kind == _INF else a
        if other.kind == _FINITE and other.significand == 0:
            return Term(_NAN, 0, 0, 0, False)        # inf * 0
        return Term(_INF, sign, 0, 0, False)
    significand = a.significand * b.significand
    return Term(_FINITE, sign, significand, a.exponent + b.exponent, significand == 0)


def _value(d: Decoded) -> Term:
    return Term(d.kind, d.sign, d.significand, d.exponent, d.kind == _FINITE and d.significand == 0)


def fused_sum(terms: Sequence[Term], fmt: FloatFormat) -> int:
    """Round the exact sum of `terms` once to `fmt`, with the special cases above."""
    if any(t.kind == _NAN for t in terms):
        return fmt.nan_bits
    infinite_signs = {t.sign for t in terms if t.kind == _INF}
    if len(infinite_signs) == 2:
        return fmt.nan_bits
    if infinite_signs:
        return fmt.inf_bits | (fmt.sign_bit if infinite_signs.pop() else 0)
    if all(t.is_zero for t in terms):
        return fmt.sign_bit if all(t.sign for t in terms) else 0
    base = min(t.exponent for t in terms if not t.is_zero)
    total = 0
    for t in terms:
        if not t.is_zero:
            aligned = t.significand << (t.exponent - base)
            total += -aligned if t.sign else aligned
    if total == 0:
        return 0                                     # exact cancellation: +0 under RNE
    return round_to_format(1 if total < 0 else 0, abs(total), base, fmt)


def fma(a: int, b: int, c: int, operand: FloatFormat = FP16, accumulator: FloatFormat = FP16) -> int:
    """RNE(a*b + c): a, b in `operand`, c and the result in `accumulator`."""
    return fused_sum((_product(decode(a, operand), decode(b, operand)), _value(decode(c, accumulator))),
                     accumulator)


def fp16_fma(a: int, b: int, c: int) -> int:
    """rtl/fp16_fma.v: binary16 fused multiply-add, y = RNE(a*b + c)."""
    return fma(a, b, c, FP16, FP16)


def fp16_mul(a: int, b: int) -> int:
    """a*b rounded: a*b + (-0) is a*b exactly, including the sign of a zero product."""
    return fp16_fma(a, b, FP16.sign_bit)


def fp16_add(a: int, c: int) -> int:
    """a + c rounded, as fma(a, 1.0, c)."""
    return fp16_fma(a, 0x3C00, c)


def add(x: int, y: int, fmt: FloatFormat = FP16) -> int:
    """RNE(x + y), both operands and the result in `fmt`."""
    return fused_sum((_value(decode(x, fmt)), _value(decode(y, fmt))), fmt)


def fp16_dot_accumulate(acc: int, a: Iterable[int], b: Iterable[int]) -> int:
    """rtl/pim_dot16_fp16.v, one beat: RNE(acc + sum_i a_i*b_i), one rounding.
    Start a new accumulation with acc = 0x8000 (-0, the additive identity)."""
    terms = [_product(decode(x), decode(y)) for x, y in zip(a, b, strict=True)]
    terms.append(_value(decode(acc)))
    return fused_sum(terms, FP16)


def to_float(bits: int, fmt: FloatFormat = FP16) -> float:
    """Host float of `bits` (for references and reports, never inside a model)."""
    d = decode(bits, fmt)
    if d.kind == _NAN:
        return float("nan")
    if d.kind == _INF:
        return float("-inf") if d.sign else float("inf")
    value = float(d.significand) * 2.0 ** d.exponent
    return -value if d.sign else value


def unit_roundoff(fmt: FloatFormat) -> float:
    """u = 2**-(fraction_bits + 1): the largest relative error of one RNE rounding."""
    return 2.0 ** -(fmt.fraction_bits + 1)
