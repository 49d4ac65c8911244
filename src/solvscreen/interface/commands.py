"""The command registry of ``solvscreen`` and what every command shares: ``--settings`` JSON,
engine and settings builders, engine flags, the table printer.

A command module has ``add_parsers(sub, command)``: it adds its subparsers and registers each
handler with ``command(name)`` (:mod:`.cli` builds the parser from those modules).
"""

from __future__ import annotations

import argparse
import logging
from typing import Callable

from ..core.settings import settings_from_json

log = logging.getLogger("solvscreen")

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
SETTINGS_HELP = "stage settings as JSON (the workflow passes them; defaults otherwise)"


def command(name: str):
    """Register the decorated function as the handler of subcommand ``name``."""
    def deco(fn):
        COMMANDS[name] = fn
        return fn

    return deco


def _settings(ns: argparse.Namespace) -> dict:
    return settings_from_json(getattr(ns, "settings", None))


def engine_settings_from(d: dict | None):
    from ..xtb.engine import EngineSettings

    return EngineSettings.from_dict(d)


def conformer_settings_from(d: dict | None):
    from ..xtb.structures import ConformerSettings

    return ConformerSettings.from_dict(d)


def _add_engine_flags(p: argparse.ArgumentParser) -> None:
    from ..xtb.engine import backend_registry

    registry = backend_registry()
    methods = sorted({m for b in registry.values() for m in b.methods} - {"IPEA1-xTB"})
    p.add_argument("--method", default="GFN2-xTB", choices=methods)
    p.add_argument("--backend", default="tblite", choices=tuple(registry))
    p.add_argument("--solvent", default=None, help="ALPB implicit solvent name, e.g. thf (default: gas phase)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--max-atoms", type=int, default=None, help="size guard, atoms with H (default: config's, 150)")


def _engine_from_flags(ns):
    """The engine section of a single question, from its flags."""
    from ..xtb.engine import EngineSettings

    return EngineSettings.from_dict({"backend": ns.backend, "method": ns.method, "solvent": ns.solvent})


def _terminal_width() -> int:
    """Columns of the terminal (80 when stdout is not one)."""
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


def print_table(rows: list[tuple[str, object]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        if isinstance(value, float):
            value = f"{value:.4f}"
        print(f"{key:<{width}}  {value}")


def binding_settings_from(d: dict | None):
    from ..complexes import BindingSettings

    return BindingSettings.from_dict(d)
