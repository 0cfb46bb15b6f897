"""Command-level DRAM controller and device timing, cycle by cycle with skip-ahead.

Input: requests sorted by arrival cycle (address, read/write), the compiled
preset (accsim.memory.preset.compile_dram). Per channel and cycle the
controller issues at most one command:

1. refresh first: a rank whose refresh is due closes its banks (PREA) and
   refreshes (REF); per-bank mode refreshes one bank at a time (PRE, REFPB);
2. queue choice: writes are drained from the write buffer once it reaches the
   high watermark until it falls to the low one, or when no read waits;
3. FR-FCFS: the oldest request whose column command (RD/WR, or RDA/WRA in
   closed-page mode when no other queued request wants the row) may issue now
   and is a row hit, unless that bank already served `row_hit_cap` hits in a
   row while a request waits for another row of it;
4. otherwise the oldest request whose preparation may issue now: ACT for a
   closed bank (tFAW and the constraint table permitting), PRE for a bank open
   on another row when no queued request still wants the open row or the hit
   cap was reached.

Every command raises the "earliest allowed" cycle of the commands its
constraint records name (bank, bank group, rank, channel, other ranks). When
no command can issue anywhere, time jumps to the earliest cycle at which one
could. Cycles are cycles of the DRAM clock tCK.

Clarity-for-speed trade: state is packed into a few arrays (field indices in
the B_*, R_*, E_*, C_*, Q_* and STAT_* constants), queue entries carry copies
of their request's fields so the scheduler's scans stay in cache, the counts
of queued requests that want or conflict with each open row are kept up to
date instead of recounted per cycle, and the per-channel step is written in
place inside the main loop.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# Command codes (accsim.memory.constraints.COMMANDS order)
ACT, PRE, PREA, RD, WR, RDA, WRA, REF, REFPB = 0, 1, 2, 3, 4, 5, 6, 7, 8
NCMD = 9
S_BANK, S_BG, S_RANK, S_CHANNEL, S_OTHER = 0, 1, 2, 3, 4
# Scalar slots (accsim.memory.preset.SCALAR_NAMES order)
(CL, CWL, TBURST, TFAW, TREFI, TRFC, TREFIPB, TRFCPB, RQ, WQ, WHIGH, WLOW, HITCAP, CLOSED, REFMODE, XOR,
 ROWBITS, BANKBITS) = range(18)
NEVER = np.int64(1) << np.int64(60)
# stats layout: command counts, then counters, then bus busy cycles per channel
STAT_HIT, STAT_MISS, STAT_CONFLICT, STAT_RQ_OCC, STAT_WQ_OCC, STAT_ACTIVE, STAT_TRACED, STAT_STALLED = range(9, 17)
STAT_BUS = 17
# request fields (rows of the req array)
Q_ROW, Q_RANK, Q_BG, Q_BANK, Q_WRITE, Q_DONE, Q_CHAN = range(7)
# queue entry fields (copied in at enqueue, so the scheduler's scans stay in cache)
E_IDX, E_ROW, E_RANK, E_BG, E_BANK, E_STATE = range(6)
NE = 6
# bank fields, rank fields
# B_WANTED / B_CONFLICT count requests of both queues, *_W those of the write queue alone
B_ROW, B_STREAK, B_WANTED, B_CONFLICT, B_SEEN, B_WANTED_W, B_CONFLICT_W = range(7)
R_OPEN, R_FAW, R_FAWPOS, R_DUE, R_NEXTBANK, R_CHANGE = 0, 1, 5, 6, 7, 8
# channel fields
# C_HITS_*: queued row hits per queue; C_HITWAKE_*: no hit of that queue can issue before this cycle
# (a lower bound kept from the last scan; reset to 0 whenever hits are added)
C_RQLEN, C_WQLEN, C_DRAIN, C_HITS_R, C_HITS_W, C_HITWAKE_R, C_HITWAKE_W = range(7)


@njit(cache=True)
def decode_addresses(addr, mapping, org, xor_hash, bank_bits):
    """Split byte addresses (64-byte requests) into row, rank, bank group, bank, channel, column."""
    n = addr.shape[0]
    fields = np.zeros((6, n), np.int64)   # ro, ra, bg, ba, ch, co
    for i in range(n):
        a = addr[i] >> 6
        for f in range(mapping.shape[0]):
            code, nbits = mapping[f, 0], mapping[f, 1]
            fields[code, i] = a & ((np.int64(1) << nbits) - 1)
            a >>= nbits
        if xor_hash and bank_bits > 0:
            banks = fields[2, i] * org[3] + fields[3, i]
            banks ^= fields[0, i] & ((np.int64(1) << bank_bits) - 1)
            fields[2, i] = banks // org[3]
            fields[3, i] = banks % org[3]
    return fields


@njit(cache=True, inline="always")
def _issue(ok, c, b, g, r, chan_slot, rank0, ranks, cmd, now, rules, rule_start, stats, trace):
    """Record `cmd` at `now` and raise the earliest-allowed cycles it constrains.
    Slots: b bank, g bank group, r rank, chan_slot channel; ranks start at rank0.
    The first len(trace) commands are logged as (cycle, command, channel, bank)."""
    stats[cmd] += 1
    logged = stats[STAT_TRACED]
    if logged < trace.shape[0]:
        trace[logged, 0] = now
        trace[logged, 1] = cmd
        trace[logged, 2] = c
        trace[logged, 3] = b
        stats[STAT_TRACED] = logged + 1
    for k in range(rule_start[cmd], rule_start[cmd + 1]):
        after, scope, t = rules[k, 1], rules[k, 2], now + rules[k, 3]
        if scope == S_BANK:
            slot = b
        elif scope == S_BG:
            slot = g
        elif scope == S_RANK:
            slot = r
        elif scope == S_CHANNEL:
            slot = chan_slot
        else:
            for other in range(rank0, rank0 + ranks):
                if other != r and ok[c, other, after] < t:
                    ok[c, other, after] = t
            continue
        if ok[c, slot, after] < t:
            ok[c, slot, after] = t


@njit(cache=True, inline="always")
def _set_open(bank_st, rank_st, stats, queues, chan_st, c, bank, rank, new_row, now):
    """Open (new_row >= 0) or close a bank, keeping the rank's active-time integral
    and the bank's counts of queued requests that want / conflict with its open row."""
    if (bank_st[c, bank, B_ROW] >= 0) != (new_row >= 0):
        if rank_st[c, rank, R_OPEN] > 0:
            stats[STAT_ACTIVE] += now - rank_st[c, rank, R_CHANGE]
        rank_st[c, rank, R_CHANGE] = now
        rank_st[c, rank, R_OPEN] += 1 if new_row >= 0 else -1
    bank_st[c, bank, B_ROW] = new_row
    chan_st[c, C_HITS_R] -= bank_st[c, bank, B_WANTED] - bank_st[c, bank, B_WANTED_W]
    chan_st[c, C_HITS_W] -= bank_st[c, bank, B_WANTED_W]
    bank_st[c, bank, B_WANTED] = 0
    bank_st[c, bank, B_WANTED_W] = 0
    bank_st[c, bank, B_CONFLICT] = 0
    bank_st[c, bank, B_CONFLICT_W] = 0
    if new_row >= 0:
        chan_st[c, C_HITWAKE_R] = 0
        chan_st[c, C_HITWAKE_W] = 0
        for q in range(2):
            for k in range(chan_st[c, q]):
                if queues[c, q, k, E_BANK] == bank:
                    if queues[c, q, k, E_ROW] == new_row:
                        bank_st[c, bank, B_WANTED] += 1
                        bank_st[c, bank, B_WANTED_W] += q
                        chan_st[c, C_HITS_R + q] += 1
                    else:
                        bank_st[c, bank, B_CONFLICT] += 1
                        bank_st[c, bank, B_CONFLICT_W] += q


@njit(cache=True, inline="always")
def _enqueue(queues, chan_st, req, bank_st, c, w, i):
    b, row = req[Q_BANK, i], req[Q_ROW, i]
    if bank_st[c, b, B_ROW] == row:
        bank_st[c, b, B_WANTED] += 1
        bank_st[c, b, B_WANTED_W] += w
        chan_st[c, C_HITS_R + w] += 1
        chan_st[c, C_HITWAKE_R + w] = 0
    elif bank_st[c, b, B_ROW] >= 0:
        bank_st[c, b, B_CONFLICT] += 1
        bank_st[c, b, B_CONFLICT_W] += w
    k = chan_st[c, w]
    queues[c, w, k, E_IDX] = i
    queues[c, w, k, E_ROW] = req[Q_ROW, i]
    queues[c, w, k, E_RANK] = req[Q_RANK, i]
    queues[c, w, k, E_BG] = req[Q_BG, i]
    queues[c, w, k, E_BANK] = req[Q_BANK, i]
    queues[c, w, k, E_STATE] = 0
    chan_st[c, w] = k + 1


@njit(cache=True)
def simulate_dram(arrive, addr, is_write, org, rules, scalars, mapping, unlimited, cycle_limit, trace):
    """Run all requests to completion (or to cycle_limit).

    Returns (done cycle per request, stats: command counts [0:9], row hits,
    misses, conflicts, read/write queue occupancy integrals, rank-active cycle
    integral, commands logged into `trace` (an (n, 4) int64 array, may have
    0 rows), then bus busy cycles per channel; last completion cycle).
    """
    n = arrive.shape[0]
    channels, ranks, bgs, bpg = org[0], org[1], org[2], org[3]
    banks = ranks * bgs * bpg
    bg_total = ranks * bgs
    bg0, rank0, chan_slot = banks, banks + bg_total, banks + bg_total + ranks   # slots in `ok`
    fields = decode_addresses(addr, mapping, org, scalars[XOR], scalars[BANKBITS])
    req = np.empty((7, n), np.int64)
    for i in range(n):
        req[Q_ROW, i] = fields[0, i]
        req[Q_RANK, i] = fields[1, i]
        req[Q_BG, i] = fields[1, i] * bgs + fields[2, i]
        req[Q_BANK, i] = req[Q_BG, i] * bpg + fields[3, i]
        req[Q_WRITE, i] = 1 if is_write[i] else 0
        req[Q_DONE, i] = -1
        req[Q_CHAN, i] = fields[4, i]

    order = np.argsort(rules[:, 0], kind="mergesort")
    rules = rules[order]
    rule_start = np.zeros(NCMD + 1, np.int64)
    for k in range(rules.shape[0]):
        rule_start[rules[k, 0] + 1] += 1
    for cmd in range(NCMD):
        rule_start[cmd + 1] += rule_start[cmd]

    ok = np.zeros((channels, chan_slot + 1, NCMD), np.int64)
    bank_st = np.zeros((channels, banks, 7), np.int64)
    bank_st[:, :, B_ROW] = -1
    rank_st = np.zeros((channels, ranks, 9), np.int64)
    rank_st[:, :, R_FAW:R_FAW + 4] = -1
    mode = scalars[REFMODE]
    interval = scalars[TREFI] if mode == 1 else scalars[TREFIPB]
    for c in range(channels):
        for r in range(ranks):
            # refreshes staggered over channels and ranks, as DRAMsim3's staggered policy
            rank_st[c, r, R_DUE] = interval * (r * channels + c + 1) // (ranks * channels) if mode > 0 else NEVER
    cap = max(scalars[RQ], scalars[WQ])
    queues = np.full((channels, 2, cap, NE), -1, np.int64)
    chan_wake = np.zeros(channels, np.int64)  # a channel sleeps until this cycle unless something arrives
    qcap = np.array([scalars[RQ], scalars[WQ]], np.int64)
    chan_st = np.zeros((channels, 7), np.int64)
    stats = np.zeros(STAT_BUS + channels, np.int64)

    by_channel = np.argsort(req[Q_CHAN], kind="mergesort")
    ch_start = np.zeros(channels + 1, np.int64)
    for i in range(n):
        ch_start[req[Q_CHAN, i] + 1] += 1
    for c in range(channels):
        ch_start[c + 1] += ch_start[c]
    ch_ptr = ch_start[:-1].copy()
    head = 0
    issued_total = 0
    now = np.int64(0)
    while issued_total < n and now < cycle_limit:
        # 1. front end
        if unlimited:
            for c in range(channels):
                while ch_ptr[c] < ch_start[c + 1]:
                    i = by_channel[ch_ptr[c]]
                    w = req[Q_WRITE, i]
                    if arrive[i] > now or chan_st[c, w] >= qcap[w]:
                        break
                    _enqueue(queues, chan_st, req, bank_st, c, w, i)
                    chan_wake[c] = now
                    ch_ptr[c] += 1
        elif head < n and arrive[head] <= now:
            c, w = req[Q_CHAN, head], req[Q_WRITE, head]
            if chan_st[c, w] < qcap[w]:
                _enqueue(queues, chan_st, req, bank_st, c, w, head)
                chan_wake[c] = now
                head += 1
        # 2. one command per channel
        any_issued = False
        global_next = NEVER
        for c in range(channels):
            if chan_wake[c] > now:       # nothing can issue on this channel before chan_wake[c]
                global_next = min(global_next, chan_wake[c])
                continue
            # --- one channel step, written in place (see module docstring) ---
            issued, when = np.int64(-1), NEVER
            while True:
                next_event = NEVER
                mode = scalars[REFMODE]
                interval = scalars[TREFI] if mode == 1 else scalars[TREFIPB]
                blocked_rank, blocked_bank = -1, -1
                # 1. refresh
                for r in range(ranks):
                    due = rank_st[c, r, R_DUE]
                    if due > now:
                        next_event = min(next_event, due)
                        continue
                    rs = rank0 + r
                    first = r * bgs * bpg
                    blocked_rank = r
                    if mode == 1:
                        if rank_st[c, r, R_OPEN] > 0:
                            t = max(ok[c, rs, PREA], ok[c, chan_slot, PREA])
                            for b in range(first, first + bgs * bpg):
                                if bank_st[c, b, B_ROW] >= 0:
                                    t = max(t, ok[c, b, PREA])
                            if t <= now:
                                _issue(ok, c, first, bg0 + r * bgs, rs, chan_slot, rank0, ranks, PREA, now, rules, rule_start,
                                       stats, trace)
                                for b in range(first, first + bgs * bpg):
                                    _set_open(bank_st, rank_st, stats, queues, chan_st, c, b, r, -1, now)
                                issued, when = 0, now
                                break
                            next_event = min(next_event, t)
                        else:
                            t = max(ok[c, rs, REF], ok[c, chan_slot, REF])
                            if t <= now:
                                _issue(ok, c, first, bg0 + r * bgs, rs, chan_slot, rank0, ranks, REF, now, rules, rule_start,
                                       stats, trace)
                                rank_st[c, r, R_DUE] += interval
                                issued, when = 0, now
                                break
                            next_event = min(next_event, t)
                    else:
                        b = first + rank_st[c, r, R_NEXTBANK]
                        blocked_bank = b
                        g = bg0 + b // bpg
                        if bank_st[c, b, B_ROW] >= 0:
                            t = max(max(ok[c, b, PRE], ok[c, g, PRE]), max(ok[c, rs, PRE], ok[c, chan_slot, PRE]))
                            if t <= now:
                                _issue(ok, c, b, g, rs, chan_slot, rank0, ranks, PRE, now, rules, rule_start, stats, trace)
                                _set_open(bank_st, rank_st, stats, queues, chan_st, c, b, r, -1, now)
                                issued, when = 0, now
                                break
                        else:
                            t = max(max(ok[c, b, REFPB], ok[c, g, REFPB]), max(ok[c, rs, REFPB], ok[c, chan_slot, REFPB]))
                            if t <= now:
                                _issue(ok, c, b, g, rs, chan_slot, rank0, ranks, REFPB, now, rules, rule_start, stats, trace)
                                rank_st[c, r, R_NEXTBANK] = (rank_st[c, r, R_NEXTBANK] + 1) % (bgs * bpg)
                                rank_st[c, r, R_DUE] += interval
                                issued, when = 0, now
                                break
                        next_event = min(next_event, t)
                    break
                if issued >= 0:
                    break
                # 2. which queue
                if chan_st[c, C_WQLEN] >= scalars[WHIGH]:
                    chan_st[c, C_DRAIN] = 1
                elif chan_st[c, C_WQLEN] <= scalars[WLOW]:
                    chan_st[c, C_DRAIN] = 0
                w = 1 if chan_st[c, C_DRAIN] == 1 or (chan_st[c, C_RQLEN] == 0 and chan_st[c, C_WQLEN] > 0) else 0
                length = chan_st[c, w]
                if length == 0:
                    issued, when = -1, next_event
                    break
                # 4. FR-FCFS pass 1: oldest ready row hit (skipped when the queue holds none,
                #    or none can be ready yet)
                scan_hits = chan_st[c, C_HITS_R + w] > 0 and chan_st[c, C_HITWAKE_R + w] <= now
                if chan_st[c, C_HITS_R + w] > 0 and not scan_hits:
                    next_event = min(next_event, chan_st[c, C_HITWAKE_R + w])
                earliest_hit = NEVER
                for k in range(length if scan_hits else 0):
                    b, r = queues[c, w, k, E_BANK], queues[c, w, k, E_RANK]
                    if bank_st[c, b, B_ROW] != queues[c, w, k, E_ROW]:
                        continue
                    if r == blocked_rank and (blocked_bank < 0 or blocked_bank == b):
                        continue
                    # the hit cap yields to a waiting conflict of the queue being served
                    conflicts_here = bank_st[c, b, B_CONFLICT_W] if w else bank_st[c, b, B_CONFLICT] - bank_st[c, b, B_CONFLICT_W]
                    if bank_st[c, b, B_STREAK] >= scalars[HITCAP] and conflicts_here > 0:
                        continue
                    cmd = WR if w else RD
                    if scalars[CLOSED] and bank_st[c, b, B_WANTED] <= 1:
                        cmd = WRA if w else RDA
                    g, rs = bg0 + queues[c, w, k, E_BG], rank0 + r
                    t = max(max(ok[c, b, cmd], ok[c, g, cmd]), max(ok[c, rs, cmd], ok[c, chan_slot, cmd]))
                    if t > now:
                        next_event = min(next_event, t)
                        earliest_hit = min(earliest_hit, t)
                        continue
                    _issue(ok, c, b, g, rs, chan_slot, rank0, ranks, cmd, now, rules, rule_start, stats, trace)
                    chan_st[c, C_HITWAKE_R + w] = 0          # rescan next time: the scan stopped here
                    i = queues[c, w, k, E_IDX]
                    req[Q_DONE, i] = now + (scalars[CWL] if w else scalars[CL]) + scalars[TBURST]
                    stats[STAT_BUS + c] += scalars[TBURST]
                    bank_st[c, b, B_STREAK] += 1
                    bank_st[c, b, B_WANTED] -= 1
                    bank_st[c, b, B_WANTED_W] -= w
                    chan_st[c, C_HITS_R + w] -= 1
                    state = queues[c, w, k, E_STATE]
                    stats[STAT_CONFLICT if state & 2 else (STAT_MISS if state & 1 else STAT_HIT)] += 1
                    if cmd == RDA or cmd == WRA:
                        _set_open(bank_st, rank_st, stats, queues, chan_st, c, b, r, -1, now)
                    for kk in range(k, length - 1):
                        for f in range(NE):
                            queues[c, w, kk, f] = queues[c, w, kk + 1, f]
                    chan_st[c, w] -= 1
                    issued, when = 1, now
                    break
                if issued >= 0:
                    break
                if scan_hits:
                    chan_st[c, C_HITWAKE_R + w] = earliest_hit
                # 5. pass 2: oldest request whose ACT or PRE may issue
                for k in range(length):
                    b, r = queues[c, w, k, E_BANK], queues[c, w, k, E_RANK]
                    open_row = bank_st[c, b, B_ROW]
                    if open_row == queues[c, w, k, E_ROW] or (r == blocked_rank and (blocked_bank < 0 or blocked_bank == b)):
                        continue
                    # the oldest request of a bank that needs an ACT or PRE speaks for all younger ones
                    if bank_st[c, b, B_SEEN] == now + 1:
                        continue
                    bank_st[c, b, B_SEEN] = now + 1
                    g, rs = bg0 + queues[c, w, k, E_BG], rank0 + r
                    if open_row < 0:
                        t = max(max(ok[c, b, ACT], ok[c, g, ACT]), max(ok[c, rs, ACT], ok[c, chan_slot, ACT]))
                        oldest = rank_st[c, r, R_FAW + rank_st[c, r, R_FAWPOS]]
                        if oldest >= 0:
                            t = max(t, oldest + scalars[TFAW])
                        if t > now:
                            next_event = min(next_event, t)
                            continue
                        _issue(ok, c, b, g, rs, chan_slot, rank0, ranks, ACT, now, rules, rule_start, stats, trace)
                        rank_st[c, r, R_FAW + rank_st[c, r, R_FAWPOS]] = now
                        rank_st[c, r, R_FAWPOS] = (rank_st[c, r, R_FAWPOS] + 1) % 4
                        _set_open(bank_st, rank_st, stats, queues, chan_st, c, b, r, queues[c, w, k, E_ROW], now)
                        bank_st[c, b, B_STREAK] = 0
                        queues[c, w, k, E_STATE] |= 1
                        issued, when = 0, now
                        break
                    # keep a row open while the queue being served still has hits for it (the
                    # other queue's hits do not hold it: they cannot issue during this phase)
                    wanted_here = bank_st[c, b, B_WANTED_W] if w else bank_st[c, b, B_WANTED] - bank_st[c, b, B_WANTED_W]
                    if wanted_here > 0 and bank_st[c, b, B_STREAK] < scalars[HITCAP]:
                        continue
                    t = max(max(ok[c, b, PRE], ok[c, g, PRE]), max(ok[c, rs, PRE], ok[c, chan_slot, PRE]))
                    if t > now:
                        next_event = min(next_event, t)
                        continue
                    _issue(ok, c, b, g, rs, chan_slot, rank0, ranks, PRE, now, rules, rule_start, stats, trace)
                    _set_open(bank_st, rank_st, stats, queues, chan_st, c, b, r, -1, now)
                    queues[c, w, k, E_STATE] |= 2
                    issued, when = 0, now
                    break
                if issued < 0:
                    when = next_event
                break
            # --- end of the channel step ---
            if issued >= 0:
                any_issued = True
                issued_total += issued
                chan_wake[c] = now + 1
            else:
                chan_wake[c] = when
                global_next = min(global_next, when)
        # 3. advance time: next cycle after any command, else to the next possible event
        step = np.int64(1)
        if not any_issued:
            wake = global_next
            if unlimited:
                for c in range(channels):
                    if ch_ptr[c] < ch_start[c + 1]:
                        i = by_channel[ch_ptr[c]]
                        w = req[Q_WRITE, i]
                        if chan_st[c, w] < qcap[w] and arrive[i] < wake:
                            wake = arrive[i]
            elif head < n:
                c, w = req[Q_CHAN, head], req[Q_WRITE, head]
                if chan_st[c, w] < qcap[w] and arrive[head] < wake:
                    wake = arrive[head]
            if wake >= NEVER:
                stats[STAT_STALLED] = 1       # nothing can ever issue again: report instead of spinning
                break
            if now < wake:
                step = wake - now
        for c in range(channels):
            stats[STAT_RQ_OCC] += chan_st[c, C_RQLEN] * step
            stats[STAT_WQ_OCC] += chan_st[c, C_WQLEN] * step
        now += step
    last = np.int64(0)
    for i in range(n):
        if req[Q_DONE, i] > last:
            last = req[Q_DONE, i]
    for c in range(channels):
        for r in range(ranks):
            if rank_st[c, r, R_OPEN] > 0:
                stats[STAT_ACTIVE] += now - rank_st[c, r, R_CHANGE]
    return req[Q_DONE].copy(), stats, last


