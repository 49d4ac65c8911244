"""The MD rules in a real Snakemake run on the tiny library (slow): off by default, on by
config, a bad formulation id stops the workflow at parse time, and a short MD run goes
through md_params -> md_run -> md_table into solvation.csv / coordination.csv."""

from __future__ import annotations

import csv
import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "tests" / "workflow"


def _env() -> dict:
    import os

    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT / "src")}

pytestmark = pytest.mark.slow
SNAKEMAKE = shutil.which("snakemake")
if SNAKEMAKE is None:  # pragma: no cover
    pytest.skip("snakemake is not installed", allow_module_level=True)

TINY_MD = {"preset": "smoke", "platform": "CPU",
           "overrides": {"target_atoms": 700, "cutoff_nm": 0.8, "anneal_ps": 1.0, "equilibration_ps": 2.0,
                         "production_ps": 2.0, "chunk_ps": 1.0, "max_equilibration_extensions": 0}}


def _smk(results: Path, target: str, md: dict, *extra: str):
    cmd = [SNAKEMAKE, str(results / target), "--snakefile", str(ROOT / "Snakefile"), "--directory",
           str(results.parent), "--cores", "2", "--configfile", str(WORKFLOW / "config.yaml"), *extra,
           "--config", f"results={results}", f"library={WORKFLOW / 'library.csv'}",
           f"formulations={WORKFLOW / 'formulations.csv'}", f"md={json.dumps(md)}"]
    results.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run(cmd, cwd=results.parent, env=_env(), capture_output=True, text=True, timeout=900)


def test_md_is_off_by_default_and_a_bad_id_stops_at_parse_time(tmp_path):
    p = _smk(tmp_path / "r", "descriptors.csv", {}, "-n", "--forceall")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "md_run" not in p.stdout + p.stderr
    p = _smk(tmp_path / "r", "descriptors.csv", {"formulations": ["LCE-DME", "NOPE"]}, "-n")
    assert p.returncode != 0
    assert "md.formulations[1]" in p.stdout + p.stderr and "NOPE" in p.stdout + p.stderr


@pytest.mark.skipif(any(shutil.which(x) is None for x in ("antechamber", "tleap", "packmol")),
                    reason="md extra not installed")
def test_a_short_md_run_through_the_rules(tmp_path):
    results = tmp_path / "r"
    p = _smk(results, "solvation.csv", {**TINY_MD, "formulations": ["LCE-DME"]})
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    rows = list(csv.DictReader((results / "solvation.csv").open()))
    assert [r["formulation"] for r in rows] == ["LCE-DME"] and rows[0]["status"] == "ok", rows
    assert float(rows[0]["charge_scale"]) == 0.8 and rows[0]["platform"] == "CPU"
    coord = list(csv.DictReader((results / "coordination.csv").open()))
    assert {c["species"] for c in coord} == {"FSI", "DME"}
    assert (results / "md" / "LCE-DME" / "system.prmtop").exists()
    assert (results / "md_params" / "DME" / "molecule.mol2").exists()
    p = _smk(results, "solvation.csv", {**TINY_MD, "formulations": ["LCE-DME"]}, "-n")
    assert "Nothing to be done" in p.stdout + p.stderr


TINY_DECIDING = {"preset": "screening", "platform": "CPU", "formulations": "undecided",
                 "overrides": {"target_atoms": 700, "cutoff_nm": 0.8, "equilibration_ps": 2.0, "chunk_ps": 2.0,
                               "min_production_ps": 4.0, "production_ps": 6.0, "frame_interval_ps": 0.5,
                               "max_equilibration_extensions": 0}}


@pytest.mark.skipif(any(shutil.which(x) is None for x in ("antechamber", "tleap", "packmol")),
                    reason="md extra not installed")
def test_md_on_undecided_formulations_in_one_invocation(tmp_path):
    """md.formulations: undecided: the descriptor-only classification (checkpoint md_select)
    picks the multi-class formulations, MD runs on exactly those (with a DME reference where
    the criterion needs one), and the final classification reads the MD evidence."""
    results = tmp_path / "r"
    p = _smk(results, "classification.csv", TINY_DECIDING)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    pre = list(csv.DictReader((results / "md_select" / "classification.csv").open()))
    undecided = sorted(r["id"] for r in pre if r["origin"] == "table" and "|" in r["label"])
    rows = list(csv.DictReader((results / "solvation.csv").open()))
    assert sorted(r["formulation"] for r in rows) == undecided and undecided, (pre, rows)
    for r in rows:
        assert r["status"] == "ok", r
        assert r["stop_status"] in ("decided", "undecided", "cap") and r["stop_reason"]
        assert float(r["anion_cn_lo"]) <= float(r["anion_cn_hi"]) and float(r["cpu_hours"]) > 0
        rec = json.loads((results / "md" / f"{r['formulation']}.json").read_text())["results"]
        trace = rec["decision"]["trace"]
        assert [t["production_ps"] for t in trace] == [2.0 * (i + 1) for i in range(len(trace))]
        assert {s["kind"] for s in trace[-1]["starts"]} == {"aggregated", "dispersed"}
        if r["formulation"] == "LCE-DME":  # salt in DME alone: its own reference, absolute threshold
            assert r["criterion"] == "absolute" and not r["reference_formulation"]
        elif r["criterion"] == "reference":
            assert (results / "md_ref" / f"{r['reference_formulation']}.json").exists()
    final = {r["id"]: r for r in csv.DictReader((results / "classification.csv").open())}
    for fid in undecided:
        assert final[fid]["evidence"] == "md", final[fid]


def _shell_commands(proc) -> list[str]:
    """The shell commands of a dry run with -p ("Shell command: ..." in Snakemake 9, bare before)."""
    lines = [line.strip().removeprefix("Shell command:").strip() for line in (proc.stdout + proc.stderr).splitlines()]
    return [line for line in lines if line.startswith("solvscreen ")]


def test_rank_and_report_declare_the_md_and_dft_tables_they_read(tmp_path):
    """Every table a rule reads is a declared input: with MD and DFT on, rank reads dft_binding.csv
    and report reads solvation.csv, coordination.csv and dft_binding.csv, each passed explicitly, so
    a changed MD or DFT table reruns them (a dry run's shell commands and inputs show it)."""
    results = tmp_path / "r"
    results.mkdir(parents=True)
    cmd = [SNAKEMAKE, str(results / "report.html"), "--snakefile", str(ROOT / "Snakefile"), "--directory",
           str(tmp_path), "--cores", "1", "-n", "-p", "--configfile", str(WORKFLOW / "config.yaml"), "--config",
           f"results={results}", f"library={WORKFLOW / 'library.csv'}",
           f"formulations={WORKFLOW / 'formulations.csv'}",
           'md={"formulations": ["LCE-DME"], "preset": "smoke", "pmf": {"solvents": ["DMC"], "preset": "smoke"}}',
           'dft={"molecules": ["DME"]}']
    p = subprocess.run(cmd, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    shells = _shell_commands(p)
    rank = next(s for s in shells if s.startswith("solvscreen rank "))
    report = next(s for s in shells if s.startswith("solvscreen report "))
    assert f"--dft-binding {results / 'dft_binding.csv'}" in rank, rank
    classify = next(s for s in shells if s.startswith("solvscreen classify ") and "md_select" not in s)
    assert f"--pmf {results / 'pmf.csv'}" in classify, classify  # the K+-anion PMF is classify's evidence
    assert f"--pmf {results / 'pmf.csv'}" in rank and f"--pmf {results / 'pmf.csv'}" in report  # and rank's, report's
    for flag, table in (("--dft-binding", "dft_binding.csv"), ("--solvation", "solvation.csv"),
                        ("--coordination", "coordination.csv")):
        assert f"{flag} {results / table}" in report, report
    # and what the DFT section reads beside dft_binding.csv is a declared input of the report rule
    out = p.stdout + p.stderr
    block = out[out.index("rule report:"):]
    block = block[:block.index("\n\n")] if "\n\n" in block else block
    assert str(results / "dft_calibration.json") in block, block
    # and off by default: no optional table is passed (nothing left over from an earlier run is read)
    p = subprocess.run(cmd[:-2], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    report = next(s for s in _shell_commands(p) if s.startswith("solvscreen report "))
    assert "--dft-binding" not in report and "--solvation" not in report, report
    classify = next(s for s in _shell_commands(p) if s.startswith("solvscreen classify "))
    assert "--pmf" not in classify, classify


def test_md_jobs_read_only_the_settings_they_use(tmp_path):
    """Snakemake reruns a job whose params change: an MD job's --settings hold the md section
    without its formulation list and only the classification settings the run reads, so listing
    one more formulation, or changing a classification setting MD does not use, leaves finished
    MD jobs alone; changing the MD stop rule's threshold does not."""
    results = tmp_path / "r"
    results.mkdir(parents=True)

    def md_run_settings(md_ids, classification):
        cmd = [SNAKEMAKE, str(results / "md" / "LCE-DME.json"), "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(tmp_path), "--cores", "1", "-n", "-p", "--configfile", str(WORKFLOW / "config.yaml"),
               "--config", f"results={results}", f"library={WORKFLOW / 'library.csv'}",
               f"formulations={WORKFLOW / 'formulations.csv'}", f"md={json.dumps({'formulations': md_ids})}",
               f"classification={json.dumps(classification)}"]
        p = subprocess.run(cmd, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr[-3000:]
        run = next(s for s in _shell_commands(p) if s.startswith("solvscreen --threads") and " md-run " in s)
        return json.loads(shlex.split(run[run.index("--settings"):])[1])

    base = md_run_settings(["LCE-DME"], {})
    assert "formulations" not in base["md"] and base["md"]["preset"] == "smoke"
    assert set(base["classification"]) == {"composition", "md_anion_cn_min", "md_reference_anion_cn_excess_min"}
    assert md_run_settings(["LCE-DME", "DME-DMC"], {"gfn2_uncertainty_kcal_per_mol": 5.0}) == base
    assert md_run_settings(["LCE-DME"], {"md_anion_cn_min": 1.2})["classification"]["md_anion_cn_min"] == 1.2


TINY_PMF = {"solvents": ["DMC"], "salts": ["KFSI"], "reference": "DME", "preset": "smoke",
            "overrides": {"box_edge_A": 21.0, "r_max_A": 6.0, "window_spacing_A": 1.5, "pull_ps": 2.0,
                          "equilibration_ps": 1.0, "round_ps": 2.0, "max_production_ps": 2.0, "n_bootstrap": 20}}


@pytest.mark.skipif(any(shutil.which(x) is None for x in ("antechamber", "tleap", "packmol")),
                    reason="md extra not installed")
def test_a_short_pmf_run_through_the_rules(tmp_path):
    """md.pmf: one md_pmf job per (solvent, salt), the reference solvent added, pmf.csv with the
    difference from it; a second run does nothing."""
    results = tmp_path / "r"
    md = {"platform": "CPU", "pmf": TINY_PMF}
    p = _smk(results, "pmf.csv", md)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    rows = {r["solvent"]: r for r in csv.DictReader((results / "pmf.csv").open())}
    assert set(rows) == {"DMC", "DME"} and all(r["status"] == "ok" for r in rows.values()), rows
    dmc = rows["DMC"]
    assert dmc["reference_solvent"] == "DME"
    assert float(dmc["ddg_lo_kcal_per_mol"]) <= float(dmc["ddg_vs_reference_kcal_per_mol"]) <= float(dmc["ddg_hi_kcal_per_mol"])
    assert dmc["converged"] == "False"  # 2 ps per window cannot converge, and the table says so
    rec = json.loads((results / "md_pmf" / "DMC--KFSI.json").read_text())
    assert rec["stage"] == "md_pmf" and rec["status"] == "ok"
    assert not (results / "md_pmf" / ".DMC--KFSI.work").exists()  # checkpoints removed once recorded
    p = _smk(results, "pmf.csv", md, "-n")
    assert p.returncode == 0 and "md_pmf" not in p.stdout.replace("md_pmf_table", ""), p.stdout[-2000:]


def test_a_bad_pmf_config_stops_at_parse_time(tmp_path):
    p = _smk(tmp_path / "r", "descriptors.csv", {"pmf": {"solvents": ["NOPE", "FSI"]}}, "-n")
    assert p.returncode != 0
    out = p.stdout + p.stderr
    assert "md.pmf.solvents[0]" in out and "NOPE" in out and "md.pmf.solvents[1]: FSI is of kind anion" in out


def test_prefsolv_jobs_and_their_table_are_classify_evidence(tmp_path):
    """md.prefsolv: one md_prefsolv job per (A, B, salt); prefsolv.csv is classify's input (only
    classify's: rank and report do not read it), passed as --prefsolv; off: nothing passed."""
    results = tmp_path / "r"
    md = {"prefsolv": {"pairs": [["DME", "DMC"]], "ns": 0.1, "preset": "smoke"}}
    p = _smk(results, "classification.csv", md, "-n", "-p")
    assert p.returncode == 0, p.stderr[-3000:]
    shells = _shell_commands(p)
    job = next(s for s in shells if " md-prefsolv " in s)
    assert "--a DME --b DMC --salt KFSI" in job and str(results / "md_prefsolv" / "DME--DMC--KFSI.json") in job, job
    settings = json.loads(shlex.split(job[job.index("--settings"):])[1])
    assert "pairs" not in settings["md"]["prefsolv"] and settings["md"]["prefsolv"]["ns"] == 0.1  # one more pair reruns nothing
    classify = next(s for s in shells if s.startswith("solvscreen classify ") and "md_select" not in s)
    assert f"--prefsolv {results / 'prefsolv.csv'}" in classify, classify
    p = _smk(results, "classification.csv", {}, "-n", "-p")
    assert p.returncode == 0 and "--prefsolv" not in " ".join(_shell_commands(p))


def test_a_bad_prefsolv_config_stops_at_parse_time(tmp_path):
    p = _smk(tmp_path / "r", "descriptors.csv", {"prefsolv": {"pairs": [["DME", "NOPE"], ["DME", "DME"]]}}, "-n")
    assert p.returncode != 0
    out = p.stdout + p.stderr
    assert "md.prefsolv.pairs[0][1]: 'NOPE' is not in the library" in out, out[-2000:]
    assert "md.prefsolv.pairs[1]: DME twice" in out  # (the values' checks: tests/test_md_prefsolv.py)


@pytest.mark.skipif(any(shutil.which(x) is None for x in ("antechamber", "tleap", "packmol")),
                    reason="md extra not installed")
def test_a_short_prefsolv_run_through_the_rules(tmp_path):
    """md.prefsolv: the record through the harness, prefsolv.csv with its row; a second run does nothing."""
    results = tmp_path / "r"
    md = {"platform": "CPU", "prefsolv": {"pairs": [["DME", "DMC"]], "ns": 0.03, "discard_ps": 5, "preset": "smoke"}}
    p = _smk(results, "prefsolv.csv", md)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    (row,) = list(csv.DictReader((results / "prefsolv.csv").open()))
    assert row["solvent_a"] == "DME" and row["solvent_b"] == "DMC" and row["salt"] == "KFSI"
    # the K+ first shell holds 4-8 solvent O donors with this force field: 2-6 molecules of the two
    assert 1.5 < float(row["mean_shell_a"]) + float(row["mean_shell_b"]) < 7, row
    rec = json.loads((results / "md_prefsolv" / "DME--DMC--KFSI.json").read_text())
    assert rec["stage"] == "md_prefsolv" and rec["status"] == "ok" and rec["results"]["ns_production"] == 0.025
    assert not (results / "md_prefsolv" / ".DME--DMC--KFSI.work").exists()
    p = _smk(results, "prefsolv.csv", md, "-n")
    assert p.returncode == 0 and "md_prefsolv" not in p.stdout.replace("md_prefsolv_table", ""), p.stdout[-2000:]
