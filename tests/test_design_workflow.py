"""End-to-end: a tiny design through a real ``snakemake --cores 2`` (marked slow).

The tiny library of tests/workflow/ with ``design: {parents: [DME], strategies: [branch],
max_steps: 1}``: DME's two branched derivatives (1,2-dimethoxypropane and 2,3-dimethoxybutane)
join the library and go through the structure, properties, binding and solvation stages like DME,
and the grid's 1 M KFSI formulations of them are classified; the design table lists them with
their paths, the design report with their solvating power relative to DME; a second run has
nothing to do.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from solvscreen.inputs.library import load_library

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "tests" / "workflow"
SNAKEMAKE = shutil.which("snakemake")
if SNAKEMAKE is None:  # pragma: no cover
    pytest.skip("snakemake is not installed", allow_module_level=True)

DESIGN = '{"parents": ["DME"], "strategies": ["branch"], "max_steps": 1}'
DERIVATIVES = {"DME-LEEANU": "COCC(C)OC", "DME-RLPGNH": "COC(C)C(C)OC"}


def _snakemake(results: Path, *extra: str):
    targets = [str(results / t) for t in ("descriptors.csv", "binding.csv", "design/derivatives.json", "design.csv")]
    cmd = [SNAKEMAKE, *targets, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(results.parent),
           "--cores", "2", "--configfile", str(WORKFLOW / "config.yaml"), *extra,
           "--config", f"results={results}", f"library={WORKFLOW / 'library.csv'}",
           f"formulations={WORKFLOW / 'formulations.csv'}", f"design={DESIGN}"]
    return subprocess.run(cmd, cwd=results.parent, capture_output=True, text=True, timeout=900,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})


def _rows(path: Path, key: str = "name") -> dict[str, dict]:
    with path.open(newline="") as fh:
        return {r[key]: r for r in csv.DictReader(fh)}


def test_a_tiny_design_runs_through_the_stages(tmp_path):
    results = tmp_path / "results"
    proc = _snakemake(results)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]

    design = json.loads((results / "design" / "derivatives.json").read_text())
    assert [(d["name"], d["smiles"], d["path"]) for d in design[0]["derivatives"]] == [
        ("DME-LEEANU", "COCC(C)OC", "DME →branch(CH(CH3))"), ("DME-RLPGNH", "COC(C)C(C)OC", "DME →branch(CH(CH3) x2)")]
    assert design[0]["removed_by"] == {"elements": 0, "size": 0, "stability": 0, "synthesis": 0}
    added = load_library(results / "design" / "library.csv")  # a valid library table
    assert {m.name: m.smiles for m in added} == DERIVATIVES and {m.kind for m in added} == {"solvent"}

    descriptors = _rows(results / "descriptors.csv")
    assert set(DERIVATIVES) | {"DME", "DMC", "FSI", "K+"} == set(descriptors)
    binding = _rows(results / "binding.csv")
    for name, smiles in DERIVATIVES.items():
        assert descriptors[name]["status"] == "ok" and descriptors[name]["smiles"] == smiles
        assert float(descriptors[name]["homo_eV"]) < 0
        assert binding[name]["status"] == "ok" and float(binding[name]["E_bind_kcal_per_mol"]) < 0

    report = _rows(results / "design.csv")
    assert set(report) == set(DERIVATIVES) | {"DME"} and report["DME"]["role"] == "parent"
    for name in DERIVATIVES:
        r = report[name]
        assert float(r["solvating_power_kcal_per_mol"]) > 0 and r["pareto"] in ("yes", "no"), r
        d = float(r["solvating_power_kcal_per_mol"]) - float(report["DME"]["solvating_power_kcal_per_mol"])
        assert float(r["d_solvating_power_vs_parent_kcal_per_mol"]) == pytest.approx(d, abs=0.01)
        # a class, or "not classified" where a guard refused one (a derivative's dielectric
        # constant is only an estimate, so whether 1 M of the salt dissolves may stay unknown)
        assert r["class_1M"] and r["k_metal"] in ("stable", "undecided", "reduced")
    assert (results / "design.html").read_text().count("<svg") == 1

    again = _snakemake(results, "--dry-run")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, again.stdout[-2000:]
