"""Stage ``md_prefsolv``: preferential solvation of K+ in an equimolar blend (:mod:`.prefsolv`)
as a record per (A, B, salt), and its table ``prefsolv.csv`` for ``classify --prefsolv``.

The config's ``md.prefsolv`` section (off by default)::

    md:
      prefsolv:
        pairs: [[DME, TTE], [DME, MME]]   # (solvating partner A, candidate B); or "undecided"
        salts: [KFSI]
        ns: 1.0                           # per pair, after a 20 ps start; the first 50 ps discarded
        preset: screening                 # the PMF's force field and protocol (md.pmf presets)

``pairs: undecided`` takes, from the descriptor-only classification, every table formulation
left open with a component whose role is undecided, and pairs that component with the
formulation's first solvating component.

* :func:`prefsolv_config`, :func:`check_prefsolv_config` -- the section, checked;
* :func:`prefsolv_pairs` -- the (A, B, salt) triples it asks for;
* :func:`undecided_role_pairs` -- the pairs ``undecided`` means;
* :func:`run_prefsolv_stage` -- one triple through the harness (record ``md_prefsolv/A--B--SALT.json``);
* :func:`aggregate_prefsolv` -- records -> ``prefsolv.csv`` (:data:`.prefsolv.PREFSOLV_COLUMNS`).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from ..core.errors import InputError, ValidationError
from ..stages.harness import read_record, run_stage

log = logging.getLogger("solvscreen.md")

PREFSOLV_DEFAULTS = {"pairs": [], "salts": ["KFSI"], "ns": 1.0, "preset": "screening"}
#: the production before this (ps) is discarded as equilibration
DISCARD_PS = 50.0


def prefsolv_config(md: dict | None) -> dict:
    """The ``md.prefsolv`` section with its defaults (raises InputError on a bad value)."""
    from .pmf_settings import PMF_PRESETS

    raw = (md or {}).get("prefsolv") or {}
    unknown = sorted(set(raw) - set(PREFSOLV_DEFAULTS))
    if unknown:
        raise InputError(f"md.prefsolv.{unknown[0]}: unknown key; allowed: {', '.join(PREFSOLV_DEFAULTS)}")
    sec = {**PREFSOLV_DEFAULTS, **raw}
    if sec["preset"] not in PMF_PRESETS:
        raise InputError(f"md.prefsolv.preset: unknown preset {sec['preset']!r}; presets: {', '.join(PMF_PRESETS)}")
    try:
        ns = float(sec["ns"])
    except (TypeError, ValueError):
        raise InputError(f"md.prefsolv.ns: {sec['ns']!r} is not a number of ns") from None
    if ns * 1000 <= DISCARD_PS + 10:
        raise InputError(f"md.prefsolv.ns: {ns} ns leaves no production after the first {DISCARD_PS:g} ps")
    sec["ns"] = ns
    pairs = sec["pairs"]
    if pairs != "undecided":
        if not isinstance(pairs, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
            raise InputError(f"md.prefsolv.pairs: {pairs!r}: a list of [solvating partner, candidate] pairs "
                             "or 'undecided'")
        sec["pairs"] = [tuple(p) for p in pairs]
    return sec


def settings_for(md: dict | None):
    """The run settings: the PMF preset's force field and protocol, with md.platform/threads."""
    from .pmf_settings import pmf_settings

    sec = prefsolv_config(md)
    over = {k: md[k] for k in ("platform", "threads", "charge_scale") if (md or {}).get(k) is not None}
    return pmf_settings(sec["preset"], **over)


def check_prefsolv_config(md: dict | None, library) -> list[ValidationError]:
    """Problems of ``md.prefsolv`` naming their key path: keys, values, library names and kinds."""
    try:
        sec = prefsolv_config(md)
    except (InputError, TypeError, ValueError) as exc:
        return [ValidationError(str(exc), source="config")]
    errors = []
    pairs = sec["pairs"] if isinstance(sec["pairs"], list) else []
    for i, pair in enumerate(pairs):
        if pair[0] == pair[1]:
            errors.append(ValidationError(f"md.prefsolv.pairs[{i}]: {pair[0]} twice: two different solvents",
                                          source="config"))
        for j, n in enumerate(pair):
            errors += _check_name(library, n, f"md.prefsolv.pairs[{i}][{j}]", ("solvent", "diluent"), density=True)
    for i, n in enumerate(sec["salts"] or []):
        errors += _check_name(library, n, f"md.prefsolv.salts[{i}]", ("salt",))
    return errors


def _check_name(library, name, where: str, kinds: tuple, density: bool = False) -> list[ValidationError]:
    try:
        m = library.resolve(name)
    except Exception:  # noqa: BLE001 - the library's own "unknown name" message
        return [ValidationError(f"{where}: {name!r} is not in the library", source="config")]
    if m.kind not in kinds:
        return [ValidationError(f"{where}: {name} is of kind {m.kind}, not {' or '.join(kinds)}", source="config")]
    if density and not m.density_g_per_mL:
        return [ValidationError(f"{where}: {name} has no density in the library (the blend box is sized from it)",
                                source="config")]
    return []


def prefsolv_pairs(md: dict | None, undecided: list[tuple[str, str]] | None = None) -> list[tuple[str, str, str]]:
    """(A, B, salt) for every configured pair and salt; ``pairs: undecided`` takes ``undecided``
    (:func:`undecided_role_pairs`; none until the descriptor-only classification exists)."""
    sec = prefsolv_config(md)
    pairs = list(undecided or []) if sec["pairs"] == "undecided" else sec["pairs"]
    return [(a, b, salt) for salt in sec["salts"] for a, b in dict.fromkeys(pairs)]


def undecided_role_pairs(classification_csv) -> list[tuple[str, str]]:
    """(first solvating component, undecided component) of every table formulation that a
    classification table leaves with more than one class and an undecided role."""
    from ..core.result_tables import read_rows

    out = []
    for r in read_rows(classification_csv):
        if r.get("origin", "table") != "table" or "|" not in (r.get("label") or ""):
            continue
        roles = [x.partition("=")[::2] for x in (r.get("roles") or "").split("|") if "=" in x]
        solv = [n for n, role in roles if role == "solvating"]
        if solv:
            out += [(solv[0], n) for n, role in roles if role == "undecided" and (solv[0], n) not in out]
    return out


def record_name(a: str, b: str, salt: str) -> str:
    return f"{a}--{b}--{salt}"


def run_prefsolv_stage(a, b, salt, library, md: dict | None, out: str | Path, *,
                       work_dir: str | Path | None = None, cache_dir: str | Path | None = None):
    """One (A, B, salt) through the harness; the record holds the whole :class:`.prefsolv.PrefSolvResult`."""
    from .pair_box import Component
    from .prefsolv import run_prefsolv
    from .runner import CHARGE_METHOD, FORCEFIELD, _versions

    settings = settings_for(md)
    sec = prefsolv_config(md)
    out = Path(out)
    name = record_name(a.name, b.name, salt.name)
    work_dir = Path(work_dir) if work_dir else out.parent / f".{name}.work"
    cation, anion = library.resolve(salt.cation), library.resolve(salt.anion)
    comp = lambda m: Component(m.name, m.smiles, m.density_g_per_mL)  # noqa: E731

    def compute(ctx):
        ctx.provenance(forcefield=FORCEFIELD, charge_method=CHARGE_METHOD, **_versions())
        res = run_prefsolv(comp(a), comp(b), comp(anion), comp(cation), settings, work_dir, ns=sec["ns"],
                           discard_ps=DISCARD_PS, salt=salt.name, cache_dir=cache_dir,
                           progress=lambda m: log.info("%s: %s", name, m))
        ctx.provenance(platform=res.platform)
        return {**res.as_dict(), "preset": sec["preset"]}

    rec = run_stage("md_prefsolv", name, out, compute,
                    inputs={"solvent_a": a.name, "solvent_b": b.name, "salt": salt.name,
                            "smiles_a": a.smiles, "smiles_b": b.smiles},
                    settings={**settings.to_dict(), "ns": sec["ns"], "discard_ps": DISCARD_PS})
    if rec.ok and work_dir.exists():
        shutil.rmtree(work_dir, ignore_errors=True)
    return rec


def aggregate_prefsolv(record_paths: list[str | Path], out_csv: str | Path) -> list[dict]:
    """``prefsolv.csv``: one row per (A, B, salt); a failed record gives a failed row with its reason."""
    from ..core.records import write_csv
    from .prefsolv import PREFSOLV_COLUMNS, prefsolv_row

    rows = []
    for path in record_paths:
        rec = read_record(path, stage="md_prefsolv", name=Path(path).stem)
        if not rec.ok:
            a, b, salt = (Path(path).stem.split("--") + ["", "", ""])[:3]
            rows.append({"solvent_a": a, "solvent_b": b, "salt": salt, "status": "failed",
                         "convergence_reason": (rec.failure or {}).get("reason", "")})
            continue
        rows.append(prefsolv_row(rec.results))
    write_csv(out_csv, rows, list(PREFSOLV_COLUMNS))
    return rows
