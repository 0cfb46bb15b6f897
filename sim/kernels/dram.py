"""Command-level DRAM controller and device timing, cycle by cycle with skip-ahead.

Input: requests sorted by arrival cycle (address, read/write), the compiled
preset (accsim.memory.preset.compile_dram). Per channel and cycle the
controller issues at most one command:

1. refresh first: a rank whose tREFI is due closes its banks (PREA) and
   refreshes (REF); per-bank mode refreshes one bank at a time (PRE, REFPB);
2. queue choice: writes are drained from the write buffer once it reaches the
   high watermark until it falls to the low one, or when no read waits;
3. FR-FCFS: the oldest request whose column command (RD/WR, or RDA/WRA in
   closed-page mode when no other queued request wants the row) may issue now
   and is a row hit, unless that bank already served `row_hit_cap` hits in a
   row while an older request waits for another row;
4. otherwise the oldest request whose preparation may issue now: ACT for a
   closed bank (tFAW and the constraint table permitting), PRE for a bank open
   on another row when no queued request still wants the open row or the hit
   cap was reached.

Every command raises the "earliest allowed" cycle of the commands its
constraint records name (bank, bank group, rank, channel, other ranks). When
no command can issue, time jumps to the earliest cycle at which one could.
Cycles are cycles of the DRAM clock tCK.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# Command codes (accsim.memory.constraints.COMMANDS order)
ACT, PRE, PREA, RD, WR, RDA, WRA, REF, REFPB = 0, 1, 2, 3, 4, 5, 6, 7, 8
NCMD = 9
S_BANK, S_BG, S_RANK, S_CHANNEL, S_OTHER = 0, 1, 2, 3, 4
# Scalar slots (accsim.memory.preset.SCALAR_NAMES order)
CL, CWL, TBURST, TFAW, TREFI, TRFC, TREFIPB, TRFCPB, RQ, WQ, WHIGH, WLOW, HITCAP, CLOSED, REFMODE, XOR, ROWBITS, BANKBITS = range(18)
NEVER = np.int64(1) << np.int64(60)
# Counters
C_HIT, C_MISS, C_CONFLICT, C_BUS, C_RQ_OCC, C_WQ_OCC, C_ACTIVE = 0, 1, 2, 3, 4, 5, 6
NCOUNT = 7


@njit(cache=True)
def decode_addresses(addr, mapping, org, xor_hash, row_bits, bank_bits):
    """Split byte addresses (64-byte requests) into channel, rank, bank group, bank, row, column."""
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
def _ready(c, r, g, b, cmd, bank_ok, bg_ok, rank_ok, chan_ok):
    return max(max(bank_ok[c, b, cmd], bg_ok[c, g, cmd]), max(rank_ok[c, r, cmd], chan_ok[c, cmd]))


@njit(cache=True, inline="always")
def _faw_ready(c, r, faw, faw_pos, tfaw):
    oldest = faw[c, r, faw_pos[c, r]]
    return oldest + tfaw if oldest >= 0 else np.int64(0)


@njit(cache=True, inline="always")
def _issue(c, r, g, b, cmd, now, rule_start, rules, ranks, bank_ok, bg_ok, rank_ok, chan_ok, counts):
    counts[cmd] += 1
    for k in range(rule_start[cmd], rule_start[cmd + 1]):
        after, scope, delay = rules[k, 1], rules[k, 2], rules[k, 3]
        t = now + delay
        if scope == S_BANK:
            if bank_ok[c, b, after] < t:
                bank_ok[c, b, after] = t
        elif scope == S_BG:
            if bg_ok[c, g, after] < t:
                bg_ok[c, g, after] = t
        elif scope == S_RANK:
            if rank_ok[c, r, after] < t:
                rank_ok[c, r, after] = t
        elif scope == S_CHANNEL:
            if chan_ok[c, after] < t:
                chan_ok[c, after] = t
        else:
            for other in range(ranks):
                if other != r and rank_ok[c, other, after] < t:
                    rank_ok[c, other, after] = t


@njit(cache=True)
def simulate_dram(arrive, addr, is_write, org, rules, scalars, mapping, unlimited, cycle_limit):
    """Run all requests to completion.

    Returns (done cycle per request, command counts [NCMD], counters [NCOUNT],
    bus busy cycles per channel, last cycle).
    """
    n = arrive.shape[0]
    channels, ranks, bgs, bpg = org[0], org[1], org[2], org[3]
    banks = ranks * bgs * bpg
    fields = decode_addresses(addr, mapping, org, scalars[XOR], scalars[ROWBITS], scalars[BANKBITS])
    row, rank, bg, ba, chan = fields[0], fields[1], fields[2], fields[3], fields[4]
    flat_bank = (rank * bgs + bg) * bpg + ba
    flat_bg = rank * bgs + bg

    # rules grouped by the command that triggers them
    order = np.argsort(rules[:, 0], kind="mergesort")
    rules = rules[order]
    rule_start = np.zeros(NCMD + 1, np.int64)
    for k in range(rules.shape[0]):
        rule_start[rules[k, 0] + 1] += 1
    for cmd in range(NCMD):
        rule_start[cmd + 1] += rule_start[cmd]

    bank_ok = np.zeros((channels, banks, NCMD), np.int64)
    bg_ok = np.zeros((channels, ranks * bgs, NCMD), np.int64)
    rank_ok = np.zeros((channels, ranks, NCMD), np.int64)
    chan_ok = np.zeros((channels, NCMD), np.int64)
    open_row = np.full((channels, banks), -1, np.int64)
    open_count = np.zeros((channels, ranks), np.int64)
    hit_streak = np.zeros((channels, banks), np.int64)
    faw = np.full((channels, ranks, 4), -1, np.int64)
    faw_pos = np.zeros((channels, ranks), np.int64)
    refresh_mode = scalars[REFMODE]
    refresh_interval = scalars[TREFI] if refresh_mode == 1 else scalars[TREFIPB]
    refresh_due = np.empty((channels, ranks), np.int64)
    for c in range(channels):
        for r in range(ranks):
            # stagger ranks (and channels) across the interval, as DRAMsim3's staggered policy does
            refresh_due[c, r] = refresh_interval * (r * channels + c + 1) // (ranks * channels) if refresh_mode > 0 else NEVER
    refresh_bank = np.zeros((channels, ranks), np.int64)

    rq_cap, wq_cap = scalars[RQ], scalars[WQ]
    rq = np.full((channels, rq_cap), -1, np.int64)
    wq = np.full((channels, wq_cap), -1, np.int64)
    rq_len = np.zeros(channels, np.int64)
    wq_len = np.zeros(channels, np.int64)
    draining = np.zeros(channels, np.bool_)
    state = np.zeros(n, np.int64)              # 1: needed ACT, 2: needed PRE of another row
    done = np.full(n, -1, np.int64)
    counts = np.zeros(NCMD, np.int64)
    counters = np.zeros(NCOUNT, np.int64)
    bus_busy = np.zeros(channels, np.int64)
    wants_open = np.zeros(banks, np.bool_)     # a queued request wants the open row of this bank
    older_conflict = np.zeros(banks, np.bool_) # a queued request wants another row of this bank
    last_active_change = np.zeros((channels, ranks), np.int64)

    # frontend: per-channel FIFOs in arrival order
    by_channel = np.argsort(chan, kind="mergesort")
    ch_start = np.zeros(channels + 1, np.int64)
    for i in range(n):
        ch_start[chan[i] + 1] += 1
    for c in range(channels):
        ch_start[c + 1] += ch_start[c]
    ch_ptr = ch_start[:-1].copy()
    head = 0
    issued_total = 0
    now = np.int64(0)
    last = np.int64(0)

    while issued_total < n and now < cycle_limit:
        # 1. frontend
        if unlimited:
            for c in range(channels):
                while ch_ptr[c] < ch_start[c + 1]:
                    i = by_channel[ch_ptr[c]]
                    if arrive[i] > now:
                        break
                    if is_write[i]:
                        if wq_len[c] >= wq_cap:
                            break
                        wq[c, wq_len[c]] = i
                        wq_len[c] += 1
                    else:
                        if rq_len[c] >= rq_cap:
                            break
                        rq[c, rq_len[c]] = i
                        rq_len[c] += 1
                    ch_ptr[c] += 1
        elif head < n and arrive[head] <= now:
            c = chan[head]
            if is_write[head] and wq_len[c] < wq_cap:
                wq[c, wq_len[c]] = head
                wq_len[c] += 1
                head += 1
            elif not is_write[head] and rq_len[c] < rq_cap:
                rq[c, rq_len[c]] = head
                rq_len[c] += 1
                head += 1

        any_issued = False
        next_event = NEVER
        for c in range(channels):
            issued, when = _channel_step(
                c, now, ranks, bgs, bpg, banks, row, rank, bg, flat_bank, flat_bg, is_write, rules, rule_start,
                scalars, bank_ok, bg_ok, rank_ok, chan_ok, open_row, open_count, hit_streak, faw, faw_pos,
                refresh_due, refresh_bank, refresh_interval, rq, wq, rq_len, wq_len, draining, state, done,
                counts, counters, bus_busy, wants_open, older_conflict, last_active_change)
            if issued:
                any_issued = True
                issued_total += issued
            if when < next_event:
                next_event = when
        # 2. advance time
        if any_issued:
            step = np.int64(1)
        else:
            wake = next_event
            if unlimited:
                for c in range(channels):
                    if ch_ptr[c] < ch_start[c + 1]:
                        i = by_channel[ch_ptr[c]]
                        space = wq_len[c] < wq_cap if is_write[i] else rq_len[c] < rq_cap
                        if space and arrive[i] < wake:
                            wake = arrive[i]
            elif head < n:
                c = chan[head]
                space = wq_len[c] < wq_cap if is_write[head] else rq_len[c] < rq_cap
                if space and arrive[head] < wake:
                    wake = arrive[head]
            step = max(np.int64(1), wake - now)
            if wake >= NEVER:
                step = np.int64(1)
        if not unlimited and head < n and arrive[head] <= now:
            step = np.int64(1)      # the in-order front end retries every cycle
        for c in range(channels):
            counters[C_RQ_OCC] += rq_len[c] * step
            counters[C_WQ_OCC] += wq_len[c] * step
        now += step
    for i in range(n):
        if done[i] > last:
            last = done[i]
    for c in range(channels):
        for r in range(ranks):
            if open_count[c, r] > 0:
                counters[C_ACTIVE] += now - last_active_change[c, r]
    return done, counts, counters, bus_busy, last


@njit(cache=True, inline="always")
def _set_open(c, r, b, new_row, now, open_row, open_count, last_active_change, counters):
    was_open = open_row[c, b] >= 0
    if was_open == (new_row >= 0):
        open_row[c, b] = new_row
        return
    if open_count[c, r] > 0:
        counters[C_ACTIVE] += now - last_active_change[c, r]
    last_active_change[c, r] = now
    open_count[c, r] += 1 if new_row >= 0 else -1
    open_row[c, b] = new_row


@njit(cache=True)
def _refresh_step(c, now, ranks, bgs, bpg, rules, rule_start, scalars, bank_ok, bg_ok, rank_ok, chan_ok,
                  open_row, open_count, faw, faw_pos, refresh_due, refresh_bank, refresh_interval, counts,
                  last_active_change, counters):
    """Progress a due refresh. Returns (issued, earliest next cycle, blocked rank, blocked bank)."""
    mode = scalars[REFMODE]
    for r in range(ranks):
        if refresh_due[c, r] > now:
            continue
        if mode == 1:
            if open_count[c, r] > 0:
                t = rank_ok[c, r, PREA]
                t = max(t, chan_ok[c, PREA])
                for b in range(r * bgs * bpg, (r + 1) * bgs * bpg):
                    if open_row[c, b] >= 0:
                        t = max(t, bank_ok[c, b, PREA])
                if t <= now:
                    _issue(c, r, 0, r * bgs * bpg, PREA, now, rule_start, rules, ranks, bank_ok, bg_ok, rank_ok,
                           chan_ok, counts)
                    for b in range(r * bgs * bpg, (r + 1) * bgs * bpg):
                        if open_row[c, b] >= 0:
                            _set_open(c, r, b, -1, now, open_row, open_count, last_active_change, counters)
                    return 1, now + 1, r, -1
                return 0, t, r, -1
            t = max(rank_ok[c, r, REF], chan_ok[c, REF])
            if t <= now:
                _issue(c, r, 0, r * bgs * bpg, REF, now, rule_start, rules, ranks, bank_ok, bg_ok, rank_ok,
                       chan_ok, counts)
                refresh_due[c, r] += refresh_interval
                return 1, now + 1, r, -1
            return 0, t, r, -1
        # per-bank refresh of the next bank in turn
        b = r * bgs * bpg + refresh_bank[c, r]
        g = b // bpg
        if open_row[c, b] >= 0:
            t = _ready(c, r, g, b, PRE, bank_ok, bg_ok, rank_ok, chan_ok)
            if t <= now:
                _issue(c, r, g, b, PRE, now, rule_start, rules, ranks, bank_ok, bg_ok, rank_ok, chan_ok, counts)
                _set_open(c, r, b, -1, now, open_row, open_count, last_active_change, counters)
                return 1, now + 1, r, b
            return 0, t, r, b
        t = _ready(c, r, g, b, REFPB, bank_ok, bg_ok, rank_ok, chan_ok)
        if t <= now:
            _issue(c, r, g, b, REFPB, now, rule_start, rules, ranks, bank_ok, bg_ok, rank_ok, chan_ok, counts)
            refresh_bank[c, r] = (refresh_bank[c, r] + 1) % (bgs * bpg)
            refresh_due[c, r] += refresh_interval
            return 1, now + 1, r, b
        return 0, t, r, b
    return 0, NEVER, -1, -1


@njit(cache=True)
def _channel_step(c, now, ranks, bgs, bpg, banks, row, rank, bg, flat_bank, flat_bg, is_write, rules, rule_start,
                  scalars, bank_ok, bg_ok, rank_ok, chan_ok, open_row, open_count, hit_streak, faw, faw_pos,
                  refresh_due, refresh_bank, refresh_interval, rq, wq, rq_len, wq_len, draining, state, done,
                  counts, counters, bus_busy, wants_open, older_conflict, last_active_change):
    """Issue at most one command on channel c. Returns (requests completed, earliest next cycle)."""
    next_event = NEVER
    for r in range(ranks):
        if refresh_due[c, r] < next_event:
            next_event = refresh_due[c, r]
    issued, when, blocked_rank, blocked_bank = _refresh_step(
        c, now, ranks, bgs, bpg, rules, rule_start, scalars, bank_ok, bg_ok, rank_ok, chan_ok, open_row,
        open_count, faw, faw_pos, refresh_due, refresh_bank, refresh_interval, counts, last_active_change, counters)
    if issued:
        return 0, now + 1
    if blocked_rank >= 0:
        next_event = min(next_event, when) if when > now else next_event
    # queue choice
    if wq_len[c] >= scalars[WHIGH]:
        draining[c] = True
    elif wq_len[c] <= scalars[WLOW]:
        draining[c] = False
    use_writes = draining[c] or (rq_len[c] == 0 and wq_len[c] > 0)
    queue = wq if use_writes else rq
    length = wq_len[c] if use_writes else rq_len[c]
    if length == 0:
        return 0, next_event
    # which banks have queued interest in their open row, and which have waiting conflicts
    for b in range(banks):
        wants_open[b] = False
        older_conflict[b] = False
    for q in range(2):
        qq = rq if q == 0 else wq
        ql = rq_len[c] if q == 0 else wq_len[c]
        for k in range(ql):
            i = qq[c, k]
            b = flat_bank[i]
            if open_row[c, b] == row[i]:
                wants_open[b] = True
            elif open_row[c, b] >= 0:
                older_conflict[b] = True
    # pass 1: oldest ready row hit
    for k in range(length):
        i = queue[c, k]
        b = flat_bank[i]
        r = rank[i]
        if open_row[c, b] != row[i] or (r == blocked_rank and (blocked_bank < 0 or blocked_bank == b)):
            continue
        if hit_streak[c, b] >= scalars[HITCAP] and older_conflict[b]:
            continue
        cmd = WR if is_write[i] else RD
        if scalars[CLOSED]:
            others = False
            for q in range(2):
                qq = rq if q == 0 else wq
                ql = rq_len[c] if q == 0 else wq_len[c]
                for kk in range(ql):
                    j = qq[c, kk]
                    if j != i and flat_bank[j] == b and row[j] == row[i]:
                        others = True
            if not others:
                cmd = WRA if is_write[i] else RDA
        g = flat_bg[i]
        t = _ready(c, r, g, b, cmd, bank_ok, bg_ok, rank_ok, chan_ok)
        if t > now:
            next_event = min(next_event, t)
            continue
        _issue(c, r, g, b, cmd, now, rule_start, rules, ranks, bank_ok, bg_ok, rank_ok, chan_ok, counts)
        latency = scalars[CWL] if is_write[i] else scalars[CL]
        done[i] = now + latency + scalars[TBURST]
        bus_busy[c] += scalars[TBURST]
        hit_streak[c, b] += 1
        if state[i] & 2:
            counters[C_CONFLICT] += 1
        elif state[i] & 1:
            counters[C_MISS] += 1
        else:
            counters[C_HIT] += 1
        if cmd == RDA or cmd == WRA:
            _set_open(c, r, b, -1, now, open_row, open_count, last_active_change, counters)
        for kk in range(k, length - 1):
            queue[c, kk] = queue[c, kk + 1]
        queue[c, length - 1] = -1
        if use_writes:
            wq_len[c] -= 1
        else:
            rq_len[c] -= 1
        return 1, now + 1
    # pass 2: oldest request whose ACT or PRE may issue
    for k in range(length):
        i = queue[c, k]
        b = flat_bank[i]
        r = rank[i]
        g = flat_bg[i]
        if r == blocked_rank and (blocked_bank < 0 or blocked_bank == b):
            continue
        if open_row[c, b] == row[i]:
            continue
        if open_row[c, b] < 0:
            t = max(_ready(c, r, g, b, ACT, bank_ok, bg_ok, rank_ok, chan_ok),
                    _faw_ready(c, r, faw, faw_pos, scalars[TFAW]))
            if t > now:
                next_event = min(next_event, t)
                continue
            _issue(c, r, g, b, ACT, now, rule_start, rules, ranks, bank_ok, bg_ok, rank_ok, chan_ok, counts)
            faw[c, r, faw_pos[c, r]] = now
            faw_pos[c, r] = (faw_pos[c, r] + 1) % 4
            _set_open(c, r, b, row[i], now, open_row, open_count, last_active_change, counters)
            hit_streak[c, b] = 0
            state[i] |= 1
            return 0, now + 1
        if wants_open[b] and hit_streak[c, b] < scalars[HITCAP]:
            continue
        t = _ready(c, r, g, b, PRE, bank_ok, bg_ok, rank_ok, chan_ok)
        if t > now:
            next_event = min(next_event, t)
            continue
        _issue(c, r, g, b, PRE, now, rule_start, rules, ranks, bank_ok, bg_ok, rank_ok, chan_ok, counts)
        _set_open(c, r, b, -1, now, open_row, open_count, last_active_change, counters)
        state[i] |= 2
        return 0, now + 1
    return 0, next_event
