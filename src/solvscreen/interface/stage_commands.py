"""The workflow's stage commands: one unit of a stage (``structure``, ``properties``, ``binding``,
``ion-pair``, ``shell``), the tables (``aggregate-descriptors``, ``aggregate-binding``) and
``died`` (a rule's fallback when a job died without a record). Exit codes: 0 success (a failed
calculation is still a success of the command: its record says why), 2 invalid input, 3 missing backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .commands import (SETTINGS_HELP as settings_help, _settings, binding_settings_from, command,
                       conformer_settings_from, engine_settings_from, log)


def _run_structure(ns, s: dict):
    from ..stages.structure import run_structure

    return run_structure(ns.name, ns.smiles, ns.kind, ns.out, engine_settings_from(s.get("engine")),
                         conformer_settings_from(s.get("conformers")))


def _run_properties(ns, s: dict):
    from ..stages.properties import run_properties

    return run_properties(ns.structure, ns.out, engine_settings_from(s.get("engine")),
                          orbital_solvent=s.get("properties", {}).get("orbital_solvent", "thf"))


def _run_binding(ns, s: dict):
    from ..stages.binding import run_binding

    return run_binding(ns.ligand_structure, ns.cation_structure, ns.out, engine_settings_from(s.get("engine")),
                       binding_settings_from(s.get("binding")))


def _run_ion_pair(ns, s: dict):
    from ..stages.binding import run_ion_pair

    return run_ion_pair(ns.anion_structure, ns.cation_structure, ns.out, engine_settings_from(s.get("engine")),
                        binding_settings_from(s.get("binding")))


def _run_shell(ns, s: dict):
    from ..stages.shell import run_shell

    return run_shell(ns.binding, ns.ion_pairs or [], ns.out, engine_settings_from(s.get("engine")),
                     binding_settings_from(s.get("binding")))


# subcommand -> runner(ns, settings) -> Record: every stage command is the same body
_STAGE_COMMANDS: dict[str, Callable] = {
    "structure": _run_structure,
    "properties": _run_properties,
    "binding": _run_binding,
    "ion-pair": _run_ion_pair,
    "shell": _run_shell,
}


def cmd_stage(ns) -> int:
    """Run one stage unit through its runner; a failed calculation is still exit 0 (its record says why)."""
    rec = _STAGE_COMMANDS[ns.command](ns, _settings(ns))
    log.info("%s: %s %s%s", rec.name, rec.stage, rec.status, f" ({rec.failure['reason']})" if rec.failure else "")
    return 0


for _name in _STAGE_COMMANDS:
    command(_name)(cmd_stage)


@command("aggregate-descriptors")
def cmd_aggregate_descriptors(ns) -> int:
    from ..core.errors import InputError
    from ..stages.properties import aggregate_descriptors

    if len(ns.structures) != len(ns.properties):
        raise InputError("aggregate-descriptors: --structures and --properties must pair up")
    rows = aggregate_descriptors(list(zip(ns.structures, ns.properties)), ns.out)
    failed = [r for r in rows if r["status"] != "ok"]
    log.info("descriptors: %d molecules, %d failed -> %s", len(rows), len(failed), ns.out)
    return 0


@command("aggregate-binding")
def cmd_aggregate_binding(ns) -> int:
    from ..stages.binding import aggregate_binding
    from ..stages.shell import aggregate_shells

    rows = aggregate_binding([*(ns.binding or []), *(ns.ion_pairs or [])], ns.out_binding)
    log.info("binding: %d rows, %d failed -> %s", len(rows), sum(r["status"] != "ok" for r in rows), ns.out_binding)
    if ns.out_shells:
        srows = aggregate_shells(ns.shells or [], ns.out_shells)
        log.info("shells: %d rows, %d failed -> %s", len(srows), sum(r["status"] != "ok" for r in srows), ns.out_shells)
    return 0


# Exit codes of a stage command that mean "fix the input", not "the job died": `died` passes
# them on (the job fails, as it should) instead of turning them into a failure record.
_INPUT_EXIT_CODES = (2, 3)


@command("died")
def cmd_died(ns) -> int:
    """A rule's shell fallback: a failure record for a job that died without one."""
    from ..core.errors import InputError
    from ..stages.harness import write_died_record

    if ns.exit_code in _INPUT_EXIT_CODES:
        log.error("%s %s: the stage command stopped on an input error (exit code %d; see %s)",
                  ns.stage, ns.name, ns.exit_code, ns.log)
        return ns.exit_code
    if ns.retries_left > 0 and not Path(ns.out).exists():
        # not the last attempt: fail the job, so that Snakemake resubmits it with the next
        # attempt's (larger) resources; the last attempt writes the failure record
        log.warning("%s %s: job died (exit code %s); %d attempt(s) left: failing this attempt so that "
                    "Snakemake resubmits it with the next attempt's resources", ns.stage, ns.name,
                    ns.exit_code, ns.retries_left)
        return ns.exit_code if ns.exit_code and 0 < ns.exit_code < 256 else 1
    inputs = {}
    for item in ns.input or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--input {item!r}: expected KEY=VALUE")
        inputs[key] = value
    rec = write_died_record(ns.stage, ns.name, ns.out, exit_code=ns.exit_code, log=ns.log,
                            files_dir=ns.files_dir, inputs=inputs)
    if rec is not None:
        log.warning("%s %s: %s", ns.stage, ns.name, rec.failure["reason"])
    return 0


def add_parsers(sub, command) -> None:
    del command  # the handlers above register themselves with commands.command
    p = sub.add_parser("structure", help="reference geometry of one molecule (conformer search)")
    p.add_argument("--name", required=True)
    p.add_argument("--smiles", required=True)
    p.add_argument("--kind", default="")
    p.add_argument("--out", required=True, help="record path (.json); geometry files go in its directory (out without .json)")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("properties", help="HOMO/LUMO, dipole, IP/EA, redox estimates at a reference geometry")
    p.add_argument("--structure", required=True, help="structure record (.json)")
    p.add_argument("--out", required=True)
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("aggregate-descriptors", help="collect per-molecule records into descriptors.csv")
    p.add_argument("--structures", nargs="+", required=True)
    p.add_argument("--properties", nargs="+", required=True)
    p.add_argument("--out", required=True)

    # --- binding stage parsers (issue: cation binding) ---
    p = sub.add_parser("binding", help="cation binding of one molecule (complex search, E_bind, binding mode)")
    p.add_argument("--ligand-structure", required=True, help="structure record of the ligand (.json)")
    p.add_argument("--cation-structure", required=True, help="structure record of the cation (.json)")
    p.add_argument("--out", required=True, help="record path (.json); complex.xyz goes in its directory")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("ion-pair", help="ion-pair binding E(M+A-) - E(M+) - E(A-) of one anion with one cation")
    p.add_argument("--anion-structure", required=True, help="structure record of the anion (.json)")
    p.add_argument("--cation-structure", required=True, help="structure record of the cation (.json)")
    p.add_argument("--out", required=True, help="record path (.json); complex.xyz goes in its directory")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("shell", help="filled first shell M+(L)n and anion exchange M+(L)n + A- -> M+(L)(n-1)A- + L")
    p.add_argument("--binding", required=True, help="1:1 binding record of the ligand (.json)")
    p.add_argument("--ion-pairs", nargs="*", default=[], help="ion-pair records of the exchange anions (.json)")
    p.add_argument("--out", required=True, help="record path (.json); shell .xyz files go in its directory")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("aggregate-binding", help="collect binding, ion-pair and shell records into binding.csv/shells.csv")
    p.add_argument("--binding", nargs="*", default=[], help="binding records")
    p.add_argument("--ion-pairs", nargs="*", default=[], help="ion-pair records (rows with kind = anion)")
    p.add_argument("--shells", nargs="*", default=[], help="shell records")
    p.add_argument("--out-binding", required=True, help="binding.csv")
    p.add_argument("--out-shells", help="shells.csv")

    p = sub.add_parser("died", help="(workflow) failure record for a job that died without writing one")
    p.add_argument("--stage", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True, help="the record path the job should have written")
    p.add_argument("--exit-code", type=int, default=None)
    p.add_argument("--log", default=None, help="the job's log (its last line goes into the reason)")
    p.add_argument("--files-dir", default=None, help="the record's companion directory (created empty)")
    p.add_argument("--input", action="append", metavar="KEY=VALUE",
                   help="an input of the unit (e.g. cation=K+, kind=solvent) kept in the record; repeatable")
    p.add_argument("--retries-left", type=int, default=0, metavar="N",
                   help="attempts Snakemake still makes after this one: with N > 0 no record is written and "
                        "the job fails (so it is resubmitted); 0 (default): the failure record")
