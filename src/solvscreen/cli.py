"""The ``solvscreen`` command line: single questions and the workflow's stage commands.

Snakemake rules call the stage commands (``structure``, ``properties``,
``aggregate-descriptors``, ...); people ask single questions (``props``, ``bind``).
Both go through the same functions.

Exit codes: 0 success (a molecule whose calculation failed is still a success of
the command: its record says why), 2 invalid input, 3 missing backend.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Callable

log = logging.getLogger("solvscreen")

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def deco(fn):
        _COMMANDS[name] = fn
        return fn

    return deco


def _settings(ns: argparse.Namespace) -> dict:
    return json.loads(ns.settings) if getattr(ns, "settings", None) else {}


def engine_settings_from(d: dict | None):
    from .engine import EngineSettings

    return EngineSettings(**(d or {}))


def conformer_settings_from(d: dict | None):
    from .structures import ConformerSettings

    return ConformerSettings(**(d or {}))


def _add_engine_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", default="GFN2-xTB", choices=["GFN2-xTB", "GFN1-xTB"])
    p.add_argument("--backend", default="tblite", choices=["tblite", "xtb-python"])
    p.add_argument("--solvent", default=None, help="ALPB implicit solvent name (default: gas phase)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _engine_from_flags(ns):
    from .engine import EngineSettings

    return EngineSettings(backend=ns.backend, method=ns.method, solvent=ns.solvent)


def print_table(rows: list[tuple[str, object]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        if isinstance(value, float):
            value = f"{value:.4f}"
        print(f"{key:<{width}}  {value}")


# ----------------------------------------------------------------------------- validation
@command("validate")
def cmd_validate(ns) -> int:
    import yaml

    from .library import load_config, summary, validate_all

    config: dict = {}
    for path in ns.configfile:
        config.update(yaml.safe_load(Path(path).read_text()) or {})
    config = load_config(config, base_dir=ns.directory)
    library, formulations = validate_all(config)
    print(summary(library, formulations))
    return 0


# ----------------------------------------------------------------------------- per molecule
@command("structure")
def cmd_structure(ns) -> int:
    from .descriptors import run_structure

    s = _settings(ns)
    rec = run_structure(ns.name, ns.smiles, ns.kind, ns.out, engine_settings_from(s.get("engine")),
                        conformer_settings_from(s.get("conformers")))
    log.info("%s: structure %s%s", ns.name, rec.status, f" ({rec.failure['reason']})" if rec.failure else "")
    return 0


@command("properties")
def cmd_properties(ns) -> int:
    from .descriptors import run_properties

    s = _settings(ns)
    rec = run_properties(ns.structure, ns.out, engine_settings_from(s.get("engine")))
    log.info("%s: properties %s%s", rec.name, rec.status, f" ({rec.failure['reason']})" if rec.failure else "")
    return 0


@command("aggregate-descriptors")
def cmd_aggregate_descriptors(ns) -> int:
    from .descriptors import aggregate_descriptors

    if len(ns.structures) != len(ns.properties):
        raise SystemExit("aggregate-descriptors: --structures and --properties must pair up")
    rows = aggregate_descriptors(list(zip(ns.structures, ns.properties)), ns.out)
    failed = [r for r in rows if r["status"] != "ok"]
    log.info("descriptors: %d molecules, %d failed -> %s", len(rows), len(failed), ns.out)
    return 0


@command("props")
def cmd_props(ns) -> int:
    """Single question: the electronic descriptors of one SMILES."""
    import tempfile

    from .descriptors import run_properties, run_structure
    from .structures import ConformerSettings

    eng = _engine_from_flags(ns)
    with tempfile.TemporaryDirectory() as tmp:
        s = run_structure("query", ns.smiles, "query", Path(tmp) / "query.json", eng,
                          ConformerSettings(n_embed=ns.n_embed))
        p = run_properties(Path(tmp) / "query.json", Path(tmp) / "query.props.json", eng)
    out = {"smiles": ns.smiles, "status": p.status, "failure": p.failure, **p.results,
           "method": eng.method, "engine": eng.backend}
    if ns.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        print_table([(k, v) for k, v in out.items() if v is not None and k != "redox_conversion"])
        if "redox_conversion" in out:
            print(f"\nnote: {out['redox_conversion']}")
    return 0 if p.ok else 1


# ----------------------------------------------------------------------------- binding commands
# ----------------------------------------------------------------------------- classification commands
# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="solvscreen", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"solvscreen {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="OpenMP threads for xTB (default: $OMP_NUM_THREADS or 1)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate config, library and formulations; compute nothing")
    p.add_argument("--configfile", nargs="*", default=["workflows/config.yaml"])
    p.add_argument("--directory", default=".", help="base directory for relative paths in the config")

    settings_help = "stage settings as JSON (the workflow passes them; defaults otherwise)"
    p = sub.add_parser("structure", help="reference geometry of one molecule (conformer search)")
    p.add_argument("--name", required=True)
    p.add_argument("--smiles", required=True)
    p.add_argument("--kind", default="")
    p.add_argument("--out", required=True, help="record path (.json); .xyz/.sdf are written beside it")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("properties", help="HOMO/LUMO, dipole, IP/EA, redox estimates at a reference geometry")
    p.add_argument("--structure", required=True, help="structure record (.json)")
    p.add_argument("--out", required=True)
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("aggregate-descriptors", help="collect per-molecule records into descriptors.csv")
    p.add_argument("--structures", nargs="+", required=True)
    p.add_argument("--properties", nargs="+", required=True)
    p.add_argument("--out", required=True)

    p = sub.add_parser("props", help="electronic descriptors of one SMILES, e.g. solvscreen props 'COCCOC'")
    p.add_argument("smiles")
    p.add_argument("--n-embed", type=int, default=12, help="conformers to embed")
    _add_engine_flags(p)

    # --- binding stage parsers (issue: cation binding) ---
    # --- classification / ranking / report parsers ---
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if ns.verbose > 1 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from .engine import set_threads

    set_threads(ns.threads or int(os.environ.get("OMP_NUM_THREADS", "1") or 1))
    from .errors import EngineUnavailable, InputError

    try:
        return _COMMANDS[ns.command](ns)
    except InputError as exc:
        print(f"solvscreen: error: {exc}", file=sys.stderr)
        return 2
    except EngineUnavailable as exc:
        print(f"solvscreen: error: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
