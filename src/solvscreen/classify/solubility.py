"""A salt needs a solvent: a formulation whose solvating components together are only an
additive's share of the liquid cannot dissolve it, whatever the rest of the rules say; and a
salt must be able to reach the formulation's concentration in them (:func:`dissolution`:
reported formulations, else a dielectric / ion-pairing estimate, stated as such).

Without this rule 1 M KFSI in hexane:DME 99:1 (0.09 DME per salt) is an LHCE with high
confidence: hexane has no donor atom (a diluent), the 1 % of DME is far too little to fill a K+
shell (anion-rich by composition), and anion-rich + diluent is the LHCE rule.
"""

from __future__ import annotations


def too_little_solvent(comp, roles, min_fraction: float) -> dict | None:
    """The fields of the :class:`~solvscreen.classify.result.Reason` saying that the salt cannot
    dissolve, or ``None``; ``min_fraction``: min_solvating_volume_fraction.

    ``roles``: the components' :class:`~solvscreen.classify.roles.Role` objects. Every component
    that is not a diluent counts as solvating (additives and undecided roles included), so the
    rule only fires when even the most generous reading leaves too little solvent. ``None`` as
    well when every component is a diluent: the classifier states that case itself.
    """
    solvating = [r.name for r in roles if r.diluent is not True]
    if not solvating:
        return None
    share = sum(comp.component(n).volume_fraction for n in solvating)
    thr = min_fraction
    if share >= thr:
        return None
    who = "+".join(solvating)
    return dict(
        kind="predicate", subject="solubility",
        text=f"the salt would not dissolve: the components that can solvate K+ ({who}) make up a volume fraction "
        f"{share:.3f} < {thr:g} of the liquid, an additive's share",
        quantity="solvating_volume_fraction", op="<", threshold=thr, value=share, unit="volume fraction",
        evidence="composition", decided=True)


# ----------------------------------------------------------------------------- can the salt reach c?
BJERRUM_NM_AT_EPS_1 = 55.97  # e^2 / (4 pi eps0 k T) at 298.15 K, nm (water, eps 78.4: 0.714 nm)


def reported_formulations(formulations) -> list:
    """The formulations that demonstrate a salt dissolves: those with a literature class, except the
    generalization set (checking only, never an input: some of its rows are invariants, not
    measurements)."""
    return [f for f in formulations if getattr(f, "reported_class", None)
            and getattr(f, "set", None) != "generalization"]


def _solvating_names(comp, roles) -> list[str]:
    return [r.name for r in roles if r.diluent is not True and r.evidence != "composition"] or \
        [r.name for r in roles if r.diluent is not True]


def dissolution(formulation, comp, roles, molecule, evidence, dielectric_min: float, hce_min_mol_per_L: float,
                known=()) -> dict:
    """Can the salt reach the formulation's concentration in its solvating components?
    (``dielectric_min``: salt_dissolution_dielectric_min; ``hce_min_mol_per_L``:
    hce_min_concentration_mol_per_L.)

    Returns ``{"state", "reason" (Reason fields), "decide"}``; ``state``:

    - ``reported``: the formulation itself is a literature formulation, or one with the same salt
      and the same solvating components reports at least the concentration in them (``known``;
      the salt's concentration in the solvating components alone, c / their volume fraction);
    - ``unlikely``: no report, and the most polar solvating component's dielectric constant is
      below ``salt_dissolution_dielectric_min`` (an ion-pairing estimate, stated as such): the
      salt may not dissolve at all, so the formulation gets no class;
    - ``unverified``: no report at a concentration in the solvating components of an HCE (or an
      LHCE's core: >= hce_min_concentration_mol_per_L): the dielectric estimate says the salt
      dissolves, not how much; the class stands with low confidence;
    - ``estimated``: below the HCE concentration, the dielectric estimate says the salt dissolves;
    - ``unknown``: a solvating component without a dielectric constant could dissolve it: not
      assessed (said); ``unverified`` at an HCE's concentration.
    """
    c = float(formulation.concentration_mol_per_L)
    salt = molecule(formulation.salt).name
    solv = _solvating_names(comp, roles)
    who = "+".join(solv)
    share = sum(comp.component(n).volume_fraction for n in solv)
    # the salt's concentration in the solvating components alone (a diluent's volume taken away):
    # what they must dissolve, e.g. 2 M in a 1:1 solvent:diluent blend is ~4 M in the solvent
    c_loc = c / share if share > 0 else c
    conc = f"{c:g} M" if abs(c_loc - c) < 1e-9 else f"{c:g} M ({c_loc:.1f} M in {who} alone)"
    if getattr(formulation, "reported_class", None) and getattr(formulation, "set", None) != "generalization":
        src = getattr(formulation, "source", "") or "the formulation table"
        return {"state": "reported", "decide": "", "reason": dict(
            kind="note", subject="solubility", evidence="literature",
            text=f"salt dissolves: {c:g} M {salt} in {who} is a reported formulation ({src})")}
    best = None
    for f in known:
        if molecule(f.salt).name != salt:
            continue
        names = sorted(molecule(n).name for n, _ in f.components)
        if names == sorted(solv) and (best is None or f.concentration_mol_per_L > best.concentration_mol_per_L):
            best = f
    if best is not None and best.concentration_mol_per_L >= c_loc - 1e-9:
        return {"state": "reported", "decide": "", "reason": dict(
            kind="predicate", subject="solubility", quantity="concentration_mol_per_L", op="<=",
            threshold=float(best.concentration_mol_per_L), value=c_loc, unit="mol/L", evidence="literature",
            decided=True, text=f"salt dissolves: {c_loc:.2f} M in {who} <= {best.concentration_mol_per_L:g} M, the "
            f"reported {salt} in {who} ({best.id}: {best.source})")}
    eps = [(n, evidence.dielectric(n, molecule)) for n in solv]
    unknown = [n for n, e in eps if e is None]
    eps = [(n, e) for n, e in eps if e is not None]
    thr = dielectric_min
    high = c_loc >= hce_min_mol_per_L
    most = f"highest reported: {best.concentration_mol_per_L:g} M ({best.id})" if best is not None else \
        f"no reported {salt} formulation in {who}"
    if not eps or (max(e for _, (e, _) in eps) < thr and unknown):  # an unknown component could dissolve it
        if high:  # no class at an HCE's concentration is confident without knowing the salt gets there
            return {"state": "unverified", "decide": f"a measured solubility of {salt} in {who} at {c_loc:.3g} M",
                    "reason": dict(kind="note", subject="solubility", evidence="none",
                                   text=f"{salt} solubility at {conc} unverified ({most}; no dielectric constant "
                                   f"for {', '.join(unknown)}): low confidence")}
        return {"state": "unknown", "decide": "", "reason": dict(
            kind="note", subject="solubility", evidence="none",
            text=f"salt solubility not assessed: {most}; no dielectric constant for {', '.join(unknown)}")}
    name, (e, src) = max(eps, key=lambda t: t[1][0])
    lb = BJERRUM_NM_AT_EPS_1 / e
    if e < thr:
        return {"state": "unlikely", "decide": f"a measured solubility of {salt} in {who}", "reason": dict(
            kind="predicate", subject="solubility", quantity="dielectric_constant", op="<", threshold=thr,
            value=e, unit="", evidence="estimate", decided=False,
            text=f"{salt} may not dissolve in {who} (an estimate; {most}): dielectric constant of {name} {e:.1f} "
            f"({src}) < {thr:g} (salt_dissolution_dielectric_min); Bjerrum length {lb:.0f} nm: ion pairs and "
            "aggregates dominate; not classified")}
    op_text = f"dielectric constant of {name} {e:.1f} ({src}) >= {thr:g}"
    if high:
        return {"state": "unverified", "decide": f"a measured solubility of {salt} in {who} at {c_loc:.3g} M",
                "reason": dict(
                    kind="predicate", subject="solubility", quantity="dielectric_constant", op=">=", threshold=thr,
                    value=e, unit="", evidence="estimate", decided=None,
                    text=f"{salt} solubility at {conc} unverified ({most}): {op_text} says the salt dissolves "
                    "(an estimate), not that it reaches this concentration: low confidence")}
    return {"state": "estimated", "decide": "", "reason": dict(
        kind="predicate", subject="solubility", quantity="dielectric_constant", op=">=", threshold=thr, value=e,
        unit="", evidence="estimate", decided=True,
        text=f"salt taken to dissolve (an estimate; {most}): {op_text}")}
