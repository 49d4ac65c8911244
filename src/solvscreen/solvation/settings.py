"""How the crowded-shell free energies are computed (config section ``solvation``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import InputError
from ..core.settings import ConfigSection


@dataclass(frozen=True)
class SolvationSettings(ConfigSection):
    """The source of truth for the solvation stage's defaults (docs/solvating_power.md)."""

    SECTION = "solvation"

    anion: str = "FSI"  # the anion that competes for the last site (a library anion)
    temperature_K: float = 298.15
    nu0_cm: float = 100.0  # quasi-RRHO cutoff (Grimme 2012)
    max_n: int = 3  # most solvent molecules per cation (cost: monodentate shells stop here)
    max_atoms: int = 90  # no cluster larger than this (the step that would exceed it is not computed)
    # search per cluster: rigid starts -> single points -> loose -> tight optimization -> Hessian
    n_directions: int = 3  # open directions tried when a molecule is added to a smaller minimum
    n_base_minima: int = 2  # lowest minima of the smaller cluster that molecules are added to
    n_scratch: int = 2  # whole-cluster starts on rotated ideal polyhedra
    n_loose: int = 2
    n_tight: int = 2
    n_hessian: int = 1  # lowest minima of each cluster that get frequencies
    central_hessian: bool = False  # central (6N gradients) instead of forward (3N + 1) differences
    #: frequencies of the anion cluster M+(L)n-1 A-; without them its thermal part is estimated as
    #: that of the solvent step it competes with (stated in the record)
    anion_hessian: bool = False
    loose_fmax_eV_per_A: float = 0.1
    loose_max_steps: int = 20
    fmax_eV_per_A: float = 0.02
    max_steps: int = 150
    distinct_kcal_per_mol: float = 0.1  # minima closer in energy count as one
    seed: int = 20240917
    method_error_kcal_per_mol: float = 2.0  # added in quadrature to the search spread

    def __post_init__(self) -> None:
        for key in ("max_n", "n_directions", "n_base_minima", "n_loose", "n_tight", "n_hessian"):
            if int(getattr(self, key)) < 1:
                raise InputError(f"solvation.{key} must be >= 1")
        if self.n_hessian > self.n_tight:
            raise InputError("solvation.n_hessian must be <= solvation.n_tight")
        if self.temperature_K <= 0 or self.nu0_cm <= 0:
            raise InputError("solvation.temperature_K and nu0_cm must be > 0")

