"""The ``solvscreen`` command line: single questions and exit codes (0 ok, 2 bad input, 3 no backend)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from solvscreen.interface import cli
from solvscreen.xtb import engine as engine_mod


def _solvscreen_cmd() -> list[str]:
    exe = shutil.which("solvscreen")
    return [exe] if exe else [sys.executable, "-m", "solvscreen.interface.cli"]


def test_props_json_subprocess():
    """The installed entry point answers a single question with parseable JSON."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([*_solvscreen_cmd(), "props", "COCCOC", "--json", "--n-embed", "2"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "ok" and out["failure"] is None
    assert out["smiles"] == "COCCOC"
    assert out["method"] == "GFN2-xTB" and out["engine"] == "tblite"
    assert out["homo_eV"] < out["lumo_eV"]
    assert out["gap_eV"] == pytest.approx(out["lumo_eV"] - out["homo_eV"])
    assert out["ip_vertical_eV"] > 0 and out["dipole_D"] >= 0
    assert out["E_ox_vs_K_V"] == pytest.approx(out["ip_vertical_eV"] - 4.44 + 2.93)


def test_props_table_in_process(capsys):
    assert cli.main(["--threads", "1", "props", "[K+]", "--n-embed", "1"]) == 0
    text = capsys.readouterr().out
    assert "lumo_eV" in text and "note: E(vs K+/K)" in text


@pytest.mark.parametrize("smiles,message", [
    ("C1CC(", "cannot parse SMILES"),
    # RDKit reads the text after a space as the molecule's name: 'CCO C' would be ethanol (issue 26)
    ("CCO C", "SMILES 'CCO C' contains whitespace (at position 3)"),
    ("CC\tO", "contains whitespace (at position 2)"),
    ("C(C)(C)(C)(C)C", "sanitization"),  # pentavalent carbon
    ("[U]", "unsupported element U (Z=92): GFN-xTB is parametrized for Z = 1-86 only"),
    # the library's own rules (structures.structure_problems, library.size_problem), not a second copy
    ("[CH3]", "radical: SMILES '[CH3]' has 1 unpaired electron(s)"),
    ("[O-][O]", "radical: SMILES '[O-][O]' has 1 unpaired electron(s)"),
    ("[CH2+]", "radical: SMILES '[CH2+]' has 1 unpaired electron(s)"),
    ("[Fe+2]", "partly filled d shell (Fe (d6))"),
    ("", "one molecule expected: the SMILES is empty"),
    ("C.C", "one molecule expected: SMILES 'C.C' has 2 dot-separated fragments"),
    ("C" + "OCC" * 43 + "O", "has 307 atoms (hydrogens included), more than --max-atoms = 150"),  # 131 heavy atoms
])
def test_bad_input_exits_2_with_message(capsys, smiles, message):
    t0 = time.perf_counter()
    assert cli.main(["--threads", "1", "props", smiles]) == 2
    err = capsys.readouterr().err
    assert err.startswith("solvscreen: error:") and message in err
    assert time.perf_counter() - t0 < 30  # rejected before any xTB work (a PEG-43 run takes minutes)


@pytest.mark.parametrize("args", [["bind", "[O-][O]", "--cation", "K"], ["bind", "C.C"],
                                  ["bind", "COCCOC", "--shell", "--anion", "X=[O-][O]"]])
def test_bind_rejects_what_the_library_rejects(capsys, args):
    assert cli.main(["--threads", "1", *args]) == 2
    err = capsys.readouterr().err
    assert "radical" in err or "one molecule expected" in err


def test_bind_through_fluorine_carries_a_caveat_and_prints_no_geometry(capsys):
    """2,2,2-trifluoroethyl methyl ether binds K+ through F contacts in GFN2-xTB: the answer says
    what such an energy is not, and no XYZ block is printed unless --xyz asks for a file."""
    assert cli.main(["--threads", "1", "bind", "FC(F)(F)COC", "--n-embed", "2"]) == 0
    out = capsys.readouterr().out
    rows = dict(line.split(None, 1) for line in out.split("\n\n")[0].splitlines())
    halogens = [d for d in rows["donor_atoms"].split(", ") if d.startswith("F")]
    assert halogens, rows["donor_atoms"]
    note = " ".join(out.split("\n\n", 1)[1].split())
    assert note.startswith(f"note: {len(halogens)} of the {rows['denticity'].strip()} donor atoms")
    assert "overstates how strongly a weak donor holds the cation" in note and "solvating power" in note
    assert "geometry" not in out and "E_bind=" not in out  # the XYZ comment line of the complex


def test_library_and_cli_share_the_rules(tmp_path):
    """Each rejected SMILES of the single questions is rejected by the library validator too."""
    from solvscreen.core.errors import ValidationErrors
    from solvscreen.inputs.library import load_library

    lib = tmp_path / "lib.csv"
    lib.write_text("name,smiles,kind\nM1,[CH3],solvent\nM2,[Fe+2],cation\nM3,[Zn+2],cation\n")
    with pytest.raises(ValidationErrors) as info:
        load_library(lib)
    errors = [str(e) for e in info.value.errors]
    assert len(errors) == 2 and "radical" in errors[0] and "partly filled d shell" in errors[1]


def test_a_larger_max_atoms_lets_a_big_molecule_through_the_guard(capsys):
    from solvscreen.interface.query import check_single_molecule

    peg = "C" + "OCC" * 43 + "O"
    assert check_single_molecule(peg, max_atoms=400).GetNumAtoms() == 307
    assert cli.main(["props", "CCO", "--max-atoms", "5"]) == 2
    assert "more than --max-atoms = 5" in capsys.readouterr().err


def test_bad_smiles_subprocess_exit_code():
    proc = subprocess.run([*_solvscreen_cmd(), "props", "not_a_smiles"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "not_a_smiles" in proc.stderr and "Traceback" not in proc.stderr


def test_structure_stage_bad_smiles_writes_nothing(tmp_path, capsys):
    out = tmp_path / "x" / "bad.json"
    assert cli.main(["structure", "--name", "bad", "--smiles", "C1CC(", "--out", str(out)]) == 2
    assert not out.exists()
    assert "cannot parse SMILES" in capsys.readouterr().err


def test_missing_backend_exits_3(monkeypatch, capsys):
    real = engine_mod.backend_available
    monkeypatch.setattr(engine_mod, "backend_available", lambda b: False if b == "xtb-python" else real(b))
    assert cli.main(["props", "COCCOC", "--backend", "xtb-python"]) == 3
    assert "not installed" in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["solvation", "--ligand-structure", "L.json", "--binding", "B.json", "--cation-structure", "K.json",
     "--anion-structure", "A.json", "--ion-pair", "P.json", "--liquid", "{}", "--out", "o.json"],
    ["dft", "--binding", "B.json", "--ligand-structure", "L.json", "--out", "o.json"],
    ["md-run", "--formulation", "LCE-DME", "--params", "DME=x.json", "--out", "o.json"],
])
def test_every_stage_command_reads_settings_one_way(args, capsys):
    """--settings is read by one function (core.settings.settings_from_json) in every command:
    bad JSON is an input error (exit 2) naming the flag, before any file is read."""
    assert cli.main([*args, "--settings", "{not json"]) == 2
    assert "--settings is not valid JSON" in capsys.readouterr().err
    assert cli.main([*args, "--settings", "[1, 2]"]) == 2
    assert "--settings must be a JSON object" in capsys.readouterr().err


def test_help_lists_the_user_commands_and_leaves_the_workflows_out(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    commands = out.split("  COMMAND\n", 1)[1].split("\n\n")[0].splitlines()
    listed = {line.split()[0] for line in commands if line.startswith("    ") and line[4] != " "}
    assert listed == set(cli.USER_COMMANDS)
    assert "died" not in listed and not any(c.startswith("aggregate-") for c in listed)
    # the workflow's commands are still there, and say what they do
    with pytest.raises(SystemExit) as exit_:
        cli.main(["died", "--help"])
    assert exit_.value.code == 0 and "failure record for a job that died" in capsys.readouterr().out


def test_validate_from_another_directory_uses_the_packaged_library(tmp_path):
    """Outside the checkout the default library and formulations are the package's copies."""
    proc = subprocess.run([*_solvscreen_cmd(), "validate"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("library: ") and " DME " in proc.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["-3", "0", "two", "1.5"])
def test_threads_must_be_a_positive_whole_number(capsys, value):
    """``--threads -3`` or ``0`` ran with a libgomp warning (issue 26, hole 6): now an input error
    before anything runs."""
    with pytest.raises(SystemExit) as info:
        cli.main(["--threads", value, "props", "C"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"--threads: {value!r} is not a positive whole number of OpenMP threads (1, 2, ...)" in err, err


def test_bad_omp_num_threads_is_an_input_error(capsys, monkeypatch):
    """Without --threads the count comes from $OMP_NUM_THREADS; a bad value there is named too."""
    monkeypatch.setenv("OMP_NUM_THREADS", "-3")
    assert cli.main(["props", "C"]) == 2
    assert "OMP_NUM_THREADS='-3' is not a positive whole number of OpenMP threads" in capsys.readouterr().err
