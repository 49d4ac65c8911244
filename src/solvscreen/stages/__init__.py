"""Stage orchestration: the harness every stage runs through, and one small runner per stage.

A stage is chemistry: a function from inputs (and an engine) to a typed result that
declares its table columns (:class:`~solvscreen.core.records.StageResult`).
:func:`solvscreen.stages.harness.run_stage` wraps it: it builds the record, captures
failures as data, creates engines, counts their work, stamps provenance, writes
atomically and declares every file the stage writes (in the record's own directory).

Runners (each: ``run_<stage>(...) -> Record`` and, where the stage has one, its table):

- :mod:`.structure`  -- reference geometry (conformer search); :func:`load_structure` reads it
- :mod:`.properties` -- electronic descriptors; ``descriptors.csv``
- :mod:`.binding`    -- 1:1 cation binding and ion pairs; ``binding.csv``
- :mod:`.shell`      -- filled shells and anion exchange; ``shells.csv`` (not in the workflow)

The stage packages (:mod:`solvscreen.solvation`, :mod:`solvscreen.md`, :mod:`solvscreen.dft`)
have their runners in their own ``stage``/``runner`` modules, on this harness.

Only the harness is imported here, so chemistry packages may use it without a cycle.
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
