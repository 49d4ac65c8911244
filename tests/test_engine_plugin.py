"""An engine plug-in: a backend that is not GFN-xTB (here a Lennard-Jones pair potential
standing in for an ML potential), installed as a distribution with an entry point in the
group ``solvscreen.engines`` and used without a change to the xTB code: settings, single
points with analytic gradients, the project's optimizer, provenance, the CLI's choices; a
stage that needs orbitals refuses it with a clear failure."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from solvscreen.core.errors import CalculationFailed, InputError
from solvscreen.xtb import engine as engine_mod

TOY_MODULE = '''
import numpy as np

from solvscreen.xtb.engine import Backend, Calculator, CalculatorOutput

EPS_EH, SIGMA_BOHR = 0.000379, 6.43  # argon-like Lennard-Jones parameters (hartree, bohr)


class PairLJ(Calculator):
    def __init__(self, settings, numbers, positions_bohr, charge, uhf, attempt):
        self.kelvin = 0.0

    def compute(self, positions_bohr, gradient):
        x = np.asarray(positions_bohr, dtype=float)
        e, g = 0.0, np.zeros_like(x)
        for i in range(len(x)):
            for j in range(i + 1, len(x)):
                d = x[i] - x[j]
                r = float(np.linalg.norm(d))
                sr6 = (SIGMA_BOHR / r) ** 6
                e += 4 * EPS_EH * (sr6 * sr6 - sr6)
                dedr = 4 * EPS_EH * (-12 * sr6 * sr6 + 6 * sr6) / r
                g[i] += dedr * d / r
                g[j] -= dedr * d / r
        return CalculatorOutput(energy_Eh=e, gradient_Eh_per_bohr=g if gradient else None,
                                charges_e=np.zeros(len(x)), dipole_e_bohr=np.zeros(3))


BACKEND = Backend("toy-lj", "toy_engine", "toy-engine", ("LJ-Ar",), alpb=False,
                  install_hint="pip install toy-engine", calculator=PairLJ, orbitals=False, max_z=18)
'''


@pytest.fixture
def toy_plugin(tmp_path, monkeypatch):
    (tmp_path / "toy_engine.py").write_text(TOY_MODULE)
    dist = tmp_path / "toy_engine-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-engine\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[solvscreen.engines]\ntoy-lj = toy_engine:BACKEND\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(engine_mod, "BACKEND_REGISTRY", dict(engine_mod.BACKEND_REGISTRY))
    monkeypatch.setattr(engine_mod, "_PLUGINS_LOADED", False)
    yield
    sys.modules.pop("toy_engine", None)


def test_an_installed_engine_plugin_runs_without_touching_the_xtb_code(toy_plugin):
    from solvscreen.xtb.engine import Engine, EngineSettings, backend_registry
    from solvscreen.xtb.optimize import optimize

    registry = backend_registry()
    assert "toy-lj" in registry and {"tblite", "xtb-python"} <= set(registry)
    eng = Engine(EngineSettings(backend="toy-lj", method="LJ-Ar"))
    assert eng.provenance()["engine"] == "toy-lj" and eng.version == "0.1"
    assert not eng.capabilities.orbitals
    # analytic gradient against central finite differences
    ar = np.array([18, 18, 18])
    xyz = np.array([[0.0, 0.0, 0.0], [3.9, 0.0, 0.0], [1.8, 3.2, 0.3]])
    sp = eng.singlepoint(ar, xyz, gradient=True)
    h, num = 1e-4, np.zeros_like(xyz)
    for i in range(3):
        for k in range(3):
            d = np.zeros_like(xyz)
            d[i, k] = h
            num[i, k] = (eng.singlepoint(ar, xyz + d).energy_Eh - eng.singlepoint(ar, xyz - d).energy_Eh) / (2 * h)
    assert np.allclose(sp.gradient_Eh_per_A, num, atol=1e-7)
    # the project's optimizer on the plug-in: Ar2 at the LJ minimum 2^(1/6) sigma
    res = optimize(eng.system(ar[:2]), xyz[:2], fmax_eV_per_A=1e-4)
    r = float(np.linalg.norm(res.positions_A[0] - res.positions_A[1]))
    assert r == pytest.approx(2 ** (1 / 6) * 6.43 * 0.529177, rel=1e-3)
    # what the backend cannot do is refused with the reason
    with pytest.raises(InputError, match="outside LJ-Ar's parametrization"):
        eng.singlepoint(np.array([18, 36]), xyz[:2])
    with pytest.raises(InputError, match="only available through the toy-lj backend"):
        EngineSettings(backend="tblite", method="LJ-Ar")
    with pytest.raises(InputError, match="ALPB"):
        EngineSettings(backend="toy-lj", method="LJ-Ar", solvent="thf")


def test_a_stage_that_needs_orbitals_refuses_a_backend_without_them(toy_plugin):
    from solvscreen.xtb.engine import Engine, EngineSettings
    from solvscreen.xtb.properties import electronic_properties

    eng = Engine(EngineSettings(backend="toy-lj", method="LJ-Ar"))
    with pytest.raises(CalculationFailed, match="gives no orbitals") as exc:
        electronic_properties(eng, np.array([18, 18]), np.array([[0, 0, 0], [3.8, 0, 0.0]]), 0, 0)
    assert exc.value.error_type == "capability"


def test_the_command_line_and_the_config_accept_an_installed_plugin(toy_plugin):
    from solvscreen.inputs.config import load_config
    from solvscreen.interface import cli
    from solvscreen.interface.inputs import validate_all
    from solvscreen.core.errors import ValidationErrors

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    backend = next(a for a in sub.choices["props"]._actions if a.dest == "backend")
    assert "toy-lj" in backend.choices
    cfg = load_config({"engine": {"backend": "toy-lj", "method": "LJ-Ar"}})
    assert cfg["engine"]["backend"] == "toy-lj"
    with pytest.raises(ValidationErrors, match="unknown engine backend 'nope'"):
        validate_all(load_config({"engine": {"backend": "nope"}}))


def test_a_backend_that_returns_a_bare_tuple_is_told_the_contract(toy_plugin, monkeypatch):
    """Calculator.compute returns a keyed, typed CalculatorOutput (issue 26); the positional
    6-tuple of before is refused by name, not unpacked in the wrong order."""
    from solvscreen.core.errors import EngineUnavailable
    from solvscreen.xtb.engine import Engine, EngineSettings, backend_registry

    backend_registry()
    toy = sys.modules["toy_engine"].PairLJ
    keyed = toy.compute
    monkeypatch.setattr(toy, "compute", lambda self, x, g: tuple(vars(keyed(self, x, g)).values()))
    eng = Engine(EngineSettings(backend="toy-lj", method="LJ-Ar"))
    with pytest.raises(EngineUnavailable, match="returned a tuple, not a solvscreen.xtb.engine.CalculatorOutput"):
        eng.singlepoint(np.array([18, 18]), np.array([[0, 0, 0], [3.8, 0, 0.0]]))
