"""Per-molecule electronic descriptors from GFN-xTB at the reference geometry.

- HOMO, LUMO, gap (eV), dipole (D), total energy (Eh): the run's method (GFN2-xTB
  by default). xTB orbital energies are *not* calibrated absolute levels; use them
  for orderings within one method.
- HOMO/LUMO in an ALPB dielectric (default THF-like, ε≈7.4): the levels to compare
  between anions and neutral solvents (gas-phase anion levels are shifted up by
  their charge).
- Vertical IP and EA (eV): IPEA1-xTB (Asgeirsson, Bauer, Grimme, Chem. Sci. 2017),
  ΔSCC energies at the fixed geometry minus the empirical shift of 4.8455 eV that
  the ``xtb`` program applies to both (``xtb --vipea``):
  IP = E(N-1) - E(N) - 4.8455 eV, EA = E(N) - E(N+1) - 4.8455 eV.
- Estimated redox potentials vs K+/K (V), a gas-phase vertical *estimate* for
  ranking, not a prediction of a measured window:
  E_ox = IP/e - 4.44 V + 2.93 V and E_red = EA/e - 4.44 V + 2.93 V
  (absolute SHE potential 4.44 V; K+/K at -2.93 V vs SHE).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .engine import Engine, EngineSettings, SinglePoint, backend_available
from ..core.errors import CalculationFailed
from ..core.records import StageResult
from ..core.units import ABSOLUTE_SHE_V, HARTREE_TO_EV, K_VS_SHE_V

IPEA_METHOD = "IPEA1-xTB"
IPEA_EMPIRICAL_SHIFT_EV = 4.8455
REDOX_CONVERSION = (
    "E(vs K+/K) = E_vertical/e - 4.44 V (absolute SHE) + 2.93 V (K+/K = -2.93 V vs SHE); "
    "vertical gas-phase IPEA1-xTB energies minus the xtb program's 4.8455 eV shift; an estimate"
)


def potential_vs_K(energy_eV: float) -> float:
    """Convert a vertical IP (oxidation) or EA (reduction) in eV to a potential vs K+/K in V."""
    return energy_eV - ABSOLUTE_SHE_V - K_VS_SHE_V


def _ipea_engine(engine: Engine) -> Engine:
    """IPEA1-xTB is a tblite parametrization; use tblite for it whatever the main backend."""
    if engine.settings.backend == "tblite" or not backend_available("tblite"):
        return engine.with_method(IPEA_METHOD)
    settings = EngineSettings(
        backend="tblite",
        method=IPEA_METHOD,
        solvent=engine.settings.solvent,
        electronic_temperature_K=engine.settings.electronic_temperature_K,
    )
    return Engine(settings, engine.stats)


def vertical_ip_ea(engine: Engine, numbers, positions_A, charge: int, uhf: int) -> dict:
    """Vertical IP and EA (eV) with IPEA1-xTB; a failed ion SCF gives NaN with its reason."""
    ipea = _ipea_engine(engine)
    out: dict = {"ipea_method": IPEA_METHOD, "ipea_engine": ipea.settings.backend}
    e0 = ipea.singlepoint(numbers, positions_A, charge, uhf).energy_Eh
    spin_ion = 1 if uhf == 0 else uhf - 1
    for key, dq, sign in (("ip_vertical_eV", +1, +1), ("ea_vertical_eV", -1, -1)):
        try:
            e_ion = ipea.singlepoint(numbers, positions_A, charge + dq, spin_ion).energy_Eh
            out[key] = sign * (e_ion - e0) * HARTREE_TO_EV - IPEA_EMPIRICAL_SHIFT_EV
        except CalculationFailed as exc:
            out[key] = float("nan")
            out[f"{key}_failure"] = str(exc)
    return out


def dielectric_orbitals(engine: Engine, numbers, positions_A, charge: int, uhf: int, solvent: str) -> dict:
    """HOMO/LUMO (eV) in an ALPB dielectric, at the same geometry.

    In the gas phase an anion's levels sit several eV too high (its bare negative
    charge); in a dielectric like the electrolyte's they come down onto the same
    scale as a neutral solvent's, which is what an anion-vs-solvent LUMO comparison needs.
    """
    settings = EngineSettings(
        backend="tblite" if backend_available("tblite") else engine.settings.backend,
        method=engine.settings.method,
        solvent=solvent,
        electronic_temperature_K=engine.settings.electronic_temperature_K,
    )
    sp = Engine(settings, engine.stats).singlepoint(numbers, positions_A, charge, uhf)
    return {"homo_alpb_eV": sp.homo_eV, "lumo_alpb_eV": sp.lumo_eV, "orbital_solvent": f"ALPB({solvent})"}


#: The molecule's structure in a properties record (:class:`solvscreen.complexes.MoleculeFeatures`).
STRUCTURE_RESULTS = {"n_molecule_donor_atoms": "integer", "molecule_donor_atoms": "array", "has_C_F": "boolean",
                     "has_C_Cl": "boolean", "has_C_Br": "boolean", "has_C_I": "boolean", "pi_donor_group": "string",
                     "canonical_smiles": "string"}


@dataclass
class PropertiesResult(StageResult):
    """All per-molecule electronic descriptors at one geometry, units in the names.

    ``COLUMNS`` are its descriptors.csv columns: a new descriptor is a field here (and in
    ``COLUMNS``), computed in :func:`electronic_properties`; the table picks it up.
    """

    COLUMNS = ("energy_Eh", "homo_eV", "lumo_eV", "gap_eV", "dipole_D",
               "homo_alpb_eV", "lumo_alpb_eV", "orbital_solvent",
               "ip_vertical_eV", "ea_vertical_eV", "E_ox_vs_K_V", "E_red_vs_K_V",
               "electronic_temperature_K",
               # the molecule's structure (solvscreen.complexes.MoleculeFeatures; the charge is the
               # structure stage's charge_e column): what classification needs of it
               "n_molecule_donor_atoms", "molecule_donor_atoms", "has_C_F", "has_C_Cl", "has_C_Br", "has_C_I",
               "pi_donor_group", "canonical_smiles")
    RECORD_STAGES = ("properties",)

    energy_Eh: float
    homo_eV: float
    lumo_eV: float
    gap_eV: float
    dipole_D: float
    electronic_temperature_K: float
    scf_attempt: int
    homo_alpb_eV: float | None = None
    lumo_alpb_eV: float | None = None
    orbital_solvent: str | None = None
    ipea_method: str | None = None
    ipea_engine: str | None = None
    ip_vertical_eV: float | None = None
    ea_vertical_eV: float | None = None
    ip_vertical_eV_failure: str | None = None
    ea_vertical_eV_failure: str | None = None
    E_ox_vs_K_V: float | None = None
    E_red_vs_K_V: float | None = None
    redox_conversion: str | None = None
    charge_e: int | None = None
    n_molecule_donor_atoms: int | None = None
    molecule_donor_atoms: list | None = None
    has_C_F: bool | None = None
    has_C_Cl: bool | None = None
    has_C_Br: bool | None = None
    has_C_I: bool | None = None
    pi_donor_group: str | None = None
    canonical_smiles: str | None = None

    @classmethod
    def required_results(cls) -> dict[str, str | None]:
        """The descriptors without a default, and the molecule's structure: classification reads it
        from descriptors.csv, so a record written before the stage stored it is no result (the
        workflow sets it aside and recomputes it)."""
        return {**super().required_results(), **STRUCTURE_RESULTS}


def electronic_properties(engine: Engine, numbers, positions_A, charge: int, uhf: int,
                          sp: SinglePoint | None = None, orbital_solvent: str | None = "thf") -> PropertiesResult:
    """All per-molecule electronic descriptors at one geometry (needs a backend with orbitals)."""
    if not engine.capabilities.orbitals:
        raise CalculationFailed(f"the {engine.settings.backend} engine ({engine.settings.method}) gives no orbitals: "
                                "HOMO/LUMO and IP/EA need an orbital method (a GFN-xTB backend)",
                                error_type="capability")
    if sp is None:
        sp = engine.singlepoint(numbers, positions_A, charge, uhf)
    props = PropertiesResult(
        energy_Eh=sp.energy_Eh,
        homo_eV=sp.homo_eV,
        lumo_eV=sp.lumo_eV,
        gap_eV=sp.gap_eV,
        dipole_D=sp.dipole_magnitude_D,
        electronic_temperature_K=sp.electronic_temperature_K,
        scf_attempt=sp.scf_attempt,
    )
    if orbital_solvent:
        props = replace(props, **dielectric_orbitals(engine, numbers, positions_A, charge, uhf, orbital_solvent))
    n_electrons = int(np.sum(numbers)) - charge
    if n_electrons >= 1:
        ipea = vertical_ip_ea(engine, numbers, positions_A, charge, uhf)
        props = replace(props, **ipea, E_ox_vs_K_V=potential_vs_K(ipea["ip_vertical_eV"]),
                        E_red_vs_K_V=potential_vs_K(ipea["ea_vertical_eV"]), redox_conversion=REDOX_CONVERSION)
    return props
