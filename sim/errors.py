"""Typed errors raised by the library. Only the CLI turns them into exit codes."""
from __future__ import annotations

from dataclasses import dataclass


class AccsimError(Exception):
    """Base class of every error accsim raises on bad input (CLI exit code 2)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as FILE:LINE: path.to.field."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(AccsimError):
    """One or more validation problems, all collected before raising."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ResolveError(AccsimError):
    """A file or bundled name that does not exist."""


class CapacityError(AccsimError):
    """A workload tensor that does not fit the memory that must hold it."""


class UnitError(ValueError):
    """A quantity string that cannot be parsed in the expected unit."""


class OutputError(AccsimError):
    """Results cannot be written where the user asked."""
