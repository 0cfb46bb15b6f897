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

How a step finds its command without looking at every queued request (the
results are those of a controller that re-examines every request every cycle):

- each queue keeps, per bank, a list of its requests in arrival order (a
  sequence number is the age), and the bank's oldest row hit and oldest
  request for another row. All hits of a bank wait for the same column
  timing, and that oldest other request speaks for the bank's ACT or PRE, so
  steps 3 and 4 visit banks (step 3 only the banks with hits) and take the
  smallest sequence number among those that may issue;
- the part of each bank's ACT / PRE cycle that its bank and bank group set is
  kept (`prep_time`); the rank, channel and tFAW part is added when the banks
  are scanned (one pass finds the oldest ready bank and the earliest cycle
  any becomes ready). A command changes only its bank group's parts, an
  arrival only its bank's;
- C_BOUND: no ACT / PRE may issue on the channel before this cycle. It is
  recomputed after an ACT / PRE; after a column command only its bank's
  cycle is merged in (the allowed cycles of the other banks only rise). An
  arrival merges in the cycle of the ACT / PRE it adds, or sets the bound to
  now when it may change which queue is served; otherwise arrivals only take
  candidates away (hits that hold a PRE, conflicts that reach the hit cap).
  It holds for the queue served and the refresh-blocked bank when it was set;
- C_HITWAKE (no hit is looked at before this cycle) is kept with its exact
  meaning, because it is observable: a hit left out while refresh blocked its
  rank stays unseen after another rank falls due until the next look. So the
  hits are looked at on the same cycles as in a controller that visits the
  channel on every arrival and the cycle after every command: a hit arrival
  wakes the channel, C_HITWAKE is a wake-up time, and the look of the cycle
  after a command is taken right away, as of that cycle, when one rank (or no
  refresh) makes C_HITWAKE's value unobservable;
- after a command the channel sleeps until the next cycle something may
  happen (bound, C_HITWAKE, refresh) unless the write drain flag may change
  or the served queue switch then: the drain flag depends on the cycles at
  which it is evaluated;
- a served request is unlinked from its bank's list; slots are reused;
- with the unlimited front end the channels share nothing, so each runs as a
  part of its own (a step then skips only its own channel's idle cycles), and
  each channel that finishes early is run on to the end of the last one, as
  every channel keeps refreshing until the run ends. Parts may run on several
  threads at once (run_parts releases the GIL; accsim.memory.simulate splits
  the channels into blocks).

Clarity-for-speed trade: state is packed into a few flat (1-D) arrays, one per
kind of record, each record a run of fields at a constant stride (field
indices in the B_*, R_*, E_*, L_*, C_*, Q_* and STAT_* constants, strides NB,
NR, NE, NL, NC, NQ; `ok` holds NCMD earliest allowed cycles per slot): channel
c's bank b is record c * banks + b of bank_st, its rank r record c * ranks + r
of rank_st, the list of its bank b in queue q record (c * 2 + q) * banks + b of
`lists`, an entry slot a record of `ent` (the slots of channel c's queue q are
(c * 2 + q) * cap on; links hold these global slot numbers). The index helpers
(okx, bkx, ...) compute these indices and return them unsigned: Numba adds to
every signed subscript a select for negative indices and keeps, for every
multi-dimensional array, its shapes to multiply with; with ~20 such arrays live
in the loop these did not fit in registers and were reloaded from the stack on
every access (flat arrays with constant strides and unsigned indices: about a
third fewer instructions per request). Queue entries carry copies of their
request's fields, each command's constraint records are resolved per issuing
bank into `ok` indices (one loop per command, without branches on the scope),
the counts of queued requests that want or conflict with each open row are
kept up to date instead of recounted, the per-channel step is written in
place inside the main loop (helpers are closures: Numba inlines them without
reference counting the arrays they use, which module-level functions taking
the arrays as arguments would cost), and the scans avoid branches whose
outcome is data dependent. The helpers that
write the state are also written without branches: an inlined closure with
branches around its array writes made Numba keep atomic reference counting in
the hot loop (11% of the run time on random reads).
"""
from __future__ import annotations

import numpy as np
from numba import njit

# Command codes (accsim.memory.constraints.COMMANDS order)
ACT, PRE, PREA, RD, WR, RDA, WRA, REF, REFPB = 0, 1, 2, 3, 4, 5, 6, 7, 8
NCMD = 9
# constraint record scopes: the slot a record raises is the issuing bank's, its group's, its rank's,
# the channel's or the other ranks'
S_BANK, S_BG, S_RANK, S_CHANNEL, S_OTHER = 0, 1, 2, 3, 4
# Scalar slots (accsim.memory.preset.SCALAR_NAMES order)
(CL, CWL, TBURST, TFAW, TREFI, TRFC, TREFIPB, TRFCPB, RQ, WQ, WHIGH, WLOW, HITCAP, CLOSED, REFMODE, XOR,
 ROWBITS, BANKBITS) = range(18)
NEVER = np.int64(1) << np.int64(60)
# stats layout: command counts, then counters, then bus busy cycles per channel
STAT_HIT, STAT_MISS, STAT_CONFLICT, STAT_RQ_OCC, STAT_WQ_OCC, STAT_ACTIVE, STAT_TRACED, STAT_STALLED = range(9, 17)
STAT_BUS = 17
# Each kind of record below lives in one flat array, its fields at a constant stride (NQ, NE, NL, NB,
# NR, NC: module docstring).
# request records (NQ fields per request in `req`): Q_WORD packs the request's row, channel, bank (in the
# channel) and read/write as row << 32 | channel << 17 | bank << 1 | write; Q_IDX is its index in the input
Q_WORD, Q_ARRIVE, Q_IDX = range(3)
NQ = 3
MAX_BANKS, MAX_CHANNELS = 1 << 16, 1 << 15     # (what the packing holds)
# queue entry fields (copied in at enqueue); E_SEQ orders entries by age, E_NEXT / E_PREV
# link the entries of one bank and queue, oldest first
E_IDX, E_ROW, E_STATE, E_SEQ, E_NEXT, E_PREV = range(6)
NE = 6
# per channel, queue and bank: first and last entry of its list, its oldest row hit and its
# oldest entry for another row (or for any row while the bank is closed); -1 when none
L_HEAD, L_TAIL, L_HIT, L_OTHER = range(4)
NL = 4
# bank fields, rank fields
# B_WANTED / B_CONFLICT count requests of both queues, *_W those of the write queue alone
B_ROW, B_STREAK, B_WANTED, B_CONFLICT, B_WANTED_W, B_CONFLICT_W = range(6)
NB = 6
R_OPEN, R_FAW, R_FAWPOS, R_DUE, R_NEXTBANK, R_CHANGE = 0, 1, 5, 6, 7, 8
NR = 9
# channel fields
# C_HITS_*: queued row hits per queue; C_HITWAKE_*: no hit of that queue is looked at before this
# cycle (set by each look at the hits that issues none; reset to 0 whenever hits are added or one
# issues). A hit that was blocked by refresh during that look stays unseen until the next one.
# C_SERVED, C_BLOCKED_R/B: queue served and refresh-blocked rank and bank when C_BOUND was set;
# C_BOUND: no ACT or PRE of that queue may issue before this cycle (module docstring). C_SEQ: age of
# the next entry; C_FREE_*: first free entry slot per queue (free slots are linked by E_NEXT);
# C_NHIT_*: number of banks with a hit per queue (listed in `hit_list`).
(C_RQLEN, C_WQLEN, C_DRAIN, C_HITS_R, C_HITS_W, C_HITWAKE_R, C_HITWAKE_W, C_SERVED, C_BOUND, C_BLOCKED_R,
 C_BLOCKED_B, C_SEQ, C_FREE_R, C_FREE_W, C_PREP_W, C_NHIT_R, C_NHIT_W) = range(17)
NC = 17


@njit(cache=True, inline="always")
def pick(yes, a, b):
    """b if yes (0 or 1) else a, without a branch (the scans' outcomes are data dependent, and a
    branch the compiler makes of a conditional load mispredicts)."""
    return a ^ ((a ^ b) & -np.int64(yes))


@njit(cache=True, inline="always")
def ix(i):
    """i as an array index that Numba does not check for negative values (the wraparound select it
    adds for signed indices costs instructions and, for every array, a register holding its length).
    Only for subscripts: in Numba, uint64 arithmetic with int64 gives float64."""
    return np.uint64(i)


@njit(cache=True)
def field_layout(mapping):
    """How to take each address field's digit out of a request number (a byte address / 64): for
    field code f (row, rank, bank group, bank, channel, column), layout[0, f] is the product of the
    radices below it in `mapping` (field code, number of values; least significant first),
    layout[1, f] its radix, layout[2, f] log2 of layout[0, f] when that radix and all below are
    powers of two (the digit is then a bit field), else -1."""
    layout = np.zeros((3, 6), np.int64)
    below, bit_field = np.int64(1), True
    for f in range(mapping.shape[0]):
        code, radix = mapping[f, 0], mapping[f, 1]
        bit_field = bit_field and (radix & (radix - 1)) == 0
        layout[0, code], layout[1, code] = below, radix
        layout[2, code] = -1
        if bit_field:
            for bits in range(63):
                if np.int64(1) << bits == below:
                    layout[2, code] = bits
        below *= radix
    return layout


@njit(cache=True, inline="always")
def field_of(a, layout, code):
    """Digit `code` of request number a: (a // layout[0]) % layout[1], as a bit field when it is one."""
    s = layout[2, code]
    return (a >> s) & (layout[1, code] - 1) if s >= 0 else (a // layout[0, code]) % layout[1, code]


@njit(cache=True, inline="always")
def decode(address, layout, bpg, xor_mask):
    """Row, rank, bank group, bank, channel and column of a byte address (of a 64-byte request):
    the request number is a mixed-radix number whose digits are the fields (field_layout); XOR bank
    hashing (xor_mask: xor_mask_of) flips the bank bits with the row's low bits. (Only integers in
    the branch: an inlined function reading an array inside a branch kept Numba's reference
    counting in the caller's loop, which made decoding 3x slower.)"""
    a = address >> 6
    row, bg, bank = field_of(a, layout, 0), field_of(a, layout, 2), field_of(a, layout, 3)
    if xor_mask:
        banks = (bg * bpg + bank) ^ (row & xor_mask)
        bg, bank = banks // bpg, banks % bpg
    return row, field_of(a, layout, 1), bg, bank, field_of(a, layout, 4), field_of(a, layout, 5)


@njit(cache=True)
def xor_mask_of(xor_hash, bank_bits):
    """The row bits XOR bank hashing flips the bank number with (0: no hashing)."""
    return (np.int64(1) << bank_bits) - 1 if xor_hash and bank_bits > 0 else np.int64(0)


@njit(cache=True)
def decode_addresses(addr, mapping, org, xor_hash, bank_bits):
    """decode for every address: a (6, n) array of rows, ranks, bank groups, banks, channels,
    columns."""
    n = addr.shape[0]
    fields = np.empty((6, n), np.int64)
    layout, xor_mask = field_layout(mapping), xor_mask_of(xor_hash, bank_bits)
    for i in range(n):
        fields[0, i], fields[1, i], fields[2, i], fields[3, i], fields[4, i], fields[5, i] = decode(
            addr[i], layout, org[3], xor_mask)
    return fields


@njit(cache=True, nogil=True)
def prepare(arrive, addr, is_write, org, scalars, mapping, unlimited, req, done):
    """Decode every request into `req` (NQ fields each) in the order the front end takes them, set
    `done` to -1, and return ch_start: in order, the requests in arrival order; unlimited, each
    channel's in arrival order, channel after channel, channel c's from ch_start[c] to
    ch_start[c + 1].

    `req` (n * NQ int64) and `done` (n int64) are the caller's arrays: it allocates them with NumPy,
    which asks the OS for huge pages for large arrays where Numba's allocator does not, and every
    fresh 4 KiB page costs a fault (1 M requests: about 40 ms against 8 ms to fill these arrays on
    this machine). For the same reason addresses are decoded one at a time (a decoded copy of the
    whole input would be one more array to allocate), and each request's fields are packed into
    NQ words: 24 bytes to write here and read back in run_parts, instead of 64."""
    n = arrive.shape[0]
    channels, bgs, bpg = org[0], org[2], org[3]
    if org[1] * bgs * bpg > MAX_BANKS or channels > MAX_CHANNELS:
        raise ValueError("more banks per channel or channels than a request record holds")
    layout, xor_mask = field_layout(mapping), xor_mask_of(scalars[XOR], scalars[BANKBITS])
    ch_start = np.zeros(channels + 1, np.int64)
    if unlimited:
        for i in range(n):
            ch_start[field_of(addr[i] >> 6, layout, 4) + 1] += 1
    for c in range(channels):
        ch_start[c + 1] += ch_start[c]
    ch_ptr = ch_start[:-1].copy()
    for i in range(n):
        row, rank, bg, bank, chan, _ = decode(addr[i], layout, bpg, xor_mask)
        j = i
        if unlimited:
            j = ch_ptr[chan]
            ch_ptr[chan] += 1
        q = j * NQ
        bank_in_channel = (rank * bgs + bg) * bpg + bank
        req[q + Q_WORD] = (row << 32) | (chan << 17) | (bank_in_channel << 1) | (1 if is_write[i] else 0)
        req[q + Q_ARRIVE] = arrive[i]
        req[q + Q_IDX] = i
    done[:] = -1
    return ch_start


@njit(cache=True, inline="always")
def geometry(org):
    """Channels, ranks, bank groups per rank, banks per group, banks per rank, banks per channel,
    bank groups per channel, and the slots in `ok` of the first bank group, the first rank and the
    channel, and the slots per channel."""
    channels, ranks, bgs, bpg = org[0], org[1], org[2], org[3]
    rank_banks = bgs * bpg
    banks = ranks * rank_banks
    bg_total = ranks * bgs
    bg0, rank0, chan_slot = banks, banks + bg_total, banks + bg_total + ranks
    return channels, ranks, bgs, bpg, rank_banks, banks, bg_total, bg0, rank0, chan_slot, chan_slot + 1


@njit(cache=True)
def new_state(org, rules, scalars, ch_start):
    """The controller state of every channel at cycle 0 and the tables derived from the preset, as
    one tuple of flat int64 arrays (the order run_parts unpacks)."""
    channels, ranks, bgs, bpg, rank_banks, banks, bg_total, bg0, rank0, chan_slot, slots = geometry(org)
    ok = np.zeros(channels * slots * NCMD, np.int64)
    bank_st = np.zeros(channels * banks * NB, np.int64)
    bank_st[B_ROW::NB] = -1
    rank_st = np.zeros(channels * ranks * NR, np.int64)
    mode = scalars[REFMODE]
    interval = scalars[TREFI] if mode == 1 else scalars[TREFIPB]
    for c in range(channels):
        for r in range(ranks):
            x = (c * ranks + r) * NR
            rank_st[x + R_FAW:x + R_FAW + 4] = -1
            # refreshes staggered over channels and ranks, as DRAMsim3's staggered policy
            rank_st[x + R_DUE] = interval * (r * channels + c + 1) // (ranks * channels) if mode > 0 else NEVER
    cap = max(scalars[RQ], scalars[WQ])
    # entry slots: channel c's of queue q are (c * 2 + q) * cap up to the next queue's
    ent = np.full(channels * 2 * cap * NE, -1, np.int64)
    lists = np.full(channels * 2 * banks * NL, -1, np.int64)
    # per channel and bank, for queue C_PREP_W (-1: none): the earliest cycle the bank and its bank
    # group allow the ACT or PRE its oldest request for another row asks for (NEVER when there is
    # none or the PRE is held), 1 for a PRE (0: ACT), and the key age << key_bits | bank
    prep_time = np.zeros(channels * banks, np.int64)
    prep_pre = np.zeros(channels * banks, np.int64)
    prep_key = np.zeros(channels * banks, np.int64)
    # per channel and queue, banks + 1 slots from (c * 2 + q) * (banks + 1) on: hit_list's first
    # C_NHIT_* are the banks with a hit, hit_pos's b-th is bank b's place in that list (one slot more:
    # set_hit writes past the list's end when the list does not change)
    hit_list = np.zeros(channels * 2 * (banks + 1), np.int64)
    hit_pos = np.zeros(channels * 2 * (banks + 1), np.int64)
    chan_st = np.zeros(channels * NC, np.int64)
    for c in range(channels):
        for q in range(2):
            first = (c * 2 + q) * cap
            for k in range(first, first + cap - 1):
                ent[k * NE + E_NEXT] = k + 1       # free slots are linked through E_NEXT
        chan_st[c * NC + C_BLOCKED_R] = -1
        chan_st[c * NC + C_BLOCKED_B] = -1
        chan_st[c * NC + C_PREP_W] = -1
        chan_st[c * NC + C_FREE_R] = c * 2 * cap
        chan_st[c * NC + C_FREE_W] = (c * 2 + 1) * cap
    chan_wake = np.zeros(channels, np.int64)  # a channel sleeps until this cycle unless something arrives
    ch_ptr = ch_start[:-1].copy()             # each channel's next request (unlimited)
    qcap = np.array([scalars[RQ], scalars[WQ]], np.int64)
    bank_group = np.empty(banks, np.int64)       # slots in `ok` of each bank's group and rank
    bank_rank = np.empty(banks, np.int64)
    for b in range(banks):
        bank_group[b] = bg0 + b // bpg
        bank_rank[b] = rank0 + b // rank_banks
    # the constraint records of each command resolved for each bank issuing it: entries rule_start[cmd]
    # up to rule_start[cmd + 1] of bank b's row in rule_index (the record's slot * NCMD + its command
    # after: the slot of the bank, its group, its rank, the channel, or for S_OTHER one entry per other
    # rank) and of rule_delay. One loop per command, without branches on the scope.
    rule_start = np.zeros(NCMD + 1, np.int64)
    for k in range(rules.shape[0]):
        rule_start[rules[k, 0] + 1] += ranks - 1 if rules[k, 2] == S_OTHER else 1
    for cmd in range(NCMD):
        rule_start[cmd + 1] += rule_start[cmd]
    n_entries = rule_start[NCMD]
    rule_index = np.empty(banks * n_entries, np.int64)
    rule_delay = np.empty(n_entries, np.int64)
    fill = rule_start.copy()
    for k in range(rules.shape[0]):
        cmd, after, scope = rules[k, 0], rules[k, 1], rules[k, 2]
        for o in range(ranks - 1 if scope == S_OTHER else 1):
            j = fill[cmd]
            fill[cmd] += 1
            rule_delay[j] = rules[k, 3]
            for b in range(banks):
                own = bank_rank[b] - rank0      # for S_OTHER: the o-th rank other than its own
                slot = (b if scope == S_BANK else bank_group[b] if scope == S_BG else bank_rank[b]
                        if scope == S_RANK else chan_slot if scope == S_CHANNEL else rank0 + o + (o >= own))
                rule_index[b * n_entries + j] = slot * NCMD + after
    # commands with a bank-group record on ACT or PRE (the others change only their own bank's `prep`)
    group_rules = np.zeros(NCMD, np.int64)
    for k in range(rules.shape[0]):
        if rules[k, 2] == S_BG and (rules[k, 1] == ACT or rules[k, 1] == PRE):
            group_rules[rules[k, 0]] = 1
    return (ok, bank_st, rank_st, ent, lists, prep_time, prep_pre, prep_key, hit_list, hit_pos, chan_st, chan_wake,
            ch_ptr, qcap, bank_group, bank_rank, rule_start, rule_index, rule_delay, group_rules)


@njit(cache=True)
def active_to_end(state, end_cycle):
    """Rank-active cycles still to count at the end of a run: from the last change of each rank
    with a bank open to end_cycle."""
    rank_st = state[2]             # (new_state's order)
    cycles = 0
    for x in range(0, rank_st.shape[0], NR):
        if rank_st[x + R_OPEN] > 0:
            cycles += end_cycle - rank_st[x + R_CHANGE]
    return cycles


@njit(cache=True, nogil=True, error_model="numpy")
def run_parts(req, done, ch_start, state, org, scalars, unlimited, cycle_limit, trace, part_lo, part_hi, phase,
              end_cycle, part_now, part_logged, stats):
    """Run parts part_lo to part_hi - 1 (unlimited: part c is channel c; in order: part 0 holds every
    channel) through one phase: 0 serves their requests from cycle 0 (or up to cycle_limit), 1 runs
    each on from where phase 0 left it (part_now) to end_cycle, refreshing. `state` is new_state's
    (this call changes only these parts' channels), `req`, `done` and ch_start prepare's.

    Writes each part's stopping cycle and number of logged commands into part_now and part_logged,
    and adds to `stats` (command counts [0:9], row hits, misses, conflicts, read/write queue
    occupancy integrals, rank-active cycle integral, 1 at STAT_STALLED if the controller stalled,
    then bus busy cycles per channel). `trace` (rows, 4) receives each part's first commands as
    (cycle, command, channel, bank) in rows part * (rows / parts) on (rows left unwritten keep
    their values). Parts share nothing, so calls on different parts may run at the same time
    (Numba releases the GIL)."""
    (ok, bank_st, rank_st, ent, lists, prep_time, prep_pre, prep_key, hit_list, hit_pos, chan_st, chan_wake,
     ch_ptr, qcap, bank_group, bank_rank, rule_start, rule_index, rule_delay, group_rules) = state
    n = done.shape[0]
    channels, ranks, bgs, bpg, rank_banks, banks, bg_total, bg0, rank0, chan_slot, slots = geometry(org)
    mode = scalars[REFMODE]
    interval = scalars[TREFI] if mode == 1 else scalars[TREFIPB]
    hit_cap, tfaw = scalars[HITCAP], scalars[TFAW]
    n_entries = rule_start[NCMD]
    key_bits = 1
    while (np.int64(1) << key_bits) < banks:
        key_bits += 1
    # looking at the hits a cycle early changes C_HITWAKE's value (never whether a hit issues); that
    # value matters only when refresh unblocks a rank without a command (a lower rank falls due)
    look_ahead = ranks == 1 or mode == 0

    # Helpers are closures over the state arrays (Numba inlines them; passing the arrays as
    # arguments of module-level functions would cost reference counting on every call).
    # Indices into the flat state arrays (module docstring). They are unsigned, so that Numba
    # leaves out the negative-index wraparound; use them only as subscripts (uint64 with int64
    # arithmetic is float64 in Numba).
    def okx(c, slot, cmd):
        """Channel c's earliest allowed cycle of command cmd in `slot` (a bank, bank group, rank or
        the channel's slot)."""
        return ix((c * slots + slot) * NCMD + cmd)

    def bkx(c, b, f):
        """Field f (B_*) of channel c's bank b."""
        return ix((c * banks + b) * NB + f)

    def rkx(c, r, f):
        """Field f (R_*) of channel c's rank r."""
        return ix((c * ranks + r) * NR + f)

    def lsx(c, q, b, f):
        """Field f (L_*) of the list of channel c's bank b in queue q."""
        return ix(((c * 2 + q) * banks + b) * NL + f)

    def enx(e, f):
        """Field f (E_*) of entry slot e."""
        return ix(e * NE + f)

    def chx(c, f):
        """Field f (C_*) of channel c."""
        return ix(c * NC + f)

    def bnx(c, b):
        """Channel c's bank b in prep_time, prep_pre and prep_key."""
        return ix(c * banks + b)

    def hix(c, q, k):
        """Slot k of channel c's hit_list / hit_pos for queue q."""
        return ix((c * 2 + q) * (banks + 1) + k)

    def rqx(i, f):
        """Field f (Q_*) of request i in `req`."""
        return ix(i * NQ + f)

    def rq_write(i):
        """1 if request i is a write, else 0."""
        return req[rqx(i, Q_WORD)] & 1

    def rq_channel(i):
        """Channel of request i."""
        return (req[rqx(i, Q_WORD)] >> 17) & (MAX_CHANNELS - 1)

    def column(c, w, b):
        """Column command for bank b's hits in queue w, and its earliest cycle (NEVER while the hit
        cap yields to a waiting conflict of that queue)."""
        # (without branches, as arithmetic: RD + 1 = WR, RD + 2 = RDA, WR + 2 = WRA)
        cmd = RD + w + 2 * ((scalars[CLOSED] != 0) & (bank_st[bkx(c, b, B_WANTED)] <= 1))
        t = max(max(ok[okx(c, b, cmd)], ok[okx(c, bank_group[ix(b)], cmd)]),
                max(ok[okx(c, bank_rank[ix(b)], cmd)], ok[okx(c, chan_slot, cmd)]))
        conflicts = (1 - w) * bank_st[bkx(c, b, B_CONFLICT)] + (2 * w - 1) * bank_st[bkx(c, b, B_CONFLICT_W)]
        return cmd, NEVER if (bank_st[bkx(c, b, B_STREAK)] >= hit_cap) & (conflicts > 0) else t

    def rank_allows(c, r, cmd):
        """Earliest cycle rank r (tFAW included) and the channel allow an ACT or a PRE."""
        t = max(ok[okx(c, rank0 + r, cmd)], ok[okx(c, chan_slot, cmd)])
        oldest = rank_st[rkx(c, r, R_FAW + rank_st[rkx(c, r, R_FAWPOS)])]
        return max(t, oldest + tfaw) if cmd == ACT and oldest >= 0 else t

    def cache_bank(c, w, b):
        """Recompute bank b's `prep` entry for queue w (mostly without branches: their outcome is
        data dependent)."""
        e = lists[lsx(c, w, b, L_OTHER)]
        is_pre = bank_st[bkx(c, b, B_ROW)] >= 0
        cmd = PRE if is_pre else ACT
        wanted_w = bank_st[bkx(c, b, B_WANTED_W)]
        wanted = wanted_w if w else bank_st[bkx(c, b, B_WANTED)] - wanted_w
        # keep a row open while the queue being served still has hits for it (the
        # other queue's hits do not hold it: they cannot issue during this phase)
        held = is_pre & (wanted > 0) & (bank_st[bkx(c, b, B_STREAK)] < hit_cap)
        t = max(ok[okx(c, b, cmd)], ok[okx(c, bank_group[ix(b)], cmd)])
        prep_time[bnx(c, b)] = NEVER if (e < 0) | held else t
        prep_pre[bnx(c, b)] = cmd - ACT
        prep_key[bnx(c, b)] = (ent[enx(max(e, 0), E_SEQ)] << key_bits) | b   # (any when e < 0: the time is NEVER)

    def cache_group(c, w, gi):
        """Recompute the `prep` entries of bank group gi's banks for queue w."""
        for b in range(gi * bpg, (gi + 1) * bpg):
            cache_bank(c, w, b)

    def scan_prepare(c, blocked_rank, blocked_bank, now):
        """The key (age, bank) of the oldest request whose ACT or PRE (queue C_PREP_W) may issue at
        `now` (NEVER: none), and the earliest cycle any may issue, the blocked ones aside. Without
        branches on the banks' data, so that the compiler may vectorise it."""
        best, earliest = NEVER, NEVER
        for r in range(ranks):
            if r == blocked_rank and blocked_bank < 0:
                continue
            act, pre = rank_allows(c, r, ACT), rank_allows(c, r, PRE)
            for b in range(r * rank_banks, (r + 1) * rank_banks):
                t = max(prep_time[bnx(c, b)], pick(prep_pre[bnx(c, b)], act, pre))
                t = NEVER if b == blocked_bank else t
                best = min(best, pick(t > now, prep_key[bnx(c, b)], NEVER))    # the key if ready, else NEVER
                earliest = min(earliest, t)
        return best, earliest

    def set_hit(c, q, b, e):
        """Make e bank b's oldest hit in queue q (-1: none), keeping the list of banks with hits."""
        # Without branches: adding b writes it at the end of the list; removing it moves the last
        # bank into its place; otherwise the writes leave the list as it is (slot k, one past its
        # end, is never read).
        k = chan_st[chx(c, C_NHIT_R + q)]
        had = lists[lsx(c, q, b, L_HIT)] >= 0
        add = (~had) & (e >= 0)
        remove = had & (e < 0)
        pos = hit_pos[hix(c, q, b)]
        moved = hit_list[hix(c, q, max(k - 1, 0))]
        hit_list[hix(c, q, pos if remove else k)] = moved if remove else b
        hit_pos[hix(c, q, moved if remove else b)] = k if add else pos
        chan_st[chx(c, C_NHIT_R + q)] = k + add - remove
        lists[lsx(c, q, b, L_HIT)] = e

    # Unlimited front end: the channels share nothing, so each runs alone (part after part: its
    # state stays in cache and steps skip the other channels' cycles), then every channel that
    # finished early runs on to the last one's end (its refreshes go on meanwhile), as if all had
    # been stepped together. In order, one part holds every channel. Each part logs its commands
    # into its own rows of `trace` (the caller orders them by cycle and channel).
    parts = channels if unlimited else 1
    trace_rows = trace.shape[0] // parts
    part, part_goal = part_lo - 1, 0
    c_lo, c_hi, n_logged = 0, channels, 0
    head = 0
    issued_total = 0
    queued = np.zeros(2, np.int64)      # queued requests per queue, this part's channels
    now = np.int64(end_cycle)           # (so that the first pass through the loop starts part_lo)
    while True:
        if now >= cycle_limit or (issued_total >= part_goal and now >= end_cycle):
            # this part is done (phase 0: its requests served; phase 1: run on to end_cycle, the
            # cycle after the last command of phase 0 in any part): on to the next one
            if part >= part_lo:
                part_now[part], part_logged[part] = now, n_logged
            part += 1
            if part == part_hi:
                break
            if unlimited:
                c_lo, c_hi = part, part + 1
            now, n_logged = (part_now[part] if phase == 1 else 0), part_logged[part]
            part_goal = issued_total + (0 if phase == 1 else (ch_start[c_hi] - ch_start[c_lo] if unlimited else n))
            queued[:] = 0
            continue
        # 1. front end: queue what arrived (in order: one request per cycle; unlimited: all
        #    that find room in their channel's queue)
        k = c_lo if unlimited else 0
        while k < (c_hi if unlimited else 1):
            if unlimited:
                c = k
                if ch_ptr[ix(c)] == ch_start[ix(c + 1)]:
                    k += 1
                    continue
                i = ch_ptr[ix(c)]
            else:
                if head == n:
                    break
                i = head
                c = rq_channel(i)
            w = rq_write(i)
            if req[rqx(i, Q_ARRIVE)] > now or chan_st[chx(c, w)] >= qcap[ix(w)]:
                k += 1
                continue
            if unlimited:
                ch_ptr[ix(c)] += 1
            else:
                head += 1
                k += 1
            # take a free slot and link it at the end of its bank's list
            e = chan_st[chx(c, C_FREE_R + w)]
            chan_st[chx(c, C_FREE_R + w)] = ent[enx(e, E_NEXT)]
            word = req[rqx(i, Q_WORD)]
            b, row = (word >> 1) & (MAX_BANKS - 1), word >> 32
            ent[enx(e, E_IDX)] = req[rqx(i, Q_IDX)]
            ent[enx(e, E_ROW)] = row
            ent[enx(e, E_STATE)] = 0
            ent[enx(e, E_SEQ)] = chan_st[chx(c, C_SEQ)]
            chan_st[chx(c, C_SEQ)] += 1
            tail = lists[lsx(c, w, b, L_TAIL)]
            ent[enx(e, E_NEXT)] = -1
            ent[enx(e, E_PREV)] = tail
            if tail >= 0:
                ent[enx(tail, E_NEXT)] = e
            else:
                lists[lsx(c, w, b, L_HEAD)] = e
            lists[lsx(c, w, b, L_TAIL)] = e
            chan_st[chx(c, w)] += 1
            queued[ix(w)] += 1
            hit = bank_st[bkx(c, b, B_ROW)] == row
            if hit:
                bank_st[bkx(c, b, B_WANTED)] += 1
                bank_st[bkx(c, b, B_WANTED_W)] += w
                chan_st[chx(c, C_HITS_R + w)] += 1
                chan_st[chx(c, C_HITWAKE_R + w)] = 0
                if lists[lsx(c, w, b, L_HIT)] < 0:
                    set_hit(c, w, b, e)
            else:
                if bank_st[bkx(c, b, B_ROW)] >= 0:
                    bank_st[bkx(c, b, B_CONFLICT)] += 1
                    bank_st[bkx(c, b, B_CONFLICT_W)] += w
                if lists[lsx(c, w, b, L_OTHER)] < 0:
                    lists[lsx(c, w, b, L_OTHER)] = e
            other = lists[lsx(c, w, b, L_OTHER)]
            if chan_st[chx(c, C_PREP_W)] == w and other >= 0 and (hit or other == e):
                cache_bank(c, w, b)                 # a new ACT / PRE, or a PRE now held by the hit
            # when the channel must look at it: at once when the queue choice may change or
            # when it is a hit (every hit arrival resets C_HITWAKE, so the hits are looked at);
            # else when its ACT / PRE may issue, if it is its bank's oldest other request
            rq, wq = chan_st[chx(c, C_RQLEN)], chan_st[chx(c, C_WQLEN)]
            drain = 1 if wq >= scalars[WHIGH] else (0 if wq <= scalars[WLOW] else chan_st[chx(c, C_DRAIN)])
            served = 1 if drain == 1 or (rq == 0 and wq > 0) else 0
            if served != chan_st[chx(c, C_SERVED)]:
                chan_st[chx(c, C_BOUND)] = now
                chan_wake[ix(c)] = now
            elif hit:
                chan_wake[ix(c)] = now
            elif served == w and lists[lsx(c, w, b, L_OTHER)] == e:
                t = now
                if chan_st[chx(c, C_PREP_W)] == w:
                    t = max(prep_time[bnx(c, b)], rank_allows(c, bank_rank[ix(b)] - rank0, ACT + prep_pre[bnx(c, b)]))
                chan_st[chx(c, C_BOUND)] = min(chan_st[chx(c, C_BOUND)], t)
                chan_wake[ix(c)] = min(chan_wake[ix(c)], t)
        # 2. one command per channel
        any_issued = False
        global_next = NEVER
        c = c_lo - 1
        while True:
            # on to the next channel that may issue (as a counted loop, the compiler would step every
            # channel's offset into each state array along, for sleeping channels too)
            c += 1
            while c < c_hi and chan_wake[ix(c)] > now:      # nothing can issue on channel c before chan_wake[c]
                global_next = min(global_next, chan_wake[ix(c)])
                c += 1
            if c >= c_hi:
                break
            # --- one channel step, written in place: choose the command ---
            cmd, b, e, w, r = -1, -1, -1, 0, 0
            when, next_event = NEVER, NEVER
            blocked_rank, blocked_bank = -1, -1
            # 1. refresh
            for rr in range(ranks):
                due = rank_st[rkx(c, rr, R_DUE)]
                if due > now:
                    next_event = min(next_event, due)
                    continue
                rs = rank0 + rr
                first = rr * rank_banks
                blocked_rank = rr
                if mode == 1:
                    if rank_st[rkx(c, rr, R_OPEN)] > 0:
                        x = PREA
                        t = max(ok[okx(c, rs, PREA)], ok[okx(c, chan_slot, PREA)])
                        for bb in range(first, first + rank_banks):
                            if bank_st[bkx(c, bb, B_ROW)] >= 0:
                                t = max(t, ok[okx(c, bb, PREA)])
                    else:
                        x = REF
                        t = max(ok[okx(c, rs, REF)], ok[okx(c, chan_slot, REF)])
                    bb = first
                else:
                    bb = first + rank_st[rkx(c, rr, R_NEXTBANK)]
                    blocked_bank = bb
                    x = PRE if bank_st[bkx(c, bb, B_ROW)] >= 0 else REFPB
                    g = bank_group[ix(bb)]
                    t = max(max(ok[okx(c, bb, x)], ok[okx(c, g, x)]),
                            max(ok[okx(c, rs, x)], ok[okx(c, chan_slot, x)]))
                if t <= now:
                    cmd, b, r = x, bb, rr
                else:
                    next_event = min(next_event, t)
                break
            if cmd < 0:
                # 2. which queue
                if chan_st[chx(c, C_WQLEN)] >= scalars[WHIGH]:
                    chan_st[chx(c, C_DRAIN)] = 1
                elif chan_st[chx(c, C_WQLEN)] <= scalars[WLOW]:
                    chan_st[chx(c, C_DRAIN)] = 0
                rq, wq = chan_st[chx(c, C_RQLEN)], chan_st[chx(c, C_WQLEN)]
                w = 1 if chan_st[chx(c, C_DRAIN)] == 1 or (rq == 0 and wq > 0) else 0
                if (w != chan_st[chx(c, C_SERVED)] or blocked_rank != chan_st[chx(c, C_BLOCKED_R)]
                        or blocked_bank != chan_st[chx(c, C_BLOCKED_B)]):
                    if w != chan_st[chx(c, C_SERVED)]:
                        chan_st[chx(c, C_PREP_W)] = -1
                    chan_st[chx(c, C_SERVED)] = w          # the bound on ACT / PRE no longer holds
                    chan_st[chx(c, C_BLOCKED_R)] = blocked_rank
                    chan_st[chx(c, C_BLOCKED_B)] = blocked_bank
                    chan_st[chx(c, C_BOUND)] = now
                if chan_st[chx(c, w)] == 0:
                    when = next_event
                elif chan_st[chx(c, C_HITS_R + w)] > 0:
                    # 3. FR-FCFS pass 1: oldest ready row hit (not looked for before C_HITWAKE)
                    if chan_st[chx(c, C_HITWAKE_R + w)] <= now:
                        best_seq, best, earliest = NEVER, -1, NEVER
                        for k in range(chan_st[chx(c, C_NHIT_R + w)]):
                            bb = hit_list[hix(c, w, k)]
                            rr = bank_rank[ix(bb)] - rank0
                            if rr == blocked_rank and (blocked_bank < 0 or blocked_bank == bb):
                                continue
                            t = column(c, w, bb)[1]
                            # (without branches: their outcome is data dependent)
                            seq = pick(t > now, ent[enx(lists[lsx(c, w, bb, L_HIT)], E_SEQ)], NEVER)
                            earliest = min(earliest, pick(t > now, NEVER, t))
                            best = bb if seq < best_seq else best
                            best_seq = min(best_seq, seq)
                        if best >= 0:
                            cmd, b, e = column(c, w, best)[0], best, lists[lsx(c, w, best, L_HIT)]
                            r = bank_rank[ix(best)] - rank0
                        else:
                            chan_st[chx(c, C_HITWAKE_R + w)] = earliest
                    if cmd < 0:
                        next_event = min(next_event, chan_st[chx(c, C_HITWAKE_R + w)])
                if cmd < 0 and chan_st[chx(c, w)] > 0:
                    # 4. pass 2: oldest request whose ACT or PRE may issue (per bank: its oldest
                    #    request for another row); skipped before C_BOUND
                    if chan_st[chx(c, C_BOUND)] > now:
                        when = min(chan_st[chx(c, C_BOUND)], next_event)
                    else:
                        if chan_st[chx(c, C_PREP_W)] != w:
                            for gi in range(bg_total):
                                cache_group(c, w, gi)
                            chan_st[chx(c, C_PREP_W)] = w
                        key, first_t = scan_prepare(c, blocked_rank, blocked_bank, now)
                        if key < NEVER:
                            best = key & ((np.int64(1) << key_bits) - 1)
                            cmd, b, e = ACT + prep_pre[bnx(c, best)], best, lists[lsx(c, w, best, L_OTHER)]
                            r = bank_rank[ix(best)] - rank0
                        else:
                            chan_st[chx(c, C_BOUND)] = first_t
                            when = min(first_t, next_event)
            if cmd < 0:
                chan_wake[ix(c)] = when
                global_next = min(global_next, when)
                continue
            # --- issue it ---
            any_issued = True
            g, rs = bank_group[ix(b)], rank0 + r
            stats[ix(cmd)] += 1
            if n_logged < trace_rows:
                row = part * trace_rows + n_logged
                trace[row, 0] = now
                trace[row, 1] = cmd
                trace[row, 2] = c
                trace[row, 3] = b
                n_logged += 1
            # raise the earliest-allowed cycles the command's constraint records name
            for k in range(rule_start[cmd], rule_start[cmd + 1]):
                x = okx(c, 0, rule_index[ix(b * n_entries + k)])
                ok[x] = max(ok[x], now + rule_delay[ix(k)])
            # its effects; banks lo..hi-1 are then opened on new_row (>= 0) or closed
            lo, hi, new_row = b, b, np.int64(-1)
            if cmd == PREA:
                hi = b + rank_banks
            elif cmd == REF:
                rank_st[rkx(c, r, R_DUE)] += interval
            elif cmd == REFPB:
                rank_st[rkx(c, r, R_NEXTBANK)] = (rank_st[rkx(c, r, R_NEXTBANK)] + 1) % rank_banks
                rank_st[rkx(c, r, R_DUE)] += interval
            elif cmd == PRE:
                hi = b + 1
                if e >= 0:
                    ent[enx(e, E_STATE)] |= 2
            elif cmd == ACT:
                rank_st[rkx(c, r, R_FAW + rank_st[rkx(c, r, R_FAWPOS)])] = now
                rank_st[rkx(c, r, R_FAWPOS)] = (rank_st[rkx(c, r, R_FAWPOS)] + 1) % 4
                bank_st[bkx(c, b, B_STREAK)] = 0
                ent[enx(e, E_STATE)] |= 1
                hi, new_row = b + 1, ent[enx(e, E_ROW)]
            else:
                # a column command serves entry e
                issued_total += 1
                done[ix(ent[enx(e, E_IDX)])] = now + (scalars[CWL] if w else scalars[CL]) + scalars[TBURST]
                stats[ix(STAT_BUS + c)] += scalars[TBURST]
                bank_st[bkx(c, b, B_STREAK)] += 1
                bank_st[bkx(c, b, B_WANTED)] -= 1
                bank_st[bkx(c, b, B_WANTED_W)] -= w
                chan_st[chx(c, C_HITS_R + w)] -= 1
                chan_st[chx(c, C_HITWAKE_R + w)] = 0
                state = ent[enx(e, E_STATE)]
                stats[ix(STAT_CONFLICT if state & 2 else (STAT_MISS if state & 1 else STAT_HIT))] += 1
                # unlink it, find its bank's next hit, free its slot
                nxt, prv = ent[enx(e, E_NEXT)], ent[enx(e, E_PREV)]
                if prv >= 0:
                    ent[enx(prv, E_NEXT)] = nxt
                else:
                    lists[lsx(c, w, b, L_HEAD)] = nxt
                if nxt >= 0:
                    ent[enx(nxt, E_PREV)] = prv
                else:
                    lists[lsx(c, w, b, L_TAIL)] = prv
                while nxt >= 0 and ent[enx(nxt, E_ROW)] != bank_st[bkx(c, b, B_ROW)]:
                    nxt = ent[enx(nxt, E_NEXT)]
                set_hit(c, w, b, nxt)
                ent[enx(e, E_NEXT)] = chan_st[chx(c, C_FREE_R + w)]
                chan_st[chx(c, C_FREE_R + w)] = e
                chan_st[chx(c, w)] -= 1
                queued[ix(w)] -= 1
                if cmd == RDA or cmd == WRA:
                    hi = b + 1
            for bb in range(lo, hi):
                # open or close bank bb: the rank's active-time integral, the counts of queued
                # requests that want / conflict with its row, its lists' oldest hit and other entry
                if (bank_st[bkx(c, bb, B_ROW)] >= 0) != (new_row >= 0):
                    if rank_st[rkx(c, r, R_OPEN)] > 0:
                        stats[STAT_ACTIVE] += now - rank_st[rkx(c, r, R_CHANGE)]
                    rank_st[rkx(c, r, R_CHANGE)] = now
                    rank_st[rkx(c, r, R_OPEN)] += 1 if new_row >= 0 else -1
                bank_st[bkx(c, bb, B_ROW)] = new_row
                chan_st[chx(c, C_HITS_R)] -= bank_st[bkx(c, bb, B_WANTED)] - bank_st[bkx(c, bb, B_WANTED_W)]
                chan_st[chx(c, C_HITS_W)] -= bank_st[bkx(c, bb, B_WANTED_W)]
                bank_st[bkx(c, bb, B_WANTED)] = 0
                bank_st[bkx(c, bb, B_WANTED_W)] = 0
                bank_st[bkx(c, bb, B_CONFLICT)] = 0
                bank_st[bkx(c, bb, B_CONFLICT_W)] = 0
                if new_row >= 0:
                    chan_st[chx(c, C_HITWAKE_R)] = 0
                    chan_st[chx(c, C_HITWAKE_W)] = 0
                for q in range(2):
                    y = lists[lsx(c, q, bb, L_HEAD)]
                    h, o = -1, y
                    if new_row >= 0:
                        o = -1
                        while y >= 0:
                            if ent[enx(y, E_ROW)] == new_row:
                                bank_st[bkx(c, bb, B_WANTED)] += 1
                                bank_st[bkx(c, bb, B_WANTED_W)] += q
                                chan_st[chx(c, C_HITS_R + q)] += 1
                                if h < 0:
                                    h = y
                            else:
                                bank_st[bkx(c, bb, B_CONFLICT)] += 1
                                bank_st[bkx(c, bb, B_CONFLICT_W)] += q
                                if o < 0:
                                    o = y
                            y = ent[enx(y, E_NEXT)]
                    set_hit(c, q, bb, h)
                    lists[lsx(c, q, bb, L_OTHER)] = o
            chan_wake[ix(c)] = now + 1
            if e < 0:
                # refresh: banks closed or unblocked; look at all of them next time
                chan_st[chx(c, C_BOUND)] = now
                chan_st[chx(c, C_PREP_W)] = -1
                continue
            # the bank and bank group parts of ACT / PRE cycles changed in this bank group only (in
            # this bank only unless the command has a bank-group record on ACT / PRE): recompute
            # them, then the bound. The other banks' cycles only grew: after a column command it is
            # enough to add this bank's; after an ACT / PRE look at all (others may have been ready)
            if chan_st[chx(c, C_PREP_W)] != w:
                for gi in range(bg_total):
                    cache_group(c, w, gi)
                chan_st[chx(c, C_PREP_W)] = w
                chan_st[chx(c, C_BOUND)] = scan_prepare(c, blocked_rank, blocked_bank, -1)[1]
            else:
                cache_bank(c, w, b)
                if group_rules[cmd]:
                    # the other banks of the group: only the group's earliest cycles rose (their
                    # requests, rows and own cycles are as before), so their times only rise to
                    # them (a NEVER stays NEVER: every allowed cycle is below it)
                    for bb in range((g - bg0) * bpg, (g - bg0 + 1) * bpg):
                        prep_time[bnx(c, bb)] = max(prep_time[bnx(c, bb)], ok[okx(c, g, ACT + prep_pre[bnx(c, bb)])])
                if cmd <= PRE:
                    chan_st[chx(c, C_BOUND)] = scan_prepare(c, blocked_rank, blocked_bank, -1)[1]
                else:
                    t = max(prep_time[bnx(c, b)], rank_allows(c, r, ACT + prep_pre[bnx(c, b)]))
                    chan_st[chx(c, C_BOUND)] = min(chan_st[chx(c, C_BOUND)], t)
            # the channel must look again next cycle (the write drain flag is evaluated then, the
            # hits looked at, ...) unless nothing can happen then; arrivals wake it as usual
            due = NEVER
            for rr in range(ranks):
                due = min(due, rank_st[rkx(c, rr, R_DUE)])
            rq, wq, drain = chan_st[chx(c, C_RQLEN)], chan_st[chx(c, C_WQLEN)], chan_st[chx(c, C_DRAIN)]
            w2 = 1 if drain == 1 or (rq == 0 and wq > 0) else 0
            when = min(due, chan_st[chx(c, C_BOUND)])
            if (when > now + 1 and w2 == w and not (drain == 1 and wq <= scalars[WLOW])
                    and not (drain == 0 and wq >= scalars[WHIGH])):
                if look_ahead and chan_st[chx(c, C_HITS_R + w)] > 0 and chan_st[chx(c, C_HITWAKE_R + w)] <= now + 1:
                    # the hits would be looked at next cycle: do it now, as of next cycle (the
                    # outcome may differ only through an arrival then, which wakes the channel)
                    earliest = NEVER
                    for k in range(chan_st[chx(c, C_NHIT_R + w)]):
                        earliest = min(earliest, column(c, w, hit_list[hix(c, w, k)])[1])
                    if earliest > now + 1:
                        chan_st[chx(c, C_HITWAKE_R + w)] = earliest
                if chan_st[chx(c, C_HITS_R + w)] > 0:
                    when = min(when, chan_st[chx(c, C_HITWAKE_R + w)])
                if when > now + 1:
                    chan_wake[ix(c)] = when
        # 3. advance time: next cycle after any command, else to the next possible event
        step = np.int64(1)
        if not any_issued:
            wake = global_next
            if unlimited:
                for c in range(c_lo, c_hi):
                    if ch_ptr[ix(c)] < ch_start[ix(c + 1)]:
                        i = ch_ptr[ix(c)]
                        w = rq_write(i)
                        if chan_st[chx(c, w)] < qcap[ix(w)] and req[rqx(i, Q_ARRIVE)] < wake:
                            wake = req[rqx(i, Q_ARRIVE)]
            elif head < n:
                c, w = rq_channel(head), rq_write(head)
                if chan_st[chx(c, w)] < qcap[ix(w)] and req[rqx(head, Q_ARRIVE)] < wake:
                    wake = req[rqx(head, Q_ARRIVE)]
            if wake >= NEVER and phase == 0:
                stats[STAT_STALLED] = 1       # nothing can ever issue again: report instead of spinning
                part_now[part], part_logged[part] = now, n_logged
                break
            if now < wake:
                step = min(wake, max(cycle_limit, now + 1)) - now      # (the statistics end at the limit)
        stats[STAT_RQ_OCC] += queued[0] * step
        stats[STAT_WQ_OCC] += queued[1] * step
        now += step


@njit(cache=True)
def transfer_requests(start_ticks, counts, ticks_per_byte, region_base, capacity, ticks, address, at):
    """The 64-byte requests of a list of transfers (accsim.components.dram), written into `ticks`
    and `address` from index `at` on: transfer k has counts[k] requests, its bytes follow the
    previous transfer's from region_base on (modulo capacity), and its j-th request issues at
    start_ticks[k] + j * 64 * ticks_per_byte (the transfer streaming at that rate)."""
    first = 0
    for k in range(counts.shape[0]):
        for j in range(counts[k]):
            ticks[at] = start_ticks[k] + j * 64 * ticks_per_byte
            address[at] = (region_base + (first + j) * 64) % capacity
            at += 1
        first += counts[k]
    return at
