"""Trace mode: parsing of DRAMsim3 / Ramulator traces and `accsim mem`."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from accsim.errors import ConfigError, ResolveError
from accsim.kernels.trace_parse import scan_trace
from accsim.memory import trace as trace_module
from accsim.memory.trace import parse_trace

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, fmt, writes, arrivals", [
    ("0x40 READ 0\n0x80 WRITE 3\n", "dramsim3", [False, True], [0, 3]),
    ("0x40 R\n0x80 W\n", "ramulator", [False, True], [0, 0]),
    ("LD 0x40\nST 0x80\n", "ramulator2", [False, True], [0, 0]),
    ("# comment\n\n0x40 READ 0\n\n0x80 WRITE 3\n", "dramsim3", [False, True], [0, 3]),   # slow path
])
def test_formats(tmp_path, text, fmt, writes, arrivals):
    path = tmp_path / "t.trace"
    path.write_text(text)
    trace = parse_trace(path)
    assert trace.format == fmt
    assert trace.address.tolist() == [0x40, 0x80]
    assert trace.is_write.tolist() == writes and trace.arrive_cycle.tolist() == arrivals


def test_malformed_lines_are_all_reported_with_line_numbers(tmp_path):
    path = tmp_path / "bad.trace"
    path.write_text("0x10 READ 1\n0xzz READ 2\n0x40 WRITE 0\n0x50 READ\n0x60 FETCH 9\n")
    with pytest.raises(ConfigError) as info:
        parse_trace(path)
    assert [(p.line, p.message) for p in info.value.problems] == [
        (2, "'0xzz' is not a hexadecimal address"),
        (3, "cycle 0 is before the previous request's 1"),
        (4, "expected '0xADDR READ|WRITE CYCLE'"),
        (5, "expected '0xADDR READ|WRITE CYCLE'")]


def test_unknown_format_and_empty_trace(tmp_path):
    (tmp_path / "a").write_text("hello world again and again\n")
    (tmp_path / "b").write_text("# nothing\n")
    with pytest.raises(ConfigError, match="not a DRAMsim3"):
        parse_trace(tmp_path / "a")
    with pytest.raises(ConfigError, match="no requests"):
        parse_trace(tmp_path / "b")


@pytest.mark.cli
def test_mem_cli_reports_bandwidth_latency_hits_commands_energy(tmp_path):
    path = tmp_path / "seq.trace"
    path.write_text("".join(f"0x{i * 64:x} READ {i}\n" for i in range(4000)))
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "hbm2", str(path), "--json",
                           "--frontend", "unlimited"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    s = json.loads(done.stdout)
    assert s["requests"]["total"] == 4000 and s["trace_format"] == "dramsim3"
    assert s["row_buffer"]["hit_rate"] == pytest.approx(1 - 64 / 2048, abs=0.01)
    assert s["commands"]["RD"] == 4000
    assert s["read_latency_cycles"]["max"] >= s["read_latency_cycles"]["p99"] >= s["read_latency_cycles"]["p50"]
    assert 0 < s["bandwidth"]["fraction_of_peak"] <= 1
    assert s["energy_pj"]["total"] > 0
    # the in-order front end can never beat one request per cycle
    slow = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "hbm2", str(path), "--json"],
                          capture_output=True, text=True)
    assert json.loads(slow.stdout)["completion"]["cycles"] >= 4000


@pytest.mark.cli
def test_mem_cli_bad_input_exit_2(tmp_path):
    path = tmp_path / "bad.trace"
    path.write_text("0x10 READ 1\nnonsense\n")
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "hbm2", str(path)], capture_output=True,
                          text=True)
    assert done.returncode == 2 and f"{path}:2:" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "hbm2", str(path), "--set",
                           "address_mapping=ro-ch"], capture_output=True, text=True)
    assert done.returncode == 2 and "address_mapping" in done.stderr


@pytest.mark.cli
def test_mem_cli_threads(tmp_path):
    """--threads N gives the one-thread result; a bad count (option or ACCSIM_THREADS) exits 2."""
    path = tmp_path / "mix.trace"
    rng = np.random.default_rng(2)
    path.write_text("".join(f"0x{int(a) * 64:x} {'WRITE' if w else 'READ'} {i}\n"
                            for i, (a, w) in enumerate(zip(rng.integers(0, 1 << 22, 3000), rng.random(3000) < 0.3))))
    base = [sys.executable, "-m", "accsim.cli", "mem", "hbm2", str(path), "--json", "--frontend", "unlimited"]
    one, three = (subprocess.run(base + ["--threads", n], capture_output=True, text=True) for n in ("1", "3"))
    assert one.returncode == 0 and three.returncode == 0, one.stderr + three.stderr
    assert json.loads(one.stdout) == json.loads(three.stdout)
    bad = subprocess.run(base + ["--threads", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--threads" in bad.stderr
    env = {**os.environ, "ACCSIM_THREADS": "many"}
    bad = subprocess.run(base, capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "ACCSIM_THREADS" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.cli
def test_mem_takes_an_architecture_with_dram(tmp_path):
    path = tmp_path / "t.trace"
    path.write_text("0x0 READ 0\n0x40 READ 1\n")
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "npu", str(path), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bandwidth"]["peak_gb_per_s"] == pytest.approx(1024.0)     # npu: 32 channels
    done = subprocess.run([sys.executable, "-m", "accsim.cli", "mem", "npu_ideal", str(path)], capture_output=True,
                          text=True)
    assert done.returncode == 2 and "no `type: dram` memory" in done.stderr


# ---- the compiled whole-file scan (accsim.kernels.trace_parse) against the line-by-line parser ----

scan_python = getattr(scan_trace, "py_func", scan_trace)  # the kernel's Python body


def _random_trace(seed, fmt, count):
    """Seeded clean trace in `fmt` with varied spelling: 0x / 0X / no prefix, upper, lower and
    mixed-case hex, leading zeros, runs of spaces and tabs (also at the line's ends), LF or
    CRLF or both, with or without a final newline. Returns (bytes, address, is_write, arrive)."""
    rng = np.random.default_rng(seed)
    address = rng.integers(0, 2 ** 63 - 1, count, endpoint=True)
    address[rng.random(count) < 0.3] //= 2 ** 30                 # also short addresses
    address[:3] = [0, 2 ** 63 - 1, 0xABCDEF][:count]
    is_write = rng.random(count) < 0.4
    arrive = np.cumsum(rng.integers(0, 4, count))                # repeats allowed
    if seed % 2:
        arrive += 2 ** 63 - 1 - int(arrive[-1])                   # up to the int64 limit
    blanks = [" ", "\t", "  ", " \t ", "\t\t"]
    ends = {0: ["\n"], 1: ["\r\n"], 2: ["\n", "\r\n"], 3: ["\r\n", "\n"]}[seed % 4]
    lines = []
    for a, w, c in zip(address.tolist(), is_write.tolist(), arrive.tolist()):
        digits = f"{a:x}"
        case = rng.integers(3)
        digits = digits.upper() if case == 1 else (
            "".join(ch.upper() if rng.random() < 0.5 else ch for ch in digits) if case == 2 else digits)
        digits = "0" * int(rng.integers(0, 3) == 0) * int(rng.integers(1, 4)) + digits
        text = ["0x", "0X", ""][rng.integers(3)] + digits
        if fmt == "dramsim3":
            fields = [text, "WRITE" if w else "READ", f"{c:0{int(rng.integers(1, 4))}d}"]
        elif fmt == "ramulator":
            fields = [text, "W" if w else "R"]
        else:
            fields = ["ST" if w else "LD", text]
        lead = rng.choice(blanks) if rng.random() < 0.2 else ""
        tail = rng.choice(blanks) if rng.random() < 0.2 else ""
        line = lead + "".join(f + (rng.choice(blanks) if i < len(fields) - 1 else "")
                              for i, f in enumerate(fields)) + tail
        lines.append(line + rng.choice(ends))
    text = "".join(lines)
    if seed % 4 == 3:
        text = text.rstrip("\r\n")                                # no final newline
    if fmt != "dramsim3":
        arrive = np.zeros(count, np.int64)
    return text.encode("ascii"), address, is_write, arrive


def _outcome(path, slow=False):
    """What parse_trace gives: the trace's contents or the error (type, problems or text);
    slow: of the line-by-line parser alone."""
    with pytest.MonkeyPatch.context() as patch:
        if slow:
            patch.setattr(trace_module, "_fast", lambda data, name: None)
        try:
            t = parse_trace(path)
        except ConfigError as exc:
            return "error", [(p.line, p.message) for p in exc.problems]
        except Exception as exc:                                  # noqa: BLE001
            return "error", type(exc).__name__, str(exc)
    assert t.arrive_cycle.dtype == t.address.dtype == np.int64 and t.is_write.dtype == np.bool_
    return t.format, t.address.tolist(), t.is_write.tolist(), t.arrive_cycle.tolist()


@pytest.mark.parametrize("fmt", ["dramsim3", "ramulator", "ramulator2"])
@pytest.mark.parametrize("seed", range(8))
def test_fast_scan_equals_line_parser_on_random_traces(tmp_path, fmt, seed):
    data, address, is_write, arrive = _random_trace(seed, fmt, 3000)
    path = tmp_path / "t.trace"
    path.write_bytes(data)
    fast = trace_module._fast(data, str(path))
    assert fast is not None, "a clean trace must take the compiled scan"
    assert fast.format == fmt
    assert fast.address.tolist() == address.tolist()
    assert fast.is_write.tolist() == is_write.tolist()
    assert fast.arrive_cycle.tolist() == arrive.tolist()
    expected = (fmt, address.tolist(), is_write.tolist(), arrive.tolist())
    assert _outcome(path) == expected
    assert _outcome(path, slow=True) == expected


@pytest.mark.parametrize("fmt", ["dramsim3", "ramulator", "ramulator2"])
def test_fast_scan_python_semantics(fmt):
    """The kernel's Python body (what NUMBA_DISABLE_JIT=1 runs) gives the compiled result."""
    for seed in range(4):
        data, address, is_write, arrive = _random_trace(seed, fmt, 200)
        code, *arrays = scan_python(np.frombuffer(data, np.uint8))
        assert code != 0
        assert [a.tolist() for a in arrays] == [address.tolist(), is_write.tolist(), arrive.tolist()]


NOT_A_REQUEST = ("not a DRAMsim3 ('0xADDR READ|WRITE CYCLE'), Ramulator ('0xADDR R|W') or "
                 "Ramulator 2 ('LD|ST 0xADDR') request")


@pytest.mark.parametrize("data, expected", [
    # read by the line parser
    (b"# comment\n0x40 READ 0\n0x80 WRITE 3\n", ("dramsim3", [64, 128], [False, True], [0, 3])),
    (b"0x40 READ 0\n\n0x80 WRITE 3\n", ("dramsim3", [64, 128], [False, True], [0, 3])),
    (b"0x40 R\n0x80 W\n  \n", ("ramulator", [64, 128], [False, True], [0, 0])),
    (b"0x40 R\n0x80 W\n\t", ("ramulator", [64, 128], [False, True], [0, 0])),
    (b"0x40 READ 0\r0x80 WRITE 3\r", ("dramsim3", [64, 128], [False, True], [0, 3])),     # lone \r
    (b"0x40 R\n0x80 R\r0xc0 W\n", ("ramulator", [64, 128, 192], [False, False, True], [0, 0, 0])),
    (b"+0x40 READ 0\n0x_8_0 WRITE 1_0\n", ("dramsim3", [64, 128], [False, True], [0, 10])),
    (b"LD 0x40\nST +80\n", ("ramulator2", [64, 128], [False, True], [0, 0])),
    (b"0x40 READ -0\n0x80\x1fWRITE +3\n", ("dramsim3", [64, 128], [False, True], [0, 3])),
    (b"0x40\x1fR\x0c0x80 W\n", ("ramulator", [64, 128], [False, True], [0, 0])),  # \x0c ends a line
    # errors, reported as before
    (b"0xzz READ 0\n0x40 READ 1\n", ("error", [(1, "'0xzz' is not a hexadecimal address")])),
    (b"0x READ 0\n", ("error", [(1, "'0x' is not a hexadecimal address")])),
    (b"-0x40 W\n", ("error", [(1, "negative address '-0x40'")])),
    (b"0x40 READ 5\n0x80 READ 4\n", ("error", [(2, "cycle 4 is before the previous request's 5")])),
    (b"0x40 READ -1\n", ("error", [(1, "negative cycle")])),
    (b"0x40 READ 1\n0x80 READ 1 2\n", ("error", [(2, "expected '0xADDR READ|WRITE CYCLE'")])),
    (b"0x40 READ 1\n0x80 R\n", ("error", [(2, "expected '0xADDR READ|WRITE CYCLE'")])),
    (b"0x40 R\nLD 0x80\n", ("error", [(2, "expected '0xADDR R|W'")])),
    (b"0x40 read 0\n", ("error", [(1, NOT_A_REQUEST)])),
    (b"0x40 READ 0\n0x80 READ 0 # note\n", ("error", [(2, "expected '0xADDR READ|WRITE CYCLE'")])),
    (b"0x40 READ 0x1\n", ("error", [(1, "cannot read '0x40 READ 0x1'")])),
    (b"", ("error", [(None, "no requests in the trace")])),
    (b" \n\n", ("error", [(None, "no requests in the trace")])),
    (b"0x8000000000000000 READ 0\n", ("error", [(1, "address '0x8000000000000000' does not fit in 63 bits")])),
    (b"LD 0x1fffffffffffffffff\n", ("error", [(1, "address '0x1fffffffffffffffff' does not fit in 63 bits")])),
    (b"0x40 READ 9223372036854775808\n", ("error", [(1, "cycle 9223372036854775808 does not fit in 63 bits")])),
    # errors that the former str.split fast path missed (it counted fields per file, not per line)
    (b"0x40 R\n0x80\x0bW\n", ("error", [(2, "expected '0xADDR R|W'"), (3, "expected '0xADDR R|W'")])),
    (b"0x10 READ 0\n0x40 READ\n1 0x80 WRITE 3\n", ("error", [(2, "expected '0xADDR READ|WRITE CYCLE'"),
                                                            (3, "expected '0xADDR READ|WRITE CYCLE'")])),
])
def test_unusual_traces_take_the_line_parser(tmp_path, data, expected):
    path = tmp_path / "t.trace"
    path.write_bytes(data)
    assert trace_module._fast(data, str(path)) is None
    code, *_ = scan_python(np.frombuffer(data, np.uint8))
    assert code == 0
    assert _outcome(path) == expected
    assert _outcome(path, slow=True) == expected


def test_largest_values_take_the_fast_scan(tmp_path):
    data = b"0x7fffffffffffffff READ 9223372036854775807\n0X00000000000000000000 WRITE 9223372036854775807"
    fast = trace_module._fast(data, "t")
    assert fast is not None
    assert fast.address.tolist() == [2 ** 63 - 1, 0] and fast.arrive_cycle.tolist() == [2 ** 63 - 1] * 2


def test_non_ascii_and_unreadable_files_report_as_before(tmp_path):
    path = tmp_path / "t.trace"
    path.write_bytes("0x40 READ 0\n0x80 WRITE 3 \u00e9\n".encode())
    with pytest.raises(UnicodeDecodeError) as decoding:
        path.read_text(encoding="ascii")
    with pytest.raises(ResolveError) as info:
        parse_trace(path)
    assert str(info.value) == f"{path}: cannot read: {decoding.value}"
    with pytest.raises(ResolveError, match="no such file"):
        parse_trace(tmp_path / "missing.trace")
    with pytest.raises(ResolveError, match="cannot read"):
        parse_trace(tmp_path)
