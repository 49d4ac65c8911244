"""Conformer protocol: search quality, determinism, pruning, bond checks, inorganic ions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import rdMolAlign

from solvscreen.xtb.conformers import find_lowest_conformer
from solvscreen.xtb.engine import Engine
from solvscreen.xtb.optimize import FMAX_EV_PER_A
from solvscreen.xtb.structures import (
    ConformerSettings,
    bonds_intact,
    embed_conformers,
    has_clash,
    mol_from_smiles,
    positions,
    prune_conformers,
)
from solvscreen.core.units import HARTREE_TO_EV

DBE = "CCCCOCCOCCCC"
DEE = "CCOCCOCC"


def max_force_eV_per_A(engine, numbers, xyz, charge=0):
    g = engine.system(numbers, charge).compute(xyz, gradient=True).gradient_Eh_per_A
    return float(np.max(np.linalg.norm(g, axis=1))) * HARTREE_TO_EV


def test_search_finds_energy_no_higher_than_single_conformer():
    """DBE is floppy (13 rotatable bonds): an ensemble search must do at least as well as
    optimizing the one conformer that a 1-conformer embedding gives (the same seed makes it
    conformer 0 of the larger ensemble)."""
    single_mol, _ = embed_conformers(mol_from_smiles(DBE), ConformerSettings(n_embed=1, prune_rms_A=0))
    many_mol, _ = embed_conformers(mol_from_smiles(DBE), ConformerSettings(n_embed=6, prune_rms_A=0))
    assert np.allclose(positions(single_mol, 0), positions(many_mol, 0))

    eng = Engine()
    single = find_lowest_conformer(eng, mol_from_smiles(DBE), ConformerSettings(n_embed=1, n_optimize=1))
    search = find_lowest_conformer(eng, mol_from_smiles(DBE), ConformerSettings(n_embed=6, n_optimize=3))
    assert search.energy_Eh <= single.energy_Eh + 1e-8
    assert search.summary["n_optimized"] >= 2
    # the result is a minimum (forces below the optimizer's threshold, small tolerance for
    # re-evaluating the gradient from scratch) and the lowest of the optimized ensemble
    assert max_force_eV_per_A(eng, search.numbers, search.positions_A) < 1.5 * FMAX_EV_PER_A
    assert search.ensemble_energies_Eh == sorted(search.ensemble_energies_Eh)
    assert search.ensemble_energies_Eh[0] == search.energy_Eh
    assert min(search.summary["optimized_energies_rel_kcal_per_mol"]) == 0.0


def test_search_is_deterministic():
    settings = ConformerSettings(n_embed=4, n_optimize=2)
    a = find_lowest_conformer(Engine(), mol_from_smiles(DEE), settings)
    b = find_lowest_conformer(Engine(), mol_from_smiles(DEE), settings)
    assert a.energy_Eh == b.energy_Eh
    assert np.array_equal(a.positions_A, b.positions_A)
    assert a.summary["ranking_energies_rel_kcal_per_mol"] == b.summary["ranking_energies_rel_kcal_per_mol"]
    # another seed is another ensemble (so the seed is what makes it reproducible)
    other, _ = embed_conformers(mol_from_smiles(DEE), ConformerSettings(n_embed=1, seed=7, forcefield="none"))
    first, _ = embed_conformers(mol_from_smiles(DEE), ConformerSettings(n_embed=1, forcefield="none"))
    assert not np.allclose(positions(other, 0), positions(first, 0))


def _relabelled_copy(mol: Chem.Mol, conf_id: int) -> np.ndarray:
    """The same geometry with atoms swapped by a non-trivial graph automorphism, rotated and shifted."""
    matches = mol.GetSubstructMatches(mol, uniquify=False, useChirality=False, maxMatches=10000)
    heavy = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() > 1]
    perm = next(m for m in matches if any(m[i] != i for i in heavy))
    xyz = positions(mol, conf_id)[list(perm)]
    theta = 0.7
    rot = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
    return xyz @ rot.T + np.array([3.0, -1.0, 2.0])


def test_pruning_removes_symmetric_duplicates_and_keeps_distinct_conformers():
    mol, _ = embed_conformers(mol_from_smiles(DBE), ConformerSettings(n_embed=6, prune_rms_A=0, forcefield="none"))
    heavy = Chem.RemoveHs(mol)
    # find two genuinely different conformers (symmetry-aware heavy-atom RMSD > 1 Å)
    a, b = next((i, j) for i, j in itertools.combinations(range(mol.GetNumConformers()), 2)
                if rdMolAlign.GetBestRMS(heavy, heavy, prbId=j, refId=i) > 1.0)

    dup = Chem.Mol(mol)
    dup.RemoveAllConformers()
    for xyz in (positions(mol, a), _relabelled_copy(mol, a), positions(mol, b)):
        conf = Chem.Conformer(mol.GetNumAtoms())
        for i, p in enumerate(xyz):
            conf.SetAtomPosition(i, p.tolist())
        dup.AddConformer(conf, assignId=True)

    # without symmetry the relabelled copy looks different: a naive RMSD would keep it
    dup_heavy = Chem.RemoveHs(dup)
    naive = rdMolAlign.AlignMol(dup_heavy, dup_heavy, prbCid=1, refCid=0,
                                atomMap=[(i, i) for i in range(dup_heavy.GetNumAtoms())])
    assert naive > 0.5
    assert prune_conformers(dup, 0.5) == [0, 2]


def test_bonds_intact_catches_broken_and_formed_bonds():
    eng = Engine()
    mol = mol_from_smiles("COCCOC")
    res = find_lowest_conformer(eng, mol, ConformerSettings(n_embed=2, n_optimize=1))
    xyz = res.positions_A
    assert bonds_intact(mol, xyz)

    # stretch the C2-O1 bond (atom order follows the SMILES: C0 O1 C2 C3 O4 C5) to 2.4x its length
    broken = xyz.copy()
    broken[0] = xyz[1] + 2.4 * (xyz[0] - xyz[1])
    # move C0 and its three hydrogens together, so only the C-O bond breaks
    h_on_c0 = [n.GetIdx() for n in mol.GetAtomWithIdx(0).GetNeighbors() if n.GetAtomicNum() == 1]
    broken[h_on_c0] += broken[0] - xyz[0]
    assert not bonds_intact(mol, broken)

    # bring the two terminal methyl carbons (1-6 pair) into bonding distance
    formed = xyz.copy()
    formed[5] = formed[0] + np.array([1.5, 0.0, 0.0])
    assert not bonds_intact(mol, formed)


def _angles(xyz: np.ndarray, center: int) -> list[float]:
    others = [i for i in range(len(xyz)) if i != center]
    out = []
    for i, j in itertools.combinations(others, 2):
        u, v = xyz[i] - xyz[center], xyz[j] - xyz[center]
        cos = np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v)
        out.append(float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))))
    return out


def test_pf6_embeds_and_optimizes_to_an_octahedron():
    mol = mol_from_smiles("F[P-](F)(F)(F)(F)F")
    _, summary = embed_conformers(mol, ConformerSettings(n_embed=2))
    assert summary["forcefield"] != "MMFF94"  # MMFF94 has no hexacoordinate P: the fallback ran
    res = find_lowest_conformer(Engine(), mol, ConformerSettings(n_embed=2, n_optimize=1))
    p = int(np.nonzero(res.numbers == 15)[0][0])
    angles = sorted(_angles(res.positions_A, p))
    assert len(angles) == 15
    assert all(abs(a - 90.0) < 3.0 for a in angles[:12])
    assert all(abs(a - 180.0) < 3.0 for a in angles[12:])
    d = np.linalg.norm(res.positions_A - res.positions_A[p], axis=1)
    d = d[np.arange(len(d)) != p]
    assert np.ptp(d) < 0.01 and 1.5 < d.mean() < 1.75  # P-F ~1.6 Å in PF6- (crystal structures)


@pytest.mark.parametrize("smiles,center", [("F[B-](F)(F)F", 5), ("[O-]Cl(=O)(=O)=O", 17)])
def test_tetrahedral_anions(smiles, center):
    mol = mol_from_smiles(smiles)
    res = find_lowest_conformer(Engine(), mol, ConformerSettings(n_embed=2, n_optimize=1))
    c = int(np.nonzero(res.numbers == center)[0][0])
    angles = _angles(res.positions_A, c)
    assert len(angles) == 6
    assert all(abs(a - 109.47) < 2.0 for a in angles)
    assert res.charge == -1


def test_collapsed_hypervalent_starts_are_dropped():
    """ETKDG + UFF often collapse PF6- (two F 0.9 Å apart across P); such starts are dropped
    before any xTB call. Every kept start has all cis F...F contacts near the octahedral
    1.6 Å x sqrt(2) = 2.3 Å, and the clash test tells the two kinds of geometry apart."""
    mol = mol_from_smiles("F[P-](F)(F)(F)(F)F")
    emb, summary = embed_conformers(mol, ConformerSettings(n_embed=12))
    assert emb.GetNumConformers() >= 1
    fluorines = [a.GetIdx() for a in emb.GetAtoms() if a.GetAtomicNum() == 9]
    for conf in emb.GetConformers():
        xyz = positions(emb, conf.GetId())[fluorines]
        d = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1)[np.triu_indices(6, 1)]
        assert d.min() > 2.0
        assert not has_clash(emb, positions(emb, conf.GetId()))

    p, f = 1.6, positions(emb, 0)
    octahedron = np.array([[0, 0, 0], [p, 0, 0], [-p, 0, 0], [0, p, 0], [0, -p, 0], [0, 0, p], [0, 0, -p]], float)
    order = [next(a.GetIdx() for a in emb.GetAtoms() if a.GetAtomicNum() == 15)] + fluorines
    xyz = np.zeros_like(f)
    xyz[order] = octahedron
    assert not has_clash(emb, xyz)
    collapsed = xyz.copy()
    collapsed[fluorines[1]] = xyz[fluorines[0]] + np.array([0.0, 0.0, 0.9])  # F...F 0.9 Å
    assert has_clash(emb, collapsed)
