"""The ``solvscreen`` command line: the parser and ``main``; the commands live in their modules.

Snakemake rules call the stage commands (``structure``, ``properties``,
``aggregate-descriptors``, ...); people ask single questions (``props``, ``bind``).
Both go through the same functions. ``--help`` lists the user commands (:data:`USER_COMMANDS`);
the workflow's own commands work the same but are not listed.

Exit codes: 0 success (a molecule whose calculation failed is still a success of
the command: its record says why), 2 invalid input, 3 missing backend.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

from . import question_commands, stage_commands, table_commands
from ..core import registry
from .commands import COMMANDS, command

log = logging.getLogger("solvscreen")

# Command modules: each has ``add_parsers(sub, command)``. This package's own, then each
# registered stage package's (solvscreen.core.registry; a stage package missing from a build
# leaves its commands out).
_COMMAND_MODULES = (stage_commands, question_commands, table_commands)

# Design from a parent solvent: `solvscreen design PARENT` (the derivatives) and
# `solvscreen design-report RESULTS` (their table and plot).
from ..design import cli as design_cli  # noqa: E402
from ..report import design as design_report  # noqa: E402

_COMMAND_MODULES += (design_cli, design_report)


@command("validate")
def cmd_validate(ns) -> int:
    from ..inputs.config import load_config, read_config_files, summary
    from .inputs import validate_all

    files = ns.configfile
    if files is None:  # the checkout's config where there is one (errors in it name its file and line)
        files = [f for f in ("workflows/config.yaml",) if Path(f).is_file()]
    config = load_config(read_config_files(files), base_dir=ns.directory)
    library, formulations = validate_all(config)
    print(summary(library, formulations))
    return 0


#: The commands ``solvscreen --help`` lists: questions and the cheap commands on a run's tables.
#: The others are the workflow's (one per stage job, the aggregations, ``died``): they work when
#: called, and ``solvscreen COMMAND --help`` describes each, but the overview leaves them out.
USER_COMMANDS = ("props", "bind", "validate", "classify", "rank", "report", "md-presets")
DESCRIPTION = ("Screen electrolyte components for potassium-metal batteries: questions about one molecule, "
               "and the classification, ranking and report of a workflow run.")
EPILOG = ("The workflow's own commands (structure, properties, binding, solvation, aggregate-*, died, md-*, "
          "dft, ...) are not listed; `solvscreen COMMAND --help` describes any of them.")


class _Subcommands:
    """``add_subparsers``' object as the command modules see it: a command not in
    :data:`USER_COMMANDS` gets its help text as its own description and stays out of the list."""

    def __init__(self, sub):
        self._sub = sub

    def add_parser(self, name: str, **kwargs):
        if name not in USER_COMMANDS and "help" in kwargs:
            kwargs.setdefault("description", kwargs.pop("help"))
        return self._sub.add_parser(name, **kwargs)


def _add_module_parsers(sub) -> None:
    for mod in _COMMAND_MODULES:
        mod.add_parsers(sub, command)
    for modname in (s.cli for s in registry.STAGES if s.cli):
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:  # that stage package is not part of this build
            if exc.name is not None and modname.startswith(exc.name):
                continue
            raise
        mod.add_parsers(sub, command)


def threads_problem(text: str) -> str | None:
    """Why ``text`` is no OpenMP thread count, or ``None`` (a whole number >= 1).
    0 or a negative count would run with libgomp's warning and its own default instead."""
    try:
        ok = int(text.strip()) >= 1
    except ValueError:
        ok = False
    return None if ok else f"{text!r} is not a positive whole number of OpenMP threads (1, 2, ...)"


def _threads_arg(text: str) -> int:
    problem = threads_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="solvscreen", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"solvscreen {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--threads", type=_threads_arg, default=None,
                        help="OpenMP threads for xTB (default: $OMP_NUM_THREADS or 1)")
    sub = _Subcommands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))

    p = sub.add_parser("validate", help="validate config, library and formulations; compute nothing")
    p.add_argument("--configfile", nargs="*", default=None,
                   help="config files (default: workflows/config.yaml where there is one, else the defaults, "
                        "which are the same)")
    p.add_argument("--directory", default=".", help="base directory for relative paths in the config")

    _add_module_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if ns.verbose > 1 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from ..xtb.engine import set_threads
    from ..core.errors import EngineUnavailable, InputError

    threads = ns.threads
    if threads is None:
        env = os.environ.get("OMP_NUM_THREADS", "") or "1"
        problem = threads_problem(env)
        if problem:
            print(f"solvscreen: error: OMP_NUM_THREADS={problem}; set it or give --threads", file=sys.stderr)
            return 2
        threads = int(env)
    set_threads(threads)

    try:
        return COMMANDS[ns.command](ns)
    except InputError as exc:
        print(f"solvscreen: error: {exc}", file=sys.stderr)
        return 2
    except EngineUnavailable as exc:
        print(f"solvscreen: error: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
