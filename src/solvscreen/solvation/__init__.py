"""Solvating power from crowded-shell free energies (the solvation stage's chemistry).

:mod:`.thermo` (Hessians, quasi-RRHO, standard-state terms), :mod:`.settings`
(:class:`SolvationSettings`), :mod:`.clusters` (multi-start search of M+(L)n and
M+(L)n-1 A-), :mod:`.stepwise` (stepwise dG_n to saturation, the anion's step, the
solvating power). The stage runner is :mod:`.stage` (through :mod:`solvscreen.stages.harness`, as md/ and dft/).
"""

from .settings import SolvationSettings

__all__ = ["SolvationSettings"]
