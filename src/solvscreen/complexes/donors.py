"""Donor atoms of a ligand: symmetry-unique sites, chelating combinations, binding mode.

Donors: O, N, F, Cl, divalent S (the O of S=O and P=O is an O donor), symmetry classes by
RDKit canonical ranking (``Chem.CanonicalRankAtoms(mol, breakTies=False)``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from rdkit import Chem

from ..xtb.structures import bonds_intact
from .cations import HARD_DONORS, CationSpec


@dataclass(frozen=True)
class Donor:
    index: int  # 0-based atom index in the ligand
    element: str
    rank: int  # canonical rank without tie breaking: equal ranks = symmetry-equivalent

    @property
    def label(self) -> str:
        return f"{self.element}{self.index}"


def _is_donor(atom: Chem.Atom) -> bool:
    z = atom.GetAtomicNum()
    if z in (8, 9):
        return True
    if z == 7:  # amines, nitriles, imide N-; not ammonium / 4-coordinate N
        return atom.GetFormalCharge() <= 0 and atom.GetDegree() <= 3
    if z == 17:  # C-Cl (not the central Cl of ClO4-)
        return atom.GetDegree() <= 1
    if z == 16:  # thioether / thiolate S (the donor of S=O is its O)
        return atom.GetDegree() <= 2 and not any(n.GetAtomicNum() == 8 for n in atom.GetNeighbors())
    return False


def donor_atoms(mol: Chem.Mol) -> list[Donor]:
    """Every donor atom of ``mol`` with its symmetry class (canonical rank, ties unbroken)."""
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=False))
    return [
        Donor(a.GetIdx(), a.GetSymbol(), int(ranks[a.GetIdx()]))
        for a in mol.GetAtoms()
        if _is_donor(a)
    ]


HALOGENS = ("F", "Cl", "Br", "I")

#: Polar pi-donor groups (SMARTS) whose molecules are never diluents (the rule and its sources:
#: :data:`solvscreen.classify.rules.PI_DONOR_NOT_DILUENT`): the donor of a carbonate or ester C=O,
#: a phosphate P=O, a sulfoxide S=O, a nitrile C#N.
PI_DONOR_GROUPS: tuple[tuple[str, str], ...] = (
    ("carbonate or ester C=O", "[CX3](=O)[OX2]"),
    ("phosphoryl P=O", "[PX4]=O"),
    ("sulfinyl/sulfonyl S=O", "[SX3,SX4]=O"),
    ("nitrile C#N", "C#N"),
)


def pi_donor_group(mol: Chem.Mol) -> str:
    """The first polar pi-donor group of :data:`PI_DONOR_GROUPS` in ``mol`` ("" when none)."""
    return next((name for name, smarts in PI_DONOR_GROUPS if mol.HasSubstructMatch(Chem.MolFromSmarts(smarts))), "")


@dataclass(frozen=True)
class MoleculeFeatures:
    """What classification and ranking need of a molecule's structure, computed once by the
    stage that parses it (and stored in its records): its formal charge, its donor atoms (this
    module's definition, :func:`donor_atoms`), which carbon-halogen bonds it has, its polar
    pi-donor group (:func:`pi_donor_group`) and its canonical SMILES (RDKit, hydrogens implicit:
    what :data:`solvscreen.classify.rules.MD_KNOWN_FAILURES` are matched on)."""

    charge_e: int
    molecule_donor_atoms: tuple[str, ...]  # element + 0-based atom index, every donor atom
    has_C_F: bool
    has_C_Cl: bool
    has_C_Br: bool
    has_C_I: bool
    pi_donor_group: str = ""
    canonical_smiles: str = ""

    @property
    def n_molecule_donor_atoms(self) -> int:
        return len(self.molecule_donor_atoms)

    def to_dict(self) -> dict:
        return {"charge_e": self.charge_e, "molecule_donor_atoms": list(self.molecule_donor_atoms),
                "n_molecule_donor_atoms": self.n_molecule_donor_atoms, "has_C_F": self.has_C_F,
                "has_C_Cl": self.has_C_Cl, "has_C_Br": self.has_C_Br, "has_C_I": self.has_C_I,
                "pi_donor_group": self.pi_donor_group, "canonical_smiles": self.canonical_smiles}


def molecule_features(mol: Chem.Mol) -> MoleculeFeatures:
    """The :class:`MoleculeFeatures` of ``mol`` (hydrogens explicit or not: the same values)."""
    bonded = {h: any(a.GetSymbol() == h and any(n.GetAtomicNum() == 6 for n in a.GetNeighbors())
                     for a in mol.GetAtoms()) for h in HALOGENS}
    return MoleculeFeatures(charge_e=int(Chem.GetFormalCharge(mol)),
                            molecule_donor_atoms=tuple(d.label for d in donor_atoms(mol)),
                            has_C_F=bonded["F"], has_C_Cl=bonded["Cl"], has_C_Br=bonded["Br"], has_C_I=bonded["I"],
                            pi_donor_group=pi_donor_group(mol), canonical_smiles=Chem.MolToSmiles(Chem.RemoveHs(mol)))


def unique_donors(donors: list[Donor]) -> list[Donor]:
    """One representative per symmetry class (lowest index)."""
    seen: set[int] = set()
    out = []
    for d in donors:
        if d.rank not in seen:
            seen.add(d.rank)
            out.append(d)
    return out


def template_combinations(mol: Chem.Mol, donors: list[Donor], max_size: int, limit: int) -> list[tuple[Donor, ...]]:
    """Flexible chelating combinations of hard donors, one per symmetry class.

    A combination qualifies when its donors are linked into one chain by *flexible* pairs
    (3 to 9 bonds apart: rigid 1,3-pairs such as O=S=O or O=C-O need no template, every
    conformer shows them) and no two of its donors are geminal. Largest combinations first
    (the four O of triglyme bind K+ far better than any three), then by topological span
    (5-membered chelate rings first); capped at ``limit``.
    """
    hard = [d for d in donors if d.element in HARD_DONORS]
    if len(hard) < 2 or max_size < 2:
        return []
    dm = Chem.GetDistanceMatrix(mol)

    def flexible(a: Donor, b: Donor) -> bool:
        return 3 <= dm[a.index, b.index] <= 9

    def chained(combo: tuple[Donor, ...]) -> bool:
        reached, todo = {0}, [0]
        while todo:
            i = todo.pop()
            for j in range(len(combo)):
                if j not in reached and flexible(combo[i], combo[j]):
                    reached.add(j)
                    todo.append(j)
        return len(reached) == len(combo)

    combos: dict[tuple, tuple[tuple[Donor, ...], float]] = {}
    for size in range(2, min(max_size, len(hard)) + 1):
        for combo in itertools.combinations(hard, size):
            spans = sorted(dm[a.index, b.index] for a, b in itertools.combinations(combo, 2))
            if spans[0] < 2 or not chained(combo):
                continue
            key = (tuple(sorted(d.rank for d in combo)), tuple(spans))
            if key not in combos:
                combos[key] = (combo, float(sum(spans)))
    ordered = sorted(combos.values(), key=lambda t: (-len(t[0]), t[1], [d.index for d in t[0]]))
    return [c for c, _ in ordered[:limit]]



def binding_mode(mol: Chem.Mol, xyz_complex: np.ndarray, donors: list[Donor], cation: CationSpec,
                 factor: float) -> dict:
    """Denticity, donor atoms and M-donor distances of a complex (cation = last atom)."""
    m = xyz_complex[-1]
    contacts = []
    for d in donors:
        r = float(np.linalg.norm(xyz_complex[d.index] - m))
        if r <= factor * cation.ideal_distance(d.element):
            contacts.append((r, d))
    contacts.sort(key=lambda t: (t[0], t[1].index))
    nearest = min((float(np.linalg.norm(xyz_complex[d.index] - m)) for d in donors), default=float("inf"))
    return {
        "denticity": len(contacts),
        "donor_atoms": [d.label for _, d in contacts],
        "M_donor_distances_A": [round(r, 4) for r, _ in contacts],
        "donor_elements": sorted({d.element for _, d in contacts}),
        "nearest_donor_A": round(nearest, 4),
        "key": tuple(sorted(d.rank for _, d in contacts)),
    }


def complex_problem(mol: Chem.Mol, xyz_complex: np.ndarray, donors: list[Donor], cutoff_A: float) -> str | None:
    """Why a complex geometry is unacceptable (None if it is fine).

    ``"dissociated"``: no donor atom within ``cutoff_A`` of the cation (last atom);
    ``"bonds changed"``: the ligand's covalent graph is no longer intact.
    """
    m = xyz_complex[-1]
    lig = xyz_complex[:-1]
    nearest = min((float(np.linalg.norm(lig[d.index] - m)) for d in donors), default=float("inf"))
    if nearest > cutoff_A:
        return f"dissociated (nearest donor {nearest:.2f} A > {cutoff_A} A)"
    if mol.GetNumAtoms() > 1 and not bonds_intact(mol, lig):
        return "bonds changed (ligand covalent graph not intact)"
    return None

