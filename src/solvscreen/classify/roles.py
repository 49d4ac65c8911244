"""Component roles (solvent, diluent, undecided) from descriptors (1:1 binding, solvating
power, donor atoms) or from MD (shell vs bulk share)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.result_tables import MoleculeStructure
from .evidence import Binding, md_value
from .rules import known_failure
from .result import Reason, _band, _f


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


def descriptor_role(name: str, donor_free: bool, binding: Binding, d_max: float, donors: list[str] | None = None
                    ) -> Role | str:
    """Role of a molecule on its own from descriptors; a string = why it cannot be decided.

    ``donor_free``: the molecule has no donor atom by its recorded structure
    (:meth:`.evidence.Evidence.donor_free`): a diluent whatever its binding energy.

    ``donors``: element symbols of the donor atoms of its 1:1 complex. A GFN2-xTB binding that
    uses only C-F contacts does not make a molecule solvating: GFN2-xTB binds K+ to
    fluoroethers nearly as strongly as to glymes (TTE -37, OTE -41 vs DME -44 kcal/mol) while MD
    finds TTE depleted from the shell (measured_facts.md), so such a role stays undecided."""
    if donor_free:
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


def md_role(name: str, row: dict, share_ratio_max: float, canonical_smiles: str = "") -> Role | None:
    """Diluent or solvating from MD: the component's share of the neutral molecules in the K+
    first shell relative to its share of the neutral molecules in the bulk liquid, against
    ``share_ratio_max`` (md_diluent_shell_share_ratio_max). A
    "solvating" verdict on a molecule in :data:`rules.MD_KNOWN_FAILURES` is not trusted: the
    role becomes undecided, with the failure and its source in the reason (``canonical_smiles``:
    the molecule's, as its stage recorded it)."""
    shell, _ = md_value({**row, "status": "ok"}, "shell_mole_fraction")
    bulk, _ = md_value({**row, "status": "ok"}, "bulk_mole_fraction")
    cn, cn_err = md_value({**row, "status": "ok"}, "cn")
    if shell is None or not bulk:
        return None
    v = shell / bulk
    e = v * cn_err / cn if cn else 0.0  # the share moves with the component's own CN
    op = _band(v, e, share_ratio_max)
    head = (f"{name}: share of the K+ shell's neutral molecules / bulk share = {_f(shell)} / {_f(bulk)} = "
            f"{_f(v)} ± {_f(e)} (MD, first shell {row.get('cutoff_A') or '?'} Å)")
    return _share_role(name, head, op, v, e, share_ratio_max, "md", canonical_smiles)


def prefsolv_role(name: str, row: dict, share_ratio_max: float, canonical_smiles: str = "") -> Role | None:
    """Diluent or solvating from preferential solvation (md.prefsolv, prefsolv.csv): ``name``'s
    share of the K+ first shell over its bulk share in an equimolar blend with the solvating
    partner ``row["solvent_a"]``, with its 95 % interval, against the same ``share_ratio_max``
    as :func:`md_role`. None without a finite interval (the row failed); a row that is not
    converged (the partner entered the shell too rarely, or the halves disagree) decides nothing."""
    if (row.get("status") or "ok") != "ok":
        return None
    v, lo, hi = (md_value(row, c)[0] for c in ("shell_share_ratio_b", "shell_share_ratio_b_lo",
                                                "shell_share_ratio_b_hi"))
    if None in (v, lo, hi):
        return None
    e = max(hi - v, v - lo)  # the wider side: the band Reason.holds checks
    op = _band(v, e, share_ratio_max)
    conv = str(row.get("converged", "")).lower() in ("true", "1", "yes")
    bound = row.get("interval_method") == "entry bound"  # the reason says how the bound was made
    head = (f"{name}: share of the K+ shell / bulk share {_f(v)} [{_f(lo)}, {_f(hi)}] in equimolar "
            f"{row.get('solvent_a')}:{name} with one {row.get('salt') or 'salt'} pair (MD, "
            f"{row.get('ns_production')} ns, {row.get('solvent_a')} entered the shell {row.get('exchanges_a')} "
            f"times{'' if conv else '; not converged'}"
            f"{'; ' + str(row.get('convergence_reason') or '') if not conv or bound else ''})")
    role = _share_role(name, head, op, v, e, share_ratio_max, "md-prefsolv", canonical_smiles)
    if not conv and role.diluent is not None:  # the shell is still the start's: its blocks understate the error
        role = Role(name, None, Reason("role", name, role.reason.text + "; not converged, so it decides nothing",
                                       evidence="md-prefsolv", decided=None), "md-prefsolv")
    return role


def _share_role(name: str, head: str, op: str, v: float, e: float, thr: float, evidence: str,
                canonical_smiles: str) -> Role:
    """The role from a shell/bulk share ratio's band against ``thr`` (one rule for both MD sources)."""
    what = {"<": "depleted from the K+ shell: a diluent",
            ">=": "not depleted from the K+ shell: solvating",
            "in": "within its error of the threshold: role undecided"}[op]
    sym = {"<": "<", ">=": ">=", "in": "within its error of"}[op]
    text = f"{head} {sym} {thr:g}: {what}"
    dec = {"<": True, ">=": False, "in": None}[op]
    fail = known_failure(canonical_smiles, "md") if canonical_smiles else None
    if fail is not None and dec is False:
        dec = None
        text += (f"; but the MD model is known to put {fail.name} in the K+ shell wrongly ({fail.meaning}; "
                 f"{fail.source}): role undecided")
    return Role(name, dec, Reason("role", name, text, quantity="shell_share_ratio", op=op, threshold=thr, value=v,
                                  err=e, evidence=evidence, decided=dec), evidence)


@dataclass
class DiluentCheck:
    """Whether a component's physical properties allow it to be a diluent of its blend:
    ``verdict`` "not" (refuted), "below" (both properties below the solvent's) or "open"."""

    name: str
    verdict: str
    reasons: list
    firm: bool = False  # refuted by what the molecule is (a pi-donor, a conventional solvent), not by a comparison


def physical_diluent_check(roles: list[Role], molecule, evidence, cation: str, dielectric_min: float,
                           references: str) -> dict[str, DiluentCheck]:
    """Can each component of a blend be a diluent, by its physical properties? A diluent dissolves
    no salt and stays out of the K+ shell: it is the less polar and the less solvating liquid of
    the blend. For every component of the blend (additives and donor-free molecules aside),
    against the blend's other component with the highest solvating power ("the solvent"):

    1. a polar pi-donor group (carbonate or ester C=O, P=O, S=O, C#N): not a diluent
       (:data:`rules.PI_DONOR_NOT_DILUENT`);
    2. a conventional solvent on its own (literature dielectric constant >= salt_dissolution_dielectric_min
       and solvating power at or above the weakest reference's, not fluorinated): not a diluent;
    3. dielectric constant (library, literature; else the solvation stage's Onsager estimate) >= the
       solvent's: not a diluent; below: below;
    4. solvating power >= the solvent's by more than both values' uncertainty: not a diluent; below by
       more than it: below; else open.

    "below" needs 3 and 4 both below; a missing value leaves the check open. ``dielectric_min``:
    salt_dissolution_dielectric_min; ``references``: solvating_power_references.
    """
    from .solvating import solvating_value

    pool = [r for r in roles if r.evidence not in ("composition", "structure")]
    if len(pool) < 2:
        return {}
    sp = {r.name: solvating_value(evidence.tables, r.name, cation) for r in pool}
    eps = {r.name: evidence.dielectric(r.name, molecule) for r in pool}
    low = _weakest_reference(evidence, cation, references)
    out = {}
    for r in pool:
        others = [o for o in pool if o.name != r.name]
        sol = max(others, key=lambda o: (sp[o.name].value if sp[o.name] else float("-inf"),
                                         eps[o.name][0] if eps[o.name] else float("-inf"))).name
        st = evidence.structure(r.name)
        group = st.pi_donor_group if isinstance(st, MoleculeStructure) else None
        if group:
            out[r.name] = DiluentCheck(r.name, "not", [Reason(
                "role", r.name, f"{r.name}: a {group} (a polar pi-donor that binds K+ as solvents do): not a diluent",
                evidence="structure", decided=False)], firm=True)
            continue
        e, x = eps[r.name], sp[r.name]
        if (e and "estimate" not in e[1].lower() and e[0] >= dielectric_min and x and low
                and x.value >= low.value and not (isinstance(st, MoleculeStructure) and st.has_C_F)):
            out[r.name] = DiluentCheck(r.name, "not", [Reason(
                "role", r.name, f"{r.name}: a conventional solvent on its own: dielectric constant {_f(e[0], 1)} "
                f"({e[1]}) >= {dielectric_min:g} and solvating power {_f(x.value, 1)} >= "
                f"{_f(low.value, 1)} kcal/mol ({low.name}, the weakest reference): not a diluent",
                quantity="solvating_power_kcal_per_mol", op=">=", threshold=low.value, value=x.value,
                unit="kcal/mol", evidence="gfn2-solvation", decided=False)], firm=True)
            continue
        verdicts, reasons = [], []
        es = eps[sol]
        estimated = bool(e and es) and ("estimate" in e[1].lower() or "estimate" in es[1].lower())
        if estimated and e[0] >= es[0]:
            # only a measured constant rules a diluent out: an Onsager estimate from the gas-phase
            # dipole is not comparable with a measured constant (the default run estimates TTE at
            # 8.8 against DME's measured 7.2), so a high estimate leaves the role open
            op = ">="
            verdicts.append("open")
            reasons.append(Reason("note", r.name, f"{r.name}: dielectric constant {_f(e[0], 1)} ({e[1]}) {op} "
                                  f"{_f(es[0], 1)}, {sol}'s ({es[1]}): an estimate, so polarity does not decide "
                                  "the role"))
        elif e and es:
            op = "<" if e[0] < es[0] else ">="
            verdicts.append("below" if op == "<" else "not")
            reasons.append(Reason("role", r.name, f"{r.name}: dielectric constant {_f(e[0], 1)} ({e[1]}) {op} "
                                  f"{_f(es[0], 1)}, {sol}'s ({es[1]}): " + (
                                      "less polar than the solvent" if op == "<" else
                                      "at least as polar as the solvent: not a diluent"),
                                  quantity="dielectric_constant", op=op, threshold=es[0], value=e[0],
                                  evidence="literature", decided=op == "<"))
        else:
            verdicts.append("open")
            miss = [n for n, v in ((r.name, e), (sol, es)) if not v]
            reasons.append(Reason("note", r.name, f"{r.name}: no dielectric constant for {', '.join(miss)}: "
                                  f"polarity not compared with {sol}'s"))
        y = sp[sol]
        if x and y:
            u = math.hypot(x.err, y.err)
            op = _band(x.value, u, y.value)
            verdicts.append({"<": "below", ">=": "not", "in": "open"}[op])
            sym = {"<": "<", ">=": ">=", "in": "within its uncertainty of"}[op]
            what = {"<": "holds K+ less strongly than the solvent",
                    ">=": "holds K+ at least as strongly as the solvent: not a diluent",
                    "in": "not resolved from the solvent's"}[op]
            reasons.append(Reason("role", r.name, f"{r.name}: solvating power {_f(x.value, 1)} ± {_f(u, 1)} "
                                  f"kcal/mol {sym} {_f(y.value, 1)}, {sol}'s: {what}",
                                  quantity="solvating_power_kcal_per_mol", op=op, threshold=y.value, value=x.value,
                                  err=u, unit="kcal/mol", evidence="gfn2-solvation",
                                  decided={"<": True, ">=": False, "in": None}[op]))
        else:
            verdicts.append("open")
            reasons.append(Reason("note", r.name, f"{r.name}: no solvating power for it or {sol}: how strongly they "
                                  "hold K+ is not compared"))
        verdict = "not" if "not" in verdicts else ("below" if all(v == "below" for v in verdicts) else "open")
        out[r.name] = DiluentCheck(r.name, verdict, reasons)
    return out


def apply_diluent_check(roles: list[Role], checks: dict[str, DiluentCheck]) -> tuple[list[Role], list[Reason]]:
    """Roles from binding energies after the physical check: refuted -> solvating; open -> a diluent
    role becomes undecided; below -> the binding role stands. MD roles (the formulation's run, or
    preferential solvation in the blend) are measured: unchanged."""
    out, reasons = [], []
    for r in roles:
        chk = checks.get(r.name)
        if chk is None or r.evidence in ("md", "md-prefsolv") or r.diluent is False:
            out.append(r)
            continue
        new = {"not": False, "open": None, "below": r.diluent}[chk.verdict]
        reasons.extend(chk.reasons)
        if new is not r.diluent:
            reasons.append(Reason("note", r.name, f"{r.name}: role {'solvating' if new is False else 'undecided'} "
                                  f"(its binding energy alone: {'diluent' if r.diluent else 'undecided'}): its "
                                  "physical properties " + ("rule out a diluent" if new is False else
                                                            "do not both place it below the solvent")))
        out.append(Role(r.name, new, r.reason, r.evidence))
    return out, reasons


def _weakest_reference(evidence, cation: str, references: str):
    from .solvating import reference_band

    return reference_band(evidence.tables, cation, references).low
