"""accsim.mapping: how tensor ops are tiled, ordered and spread over the hardware.

No simulator imports: problems (problem.py) and hardware levels (hierarchy.py)
go in, mappings (nest.py) with analytical costs (cost.py) come out of the
search (search.py), and lower.py turns a mapping into the tile schedule the
simulator executes.
"""
from .cost import Costs, evaluate, evaluate_mapping, evaluate_variants
from .hierarchy import Compute, Hierarchy, Level
from .lower import TileSchedule, concat_schedules, lower
from .nest import Mapping
from .problem import Operand, Problem, bmm, conv2d, elementwise, gemm, op_problems
from .search import OBJECTIVES, Candidate, Constraints, MappingError, SearchResult, search

__all__ = ["Candidate", "Compute", "Constraints", "Costs", "Hierarchy", "Level", "Mapping", "MappingError",
           "OBJECTIVES", "Operand", "Problem", "SearchResult", "TileSchedule", "bmm", "concat_schedules",
           "conv2d", "elementwise", "evaluate", "evaluate_mapping", "evaluate_variants", "gemm", "lower", "op_problems", "search"]
