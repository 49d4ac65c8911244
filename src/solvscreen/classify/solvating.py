"""The anion-rich predicate from solvating power (no MD): weak vs conventional solvents.

Solvating power (``solvating_power.csv``, the solvation stage) is minus the free energy of the
solvent step that completes the cation's first shell. Its absolute value carries GFN2-xTB's
systematic errors, so the rule is relative to the review's conventional (LCE) solvents
computed in the same run (``solvating_power_references``, default DME, DGM, EC, PC):

- the solvating components hold K+ like a conventional solvent when the strongest of them has
  a solvating power at least the lowest of the references': the sheath is **not anion-rich**
  from the solvent's side (an LCE unless a diluent or the composition says otherwise);
- they are **weak** when the strongest of them lies below the lowest reference by more than
  the two values' combined uncertainty (sqrt(err^2 + err_ref^2)): the anion takes the last
  site (WSE without a diluent);
- in between: undecided (two classes; MD decides).

The strongest solvating component decides a blend: the cation's shell takes the better donor
first (a strong co-solvent keeps the shell solvent-rich).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.records import parse_number
from ..core.result_tables import ResultTables
from .rules import SOLVATING_POWER_FLUORINATED_LIMIT


@dataclass(frozen=True)
class SolvatingValue:
    name: str
    value: float
    err: float


@dataclass(frozen=True)
class Band:
    """The reference solvents' solvating powers in this run; ``low`` is the weakest of them."""

    members: tuple[SolvatingValue, ...]
    missing: tuple[str, ...]

    @property
    def low(self) -> SolvatingValue | None:
        return min(self.members, key=lambda v: v.value) if self.members else None

    def text(self) -> str:
        return ", ".join(f"{m.name} {m.value:.1f} ± {m.err:.1f}" for m in self.members)


def solvating_value(tables: ResultTables, name: str, cation: str) -> SolvatingValue | None:
    row = tables.solvation_row(name, cation)
    if row is None or (row.get("status") or "ok") != "ok":
        return None
    v = parse_number(row.get("solvating_power_kcal_per_mol"))
    e = parse_number(row.get("solvating_power_err_kcal_per_mol"))
    return None if v is None else SolvatingValue(name, v, e or 0.0)


def reference_band(tables: ResultTables, cation: str, references: str) -> Band:
    names = [n.strip() for n in str(references).replace(",", "|").split("|") if n.strip()]
    vals, missing = [], []
    for n in names:
        v = solvating_value(tables, n, cation)
        (vals if v is not None else missing).append(v if v is not None else n)
    return Band(tuple(vals), tuple(missing))


def solvating_decision(tables: ResultTables, solvating: list[str], cation: str, band: Band,
                       fluorinated: frozenset[str] = frozenset()):
    """(weak: True/False/None, the deciding value or None, the combined uncertainty, text).

    ``fluorinated``: names of components with a C-F bond; a conventional verdict resting on one
    of them stays undecided (rules.SOLVATING_POWER_FLUORINATED_LIMIT)."""
    low = band.low
    if low is None:
        return None, None, 0.0, "no reference solvent has a solvating power in this run"
    vals = [solvating_value(tables, n, cation) for n in solvating]
    if any(v is None for v in vals) or not vals:
        miss = [n for n, v in zip(solvating, vals) if v is None]
        return None, None, 0.0, f"no solvating power for {', '.join(miss) or 'any component'}"
    best = max(vals, key=lambda v: v.value)
    u = math.hypot(best.err, low.err)
    if best.value >= low.value and best.name in fluorinated:
        return None, best, u, (f"{best.name}: solvating power {best.value:.1f} ± {best.err:.1f} kcal/mol >= "
                               f"{low.value:.1f} (the weakest reference, {low.name}), but {best.name} is fluorinated "
                               "and GFN2-xTB does not weaken K+ binding by fluorination (a known limit: "
                               f"{SOLVATING_POWER_FLUORINATED_LIMIT}): weak or conventional is undecided")
    if best.value >= low.value:
        return False, best, u, (f"{best.name}: solvating power {best.value:.1f} ± {best.err:.1f} kcal/mol >= "
                                f"{low.value:.1f} (the weakest reference, {low.name}; references {band.text()}): "
                                "holds K+ like a conventional solvent, the sheath is not anion-rich")
    if best.value + u < low.value:
        return True, best, u, (f"{best.name}: solvating power {best.value:.1f} ± {u:.1f} kcal/mol (with the "
                               f"reference's error) < {low.value:.1f} (the weakest reference, {low.name}; references "
                               f"{band.text()}): a weak solvent, the anion takes the last site of the K+ shell")
    return None, best, u, (f"{best.name}: solvating power {best.value:.1f} ± {u:.1f} kcal/mol (with the reference's "
                           f"error) within its uncertainty below {low.value:.1f} (the weakest reference, {low.name}): "
                           "weak or conventional is undecided")


def anion_options(few: bool, hce: bool, diluent: bool, weak: bool | None) -> tuple[list[bool], bool]:
    """Possible values of the anion-rich predicate without MD, and whether it stays open.

    ``few``: the solvating components' donor atoms per salt cannot fill the shell (composition).
    Composition alone forces an anion-rich sheath only where the class does not claim a weak
    solvent (HCE, or an LHCE core with a diluent); below the HCE concentration without a
    diluent it makes a WSE only when the solvating power also says weak."""
    if few and (hce or diluent):
        return [True], False
    if few:
        return ([True], False) if weak is True else ([False, True], True)
    if weak is None:
        return [False, True], True
    return [weak], False


def solvating_reason(decision, band: Band, reason_cls):
    """The predicate's :class:`Reason` (``None`` when there is no solvating-power evidence)."""
    weak, best, u, text = decision
    if best is None or band.low is None:
        return None
    low = band.low.value
    op, err = {True: ("<", u), False: (">=", 0.0), None: ("in", u)}[weak]
    if weak is None and best.value >= low:  # undecided by a known limit, not by the band
        op, err = ">=", 0.0
    return reason_cls("predicate", "weak solvent", text, quantity="solvating_power_kcal_per_mol", op=op,
                      threshold=low, value=best.value, err=err, unit="kcal/mol", evidence="gfn2-solvation",
                      decided=weak)
