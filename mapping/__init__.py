"""accsim.mapping: how ops are cut into tiles and placed on compute units.

This package has no simulator imports: it reads plain hardware numbers
(ArrayTarget) and problem shapes (GemmShape) and returns tile schedules that
the simulator executes.
"""
from .gemm_tiling import ArrayTarget, GemmShape, TileChoice, TileSchedule, choose_tile, schedule_gemms

__all__ = ["ArrayTarget", "GemmShape", "TileChoice", "TileSchedule", "choose_tile", "schedule_gemms"]
