"""The one table of class rules: every threshold with its unit, meaning and source, and the
class definitions that classification, docs/classification.md and the report all read from here.

The rules are the review's own criteria (DESIGN.md §1.2) on the solvation structure:

- a component is a **diluent** when it stays out of the K+ shell: depleted from it relative
  to bulk (MD), or, without MD, when it binds K+ too weakly to hold a place in the shell
  (1:1 binding energy below a threshold fitted on the calibration set's roles) or has no
  donor atom at all. Always a criterion on the component itself, never "weaker than its
  neighbour";
- the K+ sheath is **anion-rich** when on average every K+ has at least one anion in its
  first shell (MD); without MD when the composition forces it (too few solvating molecules
  per salt to fill the shell: an HCE or an LHCE core), or when the solvating components are
  weak by solvating power relative to the conventional solvents of the same run
  (:mod:`.solvating`); composition alone never makes a WSE;
- then LCE = not anion-rich; LHCE = anion-rich + a diluent; HCE = anion-rich, no diluent,
  high concentration and high salt:solvent ratio; WSE = anion-rich, no diluent, moderate
  concentration (the solvent itself is weak).

Where the evidence cannot decide a predicate (a value inside its uncertainty band), every
class consistent with the possible answers is named (``LCE|WSE``), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

CLASSES = ("LCE", "HCE", "LHCE", "WSE")


@dataclass(frozen=True)
class Threshold:
    """One threshold of the rules: its config key, default, unit, meaning, source."""

    key: str
    default: float | str
    unit: str
    quantity: str
    meaning: str
    source: str
    fitted: bool = False


#: Uncertainty of a short run's anion CN per K+, measured on 1 M KFSI/DME at the smoke preset
#: (1.5k atoms, 5 ps at 400 K, 10 ps NPT, 20 ps production): seed-to-seed SD and the bias
#: against 270-300 ps runs, added in quadrature.
SHORT_RUN_SPREAD = 0.35
SHORT_RUN_SPREAD_SOURCE = (
    "measured: 1 M KFSI/DME at the smoke preset, seeds 1-5 (md.overrides.seeds): anion CN 1.11, 0.90, 0.86, "
    "1.00, 0.49 (mean 0.87, SD 0.23); 270-300 ps runs give 0.6 (measured_facts.md), a bias of +0.27; "
    "sqrt(0.23^2 + 0.27^2) = 0.35")

THRESHOLDS: dict[str, Threshold] = {t.key: t for t in (
    Threshold(
        "md_diluent_shell_share_ratio_max", 0.5, "dimensionless (shell share / bulk share)",
        "a component's share of the neutral molecules in the K+ first shell divided by its share of the "
        "neutral molecules in the bulk liquid",
        "below it the component is at most half as frequent next to K+ as in the liquid: it stays out of the "
        "K+ shell, a diluent (a single-solvent electrolyte has ratio 1 by construction: no diluent)",
        "convention, set not fitted: strong depletion = less than half the bulk share. Not the donor-atom "
        "enrichment (mean g(r)): non-coordinating donor atoms of a solvating molecule (TMP's ester O, TFP's "
        "CF3 F) pull that below 1 (smoke runs: TMP 0.89, TFP 0.80 as the only solvent); nor a raw CN at a "
        "fixed cutoff (measured_facts.md: 0.3-0.7 TTE F contacts per K+ at 3.0-3.5 A although TTE has no "
        "K-F peak)"),
    Threshold(
        "md_anion_cn_min", 1.0, "anions per K+",
        "anion coordination number per K+ (first shell, from MD)",
        "at or above 1 the average K+ has an anion in its first shell: an anion-rich (CIP/AGG) sheath",
        "the review's criterion (anion-rich first shell); measured_facts.md: 0.6 in 1 M KFSI/DME (LCE), "
        "1.6-1.65 in 2 M KFSI/DEE (WSE) and 1.6 M DME:TTE (LHCE), 2.5 in 4 M KFSI/DME (HCE)"),
    Threshold(
        "md_reference_anion_cn_excess_min", 0.5, "anions per K+",
        "anion CN per K+ of the formulation minus that of its reference run (same salt and concentration in "
        "the preset's conventional solvent, DME, same protocol, same run), from run-until-decided MD",
        "at or above it half of the K+ ions carry one more anion in their first shell than in the conventional "
        "(LCE) electrolyte at the same concentration: an anion-rich sheath that the solvent, not the salt "
        "concentration, causes; the force field's ion pairing common to both cancels in the difference",
        "convention, set not fitted (half an anion per K+); used below hce_min_concentration_mol_per_L only, "
        "where the salt in DME is a conventional LCE (the review); measured 1 M KFSI/DME 0.6 vs 2 M KFSI/DEE "
        "1.65 anions per K+ (measured_facts.md) differ by more, at different concentrations"),
    Threshold(
        "md_anion_cn_seed_spread", 0.15, "anions per K+",
        "uncertainty of the anion CN of a long run (>= md_short_run_max_ns of production) beyond its block error",
        "a value within max(block error, this) of md_anion_cn_min names both classes",
        "measured_facts.md: independent starts of 1 M KFSI/DME (270-300 ps production) differ by ~0.15 in FSI CN"),
    Threshold(
        "md_anion_cn_seed_spread_short", SHORT_RUN_SPREAD, "anions per K+",
        "uncertainty of the anion CN of a short run (< md_short_run_max_ns of production, e.g. the smoke preset)",
        "as md_anion_cn_seed_spread, for short runs",
        SHORT_RUN_SPREAD_SOURCE),
    Threshold(
        "md_short_run_max_ns", 0.25, "ns (production)",
        "production length of an MD run",
        "below it the short-run seed spread applies",
        "the length of the runs behind md_anion_cn_seed_spread (measured_facts.md: 270-300 ps)"),
    Threshold(
        "diluent_bind_max_kcal_per_mol", "auto", "kcal/mol (-E_bind, 1:1 K+ complex)",
        "binding energy of one molecule to K+, -E_bind (DFT where present, else GFN2-xTB)",
        "below it a molecule does not hold a place in the K+ shell against the anion: a diluent "
        "(descriptor evidence; a molecule without donor atoms is a diluent whatever the threshold)",
        "fitted in every run on the calibration set's component roles (Table 2: in an LHCE the components "
        "after the first are the diluents the review names; in the other classes there is none), on the "
        "same energy scale as the run's binding evidence; 'auto' = fit, a number pins it",
        fitted=True),
    Threshold(
        "gfn2_uncertainty_kcal_per_mol", 7.0, "kcal/mol",
        "uncertainty of a GFN2-xTB gas-phase K+ binding energy relative to others",
        "a binding energy within this of the diluent threshold leaves the role undecided",
        "measured_facts.md / issue 11: GFN2 prefers DEE over DME by 6-8 kcal/mol where DFT finds them equal; "
        "K+-H2O -24.3 vs -17.8 (CCSD(T))"),
    Threshold(
        "dft_uncertainty_kcal_per_mol", 1.5, "kcal/mol",
        "uncertainty of a DFT (wB97X-D4/def2-TZVPD) K+ binding energy",
        "band of the diluent threshold when the binding energy comes from DFT",
        "issue 11: the reference level reproduces K+-H2O within 1.5 kcal/mol of CCSD(T)"),
    Threshold(
        "hce_min_concentration_mol_per_L", 3.0, "mol/L",
        "salt molarity",
        "an HCE needs a high salt concentration",
        "the review (DESIGN.md §1.2): HCE ≳ 3 M"),
    Threshold(
        "shell_donors_per_cation", 6.0, "donor atoms per K+",
        "solvent donor atoms available per salt: sum over the solvating (non-diluent) components of "
        "(molecules per salt) x (denticity of its 1:1 K+ complex)",
        "at or below the K+ coordination number the solvating molecules cannot fill the K+ shell even if "
        "every one is bound: the anion must enter (an HCE, or the locally concentrated core of an LHCE)",
        "K+ coordination number 6 (the shell stage's target CN for K+; measured_facts.md: 3.5 DME = 7 O per K+ "
        "in 1 M KFSI/DME); set, not fitted"),
    Threshold(
        "solvating_power_references", "DME,DGM,EC,PC", "library names",
        "solvating power (kcal/mol, solvating_power.csv): minus the free energy of the solvent step that "
        "completes the K+ first shell, GFN2-xTB in ALPB, quasi-RRHO, 1 M / neat-liquid standard states",
        "without MD: solvating components whose strongest member reaches the weakest of these references hold "
        "K+ like a conventional solvent (not anion-rich); below it by more than the combined uncertainty they "
        "are weak (the anion takes the last site); in between undecided",
        "the review's conventional LCE solvents (Table 2: 1 M KFSI/DME, 0.5 M KFSI/EC:DEC; diglyme and PC "
        "electrolytes); relative, so GFN2-xTB's systematic error cancels in part; set, not fitted"),
    Threshold(
        "pmf_weak_ddg_max_kcal_per_mol", 0.0, "kcal/mol",
        "dG_assoc of the K+-anion contact pair in the neat solvent (umbrella sampling + WHAM, md.pmf) minus the "
        "reference solvent's (DME, same salt, force field and protocol), with an interval from both bootstrap "
        "intervals",
        "below it (the whole interval) the anion takes K+ from this solvent more easily than from DME, the "
        "review's conventional glyme: a weak solvent, anion-rich sheath (WSE without a diluent); the whole "
        "interval at or above it: not anion-rich from the solvent's side; otherwise the PMF does not decide",
        "the reference solvent's own value (0 by construction): the review's definition of a weakly solvating "
        "solvent is one that holds the cation more weakly than the conventional (LCE) electrolyte solvents "
        "(1 M KFSI/DME is Table 2's LCE); set, not fitted"),
    Threshold(
        "pmf_outer_mean_force_max_kcal_per_mol_A", 0.59, "kcal/mol per A",
        "dw/dr of the K+-anion PMF over its outer 2 A (7-9 A in the screening preset), a straight-line fit",
        "above it the PMF still changes by more than kT across the 1 A reference shell it is referenced to: the "
        "ions still attract there (the solvent hardly screens them, or its dipoles do not reorient within a "
        "window), so dG_assoc is not a contact-vs-separated free energy and the PMF decides nothing",
        "kT at 298.15 K per A (0.593 kcal/mol/A): the protocol's own assumption that w(r) is flat to within kT "
        "over its 1 A reference shell; a screened Coulomb force 332 q^2/(eps r^2) with q = 0.8 is 0.58 kcal/mol/A "
        "at 8.5 A for eps = 5.1, the least polar solvent of the calibration set (DEE); set, not fitted"),
    Threshold(
        "salt_dissolution_dielectric_min", 5.1, "dimensionless (relative permittivity, ~25 °C)",
        "static dielectric constant of the most polar solvating component (the library's literature value; "
        "else the solvation stage's, an Onsager estimate where the library has none)",
        "without a reported formulation of the salt in those components, below it the salt may not dissolve: "
        "the formulation gets no class (an ion-pairing estimate, stated as such; a measured solubility decides)",
        "the least polar single solvent of the calibration set that dissolves a K salt: WSE-DEE, 2 M KFSI in "
        "DEE, ε 5.1 (Xu, Chem. Rev. 2004, 104, 4303). Below it the Bjerrum length e²/(4π ε0 ε kT) = 56 nm/ε "
        "exceeds 11 nm, over 20 times the K+–FSI− contact distance (~0.5 nm): ions are paired or aggregated "
        "(Bjerrum 1926; Fuoss and Kraus, J. Am. Chem. Soc. 1933, 55, 2387), so only the solvent's binding of K+ "
        "could pay for the lattice, which no descriptor here measures; set, not fitted"),
    Threshold(
        "min_component_volume_fraction", 0.05, "volume fraction",
        "share of a component in the liquid blend",
        "below it a component is an additive, never counted as a diluent",
        "convention (additives such as FEC at a few percent are not diluents)"),
    Threshold(
        "min_solvating_volume_fraction", 0.05, "volume fraction",
        "summed volume fraction of the components that can solvate K+ (every component not a diluent, "
        "additives and undecided roles included)",
        "below it the liquid holds only an additive's share of solvent: the salt does not dissolve, and the "
        "formulation gets no class (1 M KFSI in hexane:DME 99:1 is 0.09 DME per salt)",
        "the additive fraction (min_component_volume_fraction): a solvent present only as an additive would "
        "be; set, not fitted"),
)}


@dataclass(frozen=True)
class KnownFailure:
    """A measured case where an evidence source gets a component's role wrong: a role from that
    source is not trusted in the direction of the failure (the role becomes undecided)."""

    smiles: str  # canonical (RDKit) SMILES of the molecule: the stages' canonical_smiles column
    name: str
    evidence: str  # the evidence source that fails (md)
    wrong_role: str  # the role the source gives wrongly: solvating
    quantity: str
    value: float
    unit: str
    meaning: str
    source: str


#: GAFF2/AM1-BCC with 0.8-scaled ion charges (the MD stage's model) puts these ethers in the K+
#: shell about as often as in the bulk, where the review's LHCEs use them as non-solvating
#: diluents. No parameter set usable here is known to fix it (docs/md.md:
#: OpenMM's CHARMM Drude files have 1,4-dioxane but no K+-ether pair terms, no DBE and no FSI-).
MD_KNOWN_FAILURES: tuple[KnownFailure, ...] = (
    KnownFailure("CCCCOCCOCCCC", "DBE (1,2-dibutoxyethane)", "md", "solvating", "shell_share_ratio", 0.87,
                 "shell share / bulk share",
                 "1,2-dibutoxyethane's share of the K+ shell's neutral molecules / its bulk share in DGM:DBE (a diluent "
                 "in the review's LHCE) is 0.87: not depleted, so MD calls it solvating",
                 "measured_facts.md (MD cost and noise): GAFF2/AM1-BCC, 0.8 ion charges, shell/bulk share 0.87"),
    KnownFailure("C1COCCO1", "1,4-dioxane", "md", "solvating", "shell_share_ratio", 0.98,
                 "shell share / bulk share",
                 "1,4-dioxane's shell share / bulk share is 0.98: MD calls a diluent of the review solvating",
                 "measured_facts.md (MD cost and noise): GAFF2/AM1-BCC, 0.8 ion charges, shell/bulk share 0.98"),
)


def known_failure(canonical_smiles: str, evidence: str) -> KnownFailure | None:
    """The known failure of ``evidence`` for the molecule whose canonical SMILES (RDKit, as its
    stage recorded it: ``canonical_smiles`` of descriptors.csv) is ``canonical_smiles``, if any."""
    return next((f for f in MD_KNOWN_FAILURES if f.evidence == evidence and f.smiles == canonical_smiles), None)


#: -E_bind threshold (kcal/mol) used where a run cannot fit it (no calibration rows) and the
#: binding evidence is GFN2-xTB gas phase: the value the fit gives on the default library's run
#: (docs/classification.md: 15 of 18 Table 2 roles right).
GFN2_DEFAULT_DILUENT_BIND_MAX = 32.35


def fitted_keys() -> list[str]:
    return [k for k, t in THRESHOLDS.items() if t.fitted]


# What each class needs (predicates), read by the decision, docs/classification.md and the report.
CLASS_RULES: dict[str, str] = {
    "LCE": "sheath not anion-rich (solvent-separated K+)",
    "LHCE": "anion-rich sheath and at least one diluent",
    "HCE": "anion-rich sheath, no diluent, c >= hce_min_concentration_mol_per_L and "
           "solvent donor atoms per salt <= shell_donors_per_cation",
    "WSE": "anion-rich sheath, no diluent, moderate concentration (not HCE): the solvent itself is weak",
}


def decide(anion_rich: bool, diluent: bool, hce_composition: bool) -> str:
    """The class from the three predicates (the rule table above as code)."""
    if not anion_rich:
        return "LCE"
    if diluent:
        return "LHCE"
    return "HCE" if hce_composition else "WSE"


def label_of(classes) -> str:
    """``LCE|WSE``: the possible classes in the fixed order of :data:`CLASSES`."""
    s = set(classes)
    return "|".join(c for c in CLASSES if c in s)


def classes_of(label: str | None) -> set[str]:
    return set((label or "").split("|")) - {""}


#: Known limit of the solvating-power evidence (GFN2-xTB in ALPB): it does not weaken the crowded
#: step of fluorinated solvents, so it cannot call one of them conventional with confidence.
SOLVATING_POWER_FLUORINATED_LIMIT = (
    "GFN2-xTB/ALPB does not weaken K+ binding by fluorination the way the review's weakly solvating "
    "fluorinated solvents require: 1:1 ΔG TFP -28.2 vs DME -27.0, FEC -18.9 vs EC -20.7 kcal/mol "
    "(measured_facts.md, 'Solvating power'); GFN2-xTB also binds K+ to fluoroethers nearly as strongly as "
    "to glymes (the fluorine role rule above); the default run's solvating powers put TFP above DME and FEC "
    "level with EC (docs/solvating_power.md; its values moved by up to 0.5 kcal/mol between two machines). "
    "Set after seeing the calibration row WSE-TFP come out confidently LCE; no generalization row has a "
    "fluorinated solvent")


#: Why a molecule with a polar pi-donor group is never a diluent. The groups (SMARTS) are
#: :data:`solvscreen.complexes.PI_DONOR_GROUPS`; the stages record each molecule's group
#: (``pi_donor_group`` of descriptors.csv), which classification reads.
PI_DONOR_NOT_DILUENT = (
    "A molecule that binds K+ through a polar pi-donor group (C=O of a carbonate or ester, P=O, S=O, C#N) is a "
    "solvent, never a diluent: these are the donors of the conventional high-donor-number solvents (Gutmann "
    "donor numbers, kcal/mol: EC 16.4, PC 15.1, DMC 17.2, DEC 16.0, TMP 23.0, DMSO 29.8, AN 14.1; Marcus, "
    "Chem. Soc. Rev. 1993, 22, 409), and a linear carbonate's low bulk dielectric constant (DMC 3.1, DEC 2.8) "
    "averages a nearly apolar cis-cis conformer with the polar cis-trans one it takes up at a cation (Borodin and "
    "Smith, J. Phys. Chem. B 2009, 113, 1763), so the dielectric criterion would misread it; the project's MD puts "
    "DEC in the K+ shell of 0.5 M KFSI/EC:DEC (shell/bulk share 0.93 ± 0.13 at the screening preset, docs/md.md, "
    "measured runs). Every diluent "
    "the review names (TTE, MME, OOE, DBE, DX) is an ether")
