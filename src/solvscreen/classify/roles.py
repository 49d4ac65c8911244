"""Component roles (solvent, diluent, undecided) from descriptors (1:1 binding, solvating
power, donor atoms) or from MD (shell vs bulk share)."""

from __future__ import annotations

from dataclasses import dataclass

from .evidence import Binding, donor_count, md_value
from .rules import known_failure
from .result import ClassificationSettings, Reason, _band, _f

@dataclass
class Role:
    name: str
    diluent: bool | None  # None = undecided
    reason: Reason
    evidence: str

    @property
    def text(self) -> str:
        if self.evidence == "composition":
            return "additive"  # under min_component_volume_fraction: never a diluent, too little to solvate
        return {True: "diluent", False: "solvating", None: "undecided"}[self.diluent]


def descriptor_role(name: str, smiles: str, binding: Binding, d_max: float, donors: list[str] | None = None
                    ) -> Role | str:
    """Role of a molecule on its own from descriptors; a string = why it cannot be decided.

    ``donors``: element symbols of the donor atoms of its 1:1 complex. A GFN2-xTB binding that
    uses only C-F contacts does not make a molecule solvating: GFN2-xTB binds K+ to
    fluoroethers nearly as strongly as to glymes (TTE -37, OTE -41 vs DME -44 kcal/mol) while MD
    finds TTE depleted from the shell (measured_facts.md), so such a role stays undecided."""
    n_don = donor_count(smiles)
    if n_don == 0:
        return Role(name, True, Reason(
            "role", name, f"{name}: 0 donor atoms < 1 (no donor atom): it cannot coordinate K+, a diluent",
            quantity="donor atoms", op="<", threshold=1, value=0, unit="atoms", evidence="structure",
            decided=True), "structure")
    if not binding.ok:
        return f"{name}: {binding.reason}"
    v, u = binding.value, binding.uncertainty
    op = _band(v, u, d_max)
    what = {"<": "binds K+ too weakly to hold a place in the shell: a diluent",
            ">=": "binds K+ strongly enough to solvate it: not a diluent",
            "in": "within the uncertainty of the diluent threshold: role undecided"}[op]
    sym = {"<": "<", ">=": ">=", "in": "within ±" + _f(u, 1) + " of"}[op]
    decided = {"<": True, ">=": False, "in": None}[op]
    if op == ">=" and binding.source == "gfn2" and donors and set(donors) == {"F"}:
        decided = None
        what = (f"but only through F atoms ({len(donors)} F in its 1:1 complex), contacts GFN2-xTB overbinds "
                "(fluoroethers bind like glymes in GFN2-xTB yet stay out of the shell in MD): role undecided")
    text = (f"{name}: -E_bind {_f(v, 1)} ± {_f(u, 1)} kcal/mol ({binding.level}) {sym} "
            f"{_f(d_max, 1)} kcal/mol: {what}")
    return Role(name, decided, Reason(
        "role", name, text, quantity="-E_bind_kcal_per_mol", op=op, threshold=d_max, value=v, err=u,
        unit="kcal/mol", evidence=binding.source, decided=decided), binding.source)


def md_role(name: str, row: dict, s: ClassificationSettings, smiles: str = "") -> Role | None:
    """Diluent or solvating from MD: the component's share of the neutral molecules in the K+
    first shell relative to its share of the neutral molecules in the bulk liquid. A
    "solvating" verdict on a molecule in :data:`rules.MD_KNOWN_FAILURES` is not trusted: the
    role becomes undecided, with the failure and its source in the reason."""
    shell, _ = md_value({**row, "status": "ok"}, "shell_mole_fraction")
    bulk, _ = md_value({**row, "status": "ok"}, "bulk_mole_fraction")
    cn, cn_err = md_value({**row, "status": "ok"}, "cn")
    if shell is None or not bulk:
        return None
    v = shell / bulk
    e = v * cn_err / cn if cn else 0.0  # the share moves with the component's own CN
    thr = s.md_diluent_shell_share_ratio_max
    op = _band(v, e, thr)
    what = {"<": "depleted from the K+ shell: a diluent",
            ">=": "not depleted from the K+ shell: solvating",
            "in": "within its error of the threshold: role undecided"}[op]
    sym = {"<": "<", ">=": ">=", "in": "within its error of"}[op]
    text = (f"{name}: share of the K+ shell's neutral molecules / bulk share = {_f(shell)} / {_f(bulk)} = "
            f"{_f(v)} ± {_f(e)} (MD, first shell {row.get('cutoff_A') or '?'} Å) {sym} {thr:g}: {what}")
    dec = {"<": True, ">=": False, "in": None}[op]
    fail = known_failure(smiles, "md") if smiles else None
    if fail is not None and dec is False:
        dec = None
        text += (f"; but the MD model is known to put {fail.name} in the K+ shell wrongly ({fail.meaning}; "
                 f"{fail.source}): role undecided")
    return Role(name, dec, Reason("role", name, text, quantity="shell_share_ratio", op=op, threshold=thr, value=v,
                                  err=e, evidence="md", decided=dec), "md")


