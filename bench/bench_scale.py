#!/usr/bin/env python
"""Scale estimate for SLURM runs: submissions, scheduler overhead and wall time at 100 /
1,000 / 10,000 candidates, with and without job grouping (profiles/slurm).

Inputs
------
per-job compute     `timings.wall_s` of the records a finished run left in a results directory
                    (structures/, properties/, ion_pairs/, binding/, solvation/), per rule; jobs
                    per candidate = records of the rule / structure records
scheduler overhead  seconds from `sbatch` to the job seen COMPLETED, for a trivial job:
                    measured on the running cluster (sequential probe jobs) unless
                    --overhead-s is given; without a reachable cluster, --overhead-s or 5 s
launch overhead     seconds of Snakemake start-up per job inside SLURM (the job step and each
                    job parse the workflow): --launch-s (default 2.5, measured on the CI VM)
status polling      the SLURM plugin notices a finished job at its next status check: the
                    first `--status-init-s` after submission (profile: 40 s), each check
                    that finds nothing finished adds 10 s to the interval (plugin, fixed)

Model
-----
Grouped (profiles/slurm): one SLURM job per `--group-size` components, where a component
is a molecule's structure + properties (stage 1) or a ligand-cation pair's binding + solvation
(stage 2); a group runs its members one after another (the job step is serial), each
member paying the launch overhead. Ungrouped: one SLURM job per xTB job; a chain
structure -> binding -> solvation is 3 dependent submissions. At most `--jobs` SLURM jobs at a
time (profile: 100), and the cluster is assumed to have that many free slots: a level of
S submissions takes ceil(S / jobs) waves, each lasting until the plugin notices it is
done. This ignores queue waits for a busy cluster, which hit every submission, i.e. hit
the ungrouped run (~4 submissions per molecule) ~40x as often as the grouped one.

Examples
--------
    python bench/bench_scale.py --from-results results/             # measure the overhead now
    python bench/bench_scale.py --from-results results/ --overhead-s 30 --status-init-s 40
    python bench/bench_scale.py --from-results results/ --group-size 5 20 --jobs 500
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

# record directory -> rule, and the stage and dependency level of each rule
RULES = {  # dir: (rule, grouped stage, ungrouped level)
    "structures": ("structure", 1, 1),
    "properties": ("properties", 1, 2),
    "ion_pairs": ("ion_pair", 1, 2),
    "binding": ("binding", 2, 2),
    "solvation": ("solvation", 2, 3),
}
STAGE_COMPONENT_RULE = {1: "structure", 2: "binding"}  # one record of it = one component
STAGE_NAMES = {1: "xtb_molecule", 2: "xtb_binding"}
SIZES = (100, 1_000, 10_000)


# --------------------------------------------------------------------------- per-job costs
def read_costs(results: Path) -> dict[str, dict]:
    """Per rule: number of records and mean/max wall time (s) of their jobs."""
    costs = {}
    for d, (rule, _, _) in RULES.items():
        walls = []
        for path in sorted((results / d).rglob("*.json")) if (results / d).is_dir() else []:
            try:
                rec = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            wall = (rec.get("timings") or {}).get("wall_s") if isinstance(rec, dict) else None
            if isinstance(wall, (int, float)):
                walls.append(float(wall))
        if walls:
            costs[rule] = {"n": len(walls), "mean_s": statistics.fmean(walls), "max_s": max(walls),
                           "total_s": sum(walls)}
    if "structure" not in costs:
        sys.exit(f"bench_scale: no structure records with timings.wall_s under {results}/structures")
    return costs


# --------------------------------------------------------------------------- the cluster
def cluster_up() -> bool:
    if shutil.which("scontrol") is None or shutil.which("sbatch") is None:
        return False
    try:
        return subprocess.run(["scontrol", "ping"], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def probe_overhead(n: int, partition: str | None, account: str | None) -> list[float]:
    """Seconds from sbatch to COMPLETED (seen by squeue) for n trivial jobs, one at a time."""
    name = f"solvscreen-bench-{uuid.uuid4().hex[:8]}"
    extra = ([f"--partition={partition}"] if partition else []) + ([f"--account={account}"] if account else [])
    lat = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            out = subprocess.run(["sbatch", "--parsable", "-J", name, "-c", "1", "--mem=50", "-t", "1",
                                  "-o", "/dev/null", *extra, "--wrap", "true"],
                                 capture_output=True, text=True, timeout=30, check=True).stdout
            job = out.strip().split(";")[0]
            deadline = t0 + 120
            while True:
                state = subprocess.run(["squeue", "-h", "--states=all", "-j", job, "-o", "%T"],
                                       capture_output=True, text=True, timeout=30).stdout.strip()
                if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
                    break
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"probe job {job} not done after 120 s (state {state!r})")
                time.sleep(0.05)
            if state != "COMPLETED":
                raise RuntimeError(f"probe job {job} ended {state}")
            lat.append(time.perf_counter() - t0)
    finally:
        subprocess.run(["scancel", "--name", name], capture_output=True, timeout=30)
    return lat


# --------------------------------------------------------------------------- the model
def noticed_after(t: float, init: float, step: float = 10.0, cap: float = 180.0) -> float:
    """When the plugin's status checks first see a job that finished t s after submission."""
    check, interval = init, init
    while check < t:
        interval = min(interval + step, cap)
        check += interval
    return check


def level_time(submissions: int, job_s: float, jobs: int, overhead: float, init: float) -> tuple[int, float]:
    waves = math.ceil(submissions / jobs) if submissions else 0
    return waves, waves * noticed_after(overhead + job_s, init)


def project(n: int, costs: dict, *, group: int, jobs: int, overhead: float, launch: float,
            init: float, grouped: bool) -> dict:
    per_cand = {r: c["n"] / costs["structure"]["n"] for r, c in costs.items()}
    stages = sorted({RULES[d][1] for d in RULES if RULES[d][0] in costs})
    compute = n * sum(per_cand[r] * costs[r]["mean_s"] for r in costs)
    if grouped:
        subs, wall, waves, longest = 0, 0.0, 0, 0.0
        for st in stages:
            comps = n * per_cand.get(STAGE_COMPONENT_RULE[st], 0)
            if not comps:
                continue
            rules = [RULES[d][0] for d in RULES if RULES[d][1] == st and RULES[d][0] in costs]
            # seconds of one component: its members' compute, each member launched on its own
            per_comp = (sum(per_cand[r] * (costs[r]["mean_s"] + launch) for r in rules)
                        / per_cand[STAGE_COMPONENT_RULE[st]])
            s = math.ceil(comps / group)
            job_s = launch + min(group, comps) * per_comp
            w, t = level_time(s, job_s, jobs, overhead, init)
            subs, waves, wall, longest = subs + s, waves + w, wall + t, max(longest, job_s)
    else:
        subs, wall, waves, longest = 0, 0.0, 0, 0.0
        for lvl in sorted({RULES[d][2] for d in RULES}):
            rules = [RULES[d][0] for d in RULES if RULES[d][2] == lvl and RULES[d][0] in costs]
            if not rules:
                continue
            s = math.ceil(n * sum(per_cand[r] for r in rules))
            job_s = 2 * launch + max(costs[r]["mean_s"] for r in rules)
            w, t = level_time(s, job_s, jobs, overhead, init)
            subs, waves, wall, longest = subs + s, waves + w, wall + t, max(longest, job_s)
    return {"candidates": n, "mode": f"grouped ({group})" if grouped else "ungrouped",
            "submissions": subs, "per_candidate": subs / n, "waves": waves, "job_s": longest,
            "sched_s": subs * overhead, "compute_h": compute / 3600, "wall_min": wall / 60}


def fmt_table(rows: list[dict], cols: list[tuple[str, str, str]]) -> str:
    head = [h for _, h, _ in cols]
    body = [[format(r[k], f) if f else str(r[k]) for k, _, f in cols] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, body)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--from-results", type=Path, default=Path("results"),
                    help="results directory of a finished run (default: results/)")
    ap.add_argument("--group-size", type=int, nargs="+", default=[20],
                    help="components per group job (profile: 20); several: one row each")
    ap.add_argument("--jobs", type=int, default=100, help="SLURM jobs at a time (profile: 100)")
    ap.add_argument("--overhead-s", type=float, help="scheduler overhead per job, s (default: measure)")
    ap.add_argument("--probe-jobs", type=int, default=5, help="trivial jobs to measure the overhead with")
    ap.add_argument("--partition", help="partition for the probe jobs")
    ap.add_argument("--account", help="account for the probe jobs")
    ap.add_argument("--launch-s", type=float, default=2.5, help="Snakemake start-up per job inside SLURM, s")
    ap.add_argument("--status-init-s", type=float, default=40.0,
                    help="slurm-init-seconds-before-status-checks (profile: 40)")
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args(argv)

    costs = read_costs(args.from_results)
    print(f"per-job compute from {args.from_results} (timings.wall_s of the records)")
    n_struct = costs["structure"]["n"]
    print(fmt_table([{"rule": r, "records": c["n"], "per_cand": c["n"] / n_struct, "mean": c["mean_s"],
                      "max": c["max_s"]} for r, c in costs.items()],
                    [("rule", "rule", ""), ("records", "records", ""), ("per_cand", "jobs/candidate", ".2f"),
                     ("mean", "mean s", ".2f"), ("max", "max s", ".2f")]))

    if args.overhead_s is not None:
        overhead, source = args.overhead_s, "given (--overhead-s)"
    elif cluster_up():
        lat = probe_overhead(args.probe_jobs, args.partition, args.account)
        overhead = statistics.median(lat)
        source = (f"measured: {len(lat)} trivial sbatch jobs, sbatch -> COMPLETED median {overhead:.2f} s "
                  f"(min {min(lat):.2f}, max {max(lat):.2f})")
    else:
        overhead, source = 5.0, "assumed 5 s (no cluster reachable; pass --overhead-s)"
    print(f"\nscheduler overhead per job: {overhead:.2f} s, {source}")
    print(f"launch overhead per job: {args.launch_s:.1f} s; first status check after {args.status_init_s:.0f} s, "
          f"+10 s per idle check; {args.jobs} SLURM jobs at a time\n")

    rows = []
    for n in args.sizes:
        for group in [*args.group_size, None]:
            rows.append(project(n, costs, group=group or 1, jobs=args.jobs, overhead=overhead,
                                launch=args.launch_s, init=args.status_init_s, grouped=group is not None))
    print(fmt_table(rows, [("candidates", "candidates", ","), ("mode", "mode", ""),
                           ("submissions", "submissions", ","), ("per_candidate", "per candidate", ".2f"),
                           ("waves", "waves", ""), ("job_s", "longest job s", ".0f"),
                           ("sched_s", "scheduler s (sum)", ",.0f"), ("compute_h", "compute CPU-h", ".2f"),
                           ("wall_min", "projected wall min", ",.1f")]))
    print("\nscheduler s (sum) = submissions x overhead per job; projected wall = per dependency level, "
          "waves x time until the plugin notices the wave done; no queue wait for a busy cluster.")
    if args.json:
        args.json.write_text(json.dumps({"overhead_s": overhead, "overhead_source": source, "costs": costs,
                                         "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
