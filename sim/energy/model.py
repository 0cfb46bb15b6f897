"""Energy and area of a run: events x energy per event + leakage x area x time.

Areas are priced first (their sum is the die, whose size sets the DMA wire
length); then every (component, event) count of every op is priced by the
first estimator that does not decline; leakage is the leakage power density of
each component's logic and SRAM area times the run's length, and static power
that an estimator models (DRAM background) is added over the same time.
Units: pJ, mm2, W.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from ..clock import TICKS_PER_SECOND
from .estimator import AreaQuote, Decline, ordered
from .tech import TechTableError, technology

PJ_PER_J = 1e12


@dataclass(frozen=True)
class Accounting:
    energy: dict                  # summary["energy"]
    area: dict                    # summary["area"]
    energy_frame: pd.DataFrame    # energy.csv: by component, event, op kind (+ leakage, static)
    area_frame: pd.DataFrame      # area.csv
    op_energy_pj: list[float]     # dynamic energy of each op, in record order


def _first(estimators, ask, component, item: str, table_path: str):
    """(value, estimator name, {declined: reason}) of the first estimator that prices `item`.
    Raises TechTableError when an estimator knew the item but the table lacked its entry;
    returns (None, None, declined) when no estimator knows the item at all."""
    declined: dict[str, str] = {}
    missing = []
    for estimator in estimators:
        try:
            return ask(estimator), estimator.NAME, declined
        except Decline as why:
            declined[estimator.NAME] = why.reason
            if why.missing:
                missing.append(why.missing)
    if missing:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in declined.items())
        raise TechTableError(f"{table_path}: component {component.name!r} ({component.TYPE}) needs entry "
                             f"{missing[0]} for {item!r}; estimators declined ({reasons})")
    return None, None, declined


def account(system, stats) -> Accounting:
    """Price a run; every missing table entry is reported at once (TechTableError)."""
    tech = technology(system.arch.technology)
    table_path = tech.table.path
    missing: list[str] = []

    def first(estimators, ask, component, item):
        try:
            return _first(estimators, ask, component, item, table_path)
        except TechTableError as exc:
            if str(exc) not in missing:
                missing.append(str(exc))
            return None, None, {}

    provenance: dict[str, dict] = {name: {"type": c.TYPE} for name, c in system.components.items()}
    quotes: dict[str, AreaQuote] = {}
    for name, component in system.components.items():
        quote, by, declined = first(ordered(tech, system), lambda e: e.area(component), component, "area")
        quotes[name] = quote or AreaQuote(note="no estimator prices this component type")
        provenance[name]["area"] = {"by": by, "note": quotes[name].note, "declined": declined}
    chip_mm2 = sum(q.total_mm2 for q in quotes.values())
    estimators = ordered(tech, system, chip_mm2)

    prices: dict[tuple[str, str], tuple[float, str | None]] = {}

    def priced(cost, kind: str) -> tuple[float, list[tuple[tuple[str, str, str], float]]]:
        """An op's dynamic energy and its ((component, event, op kind), count) pairs."""
        total, pairs = 0.0, []
        for (name, event), count in cost.events.items():
            if (name, event) not in prices:
                component = system.components[name]
                pj, by, declined = first(estimators, lambda e: e.event_pj(component, event), component, event)
                prices[(name, event)] = (pj or 0.0, by)
                provenance[name].setdefault("events", {})[event] = {"by": by, "declined": declined}
            total += count * prices[(name, event)][0]
            pairs.append(((name, event, kind), count))
        return total, pairs

    # identical ops share one OpCost (System._costs): each is priced once; the counts are
    # still added op by op, in record order (the same float sums)
    seen: dict[tuple[int, str], tuple[float, list]] = {}
    counts: dict[tuple[str, str, str], float] = defaultdict(float)
    op_energy = []
    for record in stats.records:
        key = (id(record.cost), record.op.kind)
        if key not in seen:
            seen[key] = priced(record.cost, record.op.kind)
        total, pairs = seen[key]
        for event_key, count in pairs:
            counts[event_key] += count
        op_energy.append(total)

    seconds = stats.total_ticks / TICKS_PER_SECOND
    rows = [{"component": name, "type": system.components[name].TYPE, "event": event, "op_kind": kind,
             "count": count, "pj_per_event": prices[(name, event)][0],
             "energy_pj": count * prices[(name, event)][0], "estimator": prices[(name, event)][1] or "unpriced"}
            for (name, event, kind), count in counts.items()]
    leakage = tech.table.leakage
    for name, component in system.components.items():
        quote = quotes[name]
        watts = (quote.logic_mm2 * leakage["logic_w_per_mm2"] + quote.sram_mm2 * leakage["sram_w_per_mm2"]) \
            * tech.leakage_factor
        rows.append(_static_row(name, component, "leakage", watts, seconds, "leakage x area"))
        static, by, declined = first(estimators, lambda e: e.static_w(component), component, "static")
        if static:
            rows.append(_static_row(name, component, "static", static, seconds, by))
            provenance[name]["static"] = {"by": by, "watts": static}
    if missing:
        raise TechTableError("\n".join(missing))
    frame = pd.DataFrame(rows, columns=["component", "type", "event", "op_kind", "count", "pj_per_event",
                                        "energy_pj", "estimator"])
    return Accounting(_energy_summary(frame, seconds, estimators, provenance, tech),
                      _area_summary(quotes, tech), frame, _area_frame(system, quotes, provenance), op_energy)


def _static_row(name, component, event, watts, seconds, by) -> dict:
    return {"component": name, "type": component.TYPE, "event": event, "op_kind": "-", "count": seconds,
            "pj_per_event": watts * PJ_PER_J, "energy_pj": watts * seconds * PJ_PER_J, "estimator": by}


def _energy_summary(frame, seconds, estimators, provenance, tech) -> dict:
    total = float(frame["energy_pj"].sum())
    leak = float(frame.loc[frame["event"] == "leakage", "energy_pj"].sum())
    static = float(frame.loc[frame["event"] == "static", "energy_pj"].sum())
    unpriced = sorted({f"{c}.{e}" for c, e, by in frame[["component", "event", "estimator"]].itertuples(index=False)
                       if by == "unpriced"})
    return {
        "total_pj": total,
        "dynamic_pj": total - leak - static,
        "leakage_pj": leak,
        "static_pj": static,
        "average_power_w": total / PJ_PER_J / seconds if seconds else 0.0,
        "by_component": _sums(frame, "component"),
        "by_event": _sums(frame, "event"),
        "by_op_kind": _sums(frame[frame["op_kind"] != "-"], "op_kind"),
        "technology": tech.describe(),
        "estimators": {"accuracy": {e.NAME: e.ACCURACY for e in estimators}, "components": provenance},
        "unpriced": unpriced,
        "units": "pJ, W; leakage = leakage power density x logic/SRAM area x run time; "
                 "static = DRAM background power x run time",
    }


def _sums(frame, column) -> dict:
    return {key: float(value) for key, value in frame.groupby(column, sort=False)["energy_pj"].sum().items()}


def _area_summary(quotes, tech) -> dict:
    return {"total_mm2": sum(q.total_mm2 for q in quotes.values()),
            "by_component": {name: q.total_mm2 for name, q in quotes.items()},
            "by_kind": {"logic": sum(q.logic_mm2 for q in quotes.values()),
                        "sram": sum(q.sram_mm2 for q in quotes.values()),
                        "phy": sum(q.phy_mm2 for q in quotes.values())},
            "node_nm": tech.node_nm}


def _area_frame(system, quotes, provenance) -> pd.DataFrame:
    return pd.DataFrame([{"component": name, "type": c.TYPE, "count": c.count, "logic_mm2": quotes[name].logic_mm2,
                          "sram_mm2": quotes[name].sram_mm2, "phy_mm2": quotes[name].phy_mm2,
                          "area_mm2": quotes[name].total_mm2, "estimator": provenance[name]["area"]["by"] or "unpriced",
                          "note": quotes[name].note} for name, c in system.components.items()])


def roofline(system) -> dict:
    """Peak FLOP/s of the GEMM arrays and peak bandwidth of the memories, for roofline plots."""
    flops = sum(2 * c.params["rows"] * c.params["cols"] * c.count * c.clock.frequency_hz
                for c in system.components.values() if c.TYPE == "systolic_array")
    bandwidth = 0.0
    for c in system.memories:
        bandwidth += getattr(c, "bandwidth_bytes_per_s", 0.0) or getattr(getattr(c, "preset", None),
                                                                        "peak_bytes_per_s", 0.0)
    return {"peak_flops_per_s": flops, "memory_bytes_per_s": bandwidth}
