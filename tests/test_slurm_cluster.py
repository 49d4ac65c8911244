"""The live single-node SLURM cluster of `.ci/slurm-up`, driven with plain sbatch/squeue.

These tests need a running cluster: CI runs `.ci/slurm-up` and then
`pytest -m slurm` (the default `pytest` run deselects the `slurm` marker). Without
SLURM clients or a reachable controller they skip with the reason, unless
SOLVSCREEN_REQUIRE_SLURM=1 is set, which turns that skip into a failure (so a CI
run cannot go green on a cluster that never came up).

The cluster has no accounting database, so `sacct` does not work: job state comes
from `squeue --states=all` / `scontrol show job` (finished jobs stay for MinJobAge
seconds) and from the job-completion log (`JobCompLoc`, jobcomp/filetxt).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slurm

CMD_TIMEOUT = 30  # seconds for any one SLURM client call
JOB_TIMEOUT = 60  # seconds for a job to reach the state a test waits for
FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
            "BOOT_FAIL", "DEADLINE", "PREEMPTED"}


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True,
                          timeout=CMD_TIMEOUT, check=check)


def _unavailable(reason: str) -> None:
    if os.environ.get("SOLVSCREEN_REQUIRE_SLURM") == "1":
        pytest.fail(f"SLURM cluster required (SOLVSCREEN_REQUIRE_SLURM=1): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster() -> dict[str, str]:
    """The running cluster's config (`scontrol show config`), or a skip."""
    missing = [c for c in ("sinfo", "sbatch", "squeue", "scontrol", "scancel")
               if shutil.which(c) is None]
    if missing:
        _unavailable(f"SLURM client commands not installed: {', '.join(missing)}")
    try:
        ping = _run("scontrol", "ping", check=False)  # answers at once; sinfo retries ~10 s
        if ping.returncode != 0:
            first = (ping.stdout.strip() or ping.stderr.strip()).splitlines()[:1]
            _unavailable(f"SLURM controller not up (run .ci/slurm-up): {' '.join(first)}")
        nodes = _run("sinfo", "-h", "-N", "-o", "%N %T", check=False)
    except subprocess.TimeoutExpired:
        _unavailable("no SLURM controller answers in time (run .ci/slurm-up)")
    if nodes.returncode != 0:
        _unavailable("SLURM cluster not up (run .ci/slurm-up): "
                     + (nodes.stderr.strip() or nodes.stdout.strip()))
    usable = [ln for ln in nodes.stdout.splitlines()
              if ln.split()[-1].rstrip("*~#") in {"idle", "mixed", "allocated", "completing"}]
    if not usable:
        _unavailable(f"no usable SLURM node (run .ci/slurm-up); sinfo says: {nodes.stdout.strip()!r}")
    config: dict[str, str] = {}
    for line in _run("scontrol", "show", "config").stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            config[key.strip()] = value.strip()
    return config


def _job_fields(job_id: str) -> dict[str, str]:
    """`scontrol show job` as a dict (empty once the job has aged out)."""
    out = _run("scontrol", "-o", "show", "job", job_id, check=False).stdout
    return dict(re.findall(r"(\S+?)=(\S*)", out))


def _squeue_state(job_id: str) -> str:
    out = _run("squeue", "-h", "--states=all", "-j", job_id, "-o", "%T", check=False).stdout
    return out.strip()


def _wait_state(job_id: str, wanted: set[str], timeout: float = JOB_TIMEOUT) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = _squeue_state(job_id)
        if state in wanted:
            return state
        if state in FINISHED:
            break
        time.sleep(0.2)
    scontrol = _run("scontrol", "show", "job", job_id, check=False).stdout
    pytest.fail(f"job {job_id}: state {state!r}, wanted {sorted(wanted)}\n{scontrol}")


def _jobcomp_record(cluster: dict[str, str], job_id: str, timeout: float = 15) -> dict[str, str]:
    """The job's line in the job-completion log (written when the job ends)."""
    assert cluster.get("JobCompType") == "jobcomp/filetxt", cluster.get("JobCompType")
    log = Path(cluster["JobCompLoc"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists():
            lines = [ln for ln in log.read_text().splitlines()
                     if ln.startswith(f"JobId={job_id} ")]
            if lines:  # the last one: a requeued job has one line per run
                return dict(re.findall(r"(\S+?)=(\S*)", lines[-1]))
        time.sleep(0.2)
    pytest.fail(f"job {job_id} not in the job-completion log {log}")


def _sbatch(*args: str) -> str:
    out = _run("sbatch", "--parsable", *args).stdout.strip()
    job_id = out.split(";")[0]  # --parsable prints "id" or "id;cluster"
    assert job_id.isdigit(), f"sbatch --parsable printed {out!r}"
    return job_id


@pytest.fixture
def name() -> str:
    """A job name unique to this test run."""
    return f"solvscreen-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def cleanup():
    """Job ids to scancel after the test, whatever happened."""
    ids: list[str] = []
    yield ids
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True, timeout=CMD_TIMEOUT)


def test_cluster_is_the_ci_cluster(cluster):
    assert cluster["ClusterName"] == "solvscreen-ci"
    assert cluster["SelectType"] == "select/cons_tres"
    assert cluster["AccountingStorageType"] == "accounting_storage/none"
    # The snakemake SLURM plugin's squeue status check needs finished jobs to stay
    # visible: MinJobAge >= 3 x slurm-init-seconds-before-status-checks.
    assert int(cluster["MinJobAge"].split()[0]) >= 120
    part = _run("sinfo", "-h", "-o", "%P %a %l").stdout.split()
    assert part[:3] == ["debug*", "up", "infinite"], part


def test_sbatch_job_runs_writes_output_and_is_recorded(cluster, tmp_path, name, cleanup):
    out = tmp_path / "job.out"
    job_id = _sbatch("-J", name, "-o", str(out), "-e", str(tmp_path / "job.err"),
                     "-t", "1", "-c", "1", "--mem=100",
                     "--wrap", 'echo "hello from job $SLURM_JOB_ID on $(hostname)"')
    cleanup.append(job_id)

    fields = _job_fields(job_id)
    assert fields.get("JobName") == name
    assert fields.get("Partition") == "debug"

    assert _wait_state(job_id, {"COMPLETED"}) == "COMPLETED"
    assert f"hello from job {job_id} on " in out.read_text()

    # exactly the status query of snakemake-executor-plugin-slurm (status command squeue)
    q = _run("squeue", "--format=%i|%T", "--states=all", "--noheader", "--name", name)
    assert q.stdout.split() == [f"{job_id}|COMPLETED"]

    fields = _job_fields(job_id)  # kept for MinJobAge after the end
    assert fields.get("JobState") == "COMPLETED"
    assert fields.get("ExitCode") == "0:0"

    rec = _jobcomp_record(cluster, job_id)
    assert rec["Name"] == name
    assert rec["JobState"] == "COMPLETED"
    assert rec["ExitCode"] == "0:0"


def test_failing_job_is_failed_with_its_exit_code(cluster, tmp_path, name, cleanup):
    job_id = _sbatch("-J", name, "-o", str(tmp_path / "job.out"), "-t", "1",
                     "--wrap", "echo about to fail; exit 3")
    cleanup.append(job_id)
    assert _wait_state(job_id, {"FAILED"}) == "FAILED"
    assert _job_fields(job_id).get("ExitCode") == "3:0"
    rec = _jobcomp_record(cluster, job_id)
    assert (rec["JobState"], rec["ExitCode"]) == ("FAILED", "3:0")


def test_scancel_cancels_a_running_job(cluster, tmp_path, name, cleanup):
    job_id = _sbatch("-J", name, "-o", str(tmp_path / "job.out"), "-t", "5",
                     "--wrap", "echo started; sleep 300")
    cleanup.append(job_id)
    _wait_state(job_id, {"RUNNING"})
    fields = _job_fields(job_id)
    assert fields.get("JobState") == "RUNNING"
    assert fields.get("NodeList") not in (None, "", "(null)")

    _run("scancel", job_id)
    assert _wait_state(job_id, {"CANCELLED"}) == "CANCELLED"
    assert _jobcomp_record(cluster, job_id)["JobState"] == "CANCELLED"


def test_jobs_share_the_node_by_core_and_default_memory(cluster, tmp_path, name, cleanup):
    """cons_tres + DefMemPerCPU: a 1-core job without --mem takes one core and
    DefMemPerCPU, not the whole node, so as many such jobs run at once as there are cores."""
    cpus = int(_run("sinfo", "-h", "-N", "-o", "%c").stdout.split()[0])
    ids = []
    for i in range(cpus):
        ids.append(_sbatch("-J", name, "-o", str(tmp_path / f"job{i}.out"), "-t", "5",
                           "-c", "1", "--wrap", "sleep 300"))
    cleanup.extend(ids)
    for job_id in ids:
        _wait_state(job_id, {"RUNNING"})  # all of them, at the same time
    fields = _job_fields(ids[0])
    assert fields.get("MinMemoryCPU") == f"{cluster['DefMemPerCPU']}M"
    assert fields.get("NumCPUs") == "1"
