"""Filled first solvation shells M+(L)n and the anion-exchange energy.

1:1 gas-phase binding grows with molecular size (polarizability), and misses steric
crowding and the competition of the anion for the cation. Two descriptors capture them:

- **per-ligand shell energy** ``E_shell = (E(M+Ln) - E(M+) - n E(L)) / n`` (kcal/mol;
  negative = bound), with ``n = ceil(CN / denticity)``: CN is the cation's target first-shell
  coordination number (K+ 6, Na+ 6, Li+ 4; ``BindingSettings.shell_target_cn`` overrides it),
  the denticity that of the best 1:1 complex; ``n`` is capped at ``shell_max_n`` and so that
  the shell has at most ``shell_max_atoms`` atoms (the record says which rule set ``n``);
- **anion-exchange energy** ``E_exch = E(M+L(n-1)A-) + E(L) - E(M+Ln) - E(A-)`` (kcal/mol) of
  ``M+(L)n + A- -> M+(L)(n-1)A- + L``: negative = the anion displaces a ligand favourably.

Construction (affordable by design): the ligand copies are the best 1:1 complex's ligand,
rigidly rotated so that their bound donors point at the cation from the vertices of a
polyhedron (line, triangle, tetrahedron, trigonal bipyramid, octahedron), each turned about
its axis (and pushed outward if needed) to avoid clashes; ``shell_n_arrangements`` seeded
arrangements are ranked with a point-charge model (GFN charges of the 1:1 complex), the best
three get a GFN-xTB single point and the best ``shell_n_optimize`` of those a loose optimization
(``shell_fmax_eV_per_A``); the lowest optimized cluster is kept. For the exchange complex, the
anion (in its ion-pair binding orientation) replaces in turn each of the three ligands closest
to the cation in the optimized shell; the same single point / loose optimization selection
follows. Final energies are from the run's method (GFN2-xTB by default).

Caveat (measured): clusters of many monodentate ligands have many nearby minima; with six
ligands the exchange energy scattered by 5-10 kcal/mol between equivalent starts, with four
by 0-5 kcal/mol, with two or three chelating ligands by < 0.5 kcal/mol. Hence
``shell_max_n = 4`` by default, and two optimized arrangements per cluster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rdkit import Chem

from ..xtb.engine import Engine
from ..core.errors import CalculationFailed
from ..xtb.optimize import optimize
from ..xtb.structures import bonds_intact
from ..core.units import HARTREE_TO_KCAL_PER_MOL
from .cations import COULOMB_KCAL_A, CationSpec
from .donors import binding_mode, donor_atoms
from .settings import BindingSettings

N_SINGLEPOINT_ARRANGEMENTS = 3  # arrangements (after the model ranking) that get a single point
N_EXCHANGE_SITES = 3  # distinct ligands tried as the one the anion replaces


# ----------------------------------------------------------------------------- geometry helpers
def polyhedron(n: int) -> np.ndarray:
    """``n`` unit vectors spread over the sphere (ideal coordination polyhedra up to 6)."""
    s3 = math.sqrt(3.0) / 2.0
    table = {
        1: [[0, 0, 1]],
        2: [[0, 0, 1], [0, 0, -1]],
        3: [[1, 0, 0], [-0.5, s3, 0], [-0.5, -s3, 0]],
        4: [[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]],
        5: [[0, 0, 1], [0, 0, -1], [1, 0, 0], [-0.5, s3, 0], [-0.5, -s3, 0]],
        6: [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]],
    }
    if n in table:
        v = np.array(table[n], dtype=float)
    else:  # Fibonacci sphere
        k = np.arange(n) + 0.5
        phi = np.arccos(1 - 2 * k / n)
        theta = np.pi * (1 + 5**0.5) * k
        v = np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)
    return v / np.linalg.norm(v, axis=1)[:, None]


def rotation_between(u: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Rotation matrix taking unit vector ``u`` onto unit vector ``d``."""
    u, d = u / np.linalg.norm(u), d / np.linalg.norm(d)
    v = np.cross(u, d)
    c = float(np.dot(u, d))
    if c < -1 + 1e-9:  # opposite: rotate by pi about any perpendicular axis
        p = np.cross(u, [1.0, 0, 0] if abs(u[0]) < 0.9 else [0, 1.0, 0])
        p /= np.linalg.norm(p)
        return 2 * np.outer(p, p) - np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    a = axis / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


@dataclass
class Fragment:
    """A molecule bound to the cation, in the cation's frame (cation at the origin)."""

    name: str
    mol: Chem.Mol
    numbers: np.ndarray
    xyz: np.ndarray  # positions relative to the cation
    charges: np.ndarray  # point charges for the arrangement model
    axis: np.ndarray  # unit vector from the cation to its bound donors

    @classmethod
    def from_complex(cls, name: str, mol: Chem.Mol, xyz_complex: np.ndarray, charges_complex: np.ndarray,
                     cation: CationSpec, factor: float) -> "Fragment":
        donors = donor_atoms(mol)
        mode = binding_mode(mol, xyz_complex, donors, cation, factor)
        lig = xyz_complex[:-1] - xyz_complex[-1]
        labels = set(mode["donor_atoms"])
        bound = [d.index for d in donors if d.label in labels]
        if not bound:  # nearest donor
            bound = [min(donors, key=lambda d: np.linalg.norm(lig[d.index])).index]
        axis = lig[bound].mean(axis=0)
        axis = axis / np.linalg.norm(axis) if np.linalg.norm(axis) > 1e-6 else np.array([0.0, 0.0, 1.0])
        numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()], dtype=int)
        return cls(name, mol, numbers, lig, np.asarray(charges_complex[:-1], dtype=float), axis)

    def placed(self, direction: np.ndarray, angle: float, shift: float) -> np.ndarray:
        rot = axis_rotation(direction, angle) @ rotation_between(self.axis, direction)
        return self.xyz @ rot.T + shift * direction


def _pair_model(xa, qa, za, xb, qb, zb) -> tuple[float, float]:
    """Coulomb energy (kcal/mol) and clash penalty between two point-charge sets."""
    d = np.linalg.norm(xa[:, None, :] - xb[None, :, :], axis=-1)
    d = np.maximum(d, 0.3)
    hh, anyh = (za[:, None] == 1) & (zb[None, :] == 1), (za[:, None] == 1) | (zb[None, :] == 1)
    contact = np.where(hh, 2.0, np.where(anyh, 2.3, 2.8))
    clash = float(np.sum(np.clip(contact - d, 0, None) ** 2))
    return float(COULOMB_KCAL_A * np.sum(qa[:, None] * qb[None, :] / d)), clash


def _min_contact(xa, za, xb, zb) -> float:
    """Smallest (distance - minimal contact) between two atom sets; negative = overlap."""
    d = np.linalg.norm(xa[:, None, :] - xb[None, :, :], axis=-1)
    hh, anyh = (za[:, None] == 1) & (zb[None, :] == 1), (za[:, None] == 1) | (zb[None, :] == 1)
    minimal = np.where(hh, 1.7, np.where(anyh, 2.0, 2.5))
    return float(np.min(d - minimal))


@dataclass
class Arrangement:
    parts: list[tuple[Fragment, np.ndarray]]  # fragment and its placed positions (cation frame)
    model_kcal: float = 0.0
    clash: float = 0.0
    energy_Eh: float = float("nan")

    def geometry(self, cation: CationSpec) -> tuple[np.ndarray, np.ndarray]:
        numbers = np.concatenate([f.numbers for f, _ in self.parts] + [[cation.Z]])
        xyz = np.vstack([x for _, x in self.parts] + [np.zeros((1, 3))])
        return numbers, xyz


def place_fragments(fragments: list[Fragment], directions: np.ndarray, fixed: list[tuple[Fragment, np.ndarray]],
                    cation: CationSpec, n_angles: int = 12) -> Arrangement:
    """Place each fragment along its direction: best turn about the axis, pushed out if clashing."""
    parts = list(fixed)
    for frag, d in zip(fragments, directions):
        best = None
        for shift in (0.0, 0.3, 0.6, 1.0, 1.5):
            for k in range(n_angles):
                x = frag.placed(d, 2 * np.pi * k / n_angles, shift)
                e = clash = 0.0
                contact = 10.0
                for other, xo in parts:
                    de, dc = _pair_model(x, frag.charges, frag.numbers, xo, other.charges, other.numbers)
                    e += de
                    clash += dc
                    contact = min(contact, _min_contact(x, frag.numbers, xo, other.numbers))
                score = e + 50.0 * clash
                if best is None or score < best[0]:
                    best = (score, x, contact)
            if best[2] >= 0:  # no overlap at this shift: do not push further out
                break
        parts.append((frag, best[1]))
    arr = Arrangement(parts)
    for i in range(len(parts)):
        fi, xi = parts[i]
        for j in range(i + 1, len(parts)):
            fj, xj = parts[j]
            de, dc = _pair_model(xi, fi.charges, fi.numbers, xj, fj.charges, fj.numbers)
            arr.model_kcal += de
            arr.clash += dc
        # cation - fragment Coulomb (the fragment's own 1:1 binding is the same for all placements)
        r = np.maximum(np.linalg.norm(xi, axis=1), 0.5)
        arr.model_kcal += COULOMB_KCAL_A * cation.charge * float(np.sum(fi.charges / r))
    arr.model_kcal += 50.0 * arr.clash
    return arr


# ----------------------------------------------------------------------------- shell size
def shell_size(cation: CationSpec, denticity: int, n_ligand_atoms: int, settings: BindingSettings) -> tuple[int, str]:
    """Number of ligands in the filled first shell and why."""
    cn = settings.target_cn(cation)
    dent = max(1, int(denticity))
    n = math.ceil(cn / dent)
    why = f"target CN {cn} for {cation.symbol}+ / 1:1 denticity {dent} -> ceil({cn}/{dent}) = {n}"
    if n > settings.shell_max_n:
        n = settings.shell_max_n
        why += f"; capped at shell_max_n = {n}"
    by_atoms = max(1, (settings.shell_max_atoms - 1) // max(1, n_ligand_atoms))
    if n > by_atoms:
        n = by_atoms
        why += f"; capped at {n} so the shell has at most shell_max_atoms = {settings.shell_max_atoms} atoms"
    return n, why


# ----------------------------------------------------------------------------- shell search
@dataclass
class ClusterResult:
    numbers: np.ndarray
    positions_A: np.ndarray
    energy_Eh: float
    converged: bool
    n_gradients: int
    summary: dict = field(default_factory=dict)
    start_positions_A: np.ndarray | None = None  # the arrangement it was optimized from


def _combined_mol(mols: list[Chem.Mol]) -> Chem.Mol:
    out = mols[0]
    for m in mols[1:]:
        out = Chem.CombineMols(out, m)
    return out


def cluster_problem(mols: list[Chem.Mol], xyz: np.ndarray, cation: CationSpec,
                     settings: BindingSettings) -> tuple[str | None, dict]:
    """Bonds intact in every molecule; which molecules still touch the cation."""
    combined = _combined_mol(mols)
    info = {"n_bound_molecules": 0, "coordination_number": 0}
    if not bonds_intact(combined, xyz[:-1]):
        return "bonds changed in the cluster", info
    m = xyz[-1]
    offset = 0
    for mol in mols:
        donors = donor_atoms(mol)
        dists = [float(np.linalg.norm(xyz[offset + d.index] - m)) for d in donors]
        if dists and min(dists) <= settings.dissociation_cutoff_A:
            info["n_bound_molecules"] += 1
        info["coordination_number"] += sum(
            1 for d, r in zip(donors, dists) if r <= settings.denticity_factor * cation.ideal_distance(d.element))
        offset += mol.GetNumAtoms()
    return None, info


def _optimize_cluster(engine: Engine, arrangements: list[Arrangement], mols: list[Chem.Mol], charge: int,
                      cation: CationSpec, settings: BindingSettings) -> ClusterResult:
    """Single points on the best arrangements (model ranking); loose optimization of the best
    ``shell_n_optimize`` of them (acceptable ones only); the lowest optimized cluster wins."""
    n_opt = max(1, settings.shell_n_optimize)
    ranked = sorted(arrangements, key=lambda a: a.model_kcal)[: max(n_opt, N_SINGLEPOINT_ARRANGEMENTS)]
    scored = []
    for arr in ranked:
        numbers, xyz = arr.geometry(cation)
        system = engine.system(numbers, charge)  # kept: the optimization restarts from its wavefunction
        try:
            arr.energy_Eh = system.compute(xyz, gradient=False).energy_Eh
        except CalculationFailed:
            continue
        scored.append((arr, system))
    if not scored:
        raise CalculationFailed("no cluster arrangement gave a converged SCF", error_type="scf")
    scored.sort(key=lambda t: t[0].energy_Eh)
    problems: list[str] = []
    done: list[ClusterResult] = []
    n_grad = 0
    for arr, system in scored:
        if len(done) >= n_opt:
            break
        numbers, xyz = arr.geometry(cation)
        opt = optimize(system, xyz, fmax_eV_per_A=settings.shell_fmax_eV_per_A,
                       max_steps=settings.shell_max_steps, raise_on_failure=False)
        n_grad += opt.n_gradients
        sp = opt.singlepoint
        if sp.electronic_temperature_K > engine.settings.electronic_temperature_K:
            sp = engine.system(numbers, charge).compute(opt.positions_A)
        problem, info = cluster_problem(mols, opt.positions_A, cation, settings)
        if problem is None and sp.electronic_temperature_K > engine.settings.electronic_temperature_K:
            problem = f"SCF converged only at {sp.electronic_temperature_K:.0f} K"
        if problem:
            problems.append(problem)
            continue
        done.append(ClusterResult(numbers, opt.positions_A, sp.energy_Eh, opt.converged, opt.n_gradients,
                                  {"optimization_converged": opt.converged, "optimization_steps": opt.n_steps, **info},
                                  xyz))
    if not done:
        raise CalculationFailed("every optimized cluster was rejected: " + "; ".join(problems),
                                error_type="optimization")
    done.sort(key=lambda c: c.energy_Eh)
    best = done[0]
    best.n_gradients = n_grad
    best.summary = {
        "n_arrangements": len(arrangements),
        "n_singlepoints": len(scored),
        "n_optimized": len(done) + len(problems),
        "optimized_energies_rel_kcal_per_mol": [round((c.energy_Eh - best.energy_Eh) * HARTREE_TO_KCAL_PER_MOL, 3)
                                                for c in done],
        **best.summary,
        "rejected": problems,
    }
    return best


def build_shell(engine: Engine, ligand: Fragment, n: int, cation: CationSpec, settings: BindingSettings,
                charge: int) -> ClusterResult:
    """The filled shell M+(L)n from the 1:1 complex's ligand (see the module docstring)."""
    rng = np.random.default_rng(settings.seed)
    base = polyhedron(n)
    arrangements = []
    for a in range(max(1, settings.shell_n_arrangements)):
        rot = np.eye(3) if a == 0 else random_rotation(rng)
        arrangements.append(place_fragments([ligand] * n, base @ rot.T, [], cation))
    return _optimize_cluster(engine, arrangements, [ligand.mol] * n, charge, cation, settings)


def build_exchange(engine: Engine, shell: ClusterResult, ligand: Fragment, n: int, anion: Fragment,
                   cation: CationSpec, settings: BindingSettings, charge: int) -> ClusterResult:
    """M+(L)(n-1)A-: one ligand of the optimized shell replaced by the anion."""
    m_at = shell.positions_A[-1]
    size = len(ligand.numbers)
    copies = [shell.positions_A[k * size:(k + 1) * size] - m_at for k in range(n)]
    donors = donor_atoms(ligand.mol)
    # the ligands closest to the cation first (their donors are where the anion must go)
    order = sorted(range(n), key=lambda k: min(np.linalg.norm(copies[k][d.index]) for d in donors))
    arrangements = []
    for k in order[: N_EXCHANGE_SITES]:
        near = [d.index for d in donors if np.linalg.norm(copies[k][d.index]) <= 1.2 * cation.ideal_distance(d.element)]
        if not near:
            near = [min(donors, key=lambda d: np.linalg.norm(copies[k][d.index])).index]
        direction = copies[k][near].mean(axis=0)
        direction = direction / np.linalg.norm(direction)
        fixed = [(ligand, copies[j]) for j in range(n) if j != k]
        arrangements.append(place_fragments([anion], direction[None, :], fixed, cation))
    return _optimize_cluster(engine, arrangements, [ligand.mol] * (n - 1) + [anion.mol], charge, cation, settings)


