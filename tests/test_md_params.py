"""GAFF2/AM1-BCC parameters with the real antechamber/parmchk2; Joung-Cheatham ions; a real
OpenMM system of a tiny packed box (charges, ion parameters, minimization)."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pytest

from solvscreen.md.ions import JOUNG_CHEATHAM_TIP3P, ion_parameters
from solvscreen.md.params import parametrize, parse_frcmod_penalties

needs_amber = pytest.mark.skipif(shutil.which("antechamber") is None or shutil.which("tleap") is None,
                                 reason="AmberTools (md extra) not installed")


def _amber_parm_dir() -> Path | None:
    exe = shutil.which("tleap")
    if exe is None:
        return None
    for d in (Path(exe).resolve().parents[1] / "dat" / "leap" / "parm", Path(exe).parents[1] / "dat" / "leap" / "parm"):
        if (d / "frcmod.ionsjc_tip3p").exists():
            return d
    return None


@needs_amber
def test_joung_cheatham_values_are_those_of_the_ambertools_file():
    d = _amber_parm_dir()
    if d is None:
        pytest.skip("frcmod.ionsjc_tip3p not found beside tleap")
    text = (d / "frcmod.ionsjc_tip3p").read_text()
    for name, ion in JOUNG_CHEATHAM_TIP3P.items():
        m = re.search(rf"^\s*{re.escape(name)}\s+([\d.]+)\s+([\d.]+)\s*$", text, re.M)
        assert m, name
        assert float(m.group(1)) == pytest.approx(ion.rmin_half_A)
        assert float(m.group(2)) == pytest.approx(ion.epsilon_kcal_per_mol)
    assert ion_parameters("[K+]").rmin_half_A == 1.705  # J. Phys. Chem. B 2008, 112, 9020, Table 5 (TIP3P)


@needs_amber
def test_dimethyl_ether_is_typed_charged_and_cached(tmp_path):
    p = parametrize("DMEther", "COC", tmp_path / "a", cache_dir=tmp_path / "cache")
    assert not p.cached
    assert sorted(set(p.atom_types)) == ["c3", "h1", "os"]
    assert sum(p.partial_charges) == pytest.approx(0.0, abs=1e-4)
    o = p.partial_charges[p.elements.index("O")]
    assert -0.6 < o < -0.2  # AM1-BCC ether oxygen (GAFF ethers: about -0.3 to -0.45 e)
    assert p.max_penalty == 0.0  # every term of an ether is in GAFF2
    q = parametrize("again", "O(C)C", tmp_path / "b", cache_dir=tmp_path / "cache")  # same molecule, other SMILES
    assert q.cached and q.partial_charges == p.partial_charges
    assert (tmp_path / "b" / q.mol2).exists() and (tmp_path / "b" / q.frcmod).exists()


@needs_amber
def test_fsi_is_symmetric_with_full_perception_and_its_guessed_torsion_is_recorded(tmp_path):
    p = parametrize("FSI", "O=S(=O)(F)[N-]S(=O)(=O)F", tmp_path / "fsi")
    s_types = [t for t, e in zip(p.atom_types, p.elements) if e == "S"]
    s_q = [q for q, e in zip(p.partial_charges, p.elements) if e == "S"]
    assert s_types == ["sy", "sy"] and s_q[0] == pytest.approx(s_q[1], abs=1e-4)
    assert sum(p.partial_charges) == pytest.approx(-1.0, abs=2e-3)  # mol2 rounding; the system fixes it
    assert p.max_penalty > 100  # sy-n2-sy-X by analogy with X-ne-sy-X


def test_frcmod_penalty_comments_are_parsed():
    text = ("DIHE\nsy-n2-sy-o    3   20.400       180.000           1.000      same as X -ne-sy-X , "
            "penalty score=160.5\nBOND\nf -sy  282.40   1.591       same as  f-s4, penalty score=  5.0\n")
    pens = parse_frcmod_penalties(text)
    assert [(x["section"], x["penalty"]) for x in pens] == [("DIHE", 160.5), ("BOND", 5.0)]


@needs_amber
def test_a_tiny_box_builds_a_neutral_scaled_system_that_minimizes(tmp_path):
    openmm = pytest.importorskip("openmm")
    import openmm.unit as u

    if shutil.which("packmol") is None:
        pytest.skip("packmol not installed")
    from solvscreen.md.box import BoxComposition, Species, pack
    from solvscreen.md.system import build_system, run_tleap, total_charge, write_templates

    fsi = parametrize("FSI", "O=S(=O)(F)[N-]S(=O)(=O)F", tmp_path / "fsi")
    dme = parametrize("DMEther", "COC", tmp_path / "dme")
    box = BoxComposition("t", (Species("K+", "cation", 1, 1, 1), Species("FSI", "anion", 1, 9, 1),
                               Species("DMEther", "liquid", 60, 9, 60)), volume_A3=60 * 110.0, n_atoms=550,
                         composition_error=0.0, concentration_mol_per_L=None)
    templates = write_templates([("K+", "cation", "[K+]", None), ("FSI", "anion", "x", fsi),
                                 ("DMEther", "liquid", "COC", dme)], tmp_path)
    edge = pack(box, {t.name: t.pdb for t in templates}, tmp_path / "packed.pdb", seed=1, volume_factor=1.3)
    prmtop, inpcrd = run_tleap(templates, tmp_path / "packed.pdb", edge, tmp_path)
    system, top, pos, _ = build_system(prmtop, inpcrd, cutoff_nm=0.8, charge_scale=0.8,
                                       ion_resnames={"K+", templates[1].resname})
    assert system.getNumParticles() == 550
    assert total_charge(system) == pytest.approx(0.0, abs=1e-6)
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    k = next(a.index for a in top.atoms() if a.residue.name == "K+")
    q, sig, eps = nb.getParticleParameters(k)
    assert q.value_in_unit(u.elementary_charge) == pytest.approx(0.8)
    # Joung-Cheatham K+: sigma = 2 Rmin/2 / 2^(1/6), epsilon in kJ/mol
    assert sig.value_in_unit(u.angstrom) == pytest.approx(2 * 1.705 / 2 ** (1 / 6), abs=1e-3)
    assert eps.value_in_unit(u.kilocalorie_per_mole) == pytest.approx(0.1936829, abs=1e-5)
    fsi_idx = [a.index for a in top.atoms() if a.residue.name == templates[1].resname]
    assert sum(nb.getParticleParameters(i)[0].value_in_unit(u.elementary_charge) for i in fsi_idx) == \
        pytest.approx(-0.8, abs=1e-6)
    ctx = openmm.Context(system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("CPU"),
                         {"Threads": "1"})
    ctx.setPositions(pos)
    e0 = ctx.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
    openmm.LocalEnergyMinimizer.minimize(ctx, 10.0, 200)
    e1 = ctx.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
    assert math.isfinite(e1) and e1 < e0
