"""HBM-PIM channels running attention GEMVs, command by command (NeuPIMs / Newton style).

Each channel executes its jobs (one request's QK^T or SV) in order with PIM
commands broadcast to every bank of the channel (a command issues only when
all banks are ready):

    per chunk:  PIM_HEADER  (the controller knows the chunk's length and waits
                             for a refresh rather than collide with it)
                PIM_GWRITE  (the input vector slice into every bank's global
                             buffer; occupies the data bus)
                [single row buffer: PREA, the NPU's rows must close first]
                per round:  G_ACT x (banks / 4)   (tRRD_S apart; a G_ACT opens 4
                                                   rows, so one per tFAW per rank)
                            COMP x n per output group (tCCD_L apart, from the
                                                   last G_ACT + tRCD)
                            READRES per output group (data bus)
                            PIM_PRECHARGE         (>= tRAS after the G_ACT;
                                                   single row buffer: + tRTP)

A job is one request's GEMVs: `heads` query rows, each reducing over k
elements into n outputs (score q . K^T: k = head size, n = tokens; value
s . V: k = tokens, n = head size). A round activates one row in every bank
and each bank produces one output, so a chunk takes ceil(n / banks) rounds.
A chunk holds a row's worth (row_elems) of the reduction in the global buffer:
when k fits, row_elems / k heads share it (one COMP group + READRES each);
longer reductions go one head at a time in row-sized pieces.

All-bank refresh every tREFI for tRFC cycles, staggered over channels; a chunk
that would cross a refresh waits for it (the controller's refresh-aware
skipping), a chunk longer than a refresh interval is paused by it.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# parameter vector layout
P_NAMES = ("tRCD", "tRP", "tRAS", "tRRD_S", "tFAW", "tRTP", "tCCD_L", "tREFI", "tRFC", "banks", "ranks",
           "row_elems", "macs", "gwrite_cycles", "dual", "readres_cycles", "mac_latency")
P = {name: i for i, name in enumerate(P_NAMES)}
# command counters
COMMANDS = ("HEADER", "GWRITE", "G_ACT", "COMP", "READRES", "PIM_PRE", "PREA", "REF")
C = {name: i for i, name in enumerate(COMMANDS)}


@njit(cache=True)
def _ceil(a, b):
    return (a + b - 1) // b


@njit(cache=True)
def _chunk_estimate(p, rounds, comps, outputs):
    """The controller's estimate of a chunk (NeuPIMs' formula per round):
    tFAW x (G_ACTs/2 - 1) + tRCD + 2 x COMPs + 2 x (READRESs - 1) + precharge."""
    gacts = p[9] // 4
    per_round = (p[4] * max(gacts // p[10] - 1, 0) + p[0] + p[6] * comps * outputs
                 + p[15] * outputs + p[2] + p[1])
    return p[13] + rounds * per_round


@njit(cache=True)
def _log(trace, fill, cycle, command, rank):
    """Append (cycle, command code, rank) to the trace while it has room."""
    if fill[0] < trace.shape[0]:
        trace[fill[0], 0] = cycle
        trace[fill[0], 1] = command
        trace[fill[0], 2] = rank
        fill[0] += 1


@njit(cache=True)
def _refresh_before(t, due, p, counts, stall, trace, fill):
    """Wait for every refresh due before t; returns (t, next due)."""
    while t >= due:
        end = due + p[8]
        if t < end:
            stall[0] += end - t
            t = end
        counts[7] += 1
        _log(trace, fill, due, 7, -1)
        due += p[7]
    return t, due


@njit(cache=True)
def _round(t, pre_done, last_gact, p, counts, comps, outputs, bus, trace, fill, dry):
    """One round: G_ACT every bank group, COMPs + READRES per output, precharge.
    Returns (cycle after the precharge, cycle the next G_ACT may issue); `dry` only
    computes the timing (nothing issued, counted or logged)."""
    groups = p[9] // 4
    ranks = p[10]
    issue = max(t, pre_done)
    acts = last_gact.copy() if dry else last_gact
    for g in range(groups):
        r = g % ranks
        earliest = max(issue, acts[r] + p[4])           # one G_ACT (4 rows) per tFAW per rank
        if g > 0:
            earliest = max(earliest, issue + p[3])      # tRRD_S between G_ACTs
        issue = earliest
        acts[r] = issue
        if not dry:
            counts[2] += 1
            _log(trace, fill, issue, 2, r)
    last_act = issue
    t = last_act + p[0]                                 # tRCD before the first COMP
    # READRES waits for the bank's MAC pipeline to finish the last COMP (the RTL unit's
    # latency, accsim.functional.UNIT_TIMING) and for tCCD_L
    drain = max(p[6], p[16])
    for _ in range(outputs):
        if not dry:
            for i in range(comps):
                _log(trace, fill, t + i * p[6], 3, -1)
            counts[3] += comps
            _log(trace, fill, t + (comps - 1) * p[6] + drain, 4, -1)
            counts[4] += 1
            bus[0] += p[15]
        t += (comps - 1) * p[6] + drain + p[15]
    pre = max(t, last_act + p[2])
    if p[14] == 0:
        pre += p[5]                                     # single row buffer: COMP/READRES -> PRE is tRTP
    if not dry:
        counts[5] += 1
        _log(trace, fill, pre, 5, -1)
    return pre + 1, pre + p[1]


@njit(cache=True)
def _chunk(t, due, pre_done, last_gact, p, counts, stall, busy, rounds, comps, outputs, trace, fill):
    """HEADER, GWRITE and the rounds of one chunk; returns (t, due, pre_done)."""
    estimate = _chunk_estimate(p, rounds, comps, outputs)
    t, due = _refresh_before(t, due, p, counts, stall, trace, fill)
    if t + estimate > due and estimate <= p[7] - p[8]:
        # refresh-aware skipping: wait for the refresh instead of colliding with it
        stall[0] += due + p[8] - t
        _log(trace, fill, due, 7, -1)
        t = due + p[8]
        counts[7] += 1
        due += p[7]
    counts[0] += 1
    _log(trace, fill, t, 0, -1)
    t += 1                                                # PIM_HEADER
    counts[1] += 1
    _log(trace, fill, t, 1, -1)
    t += p[13]                                            # PIM_GWRITE (data bus)
    busy[0] += p[13]
    if p[14] == 0:
        counts[6] += 1
        _log(trace, fill, t, 6, -1)
        t += p[1]                                         # single row buffer: PREA of the NPU's rows
    for _ in range(rounds):
        t, due = _refresh_before(t, due, p, counts, stall, trace, fill)
        end, _ = _round(t, pre_done, last_gact, p, counts, comps, outputs, busy, trace, fill, True)
        if end > due:
            # a round may not run into a refresh: the rows close first, the round waits
            t = max(t, due)
            t, due = _refresh_before(t, due, p, counts, stall, trace, fill)
        t, pre_done = _round(t, pre_done, last_gact, p, counts, comps, outputs, busy, trace, fill, False)
    return t, due, pre_done


@njit(cache=True)
def simulate_pim(job_channel, job_heads, job_reduce, job_outputs, n_channels, p, trace_capacity=0):
    """Jobs (GEMVs: query rows x reduction length -> outputs per row), sorted by channel
    and then in execution order -> per channel: finish cycle, command counts, cycles
    spent waiting for refresh, data-bus busy cycles; and the first `trace_capacity`
    commands as (cycle, command code, rank or -1, channel) rows."""
    finish = np.zeros(n_channels, np.int64)
    counts = np.zeros((n_channels, len(COMMANDS)), np.int64)
    stalls = np.zeros(n_channels, np.int64)
    bus = np.zeros(n_channels, np.int64)
    stall = np.zeros(1, np.int64)
    busy = np.zeros(1, np.int64)
    last_gact = np.empty(p[10], np.int64)
    trace = np.zeros((trace_capacity, 4), np.int64)      # (cycle, command, rank, channel)
    fill = np.zeros(1, np.int64)
    j = 0
    for ch in range(n_channels):
        t = 0
        due = p[7] * (ch + 1) // n_channels              # refreshes staggered over the channels
        pre_done = 0
        stall[0] = 0
        busy[0] = 0
        last_gact[:] = -(1 << 40)
        row = counts[ch]
        first_entry = fill[0]
        while j < job_channel.shape[0] and job_channel[j] == ch:
            heads, k, n = job_heads[j], job_reduce[j], job_outputs[j]
            rounds = _ceil(n, p[9])                       # one output per bank per round
            if k <= p[11]:
                # reductions that fit a row: several heads share a chunk of the global buffer
                per_chunk = p[11] // k
                for first in range(0, heads, per_chunk):
                    t, due, pre_done = _chunk(t, due, pre_done, last_gact, p, row, stall, busy, rounds,
                                              _ceil(k, p[12]), min(per_chunk, heads - first), trace, fill)
            else:
                # longer reductions: one head at a time, a row's worth of the reduction per chunk
                for _ in range(heads):
                    for start in range(0, k, p[11]):
                        t, due, pre_done = _chunk(t, due, pre_done, last_gact, p, row, stall, busy, rounds,
                                                  _ceil(min(p[11], k - start), p[12]), 1, trace, fill)
            j += 1
        finish[ch] = max(t, pre_done)
        stalls[ch] = stall[0]
        bus[ch] = busy[0]
        trace[first_entry:fill[0], 3] = ch
    return finish, counts, stalls, bus, trace[:fill[0]]
