"""A derivative's liquid density, from its parent's measured one and Fedors' molar-volume increments.

The solvation stage needs a liquid's density (the neat-liquid concentration term, and Onsager's
dielectric estimate when the library gives no dielectric constant), and the screening grid needs
one to make formulations of a liquid. A derivative has no measured density, so it gets

``rho_derivative = M_derivative / (M_parent / rho_parent + dV)``

with ``dV`` the change of molar volume by the groups the design edits, from Fedors' increments at
25 °C (R. F. Fedors, Polym. Eng. Sci. 14 (1974) 147, Table 5; cm^3/mol): CH3 33.5, CH2 16.1,
>CH- -1.0, >C< -19.2; F 18.0 on a carbon with one F, 20.0 each with two, a CF3 group 57.5 and
a -CF2- 23.0; Cl 24.0 (26.0 each with two). Only sp3 carbons and their halogens change in a
design step; every other group (ether O, carbonyl, P=O, rings) is the same in parent and
derivative and cancels, so the estimate is anchored on the parent's measurement. Against the
library's measured densities (tests/test_design.py): DEE from DME +3.1 %, TFP from TEP -4.4 %,
PC from EC +2.1 %, DEC from EMC +1.6 %; against its estimated ones (DBE, DEECl, DGT, DMM, FEC,
FEMC) within 8.3 % (FEC). The density source says it is an estimate, so every result that uses it
carries the flag. A parent without a density (a SMILES parent) gives its derivatives none.
"""

from __future__ import annotations

from rdkit import Chem

from ..inputs.library import parse_smiles

__all__ = ["FEDORS_CM3_PER_MOL", "edited_volume_cm3_per_mol", "derivative_density"]

#: Fedors (1974) molar-volume increments (cm^3/mol, 25 °C) of the groups a design step changes.
FEDORS_CM3_PER_MOL = {
    "CH3": 33.5, "CH2": 16.1, "CH": -1.0, "C": -19.2,
    "F": 18.0, "F (disubstituted)": 20.0, "CF3": 57.5, "CF2": 23.0,
    "Cl": 24.0, "Cl (disubstituted)": 26.0,
}


def edited_volume_cm3_per_mol(mol: Chem.Mol) -> float:
    """Fedors volume of the sp3 carbons and their F/Cl (the part a design step can change)."""
    v = 0.0
    for atom in mol.GetAtoms():
        if atom.GetSymbol() != "C" or atom.GetHybridization() != Chem.HybridizationType.SP3:
            continue
        nbrs = [n.GetSymbol() for n in atom.GetNeighbors()]
        n_f, n_cl, n_h = nbrs.count("F"), nbrs.count("Cl"), atom.GetTotalNumHs()
        if n_f == 3:
            v += FEDORS_CM3_PER_MOL["CF3"]
        elif n_f == 2 and n_h == 0:
            v += FEDORS_CM3_PER_MOL["CF2"]
        else:
            v += FEDORS_CM3_PER_MOL[{3: "CH3", 2: "CH2", 1: "CH", 0: "C"}[n_h]]
            v += n_f * FEDORS_CM3_PER_MOL["F" if n_f == 1 else "F (disubstituted)"]
        v += n_cl * FEDORS_CM3_PER_MOL["Cl" if n_cl == 1 else "Cl (disubstituted)"]
    return v


def _molar_mass(mol: Chem.Mol) -> float:
    return sum(a.GetMass() for a in Chem.AddHs(mol).GetAtoms())


def derivative_density(parent_smiles: str, parent_density_g_per_mL: float, smiles: str) -> float:
    """The derivative's density (g/mL) from the parent's measured one and the Fedors volume change."""
    parent, mol = parse_smiles(parent_smiles), parse_smiles(smiles)
    v_parent = _molar_mass(parent) / parent_density_g_per_mL
    dv = edited_volume_cm3_per_mol(mol) - edited_volume_cm3_per_mol(parent)
    return round(_molar_mass(mol) / (v_parent + dv), 3)
