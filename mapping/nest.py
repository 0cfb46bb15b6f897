"""A mapping: tile sizes per memory level, loop order per level, the dimension
spread over units, and the operands that bypass a level.

    tiles[i]   the tile of every dimension held at level i+1 (level 0, the
               backing memory, holds the whole problem); a tile that does not
               divide its parent leaves a smaller edge tile (padding-free:
               edges carry only real data)
    orders[l]  outer-to-inner order of the loops at level l, which walk the
               level-(l+1) tiles of a level-l tile (the innermost level's own
               loops are the array's folds)
    split      a dimension whose level-0 loop is dealt round-robin to the
               compute units (outermost), or None: one unit works
    bypass     (operand, level name) pairs: the operand is not stored there
"""
from __future__ import annotations

from dataclasses import dataclass

from .problem import Problem


@dataclass(frozen=True)
class Mapping:
    tiles: tuple[tuple[tuple[str, int], ...], ...]
    orders: tuple[tuple[str, ...], ...]
    split: str | None = None
    bypass: frozenset[tuple[str, str]] = frozenset()

    def tile(self, level: int) -> dict[str, int]:
        """Tile extents held at `level` (>= 1)."""
        return dict(self.tiles[level - 1])

    def loop_nest(self, problem: Problem, level_names: tuple[str, ...], units: int) -> list[str]:
        """The mapping as indented pseudo-code, outermost loop first."""
        lines, depth = [], 0
        parent = dict(problem.dims)
        if self.split:
            count = -(-parent[self.split] // self.tile(1)[self.split])
            lines.append(f"parallel-for {self.split.lower()}0 in [0:{count}) over {min(units, count)} unit(s)")
            depth += 1
        for level, order in enumerate(self.orders):
            inner = self.tile(level + 1)
            for dim in order:
                if dim == self.split and level == 0:
                    continue
                count = -(-parent[dim] // inner[dim])
                if count > 1:
                    lines.append("  " * depth + f"for {dim.lower()}{level} in [0:{count})")
                    depth += 1
            held = ", ".join(f"{d}={inner[d]}" for d in problem.names)
            lines.append("  " * depth + f"{level_names[level + 1]} tile: {held}")
            parent = inner
        return lines

    def as_dict(self) -> dict:
        return {"tiles": [dict(t) for t in self.tiles], "orders": [list(o) for o in self.orders],
                "split": self.split, "bypass": sorted(f"{o}@{lv}" for o, lv in self.bypass)}
