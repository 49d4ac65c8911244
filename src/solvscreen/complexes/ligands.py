"""Ligand conformers for the complex search: the structure stage's ensemble, extra ETKDG
conformers and cation-templated conformers (chelating gauche conformers), each with a
GFN-xTB single point (energy and charges for the placement prescreen)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem, rdDistGeom
from rdkit.DistanceGeometry import DoTriangleSmoothing

from ..xtb.engine import Engine
from ..core.errors import CalculationFailed
from ..xtb.structures import ConformerSettings, bonds_intact, embed_conformers, positions
from .cations import CationSpec, clash_limit
from .donors import Donor, template_combinations
from .settings import BindingSettings


@dataclass
class LigandConformer:
    label: str
    positions_A: np.ndarray
    energy_Eh: float = float("nan")
    charges_e: np.ndarray | None = None
    template: tuple = ()  # donors a templated conformer was embedded around ...
    cation_position_A: np.ndarray | None = None  # ... and where the cation sat


def templated_conformers(
    mol: Chem.Mol, combo: tuple[Donor, ...], cation: CationSpec, n: int, seed: int
) -> list[np.ndarray]:
    """Ligand conformers embedded around a cation bound to every donor of ``combo``.

    Distance geometry on ligand + M with M-donor bounds at the ideal distance (+-0.1 A) and
    lower bounds keeping every other atom out of the first shell; then MMFF94 (UFF where
    MMFF lacks parameters) with the M-donor distances restrained. Returns positions of
    ligand + cation (cation last).
    """
    ion = Chem.MolFromSmiles(f"[{cation.symbol}+]")
    both = Chem.CombineMols(mol, ion)
    Chem.SanitizeMol(both)
    m = mol.GetNumAtoms()
    bm = rdDistGeom.GetMoleculeBoundsMatrix(both)
    targets = {d.index: cation.ideal_distance(d.element) for d in combo}
    for a in mol.GetAtoms():
        i = a.GetIdx()
        if i in targets:
            lo, hi = targets[i] - 0.1, targets[i] + 0.1
        else:
            lo, hi = (clash_limit(cation, a.GetSymbol()) + 0.2), 100.0
        bm[i, m], bm[m, i] = hi, lo  # upper bound above the diagonal, lower below
    if not DoTriangleSmoothing(bm):
        return []
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = int(seed)
    params.useRandomCoords = True
    params.embedFragmentsSeparately = False
    params.numThreads = 1
    params.SetBoundsMat(bm)
    ids = list(rdDistGeom.EmbedMultipleConfs(both, numConfs=int(n), params=params))
    out = []
    mmff = AllChem.MMFFHasAllMoleculeParams(both)
    uff = not mmff and AllChem.UFFHasAllMoleculeParams(both)
    props = AllChem.MMFFGetMoleculeProperties(both) if mmff else None
    for cid in ids:
        ff = None
        if mmff:
            ff = AllChem.MMFFGetMoleculeForceField(both, props, confId=cid)
            add = ff.MMFFAddDistanceConstraint
        elif uff:
            ff = AllChem.UFFGetMoleculeForceField(both, confId=cid)
            add = ff.UFFAddDistanceConstraint
        if ff is not None:
            for i, r in targets.items():
                add(i, m, False, r - 0.1, r + 0.1, 200.0)
            ff.Minimize(maxIts=1000)
        out.append(positions(both, cid).copy())
    return out


def ligand_conformers(
    engine: Engine,
    mol: Chem.Mol,
    base: list[np.ndarray],
    charge: int,
    uhf: int,
    donors: list[Donor],
    cation: CationSpec,
    settings: BindingSettings,
) -> tuple[list[LigandConformer], dict]:
    """Structure-stage ensemble + extra ETKDG + cation-templated conformers, each with a
    GFN-xTB single point (energy and charges for the placement prescreen)."""
    confs = [LigandConformer(f"ensemble {i}", np.asarray(x, dtype=float)) for i, x in enumerate(base)]
    n_extra = n_templ = 0
    combos: list[tuple[Donor, ...]] = []
    if mol.GetNumAtoms() > 1:
        if settings.n_extra_conformers > 0:
            try:
                extra, _ = embed_conformers(
                    mol, ConformerSettings(n_embed=settings.n_extra_conformers, seed=settings.seed)
                )
                for c in extra.GetConformers():
                    confs.append(LigandConformer(f"etkdg {c.GetId()}", positions(extra, c.GetId()).copy()))
                    n_extra += 1
            except CalculationFailed:
                pass
        if settings.n_template_conformers > 0:
            combos = template_combinations(mol, donors, settings.max_template_donors,
                                           settings.max_template_combinations)
            for k, combo in enumerate(combos):
                label = "+".join(d.label for d in combo)
                for j, x in enumerate(
                    templated_conformers(mol, combo, cation, settings.n_template_conformers, settings.seed + k)
                ):
                    if bonds_intact(mol, x[:-1]):
                        confs.append(LigandConformer(f"templated {label} #{j}", x[:-1], template=tuple(
                            d.index for d in combo), cation_position_A=x[-1]))
                        n_templ += 1
    system = engine.system([a.GetAtomicNum() for a in mol.GetAtoms()], charge, uhf)
    kept = []
    for c in confs:
        try:
            sp = system.compute(c.positions_A, gradient=False)
        except CalculationFailed:
            continue
        c.energy_Eh, c.charges_e = sp.energy_Eh, np.asarray(sp.charges_e, dtype=float)
        kept.append(c)
    if not kept:
        raise CalculationFailed("no ligand conformer gave a converged SCF", error_type="scf")
    summary = {
        "n_ensemble": len(base),
        "n_extra_etkdg": n_extra,
        "n_templated": n_templ,
        "templated_combinations": ["+".join(d.label for d in c) for c in combos],
        "n_conformers": len(kept),
    }
    return kept, summary

