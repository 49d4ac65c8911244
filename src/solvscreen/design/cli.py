"""``solvscreen design PARENT...``: a parent's derivatives, filtered, printed; nothing computed.

* ``solvscreen design DME``: the table (name, SMILES, strategy path, library name, filters);
* ``solvscreen design DGM --strategies branch --max-steps 2 --json``;
* ``solvscreen design DME --write-library results/design/library.csv``: also the passing new
  derivatives as a library table (the workflow's ``design_library`` rule runs this).

To compute them, put the parents in the config (``design: {parents: [DME]}``) and run the
workflow: they go through the same stages as library molecules.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("solvscreen")


def _library(paths: list[str] | None):
    from ..core.errors import InputError
    from ..inputs.library import load_library

    if not paths:
        default = Path(__file__).resolve().parents[3] / "molecules" / "library.csv"
        if not default.is_file():
            raise InputError("no default library here; give --library (or give parents as SMILES with --library none)")
        paths = [str(default)]
    if paths == ["none"]:
        return None
    return load_library(paths)


def _settings(ns):
    from .library import DesignSettings

    d = {"parents": ns.parents, "max_steps": ns.max_steps}
    if ns.strategies:
        d["strategies"] = ns.strategies
    for key in ("max_atoms", "max_sa_score", "min_boiling_point_K"):
        if getattr(ns, key) is not None:
            d[key] = getattr(ns, key)
    return DesignSettings.from_dict(d)


def format_design(design) -> str:
    """One parent's design as text: a summary line, then one block per derivative."""
    e = design.enumeration
    removed = design.removed_by()
    lines = [f"parent {e.parent} ({e.parent_smiles}); strategies {', '.join(e.strategies)}; max_steps {e.max_steps}",
             f"  {len(design.entries)} derivatives ({e.n_products} products, {e.n_duplicates} duplicates by InChIKey); "
             f"{len(design.passed)} pass every filter, {len(design.new_passed)} of them not in the library",
             "  removed by filter: " + ", ".join(f"{k} {v}" for k, v in removed.items())
             + " (a derivative failing two filters counts in both)"]
    for entry in design.entries:
        d, s = entry.derivative, entry.screened
        lib = f"  [library: {d.library_name}" + (", same constitution, stereo differs" if d.library_match == "constitution"
                                                 else "") + "]" if d.library_name else ""
        status = "pass" if s.passed else "FAIL"
        lines.append(f"{entry.name:<14} {status}  {d.smiles}  {d.path_text}{lib}")
        bp = f"{s.T_b_K:.0f} K" if s.T_b_K is not None else "none (no Joback group for an atom)"
        extra = f"    atoms {d.n_atoms}, SA score {s.sa_score:.2f}, Joback T_b {bp}"
        if d.unassigned_stereocentres:
            extra += f", {d.unassigned_stereocentres} unassigned stereocentre(s) (one stereoisomer is computed)"
        lines.append(extra)
        lines += [f"    fails {k}: {v}" for k, v in s.failed.items()]
        lines += [f"    warning: {w}" for w in s.warnings]
    return "\n".join(lines)


def cmd_design(ns) -> int:
    from .library import run_designs, write_library_csv

    library = _library(ns.library)
    settings = _settings(ns)
    if library is None:
        from ..inputs.library import Library

        library = Library()
    designs = run_designs(settings, library)
    if ns.json:
        print(json.dumps([{"parent": d.parent, "parent_smiles": d.enumeration.parent_smiles,
                           "n_products": d.enumeration.n_products, "n_duplicates": d.enumeration.n_duplicates,
                           "removed_by": d.removed_by(), "derivatives": [e.to_dict() for e in d.entries]}
                          for d in designs], indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(format_design(d) for d in designs))
    if ns.write_library:
        n = write_library_csv(ns.write_library, designs)
        log.info("wrote %d new derivatives that pass every filter to %s", n, ns.write_library)
    return 0


def add_parsers(sub, command) -> None:
    from .strategies import STRATEGIES

    p = sub.add_parser("design", help="derivatives of a parent solvent by the review's strategies, filtered; "
                                      "computes nothing, e.g. solvscreen design DME")
    p.add_argument("parents", nargs="+", help="library names/aliases or SMILES")
    p.add_argument("--strategies", nargs="+", choices=tuple(STRATEGIES), help="default: all")
    p.add_argument("--max-steps", type=int, default=2, help="steps in combination (default 2)")
    p.add_argument("--max-atoms", type=int, default=None, help="size filter, atoms with H (default 37)")
    p.add_argument("--max-sa-score", type=float, default=None, help="synthetic accessibility filter (default 6)")
    p.add_argument("--min-boiling-point-K", dest="min_boiling_point_K", type=float, default=None,
                   help="Joback boiling point below which a derivative is flagged volatile (default 333)")
    p.add_argument("--library", nargs="+", help="candidate tables (default: molecules/library.csv; 'none': no library)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--write-library", metavar="CSV", help="also write the new passing derivatives as a library table")
    command("design")(cmd_design)
