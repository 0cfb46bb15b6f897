"""Energy and area of a run (technology tables, estimator plug-ins, accounting).

    from accsim.energy import account
    books = account(system, stats)      # after System.simulate
    books.energy["total_pj"], books.area["total_mm2"]

Estimators register themselves on import (one per module); see estimator.py.
"""
from __future__ import annotations

from . import dram_currents, formula, synthesis, table  # noqa: F401 (registration)
from .estimator import ESTIMATORS, AreaQuote, Decline, Estimator
from .model import Accounting, account, roofline
from .tech import TechTableError, Technology, load_table, technology

__all__ = ["ESTIMATORS", "AreaQuote", "Decline", "Estimator", "Accounting", "account", "roofline",
           "TechTableError", "Technology", "load_table", "technology"]
