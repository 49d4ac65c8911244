"""From a packed box to an OpenMM System: tleap (GAFF2 + Joung-Cheatham) and ion charge scaling.

``tleap`` reads ``leaprc.gaff2``, ``frcmod.ionsjc_tip3p`` + ``atomic_ions.lib`` (the
Joung-Cheatham cation units), every molecule's mol2 + frcmod, and the Packmol PDB; it
writes an Amber prmtop/inpcrd. OpenMM builds the System from the prmtop (PME, the
preset's cutoff, bonds to hydrogen constrained); then every charge of the ions (cation
atoms and all atoms of the anion) is multiplied by ``charge_scale`` and the anion's
intramolecular 1-4 charge products by ``charge_scale**2`` (see :mod:`solvscreen.md.ions`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import CalculationFailed
from .ions import ion_parameters, is_monatomic_ion
from .params import MoleculeParams, read_mol2_atoms


@dataclass
class SpeciesTemplate:
    name: str  # library name
    kind: str  # cation | anion | liquid
    resname: str  # PDB residue name = tleap unit name
    pdb: Path
    params: MoleculeParams | None  # None for a Joung-Cheatham ion
    charge: int
    mol2: Path | None = None  # the molecule's mol2 with its residue renamed to `resname`


def _pdb_line(i: int, name: str, resname: str, resid: int, xyz, element: str) -> str:
    nm = name if len(name) >= 4 else f" {name:<3}"
    return (f"HETATM{i:5d} {nm:<4} {resname:>3} A{resid:4d}    "
            f"{xyz[0]:8.3f}{xyz[1]:8.3f}{xyz[2]:8.3f}  1.00  0.00          {element:>2}")


def resname_of(k: int, smiles: str, params: MoleculeParams | None) -> str:
    """Residue (and tleap unit) name of species number ``k`` of a box."""
    return ion_parameters(smiles).name if params is None else f"S{k:02d}"


def write_templates(species: list[tuple[str, str, str, MoleculeParams | None]], workdir: Path) -> list[SpeciesTemplate]:
    """One single-molecule PDB per species with tleap-compatible residue/atom names.

    ``species`` = (library name, kind, smiles, params or None for a monatomic ion).
    """
    out = []
    for k, (name, kind, smiles, params) in enumerate(species):
        if params is None:
            if not is_monatomic_ion(smiles):
                raise CalculationFailed(f"{name}: no parameters", error_type="typing")
            ion = ion_parameters(smiles)
            resname = resname_of(k, smiles, params)
            lines, charge = [_pdb_line(1, resname, resname, 1, (0, 0, 0), ion.element)], ion.charge
        else:
            resname = resname_of(k, smiles, params)
            atoms = read_mol2_atoms(params.mol2_path)
            lines = [_pdb_line(i + 1, a[0], resname, 1, a[1:4], el)
                     for i, (a, el) in enumerate(zip(atoms, params.elements))]
            charge = params.charge
        mol2 = None
        if params is not None:  # antechamber names the residue MOL; tleap keeps the mol2's name
            mol2 = workdir / f"species_{k:02d}.mol2"
            mol2.write_text(re.sub(r"\bMOL\b", resname, params.mol2_path.read_text()))
        pdb = workdir / f"species_{k:02d}.pdb"
        pdb.write_text("\n".join(lines) + "\nEND\n")
        out.append(SpeciesTemplate(name, kind, resname, pdb, params, charge, mol2))
    return out


def run_tleap(templates: list[SpeciesTemplate], packed_pdb: Path, edge_A: float, workdir: Path) -> tuple[Path, Path]:
    """prmtop + inpcrd of the packed box (tleap)."""
    exe = shutil.which("tleap")
    if exe is None:
        raise CalculationFailed("tleap not found on PATH (install the md extra)", error_type="missing_program")
    lines = ["source leaprc.gaff2", "loadamberparams frcmod.ionsjc_tip3p", "loadoff atomic_ions.lib"]
    for t in templates:
        if t.params is not None:
            lines += [f"loadamberparams {t.params.frcmod_path.resolve()}",
                      f"{t.resname} = loadmol2 {t.mol2.resolve()}"]
    lines += [f"sys = loadpdb {Path(packed_pdb).resolve()}",
              f"set sys box {{{edge_A:.4f} {edge_A:.4f} {edge_A:.4f}}}",
              "saveamberparm sys system.prmtop system.inpcrd", "quit"]
    (workdir / "tleap.in").write_text("\n".join(lines) + "\n")
    p = subprocess.run([exe, "-f", "tleap.in"], cwd=workdir, capture_output=True, text=True, timeout=1200)
    log = p.stdout + p.stderr
    (workdir / "tleap.log").write_text(log)
    prmtop, inpcrd = workdir / "system.prmtop", workdir / "system.inpcrd"
    if p.returncode != 0 or not prmtop.exists() or prmtop.stat().st_size == 0:
        errs = [ln.strip() for ln in log.splitlines() if "Error" in ln or "FATAL" in ln][:3]
        raise CalculationFailed(f"tleap failed: {'; '.join(errs) or log[-300:]}", error_type="topology")
    return prmtop, inpcrd


def build_system(prmtop: Path, inpcrd: Path, *, cutoff_nm: float, charge_scale: float,
                 ion_resnames: set[str], hydrogen_mass_amu: float | None = None):
    """(openmm System, Topology, positions, box vectors) with the ion charges scaled.

    ``hydrogen_mass_amu``: hydrogen mass repartitioning (OpenMM ``hydrogenMass``: each H gets
    this mass, taken from the heavy atom it is bonded to; total mass unchanged), the basis of
    4 fs steps with bonds to H constrained (Hopkins et al., J. Chem. Theory Comput. 2015, 11,
    1864). None = natural masses."""
    import openmm
    import openmm.app as app
    import openmm.unit as u

    top = app.AmberPrmtopFile(str(prmtop))
    crd = app.AmberInpcrdFile(str(inpcrd))
    hmr = {"hydrogenMass": hydrogen_mass_amu * u.amu} if hydrogen_mass_amu else {}
    system = top.createSystem(nonbondedMethod=app.PME, nonbondedCutoff=cutoff_nm * u.nanometer,
                              constraints=app.HBonds, rigidWater=True, ewaldErrorTolerance=5e-4, **hmr)
    ion_atoms = {a.index for a in top.topology.atoms() if a.residue.name in ion_resnames}
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    # mol2/prmtop charges are rounded (6 decimals): spread each residue's rounding residual
    # (< 1e-3 e) over its atoms so every molecule carries exactly its integer charge
    for res in top.topology.residues():
        idx = [a.index for a in res.atoms()]
        qs = [nb.getParticleParameters(i)[0].value_in_unit(u.elementary_charge) for i in idx]
        resid = sum(qs) - round(sum(qs))
        if abs(resid) > 0.01:
            raise CalculationFailed(f"residue {res.name} carries a non-integer charge {sum(qs):.4f}",
                                    error_type="topology")
        for i, q in zip(idx, qs):
            _, sig, eps = nb.getParticleParameters(i)
            nb.setParticleParameters(i, (q - resid / len(idx)) * u.elementary_charge, sig, eps)
    if charge_scale != 1.0:
        for i in ion_atoms:
            q, sig, eps = nb.getParticleParameters(i)
            nb.setParticleParameters(i, q * charge_scale, sig, eps)
        for k in range(nb.getNumExceptions()):
            i, j, qq, sig, eps = nb.getExceptionParameters(k)
            if i in ion_atoms and j in ion_atoms and qq.value_in_unit(u.elementary_charge ** 2) != 0:
                nb.setExceptionParameters(k, i, j, qq * charge_scale ** 2, sig, eps)
    box = crd.boxVectors
    if box is None:
        raise CalculationFailed("inpcrd has no box", error_type="topology")
    system.setDefaultPeriodicBoxVectors(*box)
    return system, top.topology, crd.positions, box


def total_charge(system) -> float:
    import openmm
    import openmm.unit as u

    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    return sum(nb.getParticleParameters(i)[0].value_in_unit(u.elementary_charge) for i in range(nb.getNumParticles()))
