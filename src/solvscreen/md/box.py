"""Simulation box: molecule counts from a formulation's composition, and Packmol.

Counts: :func:`solvscreen.inputs.composition.compose` gives moles per litre of the salt and of
every liquid component (from the molarity, the volume or molar ratios and the densities).
They are scaled by one factor so the box holds about ``target_atoms`` atoms, and rounded
to whole molecules (at least one of each). Rounding changes the composition; the error is
reported as the largest relative deviation of a salt : component molar ratio (and of every
component mole fraction) from the nominal one. The nominal box volume is the volume that
holds the salt count at the formulation's molarity (N_salt / (c N_A)); the barostat then
finds the force field's own density.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.errors import CalculationFailed, InputError

log = logging.getLogger("solvscreen.md")

AVOGADRO = 6.02214076e23
A3_PER_L = 1e27


@dataclass(frozen=True)
class Species:
    name: str  # library name
    kind: str  # cation | anion | solvent | diluent
    count: int
    n_atoms: int
    nominal_count: float  # before rounding


@dataclass(frozen=True)
class BoxComposition:
    formulation: str
    species: tuple[Species, ...]
    volume_A3: float  # nominal (at the formulation's molarity or the neat density)
    n_atoms: int
    composition_error: float  # max relative error of salt:component ratios / mole fractions
    concentration_mol_per_L: float | None  # salt molarity of the rounded box at nominal volume

    @property
    def edge_A(self) -> float:
        return self.volume_A3 ** (1.0 / 3.0)

    def count(self, name: str) -> int:
        return sum(s.count for s in self.species if s.name == name)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["edge_A"] = self.edge_A
        return d


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b) if b else 0.0


def box_counts(comp, atoms: dict[str, int], target_atoms: int, cation: str, anion: str) -> BoxComposition:
    """Molecule counts for a :class:`~solvscreen.inputs.composition.Composition` of ~``target_atoms`` atoms.

    ``atoms`` maps every library name (cation, anion, components) to its atom count
    (hydrogens included).
    """
    c = comp.concentration_mol_per_L
    per_L = c * (atoms[cation] + atoms[anion]) + sum(x.mol_per_L * atoms[x.name] for x in comp.components)
    f = target_atoms / per_L  # molecules per (mol/L)
    n_salt_nom = c * f
    n_salt = max(1, round(n_salt_nom))
    species = [Species(cation, "cation", n_salt, atoms[cation], n_salt_nom),
               Species(anion, "anion", n_salt, atoms[anion], n_salt_nom)]
    for x in comp.components:
        nom = x.mol_per_L * f
        species.append(Species(x.name, "liquid", max(1, round(nom)), atoms[x.name], nom))
    liquids = species[2:]
    errs = [_rel(s.count / n_salt, s.nominal_count / n_salt_nom) for s in liquids]
    n_liq, n_liq_nom = sum(s.count for s in liquids), sum(s.nominal_count for s in liquids)
    errs += [_rel(s.count / n_liq, s.nominal_count / n_liq_nom) for s in liquids]
    # volume of the rounded counts with the composition's own volume model (ideal mixing of
    # the neat liquids' molar volumes + the salt's molar volume): N_salt / (c N_A) when nominal
    v_salt = comp.salt_molar_volume_mL_per_mol or 0.0
    vol_mL = (n_salt * v_salt + sum(s.count * x.molar_volume_mL_per_mol
                                    for s, x in zip(liquids, comp.components))) / AVOGADRO
    volume_A3 = vol_mL * 1e24
    n_atoms = sum(s.count * s.n_atoms for s in species)
    return BoxComposition(comp.formulation, tuple(species), volume_A3, n_atoms, max(errs, default=0.0),
                          n_salt / (volume_A3 / A3_PER_L) / AVOGADRO)


def neat_counts(name: str, n_atoms_molecule: int, molar_mass: float, density_g_per_mL: float,
                target_atoms: int) -> BoxComposition:
    """A box of one neat liquid at its (library) density."""
    if not density_g_per_mL or density_g_per_mL <= 0:
        raise InputError(f"{name}: no density to size a neat-liquid box")
    n = max(2, round(target_atoms / n_atoms_molecule))
    volume_A3 = n * molar_mass / density_g_per_mL / AVOGADRO * 1e24
    return BoxComposition(name, (Species(name, "liquid", n, n_atoms_molecule, target_atoms / n_atoms_molecule),),
                          volume_A3, n * n_atoms_molecule, 0.0, None)


#: Start kinds that bracket the equilibrium ion pairing from both sides.
#: ``aggregated``: all ions inside a central cube, solvent outside it; the cube holds the
#: ions' share of the box volume (their share of the atoms) times the first of
#: AGGREGATE_VOLUME_FACTORS, so ions and solvent start at about the same packing density, and
#: every K+ starts with several anions in contact (a salt-rich droplet). ``dispersed``: every
#: ion atom carries Packmol radius DISPERSED_RADII_A[0], so no two ions start closer than twice
#: that (4 A, beyond the K-O(anion) first-shell minimum of 3.7-3.8 A): every K+ starts
#: solvent-separated. Where a concentrated box (5 M: more ions than solvent molecules) leaves no
#: room for that, the next factor / radius is tried: a looser ion droplet with the solvent allowed
#: anywhere; ions 3 A apart, then Packmol's own 2 A tolerance (a random start, where some K+
#: start in contact). The one used is in the work directory's start.txt (and the record's
#: per-seed ``start_packing``); the decision trace's first-chunk CN per start shows where each began.
AGGREGATE_VOLUME_FACTORS = (1.2, 1.6, 2.2)
TRY_TIMEOUT_S = 300.0  # the failed 1.2 try of 5 M KFSI/DGM (1.5k atoms) ended by itself after 193 s
DISPERSED_RADII_A = (2.0, 1.5, 1.0)


def pack(box: BoxComposition, pdb_of: dict[str, Path], out: Path, *, seed: int, volume_factor: float = 1.1,
         tolerance_A: float = 2.0, timeout_s: float = 1200, start: str = "random",
         ions: tuple[str, ...] = ()) -> float:
    """Packmol: place ``box``'s molecules (one PDB per species) in a cubic periodic box.

    ``start``: ``random`` (all molecules anywhere), ``aggregated`` or ``dispersed`` (see
    the constants above; ``ions`` names the ion species). Returns the box edge in A
    (``volume_factor`` x the nominal volume). Raises :class:`CalculationFailed` when Packmol
    fails or does not reach its tolerance.
    """
    exe = shutil.which("packmol")
    if exe is None:
        raise CalculationFailed("packmol not found on PATH (install the md extra)", error_type="missing_program")
    edge = (box.volume_A3 * volume_factor) ** (1.0 / 3.0)
    out = Path(out)
    if start not in ("random", "aggregated", "dispersed"):
        raise InputError(f"pack: unknown start {start!r}")
    if start != "random" and not ions:
        raise InputError(f"pack: start {start!r} needs the ion species")
    # a concentrated box may leave no room for the ideal start: looser ones, in order (recorded)
    tries = {"random": [(None, None)],
             "aggregated": [(f, None) for f in AGGREGATE_VOLUME_FACTORS],  # the first with the solvent outside
             "dispersed": [(None, r) for r in DISPERSED_RADII_A]}[start]
    for i, (factor, radius) in enumerate(tries):
        lines = _packmol_input(box, pdb_of, out, seed, edge, tolerance_A, start, ions, radius, factor,
                               solvent_outside=i == 0)
        try:  # a try that is not the last gets TRY_TIMEOUT_S: an infeasible dense packing can take the full timeout
            _run_packmol(exe, lines, out, timeout_s if i == len(tries) - 1 else min(timeout_s, TRY_TIMEOUT_S))
        except CalculationFailed:
            if i == len(tries) - 1:
                raise
            log.info("packmol: no %s start with %s; trying the next", start,
                     f"ion radius {radius} A" if radius else f"ion volume factor {factor}")
            continue
        (out.parent / "start.txt").write_text(
            start + (f" ion radius {radius} A" if radius else "") + (f" ion volume factor {factor}" if factor else "")
            + ("" if i == 0 or start != "aggregated" else ", solvent anywhere") + "\n")
        return edge
    raise AssertionError("unreachable")


def _packmol_input(box, pdb_of, out, seed, edge, tolerance_A, start, ions, radius, factor, *,
                   solvent_outside: bool = True) -> list[str]:
    lines = [f"tolerance {tolerance_A}", "filetype pdb", f"output {out.name}", f"seed {seed}",
             "add_amber_ter", f"pbc {edge:.4f} {edge:.4f} {edge:.4f}", ""]
    ion_atoms = sum(s.count * s.n_atoms for s in box.species if s.name in ions)
    a = min(edge, ((factor or 1.0) * ion_atoms / box.n_atoms) ** (1.0 / 3.0) * edge)
    lo, hi = (edge - a) / 2, (edge + a) / 2
    for s in box.species:
        where = f"  inside box 0. 0. 0. {edge:.4f} {edge:.4f} {edge:.4f}"
        extra = []
        if start == "aggregated" and s.name in ions:
            where = f"  inside box {lo:.4f} {lo:.4f} {lo:.4f} {hi:.4f} {hi:.4f} {hi:.4f}"
        elif start == "aggregated" and solvent_outside:
            where += f"\n  outside box {lo:.4f} {lo:.4f} {lo:.4f} {hi:.4f} {hi:.4f} {hi:.4f}"
        elif start == "dispersed" and s.name in ions:
            extra = [f"  radius {radius}"]
        lines += [f"structure {Path(pdb_of[s.name]).resolve()}", f"  number {s.count}", where, *extra,
                  "end structure", ""]
    return lines


def _run_packmol(exe: str, lines: list[str], out: Path, timeout_s: float) -> None:
    inp = out.parent / "packmol.inp"
    inp.write_text("\n".join(lines))
    try:
        with inp.open() as fh:
            p = subprocess.run([exe], stdin=fh, cwd=out.parent, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise CalculationFailed(f"packmol timed out after {timeout_s:.0f} s", error_type="packing") from None
    (out.parent / "packmol.log").write_text(p.stdout + p.stderr)
    if p.returncode != 0 or not out.exists() or "Success!" not in p.stdout:
        tail = " | ".join(ln.strip() for ln in (p.stdout + p.stderr).splitlines() if ln.strip())[-300:]
        raise CalculationFailed(f"packmol failed (exit {p.returncode}): {tail}", error_type="packing")


def composition_summary(box: BoxComposition) -> str:
    parts = [f"{s.count} {s.name}" for s in box.species]
    return f"{', '.join(parts)}: {box.n_atoms} atoms, composition error {box.composition_error:.1%}"


def check_box_size(edge_A: float, cutoff_nm: float) -> None:
    """PME with a real-space cutoff needs a box edge of at least twice the cutoff."""
    if edge_A < 2 * cutoff_nm * 10 * 1.02:
        raise CalculationFailed(f"box edge {edge_A:.1f} A is below twice the {cutoff_nm} nm cutoff: "
                                f"raise target_atoms", error_type="box")


__all__ = ["BoxComposition", "Species", "box_counts", "neat_counts", "pack", "composition_summary",
           "check_box_size"]
