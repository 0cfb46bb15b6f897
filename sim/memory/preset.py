"""DRAM standards as data: a preset YAML (configs/dram/NAME.yaml or a user
file) is parsed, validated and compiled into the flat arrays of the kernel.

Controller settings (queues, scheduling, page policy, address mapping) are a
separate record so one preset serves many controllers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..errors import ConfigError, Problem, ResolveError
from ..kernels.dram import MAX_BANKS, MAX_CHANNELS
from ..resolve import bundled_dir
from ..schema import Checker, opt, req
from ..yamlio import LoadedFile, LocDict, load
from .constraints import CMD, CONSTRAINTS, SCOPE, evaluate

PRESET_FIELDS = {
    "schema_version": req("int", "format version", choices=(1,)),
    "name": req("str", "standard name"),
    "description": req("str", "one line"),
    "organization": req("map", "channels, ranks, bank groups, banks, rows, row size, bus"),
    "timing": req("map", "timing parameters in cycles of tCK (tCK itself in ns)"),
    "power": opt("map", None, "VDD (V) and IDD currents (mA) per device"),
    "notes": opt("str", "", "free text"),
}
assert 16 * 64 * 64 <= MAX_BANKS
# (the maxima are what the kernel's packed request records hold: accsim.kernels.dram.MAX_CHANNELS,
# MAX_BANKS = 16 ranks x 64 bank groups x 64 banks per group, rows below 2**31; real devices are far below)
ORG_FIELDS = {
    "channels": req("int", "independent channels", positive=True, maximum=MAX_CHANNELS),
    "ranks": req("int", "ranks per channel", positive=True, maximum=16),
    "bankgroups": req("int", "bank groups per rank", positive=True, maximum=64),
    "banks_per_group": req("int", "banks per bank group", positive=True, maximum=64),
    "rows": req("int", "rows per bank", positive=True, maximum=2**31 - 1),
    "row_bytes": req("int", "bytes per row (page) across the channel", positive=True),
    "bus_bits": req("int", "data bus width of a channel", positive=True),
    "burst_length": req("int", "beats per burst (data rate: two beats per tCK)", positive=True),
    "devices_per_rank": opt("int", 1, "devices sharing a rank (for energy)", positive=True),
}
_REQUIRED_TIMING = ("CL", "CWL", "tRCDRD", "tRCDWR", "tRP", "tRAS", "tRC", "tCCD_S", "tCCD_L", "tRRD_S",
                    "tRRD_L", "tFAW", "tWR", "tWTR_S", "tWTR_L", "tRTP", "tREFI", "tRFC")
TIMING_FIELDS = {"tCK_ns": req("float", "clock period in ns", positive=True),
                 **{name: req("int", f"{name} in cycles", minimum=0) for name in _REQUIRED_TIMING},
                 "tRTRS": opt("int", 0, "rank-to-rank switch on the data bus", minimum=0),
                 "tRFCpb": opt("int", 0, "per-bank refresh cycle time (0: no per-bank refresh)", minimum=0),
                 "tREFIpb": opt("int", 0, "per-bank refresh interval (0: tREFI / banks)", minimum=0)}
POWER_FIELDS = {"VDD": req("float", "supply voltage in V", positive=True),
                **{name: req("float", f"{name} in mA", minimum=0)
                   for name in ("IDD0", "IDD2N", "IDD3N", "IDD4R", "IDD4W", "IDD5AB")}}

CONTROLLER_FIELDS = {
    "read_queue": opt("int", 32, "read queue entries per channel", positive=True),
    "write_queue": opt("int", 32, "write buffer entries per channel", positive=True),
    "write_high_watermark": opt("float", 0.8, "start draining writes at this fill", positive=True, maximum=1.0),
    "write_low_watermark": opt("float", 0.2, "stop draining writes at this fill", minimum=0.0, maximum=1.0),
    "row_hit_cap": opt("int", 4, "consecutive row hits before a waiting row conflict wins", positive=True),
    "page_policy": opt("str", "open", "open | closed (auto-precharge when no queued hit)", choices=("open", "closed")),
    "address_mapping": opt("str", "ro-ra-bg-ba-ch-co", "field order, most significant first"),
    "xor_bank_hash": opt("bool", False, "XOR the bank bits with the low row bits"),
    "refresh": opt("str", "all_bank", "all_bank | per_bank | none", choices=("all_bank", "per_bank", "none")),
}
REQUEST_BYTES = 64
MAPPING_FIELDS = ("ro", "ra", "bg", "ba", "ch", "co")


@dataclass(frozen=True)
class DramPreset:
    name: str
    description: str
    path: str
    org: Mapping[str, int]
    timing: Mapping[str, float]
    power: Mapping[str, float] | None

    @property
    def tck_ps(self) -> float:
        return self.timing["tCK_ns"] * 1000.0

    @property
    def burst_cycles(self) -> int:
        return max(1, self.org["burst_length"] // 2)

    @property
    def burst_bytes(self) -> int:
        return self.org["bus_bits"] // 8 * self.org["burst_length"]

    @property
    def banks_per_rank(self) -> int:
        return self.org["bankgroups"] * self.org["banks_per_group"]

    @property
    def peak_bytes_per_s(self) -> float:
        """All channels: bus bytes per beat x 2 beats per tCK."""
        return self.org["channels"] * self.org["bus_bits"] / 8 * 2 * 1e9 / self.timing["tCK_ns"]

    @property
    def capacity_bytes(self) -> int:
        o = self.org
        return o["channels"] * o["ranks"] * self.banks_per_rank * o["rows"] * o["row_bytes"]

    def names(self) -> dict[str, int]:
        values = {k: int(v) for k, v in self.timing.items() if k != "tCK_ns"}
        values["tBURST"] = self.burst_cycles
        return values


@dataclass(frozen=True)
class ControllerSpec:
    read_queue: int = 32
    write_queue: int = 32
    write_high_watermark: float = 0.8
    write_low_watermark: float = 0.2
    row_hit_cap: int = 4
    page_policy: str = "open"
    address_mapping: str = "ro-ra-bg-ba-ch-co"
    xor_bank_hash: bool = False
    refresh: str = "all_bank"


def _is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def parse_preset(loaded: LoadedFile) -> DramPreset:
    checker = Checker(loaded.problems)
    tree = loaded.tree
    top = checker.section(tree, "", PRESET_FIELDS)
    org = checker.section(top["organization"] or LocDict(), "organization", ORG_FIELDS)
    timing = checker.section(top["timing"] or LocDict(), "timing", TIMING_FIELDS)
    power = checker.section(top["power"], "power", POWER_FIELDS) if top["power"] is not None else None
    checker.raise_if_any()
    node = tree["organization"]
    # channels may be any count (the address mapping takes the channel as a digit of that radix, as
    # GPUs with 5 or 10 HBM stacks do); the fields inside a channel are bit fields
    for key in ("ranks", "bankgroups", "banks_per_group", "rows"):
        if not _is_power_of_two(org[key]):
            checker.add(node.location(key), f"organization.{key}", f"must be a power of two, got {org[key]}")
    burst = org["bus_bits"] // 8 * org["burst_length"]
    if burst != REQUEST_BYTES:
        checker.add(node.location("burst_length"), "organization",
                    f"one burst moves {burst} bytes (bus_bits / 8 x burst_length); accsim requests are "
                    f"{REQUEST_BYTES} bytes")
    elif org["row_bytes"] % REQUEST_BYTES or not _is_power_of_two(org["row_bytes"] // REQUEST_BYTES):
        checker.add(node.location("row_bytes"), "organization.row_bytes",
                    f"must be a power-of-two multiple of {REQUEST_BYTES} bytes")
    if timing["tRC"] < timing["tRAS"] + timing["tRP"]:
        checker.add(tree["timing"].location("tRC"), "timing.tRC",
                    f"tRC {timing['tRC']} is below tRAS + tRP = {timing['tRAS'] + timing['tRP']}")
    checker.raise_if_any()
    return DramPreset(top["name"], top["description"], str(loaded.path), MappingProxyType(org),
                      MappingProxyType(timing), MappingProxyType(power) if power else None)


def preset_names() -> list[str]:
    folder = bundled_dir("config")
    return sorted(p.stem for p in (folder / "dram").glob("*.yaml")) if folder else []


def load_preset(name: str) -> DramPreset:
    """A bundled preset name (hbm2, ddr4-3200, ...) or a path to a preset YAML."""
    path = Path(name)
    if not path.is_file():
        folder = bundled_dir("config")
        candidate = folder / "dram" / f"{name.lower().removesuffix('.yaml')}.yaml" if folder else None
        if candidate is None or not candidate.is_file():
            raise ResolveError(f"{name}: no such file and no bundled DRAM preset of that name; "
                               f"presets: {', '.join(preset_names())}")
        path = candidate
    return parse_preset(load(path))


def parse_controller_overrides(assignments) -> dict:
    """`key=value` strings -> validated controller values (defaults for the rest)."""
    from ..yamlio import apply_override

    tree = LocDict(origin=("--set", None))
    for assignment in assignments:
        apply_override(tree, assignment)
    checker = Checker()
    values = checker.section(tree, "", CONTROLLER_FIELDS)
    checker.raise_if_any()
    return values


def with_channels(preset: DramPreset, channels: int) -> DramPreset:
    """The same device with `channels` channels in all (e.g. 32 for four 8-channel HBM2 stacks)."""
    from dataclasses import replace

    return replace(preset, org=MappingProxyType({**preset.org, "channels": channels}))


def preset_from_params(params: dict) -> DramPreset:
    """The preset a `type: dram` component names, with its channel count when it gives one."""
    preset = load_preset(params["preset"])
    channels = params.get("channels") or 0
    return with_channels(preset, channels) if channels else preset


def controller_from(values: dict) -> ControllerSpec:
    return ControllerSpec(**{k: values[k] for k in CONTROLLER_FIELDS if k in values})


def check_controller(spec: ControllerSpec, preset: DramPreset, where=("<controller>", None), prefix="") -> None:
    problems = []
    fields = [f for f in spec.address_mapping.split("-")]
    if sorted(fields) != sorted(MAPPING_FIELDS):
        problems.append(Problem(where[0], where[1], f"{prefix}address_mapping",
                                f"{spec.address_mapping!r} must name each of {', '.join(MAPPING_FIELDS)} once, "
                                "separated by '-', most significant first"))
    if spec.write_low_watermark >= spec.write_high_watermark:
        problems.append(Problem(where[0], where[1], f"{prefix}write_low_watermark",
                                "must be below write_high_watermark"))
    if spec.refresh == "per_bank" and not preset.timing["tRFCpb"]:
        problems.append(Problem(where[0], where[1], f"{prefix}refresh",
                                f"preset {preset.name} has no per-bank refresh (tRFCpb)"))
    if problems:
        raise ConfigError(problems)


@dataclass(frozen=True)
class CompiledDram:
    """Everything the kernel needs, as integers and arrays."""

    org: np.ndarray            # channels, ranks, bankgroups, banks_per_group
    rules: np.ndarray          # (n, 4): before, after, scope, delay cycles
    scalars: np.ndarray        # see SCALAR_NAMES
    mapping: np.ndarray        # (6, 2): field code, number of values, least significant first
    energy_pj: np.ndarray      # per command (CMD order)
    background_mw: np.ndarray  # [all banks precharged, some bank active] per rank
    meta: dict = field(default_factory=dict)


SCALAR_NAMES = ("CL", "CWL", "tBURST", "tFAW", "tREFI", "tRFC", "tREFIpb", "tRFCpb", "read_queue", "write_queue",
                "write_high", "write_low", "row_hit_cap", "closed_page", "refresh_mode", "xor_hash", "row_bits",
                "bank_bits")
SCALAR = {name: i for i, name in enumerate(SCALAR_NAMES)}
REFRESH_MODE = {"none": 0, "all_bank": 1, "per_bank": 2}
FIELD_CODE = {name: i for i, name in enumerate(MAPPING_FIELDS)}


def _bits(value: int) -> int:
    return int(value).bit_length() - 1


def compile_dram(preset: DramPreset, controller: ControllerSpec) -> CompiledDram:
    names = preset.names()
    rows = []
    for rule in CONSTRAINTS:
        try:
            delay = evaluate(rule.delay, names)
        except KeyError:
            continue                      # a rule over a parameter this standard lacks (e.g. tRFCpb)
        rows.append((CMD[rule.before], CMD[rule.after], SCOPE[rule.scope], max(0, delay)))
    o = preset.org
    # the address (in 64-byte requests) is a mixed-radix number whose digits are the fields; every
    # radix but the channel count is a power of two, so those digits are bit fields
    radix = {"ch": o["channels"], "ra": o["ranks"], "bg": o["bankgroups"], "ba": o["banks_per_group"],
             "ro": o["rows"], "co": o["row_bytes"] // REQUEST_BYTES}
    bits = {name: _bits(radix[name]) for name in ("ro", "bg", "ba")}     # for the XOR bank hash
    order = controller.address_mapping.split("-")[::-1]
    mapping = np.array([(FIELD_CODE[f], radix[f]) for f in order], np.int64)
    t = names
    refi_pb = t.get("tREFIpb") or t["tREFI"] // preset.banks_per_rank
    scalars = {"CL": t["CL"], "CWL": t["CWL"], "tBURST": t["tBURST"], "tFAW": t["tFAW"], "tREFI": t["tREFI"],
               "tRFC": t["tRFC"], "tREFIpb": refi_pb, "tRFCpb": t.get("tRFCpb", 0),
               "read_queue": controller.read_queue, "write_queue": controller.write_queue,
               "write_high": max(1, int(round(controller.write_high_watermark * controller.write_queue))),
               "write_low": int(round(controller.write_low_watermark * controller.write_queue)),
               "row_hit_cap": controller.row_hit_cap, "closed_page": int(controller.page_policy == "closed"),
               "refresh_mode": REFRESH_MODE[controller.refresh], "xor_hash": int(controller.xor_bank_hash),
               "row_bits": bits["ro"], "bank_bits": bits["bg"] + bits["ba"]}
    energy, background = _energy(preset)
    return CompiledDram(
        org=np.array([o["channels"], o["ranks"], o["bankgroups"], o["banks_per_group"]], np.int64),
        rules=np.array(rows, np.int64).reshape(-1, 4),
        scalars=np.array([scalars[n] for n in SCALAR_NAMES], np.int64),
        mapping=mapping, energy_pj=energy, background_mw=background,
        meta={"preset": preset.name, "tck_ps": preset.tck_ps})


def _energy(preset: DramPreset) -> tuple[np.ndarray, np.ndarray]:
    """Energy per command (pJ) and background power per rank (mW) from IDD
    currents, following Micron TN-41-01 ("Calculating Memory System Power for
    DDR3"), the method DRAMsim3 also uses: mA x V x ns = pJ."""
    energy = np.zeros(len(CMD), np.float64)
    background = np.zeros(2, np.float64)
    if preset.power is None:
        return energy, background
    p, t = preset.power, preset.timing
    tck, vdd, devices = t["tCK_ns"], p["VDD"], preset.org["devices_per_rank"]
    act = (p["IDD0"] * t["tRC"] - (p["IDD3N"] * t["tRAS"] + p["IDD2N"] * (t["tRC"] - t["tRAS"]))) * tck
    read = (p["IDD4R"] - p["IDD3N"]) * preset.burst_cycles * tck
    write = (p["IDD4W"] - p["IDD3N"]) * preset.burst_cycles * tck
    refresh = (p["IDD5AB"] - p["IDD3N"]) * t["tRFC"] * tck
    for name, value in (("ACT", act), ("RD", read), ("RDA", read), ("WR", write), ("WRA", write),
                        ("REF", refresh), ("REFPB", refresh / preset.banks_per_rank)):
        energy[CMD[name]] = max(0.0, value) * vdd * devices
    background[:] = [p["IDD2N"] * vdd * devices, p["IDD3N"] * vdd * devices]
    return energy, background
