"""How much do the ranking's electronic objectives move between low-lying conformers?

The ranking treats a difference smaller than this as unresolved (its epsilon for the
reductive- and oxidative-stability objectives, docs/methods.md "Ranking"). For each molecule: the
conformer protocol of the structure stage (ETKDG ensemble, GFN2-xTB ranking, optimization of
the lowest three), then LUMO in ALPB(THF) and the vertical IPEA1-xTB E_ox on every optimized
conformer within ``--window`` kcal/mol of the lowest. Prints one row per molecule and the
largest spread.

    python bench/bench_rank_resolution.py DME DEE DGM THF EC DMC AN
"""

from __future__ import annotations

import argparse

from solvscreen.xtb.conformers import find_lowest_conformer
from solvscreen.xtb.engine import Engine, EngineSettings
from solvscreen.inputs.library import load_library
from solvscreen.xtb.properties import electronic_properties
from solvscreen.xtb.structures import ConformerSettings, mol_from_smiles

HARTREE_KCAL = 627.509474


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="+")
    ap.add_argument("--window", type=float, default=3.0, help="kcal/mol above the lowest conformer")
    ns = ap.parse_args()
    lib = load_library("molecules/library.csv")
    engine = Engine(EngineSettings())
    print(f"{'name':8} {'n':>2} {'dE_max':>7} {'LUMO_alpb range (eV)':>22} {'E_ox range (V)':>18}")
    worst = {"lumo": 0.0, "eox": 0.0}
    for name in ns.names:
        m = lib.resolve(name)
        res = find_lowest_conformer(engine, mol_from_smiles(m.smiles), ConformerSettings())
        e0 = min(res.ensemble_energies_Eh)
        rows = []
        for xyz, e in zip(res.ensemble, res.ensemble_energies_Eh):
            de = (e - e0) * HARTREE_KCAL
            if de > ns.window:
                continue
            p = electronic_properties(engine, res.numbers, xyz, res.charge, res.uhf, orbital_solvent="thf")
            rows.append((de, p.lumo_alpb_eV, p.E_ox_vs_K_V))
        lumo = [r[1] for r in rows]
        eox = [r[2] for r in rows]
        worst["lumo"] = max(worst["lumo"], max(lumo) - min(lumo))
        worst["eox"] = max(worst["eox"], max(eox) - min(eox))
        print(f"{name:8} {len(rows):>2} {max(r[0] for r in rows):7.2f} "
              f"{min(lumo):9.3f} .. {max(lumo):7.3f} ({max(lumo) - min(lumo):.2f}) "
              f"{min(eox):6.2f} .. {max(eox):5.2f} ({max(eox) - min(eox):.2f})")
    print(f"largest spread: LUMO_alpb {worst['lumo']:.2f} eV, E_ox {worst['eox']:.2f} V")


if __name__ == "__main__":
    main()
