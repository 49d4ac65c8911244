"""The box of the K+-anion free-energy runs: one cation, one anion, and a neat solvent or an
equimolar blend of solvents filling ~``box_edge_A``^3 at their densities (ideal mixing of the
molar volumes). Used by the PMF (:mod:`.pmf`, one solvent) and by preferential solvation
(:mod:`.prefsolv`, a blend): one place builds both, with the MD stage's force field
(GAFF2/AM1-BCC, Joung-Cheatham ions, ion charges x ``charge_scale``, HMR)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..core.errors import CalculationFailed, InputError

AVOGADRO = 6.02214076e23


@dataclass(frozen=True)
class Component:
    """A species of the pair box: library name, SMILES, and for a solvent its density."""

    name: str
    smiles: str
    density_g_per_mL: float | None = None


def molecules_per_solvent(solvents: Sequence[Component], molar_masses: Sequence[float], edge_A: float) -> int:
    """Molecules of each solvent (equimolar) that fill ``edge_A``^3 at ideal mixing; at least 8.

    One solvent: n = V rho N_A / M (the PMF's neat box, unchanged from its first runs)."""
    if len(solvents) == 1:
        return max(8, round(edge_A ** 3 * 1e-24 * solvents[0].density_g_per_mL / molar_masses[0] * AVOGADRO))
    v_set = sum(m / sv.density_g_per_mL / AVOGADRO * 1e24 for sv, m in zip(solvents, molar_masses))  # A^3
    return max(8, round(edge_A ** 3 / v_set))


def build_pair_system(solvent: Component | Sequence[Component], anion: Component, cation: Component, settings,
                      workdir: str | Path, *, cache_dir: str | Path | None = None):
    """One cation, one anion and the solvent (one Component: neat; several: an equimolar blend).

    Returns (system, topology, positions, cation atom index, anion atom indices, info); info
    holds ``n_solvent`` (molecules of each solvent), ``residue_names`` (species -> residue
    name in the topology) and the force-field provenance."""
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    from ..inputs.library import parse_smiles

    from .box import BoxComposition, Species, check_box_size, pack
    from .ions import is_monatomic_ion
    from .params import parametrize
    from .system import build_system, run_tleap, total_charge, write_templates

    s = settings
    solvents = (solvent,) if isinstance(solvent, Component) else tuple(solvent)
    wd = Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    if not solvents or len({sv.name for sv in solvents}) != len(solvents):
        raise InputError(f"pair box: the solvents must be distinct, got {[sv.name for sv in solvents]}")
    for sv in solvents:
        if not sv.density_g_per_mL or sv.density_g_per_mL <= 0:
            raise InputError(f"{sv.name}: no density to size the PMF box")
    if not is_monatomic_ion(cation.smiles):
        raise InputError(f"{cation.name}: the PMF cation must be a monatomic ion")
    masses = [Descriptors.MolWt(Chem.AddHs(parse_smiles(sv.smiles))) for sv in solvents]
    n_each = molecules_per_solvent(solvents, masses, s.box_edge_A)
    p_solv = [parametrize(sv.name, sv.smiles, wd / "params" / sv.name, cache_dir=cache_dir) for sv in solvents]
    p_an = parametrize(anion.name, anion.smiles, wd / "params" / anion.name, cache_dir=cache_dir)
    species = [(cation.name, "cation", cation.smiles, None), (anion.name, "anion", anion.smiles, p_an)]
    species += [(sv.name, "liquid", sv.smiles, p) for sv, p in zip(solvents, p_solv)]
    templates = write_templates(species, wd)
    volume = sum(n_each * m / sv.density_g_per_mL / AVOGADRO * 1e24 for sv, m in zip(solvents, masses))
    label = ":".join(sv.name for sv in solvents)
    box = BoxComposition(f"{label}+{cation.name}{anion.name}",
                         (Species(cation.name, "cation", 1, 1, 1.0), Species(anion.name, "anion", 1, p_an.n_atoms, 1.0),
                          *(Species(sv.name, "liquid", n_each, p.n_atoms, float(n_each))
                            for sv, p in zip(solvents, p_solv))),
                         volume, 1 + p_an.n_atoms + n_each * sum(p.n_atoms for p in p_solv), 0.0, None)
    check_box_size(box.edge_A, s.cutoff_nm)
    packed = wd / "packed.pdb"
    edge = pack(box, {t.name: t.pdb for t in templates}, packed, seed=s.seed, volume_factor=1.1,
                tolerance_A=2.0, start="random")
    prmtop, inpcrd = run_tleap(templates, packed, edge, wd)
    ion_res = {templates[0].resname, templates[1].resname}
    system, topology, positions, _ = build_system(prmtop, inpcrd, cutoff_nm=s.cutoff_nm, charge_scale=s.charge_scale,
                                                  ion_resnames=ion_res, hydrogen_mass_amu=s.hydrogen_mass_amu)
    q = total_charge(system)
    if abs(q) > 1e-3:
        raise CalculationFailed(f"pair box is not neutral: {q:.4f} e", error_type="topology")
    cat = [a.index for a in topology.atoms() if a.residue.name == templates[0].resname]
    an = [a.index for a in topology.atoms() if a.residue.name == templates[1].resname]
    if len(cat) != 1 or len(an) != p_an.n_atoms:
        raise CalculationFailed(f"pair box: found {len(cat)} cation and {len(an)} anion atoms", error_type="topology")
    info = {"n_solvent": n_each, "n_atoms": topology.getNumAtoms(), "edge_packed_A": round(edge, 3),
            "residue_names": {t.name: t.resname for t in templates},
            "anion_charge_model": "AM1-BCC", "anion_max_penalty": p_an.max_penalty}
    if len(solvents) == 1:
        info.update(solvent_density_g_per_mL=solvents[0].density_g_per_mL, solvent_max_penalty=p_solv[0].max_penalty)
    else:
        info.update(solvents=[sv.name for sv in solvents],
                    solvent_density_g_per_mL={sv.name: sv.density_g_per_mL for sv in solvents},
                    solvent_max_penalty={sv.name: p.max_penalty for sv, p in zip(solvents, p_solv)})
    return system, topology, positions, cat[0], an, info
