"""The workflow through the real SLURM cluster of `.ci/slurm-up`, with profiles/slurm.

Every run here is `snakemake --profile profiles/slurm --workflow-profile profiles/slurm-ci`
(the production profile plus the CI cluster's settings: partition `debug`, squeue status
checks, a 2 s first status check), wrapped in `timeout --foreground -s INT -k 30`: on a
timeout Snakemake gets SIGINT, which makes it scancel its jobs (SIGTERM would make it wait
for them, and the KILL after that would leave them running). --foreground: without it
timeout sends the signal twice (to the command and to its process group), and a second
SIGINT interrupts Snakemake while it runs scancel, leaving the jobs running.

Proves:
- the tiny test library (tests/workflow/) computed through SLURM gives the same tables
  (descriptors, binding, solvating power) as a local run, and every xTB job ran inside a SLURM
  job: the job ids Snakemake logs are in squeue, in the job-completion log (COMPLETED,
  this run's job name, partition debug) and in the SLURM log directory, whose logs show
  the jobs they ran;
- grouping is on: 2 submissions for the 4 molecules;
- a job that fails is resubmitted with more memory and time (attempt-scaled resources
  seen by SLURM itself), succeeds, and one that keeps failing is reported after the
  retries while the others finish (tests/slurm_workflow/: a stand-in workflow with the
  product's rule names, so the profile applies to it unchanged);
- Ctrl-C (SIGINT) on a run cancels its running and pending SLURM jobs.

Skips without a cluster, unless SOLVSCREEN_REQUIRE_SLURM=1 (then it fails).
"""

from __future__ import annotations

import csv
import importlib.util
import math
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slurm

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "profiles" / "slurm"
CI_PROFILE = ROOT / "profiles" / "slurm-ci"
WORKFLOW = ROOT / "tests" / "workflow"
STANDIN = ROOT / "tests" / "slurm_workflow" / "Snakefile"
MOLECULES = ("DME", "DMC", "FSI", "K+")  # what the tiny library computes
# the tables of the xTB stages, i.e. of the jobs that go to SLURM (classification, ranking
# and the report are local rules on these tables: not the cluster's business)
TABLES = ("descriptors.csv", "binding.csv", "solvating_power.csv")
RUN_TIMEOUT = 360  # seconds for one snakemake run (80-190 s measured, idle to loaded machine)
CMD_TIMEOUT = 30
# record directory of each xTB rule (the tables' inputs): a record = one job of that rule
RECORD_DIRS = {"structures": "structure", "properties": "properties", "binding": "binding",
               "ion_pairs": "ion_pair", "solvation": "solvation"}
SUBMITTED = re.compile(r"^Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (.+)\)\.$", re.M)
RUN_ID = re.compile(r"^SLURM run ID: (\S+)$", re.M)
ACTIVE = "PENDING,RUNNING,SUSPENDED,COMPLETING,CONFIGURING,REQUEUED,RESIZING"

SNAKEMAKE = shutil.which("snakemake")


def _unavailable(reason: str) -> None:
    if os.environ.get("SOLVSCREEN_REQUIRE_SLURM") == "1":
        pytest.fail(f"SLURM cluster required (SOLVSCREEN_REQUIRE_SLURM=1): {reason}")
    pytest.skip(reason)


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=CMD_TIMEOUT, check=check)


@pytest.fixture(scope="module")
def cluster() -> dict[str, str]:
    """The running cluster's `scontrol show config`, or a skip (a failure when required)."""
    missing = [c for c in ("sinfo", "sbatch", "squeue", "scontrol", "scancel", "timeout") if shutil.which(c) is None]
    if missing:
        _unavailable(f"commands not installed: {', '.join(missing)}")
    if SNAKEMAKE is None or importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        _unavailable("snakemake or snakemake-executor-plugin-slurm not installed (pip install -e '.[slurm]')")
    try:
        ping = _run("scontrol", "ping", check=False)
    except subprocess.TimeoutExpired:
        _unavailable("no SLURM controller answers in time (run .ci/slurm-up)")
    if ping.returncode != 0:
        _unavailable(f"SLURM controller not up (run .ci/slurm-up): {(ping.stdout + ping.stderr).strip()[:200]}")
    config = {}
    for line in _run("scontrol", "show", "config").stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            config[key.strip()] = value.strip()
    # the plugin's squeue status check needs finished jobs to stay visible (profiles/slurm-ci)
    assert config.get("JobCompType") == "jobcomp/filetxt", config.get("JobCompType")
    assert int(config["MinJobAge"].split()[0]) >= 3 * _ci_profile()["slurm-init-seconds-before-status-checks"]
    return config


def _ci_profile() -> dict:
    return yaml.safe_load((CI_PROFILE / "config.yaml").read_text())


def _profile_resource(rule: str, name: str, attempt: int) -> int:
    """A set-resources value of profiles/slurm (a Python expression of `attempt`)."""
    expr = yaml.safe_load((PROFILE / "config.yaml").read_text())["set-resources"][rule][name]
    return int(eval(str(expr), {"__builtins__": {}}, {"attempt": attempt}))


@pytest.fixture(scope="module")
def run_names(cluster):
    """SLURM job names (run ids) of this module's runs: scancelled at the end, whatever happened."""
    names: list[str] = []
    yield names
    for name in names:
        subprocess.run(["scancel", "--name", name], capture_output=True, timeout=CMD_TIMEOUT)


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _slurm_cmd(workdir: Path, *args: str, snakefile: Path = ROOT / "Snakefile") -> list[str]:
    return ["timeout", "--foreground", "-s", "INT", "-k", "30", str(RUN_TIMEOUT), SNAKEMAKE,
            "--snakefile", str(snakefile), "--directory", str(workdir),
            "--profile", str(PROFILE), "--workflow-profile", str(CI_PROFILE), *args]


def _tiny_library_args(results: Path) -> list[str]:
    # targets first, --config last: it takes every following word as key=value
    return [*(str(results / t) for t in TABLES), "--configfile", str(WORKFLOW / "config.yaml"),
            "--config", f"results={results}", f"library={WORKFLOW / 'library.csv'}",
            f"formulations={WORKFLOW / 'formulations.csv'}"]


def _popen(cmd: list[str], cwd: Path, out: Path) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    # the SLURM log directory (slurm-logdir) is relative to the directory snakemake starts in
    return subprocess.Popen(cmd, cwd=cwd, env=_env(), stdout=out.open("w"), stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def _wait(proc: subprocess.Popen, timeout: float) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"snakemake still running after {timeout} s (killed)")


def _run_id(output: str, run_names: list[str]) -> str:
    m = RUN_ID.search(output)
    assert m, "no 'SLURM run ID' in the snakemake output:\n" + output[-3000:]
    if m.group(1) not in run_names:
        run_names.append(m.group(1))
    return m.group(1)


def _submissions(output: str) -> list[tuple[str, str, Path]]:
    """(snakemake job/group id, SLURM job id, SLURM log) per submission, in order."""
    return [(g, j, Path(log)) for g, j, log in SUBMITTED.findall(output)]


def _jobcomp(cluster: dict, job_ids: list[str], timeout: float = 20) -> dict[str, dict]:
    """Each job's last line in the job-completion log (written when the job ends)."""
    log = Path(cluster["JobCompLoc"])
    deadline = time.monotonic() + timeout
    while True:
        records = {}
        if log.exists():
            for line in log.read_text().splitlines():
                fields = dict(re.findall(r"(\S+?)=(\S*)", line))
                if fields.get("JobId") in job_ids:
                    records[fields["JobId"]] = fields
        if set(records) == set(job_ids) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert set(records) == set(job_ids), f"not in {log}: {sorted(set(job_ids) - set(records))}"
    return records


def _executed(slurm_log: Path) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a SLURM job's log shows it running (inner `localrule`)."""
    text = slurm_log.read_text()
    return re.findall(r"^localrule (\w+):\n(?:    .*\n)*?    wildcards: (.*)$", text, re.M)


def _read_table(path: Path, results: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    key = list(rows[0])[:3] if rows else []
    out = {}
    for row in rows:
        # record/geometry paths name the run's own results directory
        row = {k: (v or "").replace(str(results), "<results>") for k, v in row.items()}
        out["|".join(row[k] for k in key)] = row
    return out


def _same_value(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return math.isclose(x, y, rel_tol=1e-8, abs_tol=1e-8)


# --------------------------------------------------------------- the tiny library
@pytest.fixture(scope="module")
def runs(cluster, run_names, tmp_path_factory):
    """The tiny library, once through SLURM and once locally (at the same time)."""
    base = tmp_path_factory.mktemp("slurm-run")
    slurm_dir, local_dir = base / "slurm", base / "local"
    t0 = time.monotonic()
    proc = _popen(_slurm_cmd(slurm_dir, *_tiny_library_args(slurm_dir / "results")),
                  slurm_dir, base / "slurm.out")
    try:
        local_dir.mkdir()
        local = subprocess.run(
            [SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(local_dir),
             "--workflow-profile", "none", "--cores", "1", *_tiny_library_args(local_dir / "results")],
            cwd=local_dir, env=_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT)
        assert local.returncode == 0, "local run failed:\n" + local.stderr[-4000:]
    finally:
        rc = _wait(proc, RUN_TIMEOUT + 60)
    output = (base / "slurm.out").read_text()
    run_id = _run_id(output, run_names)
    assert rc == 0, f"snakemake through SLURM failed (exit {rc}):\n" + output[-6000:]
    print(f"\n[slurm] tiny library through SLURM in {time.monotonic() - t0:.0f} s")
    return {"slurm": slurm_dir, "local": local_dir, "output": output, "run_id": run_id}


def test_slurm_run_gives_the_local_run_tables(runs):
    slurm, local = runs["slurm"] / "results", runs["local"] / "results"
    compared = 0
    for name in TABLES:
        assert (local / name).exists() and (slurm / name).exists(), name
        a, b = _read_table(local / name, local), _read_table(slurm / name, slurm)
        assert list(a) == list(b), name
        for key, row in a.items():
            for col, value in row.items():
                if col.endswith("wall_s") or col == "xtb_s":  # timings of the run, not results
                    continue
                assert _same_value(value, b[key][col]), f"{name} {key} {col}: local {value!r}, SLURM {b[key][col]!r}"
        compared += 1
    assert compared == len(TABLES)
    table = _read_table(slurm / "descriptors.csv", slurm)
    assert {row["name"] for row in table.values()} == set(MOLECULES)
    assert all(row["status"] == "ok" for row in table.values() if row["name"] != "K+")
    # the reference geometries too, coordinate by coordinate
    geometries = sorted((local / "structures").glob("*/geometry.xyz"))  # structures/<name>/geometry.xyz
    assert len(geometries) == len(MOLECULES)
    for xyz in geometries:
        rel = xyz.relative_to(local)
        la, lb = xyz.read_text().splitlines()[2:], (slurm / rel).read_text().splitlines()[2:]
        assert len(la) == len(lb), str(rel)
        for ra, rb in zip(la, lb):
            fa, fb = ra.split(), rb.split()
            assert fa[0] == fb[0] and all(_same_value(x, y) for x, y in zip(fa[1:], fb[1:])), str(rel)


def test_every_xtb_job_ran_in_a_slurm_job_grouped(runs, cluster):
    slurm_dir, output, run_id = runs["slurm"], runs["output"], runs["run_id"]
    subs = _submissions(output)
    ids = [j for _, j, _ in subs]
    assert ids, "no SLURM submission in the output:\n" + output[-3000:]
    assert len(set(ids)) == len(ids)

    # grouping: one job per group of molecules, not one per xTB job
    groups = sorted(log.parent.name for _, _, log in subs)
    assert groups == ["group_xtb_binding_binding_solvation", "group_xtb_molecule_ion_pair_properties_structure"]
    print(f"\n[slurm] {len(ids)} submissions for {len(MOLECULES)} molecules "
          f"({len(ids) / len(MOLECULES):.2f} per molecule)")

    # SLURM knows them: squeue (finished jobs stay for MinJobAge) and the job-completion log
    q = _run("squeue", "--states=all", "--noheader", "--name", run_id, "--format=%i|%T").stdout.split()
    assert sorted(q) == sorted(f"{j}|COMPLETED" for j in ids)
    for job_id, rec in _jobcomp(cluster, ids).items():
        assert rec["Name"] == run_id and rec["JobState"] == "COMPLETED" and rec["ExitCode"] == "0:0", rec
        assert rec["Partition"] == "debug" and rec["WorkDir"] == str(slurm_dir), rec
    # ... and so does Snakemake's own log of the run
    logs = list((slurm_dir / ".snakemake" / "log").glob("*.snakemake.log"))
    assert len(logs) == 1
    assert all(f"submitted with SLURM jobid {j} " in logs[0].read_text() for j in ids)

    # every xTB job of the run ran inside one of them: the SLURM logs show each one
    executed: dict[str, int] = {}
    for _, job_id, log in subs:
        assert log == slurm_dir / "logs" / "slurm" / log.parent.name / f"{job_id}.log" and log.is_file()
        text = log.read_text()
        assert "steps (100%) done" in text, text[-2000:]
        for rule, _ in _executed(log):
            executed[rule] = executed.get(rule, 0) + 1
    results = slurm_dir / "results"
    records = {rule: len(list((results / d).rglob("*.json")))
               for d, rule in RECORD_DIRS.items() if (results / d).is_dir()}
    assert records["structure"] == records["properties"] == len(MOLECULES)
    assert executed == records, (executed, records)


# --------------------------------------------------------------- retries and cancel
def _standin_config(path: Path, results: Path, molecules=("A", "B", "C"), **settings) -> Path:
    path.write_text(yaml.safe_dump({"results": str(results), "molecules": list(molecules), **settings}))
    return path


def test_failed_job_is_retried_with_more_resources_then_reported(cluster, run_names, tmp_path):
    """B needs 1 MB more than the profile's first attempt gives: it fails once, then succeeds
    with twice the memory. C needs more than any attempt gives: reported after the retries.
    One molecule per SLURM job (--group-components xtb_molecule=1), so each is on its own."""
    retries = yaml.safe_load((PROFILE / "config.yaml").read_text())["retries"]
    mem = {k: max(_profile_resource(r, "mem_mb", k) for r in ("structure", "properties"))
           for k in range(1, retries + 2)}
    runtime = {k: sum(_profile_resource(r, "runtime", k) for r in ("structure", "properties"))
               for k in range(1, retries + 2)}
    results = tmp_path / "results"
    config = _standin_config(tmp_path / "config.yaml", results,
                             need_mem_mb={"B": _profile_resource("structure", "mem_mb", 1) + 1,
                                          "C": 10 ** 9})
    t0 = time.monotonic()
    proc = _popen(_slurm_cmd(tmp_path, "--configfile", str(config), "--group-components", "xtb_molecule=1",
                             snakefile=STANDIN), tmp_path, tmp_path / "snakemake.out")
    rc = _wait(proc, RUN_TIMEOUT + 60)
    output = (tmp_path / "snakemake.out").read_text()
    run_id = _run_id(output, run_names)
    print(f"\n[slurm] retry run in {time.monotonic() - t0:.0f} s")
    assert rc != 0, "C cannot succeed: the run must report failure\n" + output[-3000:]

    # which SLURM jobs ran which molecule, in submission order
    per_molecule: dict[str, list[str]] = {}
    for _, job_id, log in _submissions(output):
        names = {w.removeprefix("name=") for rule, w in _executed(log) if rule == "structure"}
        assert len(names) == 1, (job_id, names)
        per_molecule.setdefault(names.pop(), []).append(job_id)
    assert {m: len(ids) for m, ids in per_molecule.items()} == {"A": 1, "B": 2, "C": retries + 1}
    jobs = _jobcomp(cluster, [j for ids in per_molecule.values() for j in ids])

    def seen(molecule):  # what SLURM itself recorded for each attempt
        return [(jobs[j]["JobState"], re.search(r"mem=(\d+)M", jobs[j]["Tres"]).group(1),
                 jobs[j]["TimeLimit"]) for j in per_molecule[molecule]]

    ok = lambda k: ("COMPLETED", str(mem[k]), str(runtime[k]))  # noqa: E731
    failed = lambda k: ("FAILED", str(mem[k]), str(runtime[k]))  # noqa: E731
    assert seen("A") == [ok(1)]
    assert seen("B") == [failed(1), ok(2)]  # retried with more memory and time, then fine
    assert seen("C") == [failed(k) for k in range(1, retries + 2)]
    assert all(jobs[j]["Name"] == run_id for j in jobs)

    # B's result comes from its second SLURM job, run with the second attempt's memory
    assert (results / "structures" / "B.txt").read_text().split() == [
        f"slurm_job={per_molecule['B'][1]}", f"mem_mb={mem[2]}"]
    # keep-going: A and B are complete, C is not, and the report names C's log
    assert (results / "properties" / "A.txt").exists() and (results / "properties" / "B.txt").exists()
    assert not (results / "structures" / "C.txt").exists()
    assert "Trying to restart job" in output
    assert str(results / "logs" / "structure" / "C.log") in output
    assert f"C: needs {10 ** 9} MB, got {mem[retries + 1]} MB: failed" in output, output[-3000:]


def test_interrupt_cancels_the_runs_slurm_jobs(cluster, run_names, tmp_path):
    """Ctrl-C (SIGINT) while jobs run and wait: Snakemake scancels them all. One molecule
    per SLURM job and one molecule more than the node has CPUs, so one job is pending."""
    cpus = int(_run("sinfo", "-h", "-N", "-o", "%c").stdout.split()[0])
    molecules = [f"M{i}" for i in range(min(cpus, 7) + 1)]
    results = tmp_path / "results"
    config = _standin_config(tmp_path / "config.yaml", results, molecules, sleep_s=600)
    out = tmp_path / "snakemake.out"
    proc = _popen(_slurm_cmd(tmp_path, "--configfile", str(config), "--group-components", "xtb_molecule=1",
                             snakefile=STANDIN), tmp_path, out)
    try:
        deadline = time.monotonic() + 120
        while True:  # all submitted, at least one running
            output = out.read_text()
            if RUN_ID.search(output):
                run_id = _run_id(output, run_names)  # scancelled at the end, whatever happens
            ids = [j for _, j, _ in _submissions(output)]
            states = {}
            if len(ids) == len(molecules):
                q = _run("squeue", "--states=all", "--noheader", "--jobs", ",".join(ids), "--format=%i|%T")
                states = dict(line.split("|") for line in q.stdout.split())
            if "RUNNING" in states.values():
                break
            assert proc.poll() is None, "snakemake ended early:\n" + output[-3000:]
            assert time.monotonic() < deadline, f"no running SLURM job after 120 s: {states}\n" + output[-3000:]
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)  # `timeout --foreground` passes it on to snakemake, once
        rc = _wait(proc, 90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = out.read_text()
    assert rc != 0
    assert "Terminating processes on user request" in output, output[-3000:]

    # nothing of the run is left in the queue; SLURM recorded every job as cancelled
    left = _run("squeue", "--noheader", f"--states={ACTIVE}", "--name", run_id, "--format=%i|%T").stdout.split()
    assert left == [], left
    jobs = _jobcomp(cluster, ids)
    assert {j: rec["JobState"] for j, rec in jobs.items()} == {j: "CANCELLED" for j in ids}
    if len(molecules) > cpus:  # both running and pending jobs were cancelled
        assert "PENDING" in states.values(), states
    # and the job processes are gone (scancel signals them, SIGKILL after KillWait)
    deadline = time.monotonic() + 30
    while True:
        alive = []
        for p in Path("/proc").glob("[0-9]*"):
            try:
                if str(results).encode() in (p / "cmdline").read_bytes():
                    alive.append(p.name)
            except OSError:
                pass
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert alive == [], f"processes of the cancelled jobs still running: {alive}"
