"""Exception hierarchy.

Two families, as in ASE's calculators: problems found *before* anything runs
(:class:`InputError` and its subclass :class:`ValidationError`) and failures of a
run (:class:`CalculationFailed`). A failed calculation on one molecule becomes a
record with ``status = "failed"`` and its reason; it never stops a batch.
"""

from __future__ import annotations


class SolvscreenError(Exception):
    """Base class of every error raised by solvscreen."""


class InputError(SolvscreenError):
    """Bad input detected before any computation."""


class ValidationError(InputError):
    """A table, config or row failed validation.

    The message always names where the problem is (file, row) and why.
    """

    def __init__(self, reason: str, *, source: str | None = None, row: int | str | None = None):
        self.reason = reason
        self.source = source
        self.row = row
        where = []
        if source:
            where.append(str(source))
        if row is not None:
            where.append(f"row {row}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


class ValidationErrors(InputError):
    """Several validation errors, reported together."""

    def __init__(self, errors: list[ValidationError]):
        self.errors = list(errors)
        lines = [str(e) for e in self.errors]
        super().__init__(f"{len(lines)} validation error(s):\n  " + "\n  ".join(lines))


class EngineUnavailable(SolvscreenError):
    """The requested xTB backend is not installed."""


class CalculationFailed(SolvscreenError):
    """An xTB calculation (SCF, optimization) failed after all retries.

    ``error_type`` is a short machine-readable tag a caller can act on
    (``"scf"``, ``"optimization"``, ``"embedding"``, ``"dissociated"``, ...).
    """

    def __init__(self, message: str, *, error_type: str = "calculation"):
        self.error_type = error_type
        super().__init__(message)
