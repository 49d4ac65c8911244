"""Single questions on one SMILES (``solvscreen props``, ``solvscreen bind``): the workflow's
own stage runners, run in a scratch directory (or ``workdir`` to keep the records).

Both commands go through :class:`Query`, which runs the structure stage of every species
once and hands out record paths, so a question is answered by exactly the functions a
workflow run uses.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from rdkit import Chem

from ..complexes import SIGN_CONVENTION, BindingSettings, cation_spec
from ..xtb.engine import EngineSettings
from ..core.errors import InputError
from ..inputs.schema import load_schema
from ..inputs.library import size_problem
from ..core.records import Record
from ..stages.binding import run_binding, run_ion_pair
from ..stages.properties import run_properties
from ..stages.shell import run_shell
from ..stages.structure import run_structure
from ..xtb.structures import ConformerSettings, formal_charge, mol_from_smiles, structure_problems


def check_single_molecule(smiles: str, max_atoms: int | None = None) -> Chem.Mol:
    """One molecule given on its own (``solvscreen props``/``bind``) through the library's rules
    (:func:`~solvscreen.xtb.structures.structure_problems`, :func:`~solvscreen.inputs.library.size_problem`):
    one molecule (not empty, no dot-separated fragments), elements, closed shell and the size
    guard (``max_atoms``, default: the config schema's). Raises :class:`InputError`."""
    if not smiles.strip():
        raise InputError("one molecule expected: the SMILES is empty")
    mol = mol_from_smiles(smiles)
    n_frag = len(Chem.GetMolFrags(mol))
    if n_frag != 1:
        raise InputError(f"one molecule expected: SMILES {smiles!r} has {n_frag} dot-separated fragments "
                         "(ask about each molecule on its own)")
    limit = max_atoms if max_atoms is not None else load_schema("config")["properties"]["max_atoms"]["default"]
    size = size_problem(f"SMILES {smiles!r}", mol.GetNumAtoms(), limit, "--max-atoms")
    reasons = structure_problems(mol, smiles) + ([size] if size else [])
    if reasons:
        raise InputError("; ".join(reasons))
    return mol


class Query:
    """A scratch results directory laid out like a workflow run's."""

    def __init__(self, engine_settings: EngineSettings, conformer_settings: ConformerSettings,
                 workdir: str | Path | None = None):
        self.engine_settings = engine_settings
        self.conformer_settings = conformer_settings
        self._tmp = None if workdir else tempfile.TemporaryDirectory()
        self.root = Path(workdir) if workdir else Path(self._tmp.name)

    def __enter__(self) -> "Query":
        return self

    def __exit__(self, *exc) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def structure(self, name: str, smiles: str, kind: str) -> Path:
        path = self.root / "structures" / f"{name}.json"
        run_structure(name, smiles, kind, path, self.engine_settings, self.conformer_settings)
        return path

    def path(self, stage: str, cation: str, name: str) -> Path:
        return self.root / stage / cation / f"{name}.json"


def query_properties(smiles: str, engine_settings: EngineSettings = EngineSettings(),
                     conformer_settings: ConformerSettings = ConformerSettings(),
                     max_atoms: int | None = None) -> tuple[Record, dict]:
    """``solvscreen props``: the properties record of one SMILES and a summary dict."""
    check_single_molecule(smiles, max_atoms)  # the library's rules: InputError before any run
    with Query(engine_settings, conformer_settings) as q:
        p = run_properties(q.structure("query", smiles, "query"), q.root / "properties" / "query.json",
                           engine_settings)
    out = {"smiles": smiles, "status": p.status, "failure": p.failure, **p.results,
           "method": engine_settings.method, "engine": engine_settings.backend}
    return p, out


def query_binding(
    smiles: str,
    cation: str = "K",
    engine_settings: EngineSettings = EngineSettings(),
    settings: BindingSettings = BindingSettings(),
    conformer_settings: ConformerSettings = ConformerSettings(),
    workdir: str | Path | None = None,
    shell: bool = False,
    exchange_anions: dict[str, str] | None = None,
    max_atoms: int | None = None,
) -> dict:
    """``solvscreen bind``: binding (an anion gets the ion-pair search, the same search) of one
    SMILES to ``cation``; with ``shell``, also the filled shell and the exchange of
    ``exchange_anions`` (name -> SMILES). Returns a summary dict."""
    spec = cation_spec(cation)
    lig_charge = formal_charge(check_single_molecule(smiles, max_atoms))  # InputError before any run
    exchange_anions = exchange_anions or {}
    for anion_smiles in exchange_anions.values():
        check_single_molecule(anion_smiles, max_atoms)
    if exchange_anions:
        settings = replace(settings, exchange_anions=tuple(exchange_anions))
    cat_name = f"{spec.symbol}+"
    with Query(engine_settings, conformer_settings, workdir) as q:
        lig = q.structure("query", smiles, "anion" if lig_charge < 0 else "query")
        cat = q.structure(cat_name, f"[{spec.symbol}+]", "cation")
        bind_path = q.path("binding", cat_name, "query")
        rec = run_binding(lig, cat, bind_path, engine_settings, settings,
                          stage="ion_pair" if lig_charge < 0 else "binding")
        out = {"smiles": smiles, "cation": spec.symbol, "stage": rec.stage, "status": rec.status,
               "failure": rec.failure, "method": engine_settings.method, "engine": engine_settings.backend,
               "wall_s": rec.timings.get("wall_s"),
               "gradient_evaluations": (rec.timings.get("engine") or {}).get("gradients")}
        if rec.ok:
            res = rec.results
            out.update({k: res[k] for k in ("E_bind_kcal_per_mol", "E_bind_eV", "denticity", "donor_atoms",
                                            "M_donor_distances_A", "n_starts_tried", "n_prescreened", "n_optimized")})
            out["sign_convention"] = SIGN_CONVENTION
            out["geometry_xyz"] = (bind_path.parent / rec.files["xyz"]).read_text()
            if workdir:
                out["record"] = str(bind_path)
        if shell and rec.ok and lig_charge >= 0:
            ips = []
            for name, smi in exchange_anions.items():
                ip = q.path("ion_pairs", cat_name, name)
                run_ion_pair(q.structure(name, smi, "anion"), cat, ip, engine_settings, settings)
                ips.append(ip)
            srec = run_shell(bind_path, ips, q.path("shells", cat_name, "query"), engine_settings, settings)
            out["shell_status"] = srec.status
            if srec.ok:
                r = srec.results
                out.update({k: r[k] for k in ("shell_n", "shell_n_reason", "shell_coordination_number",
                                              "E_shell_per_ligand_kcal_per_mol")})
                for ex in r["exchange"]:
                    out[f"E_exchange_{ex['anion']}_kcal_per_mol"] = ex.get("E_exchange_kcal_per_mol")
            else:
                out["shell_failure"] = srec.failure
    return out
