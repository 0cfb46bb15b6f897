"""Exact timing of the tile pipeline kernel: blocked at t-1, allowed at t."""
import numpy as np
import pytest

from accsim.kernels.pipeline import run_tile_pipeline

pytestmark = pytest.mark.timing


def _run(units, load, compute, store, n_units=1, slots=2, ticks_per_byte=1.0, latency=0, setup=0):
    return run_tile_pipeline(np.asarray(units, np.int64), np.asarray(load, np.float64),
                             np.asarray(compute, np.int64), np.asarray(store, np.float64),
                             n_units, slots, ticks_per_byte, latency, setup)[:4]


def test_single_tile_is_load_latency_compute_store():
    finish, busy, memory_busy, ends = _run([0], [100], [50], [10], latency=7, setup=3)
    # load: setup 3 + 100 bytes -> port free at 103, data at 110; compute 110..160;
    # store: port 160..173, lands at 180.
    assert ends[0] == 160
    assert finish == 180
    assert memory_busy == 103 + 13
    assert busy[0] == 50


def test_single_buffer_blocks_next_load_until_compute_ends():
    # Tile 1's load may start only when tile 0's compute frees the one slot (t=110).
    _, _, _, ends = _run([0, 0], [10, 10], [100, 100], [0, 0], slots=1)
    assert ends[0] == 110
    assert ends[1] == 110 + 10 + 100          # load 110..120, compute 120..220


def test_double_buffer_overlaps_next_load():
    _, _, _, ends = _run([0, 0], [10, 10], [100, 100], [0, 0], slots=2)
    assert ends[1] == 210                     # load of tile 1 (10..20) hidden under compute


def test_third_tile_waits_for_first_slot_to_free():
    # With 2 slots, tile 2's load is blocked until tile 0's compute ends at t=110 (not at 109).
    _, _, _, ends = _run([0, 0, 0], [10, 10, 60], [100, 100, 100], [0, 0, 0], slots=2)
    assert ends[2] == max(110 + 60, 210) + 100
    _, _, _, ends_long = _run([0, 0, 0], [10, 10, 101], [100, 100, 100], [0, 0, 0], slots=2)
    assert ends_long[2] == 110 + 101 + 100    # load now ends after tile 1's compute: it is exposed


def test_units_share_the_memory_port():
    # Two units each loading 100 bytes at 1 tick/byte: the second waits for the port.
    _, _, memory_busy, ends = _run([0, 1], [100, 100], [10, 10], [0, 0], n_units=2)
    assert sorted(ends) == [110, 210]
    assert memory_busy == 200


def test_memory_bound_stream_runs_at_bandwidth():
    n = 64
    finish, _, memory_busy, _ = _run([0] * n, [1000] * n, [10] * n, [0] * n, ticks_per_byte=0.5)
    assert memory_busy == n * 500
    assert finish == n * 500 + 10


def test_no_jit_matches_jit(tmp_path):
    """The kernel's Python semantics (NUMBA_DISABLE_JIT=1) equal the compiled ones."""
    import json
    import os
    import subprocess
    import sys

    rng = np.random.default_rng(3)
    args = dict(units=rng.integers(0, 3, 40).tolist(), load=rng.integers(0, 500, 40).tolist(),
                compute=rng.integers(1, 400, 40).tolist(), store=rng.integers(0, 200, 40).tolist())
    code = ("import json,sys,numpy as np; from accsim.kernels.pipeline import run_tile_pipeline as r;"
            "a=json.loads(sys.argv[1]); f,b,m,e=r(np.array(a['units'],np.int64),np.array(a['load'],float),"
            "np.array(a['compute'],np.int64),np.array(a['store'],float),3,2,0.7,5,2)[:4];"
            "print(json.dumps([int(f),b.tolist(),int(m),e.tolist()]))")
    outputs = []
    for disable in ("0", "1"):
        env = {**os.environ, "NUMBA_DISABLE_JIT": disable}
        done = subprocess.run([sys.executable, "-c", code, json.dumps(args)], env=env,
                              capture_output=True, text=True, check=True)
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]


def test_transfer_start_ticks_are_reported():
    out = run_tile_pipeline(np.array([0, 0], np.int64), np.array([10.0, 10.0]), np.array([100, 100], np.int64),
                            np.array([5.0, 5.0]), 1, 1, 1.0, 0, 0)
    load_start, store_start = out[4], out[5]
    assert load_start.tolist() == [0, 110]          # single slot: second load after the first compute
    assert store_start.tolist() == [120, 220]     # tile 0 store waits: the tied load goes first
