"""Roles on a real tiny run: DME, water, hexane, FSI-, K+ and KFSI (conformers ``n_embed: 3``),
through ``snakemake`` to classification.csv.

- 1 M KFSI in hexane:DME 99:1 is no electrolyte: 1 % of DME (0.09 DME per salt) is an additive's
  share, and the salt cannot dissolve in it (classify/solubility.py).
- Water dissolves KFSI: whatever decides the roles must call it a solvent.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "tests" / "workflow"
SNAKEMAKE = shutil.which("snakemake")

LIBRARY = """name,aliases,smiles,kind,full_name,density_g_per_mL,density_source
DME,G1,COCCOC,solvent,"1,2-dimethoxyethane",0.867,Sigma-Aldrich
W,H2O,O,solvent,water,0.997,CRC Handbook (25 °C)
HEX,,CCCCCC,diluent,n-hexane,0.655,CRC Handbook (25 °C)
FSI,,O=S(=O)(F)[N-]S(=O)(=O)F,anion,bis(fluorosulfonyl)imide,,
K+,K,[K+],cation,potassium ion,,
KFSI,,[K+].O=S(=O)(F)[N-]S(=O)(=O)F,salt,potassium bis(fluorosulfonyl)imide,,
"""
FORMULATIONS = """id,salt,concentration_mol_per_L,components,ratio_basis,reported_class,ratio_reported,source
KFSI-W,KFSI,1.0,W,volume,,yes,tiny test formulation: an aqueous salt solution
HEX-DME-99-1,KFSI,1.0,HEX:99|DME:1,volume,,yes,tiny test formulation: 1 % of a solvent
LCE-DME,KFSI,1.0,DME,volume,LCE,yes,review Table 2 (ref 99)
"""


@pytest.fixture(scope="module")
def classification(tmp_path_factory):
    if SNAKEMAKE is None:
        pytest.skip("snakemake is not installed")
    work = tmp_path_factory.mktemp("roles")
    (work / "library.csv").write_text(LIBRARY)
    (work / "formulations.csv").write_text(FORMULATIONS)
    proc = subprocess.run([SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(work),
                           "--cores", "2", "--configfile", str(WORKFLOW / "config.yaml"), "--config",
                           f"results={work / 'results'}", f"library={work / 'library.csv'}",
                           f"formulations={work / 'formulations.csv'}"],
                          cwd=work, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    with (work / "results" / "classification.csv").open(newline="") as fh:
        return {row["id"]: row for row in csv.DictReader(fh)}


def test_one_percent_of_a_solvent_does_not_dissolve_the_salt(classification):
    row = classification["HEX-DME-99-1"]
    assert row["status"] == "failed" and row["label"] == "" and row["confidence"] == ""
    assert row["failure_reason"].startswith("the salt would not dissolve: the components that can solvate K+ (DME) "
                                            "make up a volume fraction 0.010 < 0.05")
    assert "DME: volume fraction 0.010 < 0.05: an additive" in row["reasons"]
    assert classification["LCE-DME"]["status"] == "ok"  # the same DME, as the solvent, classifies


@pytest.mark.xfail(strict=True, reason=(
    "measured on this run: GFN2-xTB binds K+-H2O at -24.3 kcal/mol; -E_bind 24.3 +- 7.0 lies below the "
    "diluent threshold 32.35 kcal/mol (GFN2_DEFAULT_DILUENT_BIND_MAX: no calibration rows here), so the "
    "descriptor path calls water a diluent and 1 M KFSI in water 'would not dissolve'. A 1:1 gas-phase "
    "binding threshold cannot see water's solvating power (small, strongly polar, a network solvent); the "
    "threshold is to be replaced by a solvating-power criterion"))
def test_water_is_a_solvent(classification):
    row = classification["KFSI-W"]
    assert row["status"] == "ok", row["failure_reason"]
    assert row["roles"] == "W=solvating"
