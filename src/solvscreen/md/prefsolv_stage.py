"""Stage ``md_prefsolv``: preferential solvation of K+ in an equimolar blend (:mod:`.prefsolv`)
as a record per (A, B, salt), and its table ``prefsolv.csv`` for ``classify --prefsolv``.

The config's ``md.prefsolv`` section (off by default)::

    md:
      prefsolv:
        pairs: [[DME, TTE], [DME, MME]]   # (solvating partner A, candidate B); or "undecided"
        salts: [KFSI]
        ns: 1.0                           # per pair, after a 20 ps start
        discard_ps: 50                    # of it, not analysed (equilibration)
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

from ..stages.harness import read_record, run_stage
from .prefsolv_settings import (PREFSOLV_DEFAULTS, check_prefsolv_config, prefsolv_config,  # noqa: F401
                                settings_for)

log = logging.getLogger("solvscreen.md")

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
                           discard_ps=sec["discard_ps"], salt=salt.name, cache_dir=cache_dir,
                           progress=lambda m: log.info("%s: %s", name, m))
        ctx.provenance(platform=res.platform)
        return {**res.as_dict(), "preset": sec["preset"]}

    rec = run_stage("md_prefsolv", name, out, compute,
                    inputs={"solvent_a": a.name, "solvent_b": b.name, "salt": salt.name,
                            "smiles_a": a.smiles, "smiles_b": b.smiles},
                    settings={**settings.to_dict(), "ns": sec["ns"], "discard_ps": sec["discard_ps"]})
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
