"""The weak-solvent predicate from the K+-anion free energy in explicit solvent (``pmf.csv``).

The ``md_pmf`` stage (docs/md_free_energy.md) gives, per (solvent, salt), dG_assoc = -RT ln K_a
of the K+-anion contact pair in the neat solvent, and its difference from the reference
solvent's (DME, same salt, same protocol and force field) with an interval: the two bootstrap
half-widths and half of each run's drift between its production halves, in quadrature. A more
negative difference means the anion takes the K+ shell from this solvent more easily than from
DME: the solvent holds K+ more weakly.

The rule, with the same meaning as the solvating-power band (``classify.solvating``):

- **threshold 0 kcal/mol (``pmf_weak_ddg_max_kcal_per_mol``): the reference solvent's own
  dG_assoc.** The review calls a solvent weakly solvating when it holds K+ more weakly than the conventional glyme electrolytes, so the
  anion enters the first shell at an ordinary concentration (WSE without a diluent); DME at
  1 M KFSI is its LCE (Table 2). The reference itself is at 0 by definition.
- the strongest solvating component decides a blend (the shell takes the better donor first),
  so every solvating component needs a row for this salt (the reference counts as 0; where the
  reference itself is the strongest, nothing was measured that decides, and the solvating
  power decides as without the PMF);
- **weak** when the deciding component's whole interval lies below 0, **conventional** when it
  lies at or above 0, and **not resolved** otherwise. Only a resolved comparison decides: an
  unresolved one leaves the decision to the solvating power, and the reason says both.

The force field (GAFF2/AM1-BCC, ions x 0.8) carries fluorination through its charges, so the
GFN2-xTB limit on fluorinated solvents (``rules.SOLVATING_POWER_FLUORINATED_LIMIT``) does not
apply to this evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import InputError
from ..core.records import parse_number

#: the columns of pmf.csv this rule reads (md.pmf_stage.PMF_COLUMNS writes them)
PMF_NEEDED = ("solvent", "salt", "status", "ddg_vs_reference_kcal_per_mol", "ddg_lo_kcal_per_mol",
              "ddg_hi_kcal_per_mol", "reference_solvent", "converged")


@dataclass(frozen=True)
class PMFValue:
    """dG_assoc(solvent) - dG_assoc(reference) in kcal/mol with its interval (same salt)."""

    name: str
    ddg: float
    lo: float
    hi: float
    reference: str
    converged: bool
    outer_force: float | None = None  # dw/dr over the outer 2 A of w(r), kcal/mol/A (md.pmf_stage.outer_mean_force)

    def text(self) -> str:
        conv = "" if self.converged else " (not converged by the protocol's criterion)"
        return f"{self.ddg:+.2f} [{self.lo:+.2f}, {self.hi:+.2f}] kcal/mol{conv}"


def check_pmf_rows(rows: list[dict], source: str) -> None:
    if rows:
        missing = [c for c in PMF_NEEDED if c not in rows[0]]
        if missing:
            raise InputError(f"{source}: pmf table lacks column(s) {missing}")


def read_pmf(path) -> list[dict]:
    """The rows of a pmf.csv (none without a path), its columns checked."""
    from ..core.result_tables import read_rows

    rows = read_rows(path)
    check_pmf_rows(rows, str(path))
    return rows


def pmf_value(rows: list[dict], name: str, salt: str) -> PMFValue | None:
    """The row of (name, salt) with a difference from its reference; the reference solvent
    itself gives 0 [0, 0]. None when there is no usable row."""
    for r in rows:
        if r.get("salt") != salt or (r.get("status") or "ok") != "ok":
            continue
        ref = r.get("reference_solvent") or ""
        if r.get("solvent") == name:
            d = parse_number(r.get("ddg_vs_reference_kcal_per_mol"))
            lo, hi = parse_number(r.get("ddg_lo_kcal_per_mol")), parse_number(r.get("ddg_hi_kcal_per_mol"))
            if None not in (d, lo, hi):
                return PMFValue(name, d, lo, hi, ref, str(r.get("converged")).lower() == "true",
                                parse_number(r.get("outer_mean_force_kcal_per_mol_A")))
        if ref == name:  # another row measured against this solvent: it is the reference
            return PMFValue(name, 0.0, 0.0, 0.0, ref, True)
    return None


def pmf_decision(rows: list[dict], solvating: list[str], salt: str, threshold_kcal_per_mol: float = 0.0,
                 outer_force_max: float = float("inf")):
    """(weak: True/False/None, the deciding PMFValue or None, text). ``None`` weak with a
    PMFValue: measured but not resolved (or not usable); with None: no PMF evidence for these
    components. ``outer_force_max`` (kcal/mol/A): a PMF still steeper than this over its outer
    2 A is not referenced beyond the ions' reach, and is not used."""
    if not rows or not solvating:
        return None, None, ""
    vals = [pmf_value(rows, n, salt) for n in solvating]
    if any(v is None for v in vals):
        miss = [n for n, v in zip(solvating, vals) if v is None]
        return None, None, f"no K+-{salt} anion PMF for {', '.join(miss)}"
    steep = [v for v in vals if v.outer_force is not None and v.outer_force > outer_force_max]
    if steep:
        v = steep[0]
        return None, v, (f"{v.name}: its K+-anion PMF still rises by {v.outer_force:.2f} kcal/mol per A over its outer "
                         f"2 A (> {outer_force_max:.2f}, kT per A): the reference shell is within the ions' reach "
                         "(the solvent hardly screens them in this force field and sampling), so its dG_assoc "
                         f"{v.text()} is not a contact-vs-separated free energy and is not used")
    best = max(vals, key=lambda v: v.ddg)
    t = threshold_kcal_per_mol
    if best.name == best.reference:  # the reference itself: nothing measured decides, the solvating power does
        return None, None, f"{best.name} is the PMF's reference solvent"
    head = (f"{best.name}: K+-anion PMF in explicit solvent, dG_assoc minus {best.reference or 'the reference'}'s "
            f"{best.text()}")
    if best.hi < t:
        return True, best, (f"{head}: the whole interval < {t:g} (the reference's own): the anion pairs with K+ "
                            f"more than in {best.reference}, a weak solvent, the anion takes the last site of the "
                            "K+ shell")
    if best.lo >= t:
        return False, best, (f"{head}: the whole interval >= {t:g}: holds K+ at least like "
                             f"{best.reference}, the sheath is not anion-rich")
    return None, best, (f"{head}: within its interval of {t:g}, so the PMF does not resolve it from "
                        f"{best.reference}")


def pmf_reason(decision, reason_cls, threshold_kcal_per_mol: float = 0.0):
    """The predicate's :class:`Reason` from a PMF decision, or None without a measured value."""
    weak, best, text = decision
    if best is None:
        return None
    if weak is None:  # measured, not resolved: a note beside the evidence that decides
        return reason_cls("note", "pmf", text + " (the GFN2-xTB solvating power is used instead)", evidence="md-pmf")
    op = "<" if weak else ">="
    err = (best.hi - best.lo) / 2  # symmetric (md.pmf_stage.difference)
    return reason_cls("predicate", "weak solvent", text, quantity="ddG_assoc_vs_reference_kcal_per_mol", op=op,
                      threshold=threshold_kcal_per_mol, value=best.ddg, err=err, unit="kcal/mol",
                      evidence="md-pmf", decided=weak)


def pmf_solvating_term(members: list, eps_kcal_per_mol: float) -> None:
    """Ranking (``rank.rank_candidates``, the solvent group's Candidates): the solvating term from
    the K+-anion PMF (dG_assoc minus the reference solvent's, kcal/mol,
    its interval's half-width as sigma) when every ranked solvent has one: one scale for all,
    as for DFT binding. Otherwise the PMF is shown in the reasons, not scored (the two scales
    cannot be mixed in one term)."""
    have = [c for c in members if c.descriptors.get("ddG_assoc_vs_reference_kcal_per_mol") is not None]
    for c in members:
        if c.pmf_note:
            c.reasons.append(c.pmf_note)
    for c in members if have else []:  # (no column at all without a PMF: the default run's table is unchanged)
        c.descriptors["solvating_term"] = "GFN2-xTB solvating power"
    for c in have:
        d = c.descriptors
        text = (f"K+-anion ΔG_assoc minus {d['pmf_reference']}'s {d['ddG_assoc_vs_reference_kcal_per_mol']:+.2f} "
                f"[{d['ddG_assoc_lo_kcal_per_mol']:+.2f}, {d['ddG_assoc_hi_kcal_per_mol']:+.2f}] kcal/mol (MD PMF")
        if len(have) == len(members):
            half = (d["ddG_assoc_hi_kcal_per_mol"] - d["ddG_assoc_lo_kcal_per_mol"]) / 2
            c.objectives["anion_rich_shell"] = -d["ddG_assoc_vs_reference_kcal_per_mol"]
            c.sigma["anion_rich_shell"] = half if half > 0 else eps_kcal_per_mol
            d["solvating_term"] = "K+-anion PMF (minus the reference solvent's)"
            c.reasons.append(text + "; the solvating term)")
        else:
            c.reasons.append(text + f"; not scored: {len(have)} of {len(members)} ranked solvents have one)")
