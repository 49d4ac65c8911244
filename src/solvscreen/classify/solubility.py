"""A salt needs a solvent: a formulation whose solvating components together are only an
additive's share of the liquid cannot dissolve it, whatever the rest of the rules say.

Without this rule 1 M KFSI in hexane:DME 99:1 (0.09 DME per salt) is an LHCE with high
confidence: hexane has no donor atom (a diluent), the 1 % of DME is far too little to fill a K+
shell (anion-rich by composition), and anion-rich + diluent is the LHCE rule.
"""

from __future__ import annotations


def too_little_solvent(comp, roles, settings) -> dict | None:
    """The fields of the :class:`~solvscreen.classify.result.Reason` saying that the salt cannot
    dissolve, or ``None``.

    ``roles``: the components' :class:`~solvscreen.classify.roles.Role` objects. Every component
    that is not a diluent counts as solvating (additives and undecided roles included), so the
    rule only fires when even the most generous reading leaves too little solvent. ``None`` as
    well when every component is a diluent: the classifier states that case itself.
    """
    solvating = [r.name for r in roles if r.diluent is not True]
    if not solvating:
        return None
    share = sum(comp.component(n).volume_fraction for n in solvating)
    thr = settings.min_solvating_volume_fraction
    if share >= thr:
        return None
    who = "+".join(solvating)
    return dict(
        kind="predicate", subject="solubility",
        text=f"the salt would not dissolve: the components that can solvate K+ ({who}) make up a volume fraction "
        f"{share:.3f} < {thr:g} of the liquid, an additive's share",
        quantity="solvating_volume_fraction", op="<", threshold=thr, value=share, unit="volume fraction",
        evidence="composition", decided=True)
