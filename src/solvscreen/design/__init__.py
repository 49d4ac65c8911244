"""Design from a parent solvent: derivatives by the review's three strategies, filtered as a
chemist would, ready to enter a run's library.

- :mod:`.strategies`: the edits (end-group homologation, halogenation, backbone methyl
  branching), each an RDKit edit with a readable name, and :func:`~.strategies.enumerate_derivatives`
  (steps in combination, deduplicated by InChIKey, deterministic);
- :mod:`.filters`: the filters (elements, size, unstable groups, synthetic accessibility) with
  their reasons, and the boiling-point warning (:mod:`.joback`);
- :mod:`.library`: a design as library rows (names, the run's ``design`` config section);
- :mod:`.cli`: ``solvscreen design PARENT``.

The package sits above :mod:`solvscreen.inputs` (it reads the library) and below the
interface; no lower layer imports it. Nothing is imported here, so that any layer may
import one of its modules alone.
"""
