"""The backend-neutral xTB engine against independent references.

- tblite and xtb-python are two independent builds of GFN-xTB: on the same geometry they
  must give the same energy (1e-6 Eh, DESIGN 1.4), gradient, orbitals and dipole.
- The analytic gradient must match central finite differences of the energy.
- The ALPB energy must match the ``xtb`` program's ``--alpb`` (a third implementation).
- Errors: unsupported elements and unknown backends stop before any xTB call; a
  non-converging SCF is retried (and the retry recorded) or fails with error_type "scf".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from solvscreen.xtb import engine as engine_mod
from solvscreen.xtb.engine import Engine, EngineSettings, backend_available
from solvscreen.core.errors import CalculationFailed, EngineUnavailable, InputError
from solvscreen.xtb.structures import (
    ConformerSettings,
    atomic_numbers,
    embed_conformers,
    formal_charge,
    mol_from_smiles,
    positions,
    xyz_block,
)

MOLECULES = {
    "DME": "COCCOC",
    "DMC": "COC(=O)OC",
    "FSI-": "O=S(=O)(F)[N-]S(=O)(=O)F",
    "PF6-": "F[P-](F)(F)(F)(F)F",
}


def geometry(smiles: str):
    """(numbers, positions Å, charge) of one seeded RDKit conformer (not an xTB minimum)."""
    mol, _ = embed_conformers(mol_from_smiles(smiles), ConformerSettings(n_embed=1))
    return atomic_numbers(mol), positions(mol), formal_charge(mol)


@pytest.fixture(scope="module")
def geometries():
    return {name: geometry(smi) for name, smi in MOLECULES.items()}


@pytest.fixture
def xtb_python():
    pytest.importorskip("xtb.interface", reason="xtb-python (pip install xtb; wheels for Python <= 3.11) not installed")


# --------------------------------------------------------------------------- backend agreement
@pytest.mark.xtbpython
@pytest.mark.parametrize("method", ["GFN2-xTB", "GFN1-xTB"])
@pytest.mark.parametrize("name", list(MOLECULES))
def test_tblite_and_xtb_python_agree(xtb_python, geometries, name, method):
    numbers, xyz, charge = geometries[name]
    a = Engine(EngineSettings(backend="tblite", method=method)).singlepoint(numbers, xyz, charge, gradient=True)
    b = Engine(EngineSettings(backend="xtb-python", method=method)).singlepoint(numbers, xyz, charge, gradient=True)
    assert a.energy_Eh == pytest.approx(b.energy_Eh, abs=1e-6)
    # gradients: same physics, SCF converged to the default accuracy in both
    assert np.max(np.abs(a.gradient_Eh_per_A - b.gradient_Eh_per_A)) < 1e-4
    assert a.homo_eV == pytest.approx(b.homo_eV, abs=2e-3)
    assert a.lumo_eV == pytest.approx(b.lumo_eV, abs=2e-3)
    assert np.allclose(a.dipole_D, b.dipole_D, atol=2e-3)
    assert np.allclose(a.charges_e, b.charges_e, atol=1e-4)
    # an ion's partial charges sum to its charge (both backends)
    assert a.charges_e.sum() == pytest.approx(charge, abs=1e-6)


def test_gfn1_and_gfn2_are_different_hamiltonians(geometries):
    """Guards the agreement test above: switching the method must change the answer."""
    numbers, xyz, charge = geometries["DME"]
    e2 = Engine(EngineSettings(method="GFN2-xTB")).singlepoint(numbers, xyz, charge).energy_Eh
    e1 = Engine(EngineSettings(method="GFN1-xTB")).singlepoint(numbers, xyz, charge).energy_Eh
    assert abs(e1 - e2) > 0.1


# --------------------------------------------------------------------------- gradient
@pytest.mark.parametrize(
    "settings",
    [EngineSettings(), EngineSettings(method="GFN1-xTB"), EngineSettings(solvent="water")],
    ids=["GFN2", "GFN1", "GFN2-ALPB(water)"],
)
def test_gradient_matches_finite_differences(geometries, settings):
    numbers, xyz, charge = geometries["FSI-"]
    system = Engine(settings).system(numbers, charge)
    grad = system.compute(xyz, gradient=True).gradient_Eh_per_A
    h = 5e-4  # Å
    fd = np.zeros_like(xyz)
    for i in range(len(numbers)):
        for k in range(3):
            plus, minus = xyz.copy(), xyz.copy()
            plus[i, k] += h
            minus[i, k] -= h
            fd[i, k] = (system.compute(plus, gradient=False).energy_Eh
                        - system.compute(minus, gradient=False).energy_Eh) / (2 * h)
    assert np.max(np.abs(grad)) > 1e-2  # an RDKit geometry is far from the xTB minimum
    assert np.max(np.abs(fd - grad)) < 2e-5  # Eh/Å
    # translation invariance: the forces of an isolated molecule sum to zero
    assert np.allclose(grad.sum(axis=0), 0.0, atol=1e-6)


# --------------------------------------------------------------------------- ALPB vs the xtb program
XTB = shutil.which("xtb")
XTBPATH = "/usr/share/xtb"


def run_xtb_program(tmp_path, numbers, xyz, charge, *args) -> str:
    (tmp_path / "m.xyz").write_text(xyz_block(numbers, xyz))
    env = {**os.environ, "XTBPATH": os.environ.get("XTBPATH", XTBPATH), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([XTB, "m.xyz", "--chrg", str(charge), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(XTB is None or not os.path.isdir(os.environ.get("XTBPATH", XTBPATH)),
                    reason="the xtb program (Debian package xtb) is not installed")
def test_alpb_energy_matches_xtb_program(tmp_path, geometries):
    numbers, xyz, charge = geometries["FSI-"]
    out = run_xtb_program(tmp_path, numbers, xyz, charge, "--sp", "--alpb", "water")
    ref = float(re.search(r"TOTAL ENERGY\s+(-?\d+\.\d+) Eh", out).group(1))
    e = Engine(EngineSettings(solvent="water")).singlepoint(numbers, xyz, charge).energy_Eh
    assert e == pytest.approx(ref, abs=1e-6)
    gas = Engine().singlepoint(numbers, xyz, charge).energy_Eh
    assert e < gas - 0.05  # an anion is strongly stabilized by water (>30 kcal/mol)


def test_xtb_python_refuses_implicit_solvent():
    """xtb-python's set_solvent() is GBSA, not ALPB; a silent model switch would break agreement."""
    with pytest.raises(InputError, match="ALPB"):
        EngineSettings(backend="xtb-python", solvent="water")


# --------------------------------------------------------------------------- bad input, no backend
def test_unsupported_element_rejected_before_computing():
    eng = Engine()
    with pytest.raises(InputError, match=r"Z=\[92\]"):
        eng.singlepoint(np.array([92, 9]), np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 2.0]]))
    assert eng.stats.singlepoints == 0 and eng.stats.seconds_in_xtb == 0.0


def test_unknown_backend_and_method_are_input_errors():
    with pytest.raises(InputError, match="backend"):
        EngineSettings(backend="nope")
    with pytest.raises(InputError, match="method"):
        EngineSettings(method="GFN3-xTB")
    with pytest.raises(InputError, match="IPEA1"):
        EngineSettings(backend="xtb-python", method="IPEA1-xTB")
    assert not backend_available("nope")


def test_missing_backend_raises_engine_unavailable(monkeypatch):
    """A backend whose package does not import: EngineUnavailable with an install hint."""
    real = engine_mod.backend_available
    monkeypatch.setattr(engine_mod, "backend_available", lambda b: False if b == "xtb-python" else real(b))
    with pytest.raises(EngineUnavailable, match="pip install xtb"):
        Engine(EngineSettings(backend="xtb-python"))
    Engine(EngineSettings(backend="tblite"))  # the other backend is unaffected


# --------------------------------------------------------------------------- SCF retry ladder
@pytest.mark.parametrize("backend", ["tblite", pytest.param("xtb-python", marks=pytest.mark.xtbpython)])
def test_scf_failure_after_every_retry_is_calculation_failed(geometries, backend):
    if not backend_available(backend):
        pytest.skip(f"{backend} not installed")
    numbers, xyz, charge = geometries["DME"]
    eng = Engine(EngineSettings(backend=backend, max_iterations=1))  # 1 (then 4) SCF cycles: hopeless
    with pytest.raises(CalculationFailed) as info:
        eng.singlepoint(numbers, xyz, charge)
    assert info.value.error_type == "scf"
    assert "1000 K" in str(info.value) and "3000 K" in str(info.value)  # the ladder is named
    assert eng.stats.scf_retries == len(engine_mod._RETRIES)
    assert eng.stats.singlepoints == 0


def test_scf_retry_converges_and_is_recorded(geometries):
    """3 SCF cycles fail for DME; the second rung (4x cycles, damping) converges to the same energy."""
    numbers, xyz, charge = geometries["DME"]
    ref = Engine().singlepoint(numbers, xyz, charge)
    assert ref.scf_attempt == 1
    eng = Engine(EngineSettings(max_iterations=3))
    sp = eng.singlepoint(numbers, xyz, charge)
    assert sp.scf_attempt == 2
    assert eng.stats.scf_retries == 1
    assert sp.electronic_temperature_K == 300.0  # the temperature was not raised on this rung
    assert sp.energy_Eh == pytest.approx(ref.energy_Eh, abs=1e-6)


def test_engine_counts_its_work(geometries):
    numbers, xyz, charge = geometries["DMC"]
    eng = Engine()
    system = eng.system(numbers, charge)
    system.compute(xyz, gradient=True)
    system.compute(xyz + 0.01, gradient=False)
    assert eng.stats.singlepoints == 2 and eng.stats.gradients == 1
    assert eng.stats.seconds_in_xtb > 0
    # an engine for another method shares the counters (one record per stage)
    eng.with_method("GFN1-xTB").singlepoint(numbers, xyz, charge)
    assert eng.stats.singlepoints == 3
