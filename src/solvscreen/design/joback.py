"""Normal boiling point by Joback's group contributions, for the groups design derivatives have.

``T_b = 198 K + sum of group contributions`` (Joback & Reid, Chem. Eng. Commun. 57 (1987) 233;
the contributions as tabulated in Poling, Prausnitz & O'Connell, *The Properties of Gases and
Liquids*, 5th ed., Table 2-2). Joback and Reid report a mean absolute error of 12.9 K on 438
compounds; the method tends to overestimate large molecules' boiling points. Only the groups
below are implemented: a molecule with any other atom type (P, S, N except nitrile, C=C, ...)
gets no estimate and says which atom lacks a group (TEP and TFP, which have P, get none).
"""

from __future__ import annotations

from dataclasses import dataclass

from rdkit import Chem

__all__ = ["JOBACK_TB_K", "BoilingPoint", "joback_boiling_point"]

#: group -> contribution to T_b (K), Joback & Reid (1987).
JOBACK_TB_K: dict[str, float] = {
    "-CH3": 23.58, "-CH2-": 22.88, ">CH-": 21.74, ">C<": 18.25,
    "ring -CH2-": 27.15, "ring >CH-": 21.78, "ring >C<": 21.32,
    "-F": -0.03, "-Cl": 38.13, "-Br": 66.86, "-I": 93.84,
    "-O-": 22.42, "ring -O-": 31.22, ">C=O": 76.75, "ring >C=O": 94.97, "-COO-": 81.10,
    "-C#N": 125.66,
}
_BASE_K = 198.0


@dataclass(frozen=True)
class BoilingPoint:
    """An estimate ``T_b_K`` with its groups, or ``None`` and the reason there is none."""

    T_b_K: float | None
    groups: dict[str, int]
    reason: str = ""


def _carbon_group(atom: Chem.Atom, ring: bool) -> str | None:
    if atom.GetHybridization() != Chem.HybridizationType.SP3:
        return None
    n_h = atom.GetTotalNumHs()
    name = {3: "-CH3", 2: "-CH2-", 1: ">CH-", 0: ">C<"}.get(n_h)
    if name is None:
        return None
    if ring:
        return None if n_h == 3 else "ring " + name
    return name


def joback_boiling_point(mol: Chem.Mol) -> BoilingPoint:
    """Joback's T_b (K) of a neutral molecule (hydrogens implicit), or why there is none."""
    groups: dict[str, int] = {}
    used: set[int] = set()

    def add(group: str, *atoms: int) -> None:
        groups[group] = groups.get(group, 0) + 1
        used.update(atoms)

    # carbonyls first: a non-ring C(=O)O is an ester group (-COO-, which takes one O; in a
    # carbonate the other O is an ether -O-); in a ring, a ketone C=O and ring ethers
    for atom in mol.GetAtoms():
        if atom.GetSymbol() != "C":
            continue
        dbl_o = [b.GetOtherAtom(atom) for b in atom.GetBonds() if b.GetBondType() == Chem.BondType.DOUBLE
                 and b.GetOtherAtom(atom).GetSymbol() == "O"]
        triple_n = [b.GetOtherAtom(atom) for b in atom.GetBonds() if b.GetBondType() == Chem.BondType.TRIPLE
                    and b.GetOtherAtom(atom).GetSymbol() == "N"]
        if triple_n:
            add("-C#N", atom.GetIdx(), triple_n[0].GetIdx())
        elif len(dbl_o) == 1 and atom.GetTotalNumHs() == 0:
            o = dbl_o[0]
            ether = sorted(n.GetIdx() for n in atom.GetNeighbors() if n.GetSymbol() == "O" and n.GetIdx() != o.GetIdx()
                           and not n.IsInRing())
            if atom.IsInRing():
                add("ring >C=O", atom.GetIdx(), o.GetIdx())
            elif ether:
                add("-COO-", atom.GetIdx(), o.GetIdx(), ether[0])
            else:
                add(">C=O", atom.GetIdx(), o.GetIdx())
    for atom in mol.GetAtoms():
        i = atom.GetIdx()
        if i in used:
            continue
        sym = atom.GetSymbol()
        if sym == "C":
            group = _carbon_group(atom, atom.IsInRing())
        elif sym == "O" and atom.GetDegree() == 2 and all(b.GetBondType() == Chem.BondType.SINGLE for b in atom.GetBonds()):
            group = "ring -O-" if atom.IsInRing() else "-O-"
        elif sym in ("F", "Cl", "Br", "I"):
            group = "-" + sym
        else:
            group = None
        if group is None:
            return BoilingPoint(None, groups, f"no Joback group here for atom {sym}{i + 1} "
                                              f"({atom.GetHybridization().name.lower()}, {atom.GetTotalNumHs()} H)")
        add(group, i)
    return BoilingPoint(round(_BASE_K + sum(JOBACK_TB_K[g] * n for g, n in groups.items()), 1), groups)
