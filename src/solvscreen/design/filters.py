"""The filters a chemist applies to a design, each with its reason, and one warning.

Filters (a derivative that fails one is removed, with that filter's reason):

``elements``
    Only H C N O F P S Cl Br I: the elements the MD force field GAFF2 types (Wang et al.,
    J. Comput. Chem. 25 (2004) 1157; GAFF2 the same set). GFN2-xTB covers Z = 1-86, so the force
    field is the narrower limit.
``size``
    At most ``max_atoms`` atoms, hydrogens included (default 37: TEGDME, the default library's
    largest molecule, whose filled K+ shell of ``binding.shell_max_n`` = 4 ligands, 149 atoms,
    just fits the binding stage's ``shell_max_atoms`` = 150; a larger ligand gets a smaller shell).
``stability``
    No group that reacts in storage or with K metal (:data:`UNSTABLE_GROUPS`, each with its source).
    α-Fluoroethers are kept on purpose: hydrofluoroethers such as TTE (O–CF2H end) and BTFE are
    the diluents of LHCEs (the review), and the C–F bond next to the ether O is not a leaving group
    the way C–Cl is.
``synthesis``
    RDKit's synthetic-accessibility score (Ertl & Schuffenhauer, J. Cheminform. 1 (2009) 8;
    1 = easy to make ... 10 = very hard; from fragment frequencies in PubChem and a complexity
    penalty for stereocentres, rings and size) at most ``max_sa_score`` (default 6.0: in that
    paper, scores above ~6 were molecules chemists rated hard to make; the default library's
    commercial solvents and diluents score 1.7-4.1, FEC the highest).

Warning (the derivative stays): ``boiling point`` when Joback's estimate (:mod:`.joback`) is
below ``min_boiling_point_K`` (default 333 K = 60 °C, the upper temperature cells are commonly
tested at). Joback underestimates glymes by 13-31 K and cyclic carbonates by ~110 K
(docs/design.md), so the warning errs on the side of warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdkit import Chem

from .joback import joback_boiling_point

__all__ = ["FF_ELEMENTS", "UNSTABLE_GROUPS", "FilterSettings", "Screened", "screen", "sa_score"]

#: elements GAFF2 types (the MD stage's force field); GFN2-xTB covers more.
FF_ELEMENTS = ("H", "C", "N", "O", "F", "P", "S", "Cl", "Br", "I")

#: (name, SMARTS, reason with its source): groups that react in storage or with K metal.
UNSTABLE_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("alpha-haloether", "[Cl,Br,I][CX4][OX2]",
     "an alpha-chloro/bromo/iodo ether (X-C-O) is a reactive alkylating agent that hydrolyses with "
     "traces of water to HX and an aldehyde (chloromethyl methyl ether: OSHA 29 CFR 1910.1006; March's "
     "Advanced Organic Chemistry, ch. 10); alpha-fluoroethers (TTE, BTFE) are kept"),
    ("acyl halide", "[CX3](=O)[F,Cl,Br,I]",
     "an acyl halide hydrolyses with traces of water to HX and an acid (March's Advanced Organic "
     "Chemistry, ch. 16)"),
    ("peroxide", "[OX2][OX2]",
     "an O-O bond (peroxide) is a shock- and heat-sensitive oxidizer and is reduced by K metal "
     "(Bretherick's Handbook of Reactive Chemical Hazards)"),
    ("alkyl bromide/iodide", "[CX4][Br,I]",
     "a C-Br or C-I bond is cleaved by alkali metals (Wurtz coupling) far more easily than C-Cl "
     "(bond energies CH3-Cl 350, CH3-Br 294, CH3-I 239 kJ/mol; Luo, Comprehensive Handbook of "
     "Chemical Bond Energies, 2007)"),
    ("geminal dichloride", "[CX4](Cl)Cl",
     "a CCl2/CCl3 group eliminates HCl and is reduced stepwise by alkali metals (Wurtz-type "
     "dechlorination); the review's chlorinated design (DEECl) has one Cl per carbon"),
)


@dataclass(frozen=True)
class FilterSettings:
    """The filters' limits (config ``design``: max_atoms, max_sa_score, min_boiling_point_K)."""

    max_atoms: int = 37
    max_sa_score: float = 6.0
    min_boiling_point_K: float = 333.0


@dataclass(frozen=True)
class Screened:
    """One molecule's filter results: ``failed`` {filter: reason}; ``warnings`` [text]."""

    sa_score: float
    T_b_K: float | None
    failed: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failed


def sa_score(mol: Chem.Mol) -> float:
    """RDKit's SA score (contrib SA_Score, shipped with the RDKit wheel), 1 easy ... 10 hard."""
    from rdkit.Contrib.SA_Score import sascorer  # noqa: PLC0415 (loads its fragment table once)

    return round(float(sascorer.calculateScore(mol)), 2)


def screen(mol: Chem.Mol, settings: FilterSettings = FilterSettings()) -> Screened:
    """Apply every filter to one molecule (hydrogens implicit); every failure is kept, not just the first."""
    failed: dict[str, str] = {}
    bad = sorted({a.GetSymbol() for a in mol.GetAtoms() if a.GetSymbol() not in FF_ELEMENTS})
    if bad:
        failed["elements"] = (f"element(s) {', '.join(bad)} not typed by GAFF2, the MD force field "
                              f"(covered: {' '.join(FF_ELEMENTS)})")
    n_atoms = Chem.AddHs(mol).GetNumAtoms()
    if n_atoms > settings.max_atoms:
        failed["size"] = (f"{n_atoms} atoms (hydrogens included) > max_atoms = {settings.max_atoms} "
                          f"(a filled K+ shell of 4 such ligands would not fit binding.shell_max_atoms)")
    hits = [(name, reason) for name, smarts, reason in UNSTABLE_GROUPS
            if mol.HasSubstructMatch(Chem.MolFromSmarts(smarts))]
    if hits:
        failed["stability"] = "; ".join(f"{name}: {reason}" for name, reason in hits)
    sa = sa_score(mol)
    if sa > settings.max_sa_score:
        failed["synthesis"] = (f"SA score {sa:.2f} > {settings.max_sa_score:g} (1 easy ... 10 hard to "
                               "synthesize; Ertl & Schuffenhauer 2009)")
    bp = joback_boiling_point(mol)
    warnings = []
    if bp.T_b_K is not None and bp.T_b_K < settings.min_boiling_point_K:
        warnings.append(f"volatile: Joback boiling point {bp.T_b_K:.0f} K < {settings.min_boiling_point_K:.0f} K "
                        "(estimate, mean error ~13 K)")
    return Screened(sa, bp.T_b_K, failed, tuple(warnings))
