"""The workflow's ``dft`` config section: settings, checks and the molecule selection.

``dft.molecules`` picks what is computed (the stage is off by default):

* ``[]`` -- nothing (the default; the DFT rules are not part of the run);
* a list of library names/aliases (solvents and diluents of the run);
* ``calibration`` -- the solvents and diluents of the classification calibration set
  (the formulations whose ``set`` is ``calibration``);
* ``{top: N}`` -- the N smallest (fewest atoms, then name) solvents and diluents of the run:
  what a budget of N molecules affords. The GFN2 ranking is not known when the workflow is
  planned, so "top" means cheapest, not best ranked.

:func:`check_config` returns every problem as a
:class:`~solvscreen.core.errors.ValidationError` naming its key path (the lead wires it into
``solvscreen.interface.inputs.validate_all``); :func:`select_molecules` resolves the selection.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..core.errors import InputError, ValidationError
from ..core.settings import ConfigSection
from .level import BASES, METHODS, PRESETS, DFTLevel, level_from_preset
from .relax import RELAX_MODES

__all__ = ["DFTSettings", "check_config", "select_molecules", "solvent_eps"]


@dataclass(frozen=True)
class DFTSettings(ConfigSection):
    """The ``dft`` config section (see the config schema for every key's meaning)."""

    SECTION = "dft"

    molecules: Any = field(default_factory=list)
    preset: str = "calibration"
    level: str | None = None            # method override (e.g. wb97x-d3bj for comparison)
    basis: str | None = None            # basis override
    relax: str = "cation"
    relax_basis: str | None = None      # relax in this basis, single point in `basis` (None: same)
    ligand_geometry: str = "auto"
    solvent: dict | None = None         # {eps: float} or {name: <Minnesota solvent name>}
    max_steps: int = 50
    grids_level: int = 3
    conv_tol_Eh: float = 1e-8
    max_cycle: int = 100
    retries: bool = True
    backend: str = "auto"
    threads: int | None = None          # None: the workflow's `threads`
    gpu: bool = False                   # ask the cluster for a GPU (profiles/slurm)

    @classmethod
    def from_dict(cls, d: dict | None) -> "DFTSettings":
        """The section (unknown keys refused by :class:`ConfigSection`), with its names checked:
        the level of theory, relax mode, bases and ligand geometry (here rather than in
        ``__post_init__``: a default-built DFTSettings is never checked against PySCF's tables)."""
        s = super().from_dict(d)
        s.level_of_theory()  # raises InputError on bad names
        if s.relax not in RELAX_MODES:
            raise InputError(f"dft.relax: must be one of {list(RELAX_MODES)}, got {s.relax!r}")
        if s.relax_basis is not None:
            canonical_basis(s.relax_basis)
        if s.ligand_geometry not in ("auto", "gfn2", "relax"):
            raise InputError(f"dft.ligand_geometry: must be auto, gfn2 or relax, got {s.ligand_geometry!r}")
        return s

    def level_of_theory(self, threads: int = 1) -> DFTLevel:
        return level_from_preset(
            self.preset, method=self.level, basis=canonical_basis(self.basis) if self.basis else None,
            grids_level=self.grids_level, conv_tol_Eh=self.conv_tol_Eh, max_cycle=self.max_cycle,
            retries=self.retries, backend=self.backend, threads=self.threads or threads,
            solvent_eps=solvent_eps(self.solvent),
        )


def canonical_basis(name: str) -> str:
    for b in BASES:
        if b.lower() == str(name).lower():
            return b
    raise InputError(f"dft.basis: unknown basis {name!r}; known: {list(BASES)}")


def solvent_eps(solvent: dict | None) -> float | None:
    """PCM dielectric constant from ``{eps: x}`` or ``{name: n}`` (Minnesota Solvent Descriptor
    Database, as shipped in PySCF's SMD module); None = gas phase."""
    if solvent is None:
        return None
    if not isinstance(solvent, dict) or len(solvent) != 1 or not ({"eps", "name"} & set(solvent)):
        raise InputError(f"dft.solvent: must be null, {{eps: <number>}} or {{name: <solvent>}}, got {solvent!r}")
    if "eps" in solvent:
        eps = solvent["eps"]
        if not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps < 1.0:
            raise InputError(f"dft.solvent.eps: a dielectric constant >= 1 is needed, got {eps!r}")
        return float(eps)
    from pyscf.solvent.smd import solvent_db

    name = str(solvent["name"]).lower()
    if name not in solvent_db:
        raise InputError(f"dft.solvent.name: {solvent['name']!r} is not in the Minnesota solvent table "
                         f"(e.g. water, tetrahydrofuran, 1,4-dioxane); give {{eps: <number>}} instead")
    return float(solvent_db[name][5])


def _ligand_names(config: dict, library) -> list[str]:
    """Solvents and diluents of the run (the config's `molecules` selection)."""
    if config.get("molecules", "all") == "all":
        names = list(library.names(("solvent", "diluent")))
    else:
        names = []
        for n in config["molecules"]:
            m = library.get(n)
            if m is not None and m.kind in ("solvent", "diluent"):
                names.append(m.name)
    return list(dict.fromkeys(names))


def _n_atoms(smiles: str) -> int:
    from rdkit import Chem

    from ..core.errors import InputError
    from ..xtb.structures import parse_smiles

    try:
        return Chem.AddHs(parse_smiles(smiles)).GetNumAtoms()
    except InputError:
        return 10**6


def select_molecules(config: dict, library, formulations) -> list[str]:
    """Library names the DFT stage computes (resolved, in a stable order); [] = stage off."""
    sel = (config.get("dft") or {}).get("molecules", [])
    run = _ligand_names(config, library)
    if sel in ([], None):
        return []
    if sel == "calibration":
        names = []
        for f in formulations:
            if getattr(f, "set", None) == "calibration":
                names += [n for n in f.component_names if library.get(n) and library.get(n).kind in ("solvent", "diluent")]
        return [n for n in dict.fromkeys(names) if n in run]
    if isinstance(sel, dict):
        n = int(sel["top"])
        return sorted(run, key=lambda name: (_n_atoms(library.get(name).smiles), name))[:n]
    return list(dict.fromkeys(library.resolve(n).name for n in sel))


def check_config(config: dict, library, formulations) -> list[ValidationError]:
    """Every problem of the ``dft`` section, each naming its key path; [] = fine."""
    errors: list[ValidationError] = []
    d = config.get("dft")
    if d is None:
        return errors

    def err(path: str, reason: str) -> None:
        errors.append(ValidationError(f"{path}: {reason}", source="config"))

    if not isinstance(d, dict):
        err("dft", f"must be a mapping, got {type(d).__name__}")
        return errors
    names = {f.name for f in fields(DFTSettings)}
    for k in sorted(set(d) - names):
        err(f"dft.{k}", f"unknown setting; known: {sorted(names)}")
    sel = d.get("molecules", [])
    run = set(_ligand_names(config, library))
    if isinstance(sel, list):
        for i, n in enumerate(sel):
            m = library.get(n) if isinstance(n, str) else None
            if m is None:
                err(f"dft.molecules[{i}]", f"unknown molecule {n!r} (not a library name or alias)")
            elif m.kind not in ("solvent", "diluent"):
                err(f"dft.molecules[{i}]", f"{n!r} is a {m.kind}; DFT binding is computed for solvents and diluents")
            elif m.name not in run:
                err(f"dft.molecules[{i}]", f"{n!r} is not in the run's `molecules` selection (no binding record)")
    elif isinstance(sel, dict):
        top = sel.get("top")
        if set(sel) != {"top"} or not isinstance(top, int) or isinstance(top, bool) or top < 1:
            err("dft.molecules", f"a mapping must be {{top: N}} with N >= 1, got {sel!r}")
    elif sel != "calibration":
        err("dft.molecules", f"must be [], a list of names, 'calibration' or {{top: N}}, got {sel!r}")
    preset = d.get("preset", "calibration")
    if preset not in PRESETS:
        err("dft.preset", f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
    if d.get("level") is not None and d["level"] not in METHODS:
        err("dft.level", f"unknown level {d['level']!r}; known: {sorted(METHODS)}")
    if d.get("basis") is not None and str(d["basis"]).lower() not in {b.lower() for b in BASES}:
        err("dft.basis", f"unknown basis {d['basis']!r}; known: {list(BASES)}")
    if d.get("relax_basis") is not None and str(d["relax_basis"]).lower() not in {b.lower() for b in BASES}:
        err("dft.relax_basis", f"unknown basis {d['relax_basis']!r}; known: {list(BASES)}")
    if d.get("relax", "cation") not in RELAX_MODES:
        err("dft.relax", f"must be one of {list(RELAX_MODES)}, got {d.get('relax')!r}")
    if d.get("ligand_geometry", "auto") not in ("auto", "gfn2", "relax"):
        err("dft.ligand_geometry", f"must be auto, gfn2 or relax, got {d.get('ligand_geometry')!r}")
    if d.get("backend", "auto") not in ("auto", "pyscf", "gpu4pyscf"):
        err("dft.backend", f"must be auto, pyscf or gpu4pyscf, got {d.get('backend')!r}")
    try:
        solvent_eps(d.get("solvent"))
    except InputError as exc:
        err("dft.solvent", str(exc).split(": ", 1)[-1])
    for key, lo in (("max_steps", 1), ("max_cycle", 1), ("grids_level", 0)):
        v = d.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < lo):
            err(f"dft.{key}", f"an integer >= {lo} is needed, got {v!r}")
    return errors
