"""Single questions from the command line: ``props`` (electronic descriptors of one SMILES) and
``bind`` (its cation binding), through :mod:`.query`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from .commands import (_add_engine_flags, _engine_from_flags, _settings, _terminal_width, binding_settings_from,
                       command, print_table)


@command("props")
def cmd_props(ns) -> int:
    """Single question: the electronic descriptors of one SMILES."""
    from .query import query_properties
    from ..xtb.structures import ConformerSettings

    p, out = query_properties(ns.smiles, _engine_from_flags(ns), ConformerSettings.from_dict({"n_embed": ns.n_embed}), ns.max_atoms)
    if ns.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        print_table([(k, v) for k, v in out.items() if v is not None and k != "redox_conversion"])
        if out.get("redox_conversion"):
            print(f"\nnote: {out['redox_conversion']}")
    return 0 if p.ok else 1


def exchange_anions_from(names: list[str], library_paths: list[str] | None) -> dict[str, str]:
    """``--anion`` values -> {name: SMILES}: NAME=SMILES as given, a bare name from the library."""
    from ..core.errors import InputError

    anions: dict[str, str] = {}
    library = None
    for a in names:
        if "=" in a:
            name, smi = a.split("=", 1)
            anions[name] = smi
            continue
        if library is None:
            library = _query_library(library_paths)
        mol = library.get(a)
        if mol is None or mol.kind != "anion":
            raise InputError(f"--anion {a!r}: give an anion of the library ({', '.join(library.names('anion'))}) "
                             "or NAME=SMILES")
        anions[mol.name] = mol.smiles
    return anions


def _query_library(paths: list[str] | None):
    """The candidate library for name look-ups of single questions (default: the embedded one,
    shipped with the package)."""
    from ..inputs.config import load_config
    from ..inputs.library import load_library

    return load_library(paths or [load_config({})["library"]])


#: Elements whose contacts with the cation are weak donors that GFN2-xTB overbinds.
HALOGENS = ("F", "Cl", "Br", "I")


def halogen_caveat(out: dict) -> str | None:
    """The caveat of a 1:1 binding energy reached through halogen contacts (None without them)."""
    labels = out.get("donor_atoms") or []
    halogens = [lab for lab in labels if "".join(ch for ch in lab if ch.isalpha()) in HALOGENS]
    if not halogens or out.get("E_bind_kcal_per_mol") is None:
        return None
    return (f"{len(halogens)} of the {len(labels)} donor atoms of this complex are halogen contacts "
            f"({', '.join(halogens)}). Organic halogens are weak donors, yet GFN2-xTB binds K+ to fluoroethers "
            "through F almost as strongly as to DME (TTE -37.2, OTE -40.6, DME -44.0 kcal/mol) while MD finds "
            "TTE depleted from the K+ shell: a 1:1 energy through such contacts overstates how strongly a weak "
            "donor holds the cation. Nor is a 1:1 energy the solvating power, the free energy of the last site "
            "of a crowded shell (the solvation stage; docs/solvating_power.md).")


@command("bind")
def cmd_bind(ns) -> int:
    """Single question: the cation binding (or, for an anion, ion-pair binding) of one SMILES."""
    from .query import query_binding
    from ..xtb.structures import ConformerSettings

    anions = exchange_anions_from(ns.anion or (["FSI"] if ns.shell else []), ns.library)
    out = query_binding(ns.smiles, ns.cation, _engine_from_flags(ns), binding_settings_from(_settings(ns).get("binding")),
                        ConformerSettings.from_dict({"n_embed": ns.n_embed}), workdir=ns.keep, shell=ns.shell or bool(ns.anion),
                        exchange_anions=anions, max_atoms=ns.max_atoms)
    geometry = out.pop("geometry_xyz", None)
    if ns.xyz and geometry:  # the complex's geometry goes to a file, and only on request
        Path(ns.xyz).write_text(geometry)
        out["geometry_file"] = ns.xyz
    caveat = halogen_caveat(out)
    if caveat:
        out["caveat"] = caveat
    if ns.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        print_table([(k, ", ".join(map(str, v)) if isinstance(v, list) else v)
                     for k, v in out.items() if v is not None and k != "caveat"])
        if caveat:
            print("\n" + textwrap.fill(f"note: {caveat}", width=_terminal_width()))
    return 0 if out["status"] == "ok" else 1


def add_parsers(sub, command) -> None:
    del command  # the handlers above register themselves with commands.command
    p = sub.add_parser("props", help="electronic descriptors of one SMILES, e.g. solvscreen props 'COCCOC'")
    p.add_argument("smiles")
    p.add_argument("--n-embed", type=int, default=12, help="conformers to embed")
    _add_engine_flags(p)

    p = sub.add_parser("bind", help="cation binding of one SMILES, e.g. solvscreen bind 'COCCOC' --cation K")
    p.add_argument("smiles")
    p.add_argument("--cation", default="K", help="K (default), Na or Li")
    p.add_argument("--shell", action="store_true", help="also the filled shell and the exchange with --anion (FSI)")
    p.add_argument("--anion", action="append",
                   help="exchange anion for --shell: an anion of the library (FSI, TFSI, PF6, ...) or NAME=SMILES "
                        "(repeatable)")
    p.add_argument("--library", nargs="+", help="candidate tables for --anion names (default: the embedded library)")
    p.add_argument("--n-embed", type=int, default=12, help="conformers to embed for the reference structure")
    p.add_argument("--keep", metavar="DIR", help="keep the records and geometries in DIR")
    p.add_argument("--xyz", metavar="FILE", help="write the lowest complex's geometry (XYZ) to FILE")
    p.add_argument("--settings", help="JSON with a 'binding' section overriding BindingSettings defaults")
    _add_engine_flags(p)
