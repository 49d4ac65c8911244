"""Reliability: no import cycle, file-safe names, size guard, config cross-references,
clean input errors, and a job killed from outside that still leaves every table.

Constructed cases with known answers; the killed-job test runs the real workflow (slow).
"""

from __future__ import annotations

import ast
import contextlib
import csv
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from solvscreen.interface import cli
from solvscreen.xtb.engine import Engine, EngineSettings
from solvscreen.core.errors import InputError, ValidationErrors
from solvscreen.inputs.schema import RATIO_RANGE
from solvscreen.inputs.config import load_config
from solvscreen.interface.inputs import validate_all
from solvscreen.core.records import Record
from solvscreen.stages.structure import load_structure, run_structure
from solvscreen.xtb.structures import ConformerSettings, read_xyz

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "solvscreen"
WORKFLOW = ROOT / "tests" / "workflow"


# ----------------------------------------------------------------------------- import graph
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the solvscreen modules it imports (module level and inside functions)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(base + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                # `from pkg import submodule` imports the submodule; `from mod import name` the module
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
                targets = subs if len(subs) == len(node.names) else [base, *subs]
            for t in targets:
                while t and t not in modules:  # `import solvscreen.x.y` -> the deepest known module
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_cycle_finder_finds_a_constructed_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_package_has_no_import_cycle():
    graph = import_graph()
    assert "solvscreen.complexes.search" in graph and "solvscreen.stages.harness" in graph
    assert "solvscreen.complexes.donors" in graph["solvscreen.complexes.search"]  # the parser sees edges
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_chemistry_does_not_import_the_stage_layer_or_snakemake():
    graph = import_graph()
    for mod, deps in graph.items():
        if mod.startswith("solvscreen.complexes") or mod in ("solvscreen.xtb.properties", "solvscreen.xtb.conformers"):
            assert not any(d.startswith("solvscreen.stages") or d == "solvscreen.interface.cli" for d in deps), mod
    for path in PACKAGE.rglob("*.py"):
        assert "import snakemake" not in path.read_text() and "from snakemake" not in path.read_text(), path


# ----------------------------------------------------------------------------- names and files
def _library(tmp_path: Path, extra_rows: list[str] = (), formulations: list[str] = ()) -> dict:
    lib = tmp_path / "library.csv"
    lib.write_text((WORKFLOW / "library.csv").read_text() + "".join(r + "\n" for r in extra_rows))
    forms = tmp_path / "formulations.csv"
    forms.write_text((WORKFLOW / "formulations.csv").read_text() + "".join(r + "\n" for r in formulations))
    return {"library": str(lib), "formulations": str(forms)}


def _errors(config: dict) -> list[str]:
    with pytest.raises(ValidationErrors) as info:
        validate_all(load_config(config))
    return [str(e) for e in info.value.errors]


@pytest.mark.parametrize("name", ["DME.ensemble", "DMC/2", "my solvent"])
def test_file_unsafe_molecule_name_is_rejected_with_file_and_row(tmp_path, name):
    cfg = _library(tmp_path, [f'"{name}",,CCOCC,solvent,,0.71,handbook'])
    (err,) = _errors(cfg)
    assert "library.csv, row 6" in err and "name is" in err and "no '.'" in err


def test_file_unsafe_formulation_id_is_rejected_with_file_and_row(tmp_path):
    cfg = _library(tmp_path, formulations=["LCE-DME-0.8M,KFSI,0.8,DME,volume,,yes,test"])
    (err,) = _errors(cfg)
    assert "formulations.csv, row 3" in err and "id is 'LCE-DME-0.8M'" in err and "0p8M" in err


def test_default_formulation_ids_and_names_are_file_safe():
    library, formulations = validate_all(load_config({}, base_dir=ROOT))
    assert all("." not in f.id and "/" not in f.id for f in formulations)
    assert "LCE-KPF6-EC-DEC-0p8M" in {f.id for f in formulations}
    assert all("." not in m.name and "/" not in m.name for m in library)


def test_names_differing_by_a_suffix_never_share_a_file(tmp_path):
    """W and W_ensemble (the old layout wrote W's ensemble to W.ensemble.xyz, next to a
    molecule called W.ensemble) each keep their own directory: no path in common, and each
    geometry holds its own molecule."""
    fast = ConformerSettings(n_embed=1, n_optimize=1)
    a = run_structure("W", "O", "solvent", tmp_path / "W.json", conformer_settings=fast)
    b = run_structure("W_ensemble", "N", "solvent", tmp_path / "W_ensemble.json", conformer_settings=fast)
    assert a.ok and b.ok
    files_a = {(tmp_path / f).resolve() for f in a.files.values()} | {(tmp_path / "W.json").resolve()}
    files_b = {(tmp_path / f).resolve() for f in b.files.values()} | {(tmp_path / "W_ensemble.json").resolve()}
    assert not files_a & files_b
    assert all(p.parent == tmp_path / "W" for p in files_a - {(tmp_path / "W.json").resolve()})
    assert sorted(read_xyz(load_structure(tmp_path / "W.json").xyz_path)[0]) == [1, 1, 8]
    assert sorted(read_xyz(load_structure(tmp_path / "W_ensemble.json").xyz_path)[0]) == [1, 1, 1, 7]


# ----------------------------------------------------------------------------- size guard, ratios
def test_oversized_molecule_is_rejected_at_validation_with_its_row(tmp_path):
    peg = "C" + "OCC" * 30 + "O"  # HO-(CH2CH2O)30-H... as a SMILES: 213 atoms with hydrogens
    cfg = _library(tmp_path, [f"PEG30,,{peg},solvent,,1.1,estimate"])
    (err,) = _errors(cfg)
    assert "library.csv, row 6" in err and "more than max_atoms = 150" in err
    assert validate_all(load_config({**cfg, "max_atoms": 250}))  # a knowing, larger limit passes


@pytest.mark.parametrize("ratio", ["1e-300", "0.0001", "1e6"])
def test_ratio_outside_the_sane_range_is_rejected(tmp_path, ratio):
    cfg = _library(tmp_path, formulations=[f"DME-DMC-x,KFSI,1.0,DME:1|DMC:{ratio},volume,,no,test"])
    (err,) = _errors(cfg)
    assert "formulations.csv, row 3" in err and f"ratio '{ratio}' of 'DMC' is outside" in err


def test_ratio_range_ends_pass(tmp_path):
    lo, hi = RATIO_RANGE
    cfg = _library(tmp_path, formulations=[f"DME-DMC-x,KFSI,1.0,DME:{lo:g}|DMC:{hi:g},volume,,no,test"])
    assert len(validate_all(load_config(cfg))[1]) == 3


# ----------------------------------------------------------------------------- config cross-references
@pytest.mark.parametrize("override,message", [
    ({"ranking": {"salt": "NOPE"}}, "ranking.salt: unknown molecule 'NOPE'"),
    ({"ranking": {"salt": "DME"}}, "ranking.salt: 'DME' is a solvent, not a salt (KFSI)"),
    ({"binding": {"exchange_anions": ["NOPE"]}}, "binding.exchange_anions[0]: unknown molecule 'NOPE'"),
    ({"binding": {"exchange_anions": ["FSI", "DMC"]}}, "binding.exchange_anions[1]: 'DMC' is a solvent, not an anion"),
    ({"cations": ["FSI"]}, "cations[0]: 'FSI' is an anion, not a cation"),
])
def test_config_cross_references_are_checked_with_the_key_path(tmp_path, override, message):
    errors = _errors({**_library(tmp_path), **override})
    assert any(message in e for e in errors), errors


def test_validate_command_reports_a_bad_reference_without_traceback(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"library: {WORKFLOW / 'library.csv'}\nformulations: {WORKFLOW / 'formulations.csv'}\n"
                   "ranking:\n  salt: NOPE\n")
    assert cli.main(["validate", "--configfile", str(cfg)]) == 2
    assert "ranking.salt: unknown molecule 'NOPE'" in capsys.readouterr().err


@pytest.mark.slow
def test_snakemake_rejects_a_bad_reference_at_parse_time(tmp_path):
    snakemake = shutil.which("snakemake")
    if snakemake is None:
        pytest.skip("snakemake is not installed")
    proc = subprocess.run([snakemake, "-n", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                           "--configfile", str(WORKFLOW / "config.yaml"), "--config",
                           f"library={WORKFLOW / 'library.csv'}", f"formulations={WORKFLOW / 'formulations.csv'}",
                           f"results={tmp_path / 'r'}", "binding={'exchange_anions': ['NOPE']}"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "binding.exchange_anions[0]: unknown molecule 'NOPE'" in out
    assert "Traceback" not in out


# ----------------------------------------------------------------------------- input errors, no traceback
@pytest.mark.parametrize("text,message", [
    ("engine: [unclosed\n", "malformed YAML: line"),
    ("- just\n- a list\n", "must be a mapping"),
])
def test_malformed_config_is_a_clean_error(tmp_path, capsys, text, message):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    assert cli.main(["validate", "--configfile", str(cfg)]) == 2  # returned: no exception escaped
    err = capsys.readouterr().err
    assert err.startswith("solvscreen: error:") and message in err and str(cfg) in err


@pytest.mark.parametrize("command", ["validate", "classify", "rank", "report"])
def test_missing_config_file_is_a_clean_error(tmp_path, capsys, command):
    assert cli.main([command, "--configfile", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml" in err and "cannot read config file" in err


def test_unknown_alpb_solvent_is_an_input_error(capsys):
    with pytest.raises(InputError, match="unknown ALPB solvent 'nosuchsolvent'"):
        EngineSettings(solvent="nosuchsolvent")
    assert EngineSettings(solvent="thf").solvent == "thf"
    assert cli.main(["props", "CO", "--solvent", "nosuchsolvent"]) == 2
    err = capsys.readouterr().err
    assert "unknown ALPB solvent" in err and "SCF" not in err


def test_bad_settings_json_is_an_input_error(tmp_path, capsys):
    assert cli.main(["structure", "--name", "W", "--smiles", "O", "--out", str(tmp_path / "W.json"),
                     "--settings", "{not json"]) == 2
    assert "--settings is not valid JSON" in capsys.readouterr().err


# ----------------------------------------------------------------------------- engine
def test_raised_electronic_temperature_is_reset_for_the_next_geometry():
    """N2 stretched to 3 A with 3 (then 12) SCF cycles converges only on the 1000 K rung; the
    same System's next geometry (N2 at 1.10 A, easy) is computed at the requested 300 K again
    and agrees with a fresh calculation."""
    system = Engine(EngineSettings(max_iterations=3)).system([7, 7])
    stretched = system.compute(np.array([[0.0, 0, 0], [0, 0, 3.0]]), gradient=False)
    assert stretched.electronic_temperature_K == 1000.0
    eq = np.array([[0.0, 0, 0], [0, 0, 1.10]])
    after = system.compute(eq, gradient=False)
    assert after.electronic_temperature_K == 300.0
    fresh = Engine().singlepoint([7, 7], eq)
    assert after.energy_Eh == pytest.approx(fresh.energy_Eh, abs=1e-6)


def test_backends_are_registered_once_with_capabilities():
    from solvscreen.xtb.engine import BACKEND_REGISTRY, BACKENDS, backend_registry

    assert set(BACKENDS) <= set(backend_registry()) and BACKENDS == ("tblite", "xtb-python")
    assert BACKEND_REGISTRY["tblite"].found() and BACKEND_REGISTRY["tblite"].alpb
    with pytest.raises(InputError, match="only available through the tblite backend"):
        EngineSettings(backend="xtb-python", solvent="thf")
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    props = sub.choices["props"]
    assert tuple(next(a for a in props._actions if a.dest == "backend").choices) == tuple(backend_registry())


# ----------------------------------------------------------------------------- dead jobs
def test_died_fallback_passes_input_errors_on(tmp_path):
    out = tmp_path / "structures" / "X.json"
    assert cli.main(["died", "--stage", "structure", "--name", "X", "--out", str(out), "--exit-code", "2"]) == 2
    assert not out.exists()
    assert cli.main(["died", "--stage", "binding", "--name", "X", "--out", str(out), "--exit-code", "137",
                     "--input", "cation=K+"]) == 0
    rec = Record.read(out)
    assert rec.inputs == {"cation": "K+"} and "signal 9" in rec.failure["reason"]


def test_aggregates_list_a_missing_record_as_a_failure_row(tmp_path):
    from solvscreen.stages.binding import aggregate_binding
    from solvscreen.stages.properties import aggregate_descriptors
    from solvscreen.stages.shell import aggregate_shells

    d = aggregate_descriptors([(str(tmp_path / "s" / "A.json"), str(tmp_path / "p" / "A.json"))],
                              tmp_path / "descriptors.csv")
    b = aggregate_binding([tmp_path / "b" / "K+" / "A.json"], tmp_path / "binding.csv")
    s = aggregate_shells([tmp_path / "sh" / "K+" / "A.json"], tmp_path / "shells.csv")
    for rows in (d, b, s):
        assert rows[0]["name"] == "A" and rows[0]["status"] == "failed"
        assert "no record: job died" in rows[0]["failure_reason"]
    assert all((tmp_path / f).is_file() for f in ("descriptors.csv", "binding.csv", "shells.csv"))


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rpartition(")")[2].split()[1])


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        pid = _parent(pid)
        if pid == ancestor:
            return True
    return False


def _job_pids(stage: str, name: str, ancestor: int) -> list[int]:
    """Descendants of ``ancestor`` whose own argv runs ``<stage> --name <name>`` (the solvscreen
    Python process of that job, not the shell line that started it: its command is one string)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv]
        if stage in args and "--name" in args and args.index("--name") + 1 < len(args) \
                and args[args.index("--name") + 1] == name and _descends_from(int(proc.name), ancestor):
            pids.append(int(proc.name))
    return pids


@contextlib.contextmanager
def started(cmd: list[str], cwd: Path):
    """A snakemake run in the background (output in ``proc.stdout``), killed if still running at the end."""
    proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def kill_job_when_running(proc: subprocess.Popen, stage: str, name: str, timeout: float = 600) -> list[int]:
    """SIGKILL the solvscreen process of ``stage --name name`` of the snakemake run ``proc`` as
    soon as it runs (as the out-of-memory killer or a cluster time limit would); its pids."""
    killed: list[int] = []
    deadline = time.monotonic() + timeout
    while proc.poll() is None and not killed and time.monotonic() < deadline:
        for pid in _job_pids(stage, name, proc.pid):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        time.sleep(0.02)
    return killed


@pytest.mark.slow
def test_killed_job_still_yields_every_table_and_the_report(tmp_path):
    """The structure job of DMC is SIGKILLed from outside (as the out-of-memory killer or a
    cluster time limit would) while it runs: the run still ends with every table and the
    report, DMC listed as failed with the reason, everything else computed."""
    snakemake = shutil.which("snakemake")
    if snakemake is None or not Path("/proc/self/cmdline").exists():
        pytest.skip("snakemake or /proc is not available")
    results = tmp_path / "results"
    with started([snakemake, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "--cores", "2",
                  "--configfile", str(WORKFLOW / "config.yaml"), "--config", f"results={results}",
                  f"library={WORKFLOW / 'library.csv'}", f"formulations={WORKFLOW / 'formulations.csv'}"],
                 tmp_path) as proc:
        killed = kill_job_when_running(proc, "structure", "DMC")
        out, _ = proc.communicate(timeout=1500)
    assert killed, "the DMC structure job was never seen running:\n" + out[-3000:]
    assert not (results / "structures" / "DMC" / "geometry.xyz").exists()
    assert proc.returncode == 0, out[-5000:]
    for table in ("descriptors.csv", "binding.csv", "solvating_power.csv", "classification.csv", "ranking.csv",
                  "report.html"):
        assert (results / table).is_file(), table
    desc = {r["name"]: r for r in csv.DictReader((results / "descriptors.csv").open())}
    assert desc["DMC"]["status"] == "failed"
    assert "no record: job died (exit code 137, signal 9)" in desc["DMC"]["failure_reason"]
    assert desc["DMC"]["kind"] == "solvent" and desc["DMC"]["smiles"] == "COC(=O)OC"
    assert desc["DME"]["status"] == "ok"
    bind = {r["name"]: r for r in csv.DictReader((results / "binding.csv").open())}
    assert bind["DMC"]["status"] == "failed" and "job died" in bind["DMC"]["failure_reason"]
    assert bind["DME"]["status"] == "ok" and float(bind["DME"]["E_bind_kcal_per_mol"]) < 0
    classes = {r["id"]: r for r in csv.DictReader((results / "classification.csv").open())}
    assert classes["LCE-DME"]["label"] and not classes["DME-DMC"]["label"]  # DMC has no descriptors


def test_schema_solvent_lists_are_names_tblite_accepts():
    from solvscreen.xtb.engine import ALPB_SOLVENTS
    from solvscreen.inputs.schema import load_schema

    props = load_schema("config")["properties"]
    for section, key in (("engine", "solvent"), ("properties", "orbital_solvent")):
        names = [s for s in props[section]["properties"][key]["enum"] if s is not None]
        assert names and set(names) <= set(ALPB_SOLVENTS), (section, key)


def test_a_registered_stage_checker_runs_in_validate_all(tmp_path, monkeypatch):
    """How a stage package (MD, DFT) adds its section's checks: its entry in the stage registry
    names its check_config (the library itself knows no stage)."""
    import sys
    import types

    from solvscreen.core import registry
    from solvscreen.core.errors import ValidationError

    mod = types.ModuleType("toy_checks")

    def check_config(config, library, formulations):
        return [ValidationError(f"toy.molecules[0]: {n!r} is not a liquid", source="config")
                for n in ["FSI"] if not library.resolve(n).is_liquid]

    mod.check_config = check_config
    monkeypatch.setitem(sys.modules, "toy_checks", mod)
    monkeypatch.setattr(registry, "STAGES", (*registry.STAGES, registry.StageSpec(
        "toy", "toy_checks", "rules.smk", check_config="toy_checks:check_config")))
    assert _errors(_library(tmp_path)) == ["config: toy.molecules[0]: 'FSI' is not a liquid"]
