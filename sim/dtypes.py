"""Element types and their storage size in bytes."""
from __future__ import annotations

BYTES_PER_ELEMENT: dict[str, float] = {
    "fp32": 4.0, "tf32": 4.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int32": 4.0,
    "int16": 2.0, "int8": 1.0, "int4": 0.5, "int2": 0.25, "ternary": 0.25, "int1": 0.125,
}
DTYPES = tuple(BYTES_PER_ELEMENT)
