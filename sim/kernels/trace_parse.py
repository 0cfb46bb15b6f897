"""Whole-file scanner of DRAM request traces: the fast path of accsim.memory.trace.

`scan_trace` counts the lines of a trace's bytes, then parses them in one
pass into address, is_write and arrive arrays. It takes only the plain form of
the three formats

    DRAMsim3:       0x1f2e3d40 READ 120
    Ramulator:      0x1f2e3d40 R
    Ramulator 2:    LD 0x1f2e3d40

i.e. every line holds exactly one request; fields are separated by spaces or
tabs (any number, also before the first and after the last field); lines end
in \\n or \\r\\n, the last one possibly in nothing; the address is hexadecimal
digits (either case) with or without 0x / 0X, the cycle decimal digits, both
below 2**63; cycles never decrease; the format is that of the first line.

On anything else (blank or comment lines, signs, underscores, other control
or non-ASCII bytes, a lone \\r, a bad field, too many or too few fields, a
value of 2**63 or more, a decreasing cycle, another format, an empty file) it
returns format FAILED and the caller's line-by-line parser takes over, which
reports errors or accepts the rarer spellings. Whenever it succeeds its
arrays are those of that parser.
"""
from __future__ import annotations

import numpy as np
from numba import njit

FAILED, DRAMSIM3, RAMULATOR, RAMULATOR2 = 0, 1, 2, 3
FORMAT_NAMES = {DRAMSIM3: "dramsim3", RAMULATOR: "ramulator", RAMULATOR2: "ramulator2"}


@njit(cache=True)
def scan_trace(data):
    """Parse the trace bytes `data` (uint8). Returns (format, address, is_write, arrive),
    one entry per line; format FAILED (0) when the file is not a plain trace (see the
    module docstring), the arrays are then junk."""
    size = data.size
    lines = 0
    for i in range(size):
        if data[i] == 10:
            lines += 1
    if size > 0 and data[size - 1] != 10:
        lines += 1                                               # no final newline
    address = np.empty(lines, np.int64)
    is_write = np.empty(lines, np.bool_)
    arrive = np.zeros(lines, np.int64)
    hexval = np.full(256, -1, np.int64)                   # hex digit value by byte, -1 if none
    for i in range(10):
        hexval[48 + i] = i
    for i in range(6):
        hexval[97 + i] = 10 + i
        hexval[65 + i] = 10 + i

    # the format, from the first line's fields (split at spaces and tabs)
    fields = 0
    s0 = e0 = s1 = e1 = 0
    pos = 0
    while True:
        while pos < size and (data[pos] == 32 or data[pos] == 9):
            pos += 1
        if pos >= size or data[pos] == 10 or (data[pos] == 13 and pos + 1 < size
                                              and data[pos + 1] == 10):
            break
        start = pos
        while pos < size and data[pos] != 32 and data[pos] != 9 and data[pos] != 10 and not (
                data[pos] == 13 and pos + 1 < size and data[pos + 1] == 10):
            pos += 1
        if fields == 0:
            s0, e0 = start, pos
        elif fields == 1:
            s1, e1 = start, pos
        fields += 1
    n0, n1 = e0 - s0, e1 - s1
    read = (n1 == 4 and data[s1] == 82 and data[s1 + 1] == 69 and data[s1 + 2] == 65
            and data[s1 + 3] == 68)                                                  # READ
    write = (n1 == 5 and data[s1] == 87 and data[s1 + 1] == 82 and data[s1 + 2] == 73
             and data[s1 + 3] == 84 and data[s1 + 4] == 69)                          # WRITE
    r_w = n1 == 1 and (data[s1] == 82 or data[s1] == 87)                              # R W
    ld_st = n0 == 2 and ((data[s0] == 76 and data[s0 + 1] == 68)                     # LD
                         or (data[s0] == 83 and data[s0 + 1] == 84))                 # ST
    if fields == 3 and (read or write):
        fmt = DRAMSIM3
    elif fields == 2 and r_w:
        fmt = RAMULATOR
    elif fields == 2 and ld_st:
        fmt = RAMULATOR2
    else:
        return FAILED, address, is_write, arrive

    count = 0
    previous = 0
    pos = 0
    while pos < size:
        if count >= lines:
            return FAILED, address, is_write, arrive
        while pos < size and (data[pos] == 32 or data[pos] == 9):
            pos += 1
        write = False
        if fmt == RAMULATOR2:                                    # LD|ST, then at least one blank
            if pos + 2 >= size:
                return FAILED, address, is_write, arrive
            if data[pos] == 76 and data[pos + 1] == 68:
                write = False
            elif data[pos] == 83 and data[pos + 1] == 84:
                write = True
            else:
                return FAILED, address, is_write, arrive
            pos += 2
            if data[pos] != 32 and data[pos] != 9:
                return FAILED, address, is_write, arrive
            while pos < size and (data[pos] == 32 or data[pos] == 9):
                pos += 1
        # the address: [0x|0X] hexadecimal digits, below 2**63
        if pos + 1 < size and data[pos] == 48 and (data[pos + 1] == 120 or data[pos + 1] == 88):
            pos += 2
        start = pos
        value = 0
        while pos < size:
            digit = hexval[data[pos]]
            if digit < 0:
                break
            if value > 0x07FFFFFFFFFFFFFF:                       # value * 16 + digit >= 2**63
                return FAILED, address, is_write, arrive
            value = value * 16 + digit
            pos += 1
        if pos == start:
            return FAILED, address, is_write, arrive
        address[count] = value
        if fmt != RAMULATOR2:                          # at least one blank, READ|WRITE or R|W
            if pos >= size or (data[pos] != 32 and data[pos] != 9):
                return FAILED, address, is_write, arrive
            while pos < size and (data[pos] == 32 or data[pos] == 9):
                pos += 1
            if pos >= size:
                return FAILED, address, is_write, arrive
            if fmt == RAMULATOR:
                if data[pos] == 82:
                    write = False
                elif data[pos] == 87:
                    write = True
                else:
                    return FAILED, address, is_write, arrive
                pos += 1
            elif (data[pos] == 82 and pos + 3 < size and data[pos + 1] == 69 and data[pos + 2] == 65
                  and data[pos + 3] == 68):
                write = False
                pos += 4
            elif (data[pos] == 87 and pos + 4 < size and data[pos + 1] == 82 and data[pos + 2] == 73
                  and data[pos + 3] == 84 and data[pos + 4] == 69):
                write = True
                pos += 5
            else:
                return FAILED, address, is_write, arrive
        is_write[count] = write
        if fmt == DRAMSIM3:                                      # at least one blank, the cycle
            if pos >= size or (data[pos] != 32 and data[pos] != 9):
                return FAILED, address, is_write, arrive
            while pos < size and (data[pos] == 32 or data[pos] == 9):
                pos += 1
            start = pos
            cycle = 0
            while pos < size:
                digit = int(data[pos]) - 48
                if digit < 0 or digit > 9:
                    break
                if cycle > 922337203685477580 or (cycle == 922337203685477580 and digit > 7):
                    return FAILED, address, is_write, arrive     # cycle * 10 + digit >= 2**63
                cycle = cycle * 10 + digit
                pos += 1
            if pos == start or cycle < previous:
                return FAILED, address, is_write, arrive
            previous = cycle
            arrive[count] = cycle
        count += 1
        # blanks, then the end of the line: \n, \r\n or the end of the file
        while pos < size and (data[pos] == 32 or data[pos] == 9):
            pos += 1
        if pos < size:
            if data[pos] == 10:
                pos += 1
            elif data[pos] == 13 and pos + 1 < size and data[pos + 1] == 10:
                pos += 2
            else:
                return FAILED, address, is_write, arrive
    if count != lines:
        return FAILED, address, is_write, arrive
    return fmt, address, is_write, arrive
