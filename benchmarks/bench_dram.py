"""Trace-mode speed of the DRAM model (requests per second per core).

    python benchmarks/bench_dram.py [--requests 1000000] [--repeats 3] [--threads N]

Generates seeded traces on HBM2 (uniform random reads; sequential reads),
writes the random one as a DRAMsim3-format file and times its parsing, then
times the kernel alone (best of --repeats runs). A warm-up run first pays Numba's one-time set-up of the
process (about 0.6 s, which `accsim mem` pays once per run) and loads or compiles
the kernels (the parser's is timed and printed: a few seconds the first time after
an install, when Numba compiles it into its cache), so neither timing includes it. The baseline measured in the same run is
the sequential stream. Last comes the kind of stream the `dram` component replays for an
op in an architecture (32 channels, every request queued at cycle 0). Every rate
is on one thread (per core), except the lines marked "threads": the unlimited front
end's channels on --threads threads (default: ACCSIM_THREADS, else the CPUs available),
with the speed-up over one thread measured in the same run.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from accsim.memory.preset import ControllerSpec, load_preset, with_channels
from accsim.memory.simulate import resolve_threads, simulate_requests
from accsim.memory.trace import parse_trace


def timed(preset, address, frontend, repeats, threads=1, arrive=None):
    """Best wall time of `repeats` identical runs (this machine's speed varies by up to 40% from
    minute to minute; the best run is the one least disturbed), and the run."""
    best = float("inf")
    arrive = np.arange(address.size) if arrive is None else arrive
    for _ in range(repeats):
        began = time.perf_counter()
        run = simulate_requests(preset, ControllerSpec(), arrive, address, np.zeros(address.size, bool),
                                frontend=frontend, threads=threads)
        best = min(best, time.perf_counter() - began)
    return best, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per kernel timing; the best is printed")
    parser.add_argument("--threads", type=int, default=None, help="threads for the lines marked so")
    args = parser.parse_args()
    threads = resolve_threads(args.threads)
    preset = load_preset("hbm2")
    rng = np.random.default_rng(0)
    random = rng.integers(0, preset.capacity_bytes // 64, args.requests) * 64
    sequential = np.arange(args.requests, dtype=np.int64) * 64
    timed(preset, random[:1000], "inorder", 1)      # warm-up: Numba's process set-up, load or compile the kernel
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.trace"
        path.write_text("0x40 READ 0\n")
        began = time.perf_counter()
        parse_trace(path)                        # warm-up: load or compile the parser
        print(f"parser load or compile (once per process): {time.perf_counter() - began:.2f} s")
        path.write_text("".join(f"0x{a:x} READ {i}\n" for i, a in enumerate(random)))
        began = time.perf_counter()
        trace = parse_trace(path)
        parse_seconds = time.perf_counter() - began
    assert np.array_equal(trace.address, random)
    print(f"parse {args.requests:,}-line DRAMsim3 trace: {parse_seconds:.2f} s")
    results = {}
    for label, address in (("random", random), ("sequential", sequential)):
        for frontend in ("inorder", "unlimited"):
            seconds, run = timed(preset, address, frontend, args.repeats)
            results[label, frontend] = seconds
            print(f"{label:<10} {frontend:<9} {args.requests / seconds / 1e6:5.2f} M requests/s  "
                  f"({seconds:.2f} s; {run.bandwidth_bytes_per_s / 1e9:6.1f} GB/s, hit rate {run.row_hit_rate:.1%})")
    ratio = results["random", "inorder"] / results["sequential", "inorder"]
    print(f"random / sequential wall-time ratio (in-order front end): {ratio:.2f}")
    if threads > 1:
        seconds, _ = timed(preset, random, "unlimited", args.repeats, threads)
        print(f"random     unlimited {args.requests / seconds / 1e6:5.2f} M requests/s on {threads} threads "
              f"(x{results['random', 'unlimited'] / seconds:.2f} one thread)")
    # what the `dram` component replays for an op: a stream striped over 32 channels (four HBM2
    # stacks, as arch/npu.yaml), every request queued at cycle 0
    stacks = with_channels(preset, 32)
    at_zero = np.zeros(args.requests, np.int64)
    one, run = timed(stacks, sequential, "unlimited", args.repeats, 1, at_zero)
    print(f"component replay, 32 channels, sequential: {args.requests / one / 1e6:5.2f} M requests/s  "
          f"({one:.2f} s; {run.bandwidth_bytes_per_s / 1e9:6.1f} GB/s); "
          f"x{results['sequential', 'unlimited'] / one:.2f} the 8-channel unlimited rate")
    if threads > 1:
        seconds, _ = timed(stacks, sequential, "unlimited", args.repeats, threads, at_zero)
        print(f"component replay on {threads} threads: {args.requests / seconds / 1e6:5.2f} M requests/s "
              f"(x{one / seconds:.2f} one thread)")


if __name__ == "__main__":
    main()
