"""MD end to end with the real programs (antechamber, Packmol, tleap, OpenMM, MDAnalysis).

Slow: the smoke preset on one formulation through the command line; same seed -> same
numbers; a run killed after its first production chunk resumes from its checkpoint, keeps
what it had and ends where the uninterrupted run ends.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(any(shutil.which(x) is None for x in ("antechamber", "tleap", "packmol")),
                       reason="md extra (AmberTools, Packmol) not installed"),
]
pytest.importorskip("openmm")
pytest.importorskip("MDAnalysis")

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
LIB = ["--library", str(ROOT / "molecules/library.csv"), "--formulations", str(ROOT / "molecules/formulations.csv")]


def _cli(*args):
    p = subprocess.run([sys.executable, "-m", "solvscreen.interface.cli", *args], env=ENV, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    return p


def test_smoke_preset_end_to_end_through_the_command_line(tmp_path):
    smiles = {"K+": "[K+]", "FSI": "O=S(=O)(F)[N-]S(=O)(=O)F", "DME": "COCCOC"}
    pairs = []
    for name, smi in smiles.items():
        out = tmp_path / "md_params" / f"{name}.json"
        _cli("md-params", "--name", name, "--smiles", smi, "--out", str(out))
        pairs.append(f"{name}={out}")
    rec_path = tmp_path / "md" / "LCE-DME.json"
    _cli("md-run", "--formulation", "LCE-DME", *LIB, "--params", *pairs,
         "--settings", json.dumps({"md": {"preset": "smoke"}}), "--out", str(rec_path))
    rec = json.loads(rec_path.read_text())
    assert rec["status"] == "ok", rec["failure"]
    r = rec["results"]
    assert r["preset"] == "smoke" and 1300 <= r["n_atoms"] <= 1700
    assert r["ssip_fraction"] + r["cip_fraction"] + r["agg_fraction"] == pytest.approx(1.0)
    assert r["anion_free_fraction"] + r["anion_single_fraction"] + r["anion_multi_fraction"] == pytest.approx(1.0)
    # 1 M KFSI/DME: a liquid near DME's density (0.87) plus 1 M of salt (~+0.1-0.2 g/mL)
    assert 0.85 < r["density_g_per_mL"] < 1.25
    # K+ is coordinated: several donors within the first shell (K+ CN 5-8 in ethers)
    assert 2.0 < r["total_cn"] < 9.0
    for sp in r["species"]:
        assert 2.5 <= sp["cutoff_A"] <= 5.0
    prov = rec["provenance"]
    assert prov["charge_scale"] == 0.8 and prov["platform"] in ("CUDA", "OpenCL", "CPU")
    assert prov["ns_per_day"] > 0
    files = rec["files"]
    for key in ("topology", "trajectory_seed1", "rdf"):
        assert (rec_path.parent / files[key]).exists(), key
    assert not (rec_path.parent / ".LCE-DME.work").exists()  # checkpoints removed once the record is written
    _cli("md-table", "--records", str(rec_path), str(tmp_path / "md" / "MISSING.json"),
         "--solvation", str(tmp_path / "solvation.csv"), "--coordination", str(tmp_path / "coordination.csv"))
    rows = list(csv.DictReader((tmp_path / "solvation.csv").open()))
    assert [x["status"] for x in rows] == ["ok", "failed"] and "job died" in rows[1]["failure_reason"]
    coord = list(csv.DictReader((tmp_path / "coordination.csv").open()))
    assert {x["species"] for x in coord} == {"FSI", "DME"}
    assert {x["cutoff_source"] for x in coord} <= {"rdf_first_minimum", "fixed_fallback"}


# ---------------------------------------------------------------------------- reproducibility
TINY = dict(target_atoms=700, cutoff_nm=0.8, anneal_ps=1.0, equilibration_ps=2.0, production_ps=4.0,
            chunk_ps=1.0, frame_interval_ps=0.25, max_equilibration_extensions=0, platform="CPU")
RUN = """
import sys, json
from solvscreen.inputs.config import load_config
from solvscreen.interface.inputs import validate_all
from solvscreen.md.runner import load_params, run_md
from solvscreen.md.settings import preset
lib, forms = validate_all(load_config({{"library": "{lib}", "formulations": "{forms}"}}))
f = next(x for x in forms if x.id == "LCE-DME")
st = preset("smoke", **json.loads(sys.argv[1]))
run_md(f, lib, load_params(json.loads(sys.argv[2])), st, sys.argv[3], work_dir=sys.argv[4])
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from solvscreen.md.runner import run_params

    d = tmp_path_factory.mktemp("tiny")
    paths = {}
    for name, smi in {"K+": "[K+]", "FSI": "O=S(=O)(F)[N-]S(=O)(=O)F", "DME": "COCCOC"}.items():
        paths[name] = str(d / "md_params" / f"{name}.json")
        run_params(name, smi, "", paths[name], cache_dir=d / "cache")
    return d, paths


def _run(d, paths, tag, seed=1):
    script = RUN.format(lib=ROOT / "molecules/library.csv", forms=ROOT / "molecules/formulations.csv")
    args = [sys.executable, "-c", script, json.dumps({**TINY, "seeds": [seed]}), json.dumps(paths),
            str(d / tag / "LCE-DME.json"), str(d / tag / "work")]
    return args


def _results(d, tag):
    return json.loads((d / tag / "LCE-DME.json").read_text())


KEYS = ("density_g_per_mL", "anion_cn", "total_cn", "ssip_fraction", "cip_fraction", "agg_fraction",
        "anion_share_of_shell")


def test_same_seed_same_numbers_and_a_killed_run_resumes_to_the_same_end(tiny):
    d, paths = tiny
    for tag in ("a", "b"):
        subprocess.run(_run(d, paths, tag), env=ENV, check=True, capture_output=True)
    a, b = _results(d, "a"), _results(d, "b")
    assert a["status"] == "ok", a["failure"]
    for k in KEYS:
        assert a["results"][k] == b["results"][k], k
    assert a["results"]["per_seed"][0]["simulation"]["resumed"] == 0
    # a third run, killed once its first production chunk is checkpointed, then started again
    proc = subprocess.Popen(_run(d, paths, "c"), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prog = d / "c" / "work" / "seed_1" / "progress.json"
    t0 = time.time()
    while time.time() - t0 < 600:
        try:
            p = json.loads(prog.read_text())
            if p["phase"] == "produce" and len(p["chunks"]) >= 1:
                break
        except (FileNotFoundError, ValueError):
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (d / "c" / "LCE-DME.json").exists()
    subprocess.run(_run(d, paths, "c"), env=ENV, check=True, capture_output=True)
    c = _results(d, "c")
    assert c["status"] == "ok", c["failure"]
    sa, sc = a["results"]["per_seed"][0], c["results"]["per_seed"][0]
    assert sc["simulation"]["resumed"] >= 1
    # the resumed run ends where the uninterrupted one ends: same length, same frames
    assert sc["simulation"]["production_ps_done"] == sa["simulation"]["production_ps_done"]
    assert sc["n_frames"] == sa["n_frames"] == len(sa["prod_density_g_per_mL"])
    # what was checkpointed before the kill is kept exactly (same seed, deterministic forces)
    per_chunk = int(TINY["chunk_ps"] / TINY["frame_interval_ps"])
    assert sc["prod_density_g_per_mL"][:per_chunk] == sa["prod_density_g_per_mL"][:per_chunk]
    # after the restart the trajectory is an equivalent continuation, not a bitwise copy
    assert c["results"]["density_g_per_mL"] == pytest.approx(a["results"]["density_g_per_mL"], rel=0.03)
