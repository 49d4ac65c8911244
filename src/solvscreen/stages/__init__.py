"""Stage orchestration: the harness every stage runs through, and one small runner per stage.

A stage is chemistry: a function from inputs (and an engine) to a typed result.
:func:`solvscreen.stages.harness.run_stage` wraps it: it builds the record, captures
failures as data, creates engines, counts their work, stamps provenance, writes
atomically and declares every file the stage writes.
"""

from .harness import (
    StageContext,
    StageResult,
    missing_record,
    read_record,
    run_stage,
    write_died_record,
)

__all__ = [
    "StageContext",
    "StageResult",
    "missing_record",
    "read_record",
    "run_stage",
    "write_died_record",
]
