"""Request lengths: fixed numbers, seeded distributions, or a user CSV.

Distributions (one `{distribution: ...}` mapping per field, seeded by
`serving.seed`; prompts are drawn first, then generated lengths):

  uniform    integers in [min, max], equally likely
  normal     mean, std; rounded and clipped to [min, max]
  lognormal  mean, std (of the lengths themselves, not of their logarithm);
             rounded, and redrawn until inside [min, max]
  sharegpt   a lognormal with ShareGPT-like means
  alpaca     a lognormal with Alpaca-like means

The dataset presets. The NeuPIMs reference sheet (shared/reference/neupims.md,
"Workloads used") gives only the average input/output lengths of the two
datasets, about 80/296 tokens (ShareGPT) and 12/56 tokens (Alpaca), as an
approximate transcription. The *shape* is our assumption: a lognormal, the
usual model for positive, right-skewed text lengths, with a coefficient of
variation (std / mean) of 1, i.e. the spread is as large as the mean (chat
conversations and instructions range from a few words to pages). A user who
knows better sets `mean` and `std` next to `distribution: sharegpt`. The
default bounds are min 1 and max 512 (prompts) / 1536 (outputs), so that
prompt + output stay within the 2048-token context of the GPT-3 family; the
redraw outside the bounds lowers the realised ShareGPT means by about 3%
(prompts, 77.6) and 5% (outputs, 281) and leaves Alpaca's unchanged
(docs/serving.md has the measured values).

CSV (`serving.lengths_csv`): a header line naming the columns
`prompt_tokens` and `generate_tokens` (other columns are ignored), then one
request per line; every value a whole number > 0. Rows are used in order and
cycled (row i mod rows) or truncated to `serving.requests`.
"""
from __future__ import annotations

import csv
import hashlib
import math
from pathlib import Path

import numpy as np

from ..schema import Checker, opt, req
from ..yamlio import LocDict

# (mean prompt tokens, mean generated tokens): NeuPIMs reference sheet, approximate.
DATASET_MEANS = {"sharegpt": (80.0, 296.0), "alpaca": (12.0, 56.0)}
DATASET_CV = 1.0          # std / mean of the dataset presets: our assumption (module docstring)
DATASET_MAX = (512, 1536)  # default max (prompt, output) of the presets: sum = GPT-3's 2048 context
DISTRIBUTIONS = ("uniform", "normal", "lognormal", *DATASET_MEANS)
LENGTH_FIELDS = {
    "distribution": req("str", "uniform, normal (clipped), lognormal (redrawn outside [min, max]), "
                               "sharegpt or alpaca (lognormal presets, docs/serving.md)", choices=DISTRIBUTIONS),
    "min": opt("int", None, "smallest length (required for uniform/normal/lognormal; presets: 1)", positive=True),
    "max": opt("int", None, "largest length (required for uniform/normal/lognormal; presets: 512 prompt, 1536 output)",
               positive=True),
    "mean": opt("float", None, "mean (normal, lognormal; presets: the dataset's mean)", positive=True),
    "std": opt("float", None, "standard deviation (normal, lognormal; presets: equal to the mean)", positive=True),
}
CSV_COLUMNS = ("prompt_tokens", "generate_tokens")


def lognormal_samples(rng, mean: float, std: float, low: int, high: int, count: int) -> np.ndarray:
    """`count` lognormal lengths with the given mean and std, rounded to integers and
    redrawn until inside [low, high] (a truncated distribution, no spike at the bounds)."""
    sigma2 = math.log1p((std / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    out = np.rint(rng.lognormal(mu, math.sqrt(sigma2), size=count))
    bad = (out < low) | (out > high)
    for _ in range(1000):
        if not bad.any():
            break
        out[bad] = np.rint(rng.lognormal(mu, math.sqrt(sigma2), size=int(bad.sum())))
        bad = (out < low) | (out > high)
    else:  # pragma: no cover - only when [low, high] holds almost none of the mass
        out = np.clip(out, low, high)
    return out


def sample_lengths(checker: Checker, raw, where, path: str, count: int, rng, which: int) -> tuple[int, ...]:
    """A fixed length for every request, or `count` seeded samples of a distribution.
    `which` is 0 for prompts and 1 for generated tokens (selects the preset's mean)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw <= 0:
            checker.add(where, path, f"must be greater than zero, got {raw}")
            return ()
        return (raw,) * count
    if not isinstance(raw, LocDict):
        checker.add(where, path, f"expected a whole number or a distribution mapping, got {raw!r}")
        return ()
    node = raw
    values = checker.section(node, path, LENGTH_FIELDS)
    kind = values["distribution"]
    if kind is None:
        return ()
    preset = kind in DATASET_MEANS
    low = values["min"] if values["min"] is not None else (1 if preset else None)
    high = values["max"] if values["max"] is not None else (DATASET_MAX[which] if preset else None)
    if low is None or high is None:
        for key in ("min", "max"):
            if values[key] is None:
                checker.add(node.origin, f"{path}.{key}", f"missing required field (a {kind} distribution needs it)")
        return ()
    if low > high:
        checker.add(node.location("max"), f"{path}.max", f"max {high} is below min {low}")
        return ()
    if kind == "uniform":
        samples = rng.integers(low, high + 1, size=count)
    elif kind == "normal":
        if values["mean"] is None or values["std"] is None:
            checker.add(node.origin, path, "a normal distribution needs mean and std")
            return ()
        samples = np.clip(np.rint(rng.normal(values["mean"], values["std"], size=count)), low, high)
    else:
        mean = values["mean"] if values["mean"] is not None else (DATASET_MEANS[kind][which] if preset else None)
        if mean is None or (values["std"] is None and not preset):
            checker.add(node.origin, path, "a lognormal distribution needs mean and std")
            return ()
        std = values["std"] if values["std"] is not None else DATASET_CV * mean
        if not low <= mean <= high:
            checker.add(node.origin, path, f"mean {mean:g} lies outside [min {low}, max {high}]")
            return ()
        samples = lognormal_samples(rng, mean, std, low, high, count)
    return tuple(int(x) for x in samples)


def csv_lengths(checker: Checker, value, where, path: str, count: int
                ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[str, int], ...], dict]:
    """(prompts, generated, (file, line) of each request, {file: sha256}) from a CSV whose
    path is relative to the YAML file that names it; rows cycled or truncated to `count`."""
    if not isinstance(value, str) or not value.strip():
        checker.add(where, path, f"expected a file path, got {value!r}")
        return (), (), (), {}
    source = Path(where[0]).parent if where[0] and not where[0].startswith("<") and where[0] != "--set" else Path.cwd()
    csv_path = (source / value).resolve()
    try:
        data = csv_path.read_bytes()
    except OSError as exc:
        checker.add(where, path, f"cannot read {csv_path}: {exc.strerror or exc}")
        return (), (), (), {}
    name = str(csv_path)
    rows = list(csv.reader(data.decode("utf-8", errors="replace").splitlines()))
    numbered = [(line, row) for line, row in enumerate(rows, 1) if any(cell.strip() for cell in row)]
    if not numbered:
        checker.add((name, None), path, "empty file; expected a header `prompt_tokens,generate_tokens` and rows")
        return (), (), (), {}
    header_line, header = numbered[0]
    header = [cell.strip() for cell in header]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        checker.add((name, header_line), path, f"header lacks column(s) {', '.join(missing)}; "
                                               f"expected columns {', '.join(CSV_COLUMNS)}, got {', '.join(header)}")
        return (), (), (), {}
    columns = [header.index(c) for c in CSV_COLUMNS]
    parsed: list[tuple[int, int, int]] = []
    for line, row in numbered[1:]:
        cells = []
        for column, label in zip(columns, CSV_COLUMNS):
            text = row[column].strip() if column < len(row) else ""
            try:
                number = int(text)
            except ValueError:
                checker.add((name, line), f"{path}.{label}", f"expected a whole number > 0, got {text!r}")
                continue
            if number <= 0:
                checker.add((name, line), f"{path}.{label}", f"must be greater than zero, got {number}")
                continue
            cells.append(number)
        if len(cells) == 2:
            parsed.append((cells[0], cells[1], line))
    if not parsed:
        if len(numbered) == 1:
            checker.add((name, header_line), path, "no request rows after the header")
        return (), (), (), {}
    chosen = [parsed[i % len(parsed)] for i in range(count)]
    return (tuple(p for p, _, _ in chosen), tuple(g for _, g, _ in chosen),
            tuple((name, line) for _, _, line in chosen), {name: hashlib.sha256(data).hexdigest()})
