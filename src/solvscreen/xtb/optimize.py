"""Geometry optimization on an engine :class:`~solvscreen.xtb.engine.System`.

Default algorithm (``"rfo"``): a quasi-Newton minimizer in Cartesian coordinates of the kind
the ``xtb`` program's ANCopt uses, written out here:

- initial Hessian: Lindh's model Hessian (Lindh, Bernhardsson, Karlström, Malmqvist, Chem.
  Phys. Lett. 241 (1995) 423): stretch/bend/torsion force constants 0.45/0.15/0.005 Eh
  scaled by ``rho_ij = exp(alpha_ij (r_ref,ij^2 - r_ij^2))`` for *every* atom pair, so
  non-bonded contacts (a cation and its donors, two molecules of a solvation shell) get
  a sensible curvature instead of the single scalar of a plain L-BFGS;
- translations and rotations projected out; eigenvalues floored at 5e-4 Eh/bohr^2;
- rational-function (RFO) steps inside a trust radius adapted to the ratio of actual
  to predicted energy change; steps raising the energy by more than 1e-4 Eh are
  rejected (trust radius halved) but still update the Hessian;
- BFGS updates of the Hessian (skipped when the curvature condition fails); the model
  Hessian is rebuilt at the current geometry every 15 accepted steps (as ANCopt
  regenerates its coordinates), which pays off on long conformational relaxations.

``"lbfgs"`` keeps the former algorithm (ASE's L-BFGS, maxstep 0.2 Å) for comparison.

Convergence: the largest atomic force below ``fmax_eV_per_A`` (default 0.02 eV/Å ≈
3.9e-4 Eh/bohr, close to the ``xtb`` program's "normal" level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import SinglePoint, System
from ..core.errors import CalculationFailed, InputError
from ..core.units import BOHR_TO_ANGSTROM, HARTREE_TO_EV

FMAX_EV_PER_A = 0.02
ALGORITHMS = ("rfo", "lbfgs")


@dataclass
class OptimizationResult:
    positions_A: np.ndarray
    singlepoint: SinglePoint
    n_gradients: int
    n_steps: int
    converged: bool

    @property
    def energy_Eh(self) -> float:
        return self.singlepoint.energy_Eh


def optimize(
    system: System,
    positions_A: np.ndarray,
    *,
    fmax_eV_per_A: float = FMAX_EV_PER_A,
    max_steps: int = 500,
    raise_on_failure: bool = True,
    algorithm: str = "rfo",
) -> OptimizationResult:
    """Minimize the energy of ``system`` from ``positions_A``; count gradient evaluations.

    ``max_steps`` bounds the number of gradient evaluations after the first one.
    """
    if algorithm not in ALGORITHMS:
        raise InputError(f"unknown optimizer {algorithm!r}; choose one of {ALGORITHMS}")
    before = system.engine.stats.gradients
    run = _rfo if algorithm == "rfo" else _ase_lbfgs
    xyz, sp, n_steps, converged = run(system, np.asarray(positions_A, dtype=float), fmax_eV_per_A, max_steps)
    n_grad = system.engine.stats.gradients - before
    if not converged and raise_on_failure:
        raise CalculationFailed(
            f"geometry optimization did not converge in {max_steps} steps", error_type="optimization"
        )
    return OptimizationResult(xyz, sp, n_grad, n_steps, converged)


def _fmax_eV_per_A(sp: SinglePoint) -> float:
    g = sp.gradient_Eh_per_A.reshape(-1, 3)
    return float(np.max(np.linalg.norm(g, axis=1))) * HARTREE_TO_EV if g.size else 0.0


# ----------------------------------------------------------------------------- model Hessian
# Lindh 1995 parameters by period row (H/He, Li-Ne, Na and beyond); distances in bohr.
_LINDH_ALPHA = np.array([[1.0000, 0.3949, 0.3949], [0.3949, 0.2800, 0.2800], [0.3949, 0.2800, 0.2800]])
_LINDH_RREF = np.array([[1.35, 2.10, 2.53], [2.10, 2.87, 3.40], [2.53, 3.40, 3.40]])
_K_STRETCH, _K_BEND, _K_TORSION = 0.45, 0.15, 0.005
_RHO_NEIGHBOUR = 0.01  # pairs below this do not chain into bends/torsions


def _row(z: int) -> int:
    return 0 if z <= 2 else (1 if z <= 10 else 2)


def _assemble(h: np.ndarray, atoms: np.ndarray, b: np.ndarray, k: np.ndarray) -> None:
    """h += sum_t k_t b_t b_t^T for terms t over ``atoms`` (T x m) with B-vectors ``b`` (T x m x 3)."""
    if len(k) == 0:
        return
    t, m = atoms.shape
    idx = (3 * atoms[:, :, None] + np.arange(3)).reshape(t, 3 * m)
    flat = b.reshape(t, 3 * m)
    vals = k[:, None, None] * flat[:, :, None] * flat[:, None, :]
    np.add.at(h, (np.repeat(idx, 3 * m, axis=1), np.tile(idx, (1, 3 * m))), vals.reshape(t, -1))


def lindh_hessian(numbers: np.ndarray, xyz_bohr: np.ndarray) -> np.ndarray:
    """Lindh's model Hessian (Eh/bohr^2, Cartesian, 3N x 3N)."""
    n = len(numbers)
    x = np.asarray(xyz_bohr, dtype=float)
    rows = np.array([_row(int(z)) for z in numbers])
    alpha = _LINDH_ALPHA[rows[:, None], rows[None, :]]
    rref = _LINDH_RREF[rows[:, None], rows[None, :]]
    diff = x[:, None, :] - x[None, :, :]
    r2 = np.einsum("ijk,ijk->ij", diff, diff)
    rho = np.exp(alpha * (rref**2 - r2))
    np.fill_diagonal(rho, 0.0)
    h = np.zeros((3 * n, 3 * n))

    # stretches: every pair
    i, j = np.triu_indices(n, 1)
    k = _K_STRETCH * rho[i, j]
    keep = k >= 1e-8
    i, j, k = i[keep], j[keep], k[keep]
    u = diff[i, j] / np.sqrt(r2[i, j])[:, None]
    _assemble(h, np.stack([i, j], axis=1), np.stack([u, -u], axis=1), k)

    nbrs = [np.nonzero(rho[a] > _RHO_NEIGHBOUR)[0] for a in range(n)]
    # bends i-j-k (apex j); (near-)linear ones are ill-defined in these coordinates and skipped
    trip = [(a, j, c) for j in range(n) for p, a in enumerate(nbrs[j]) for c in nbrs[j][p + 1:]]
    if trip:
        t = np.array(trip)
        uu, vv = x[t[:, 0]] - x[t[:, 1]], x[t[:, 2]] - x[t[:, 1]]
        lu, lv = np.linalg.norm(uu, axis=1), np.linalg.norm(vv, axis=1)
        cos = np.einsum("ij,ij->i", uu, vv) / (lu * lv)
        sin = np.sqrt(np.clip(1.0 - cos * cos, 0.0, None))
        ok = sin >= 0.05
        t, uu, vv, lu, lv, cos, sin = t[ok], uu[ok], vv[ok], lu[ok], lv[ok], cos[ok], sin[ok]
        bi = (cos[:, None] * uu / lu[:, None] - vv / lv[:, None]) / (lu * sin)[:, None]
        bk = (cos[:, None] * vv / lv[:, None] - uu / lu[:, None]) / (lv * sin)[:, None]
        kb = _K_BEND * rho[t[:, 0], t[:, 1]] * rho[t[:, 1], t[:, 2]]
        _assemble(h, t, np.stack([bi, -bi - bk, bk], axis=1), kb)

    # torsions i-j-k-l around j-k (Blondel-Karplus derivatives)
    quad = [(a, j, c, d) for j in range(n) for c in nbrs[j] if c > j
            for a in nbrs[j] if a != c for d in nbrs[c] if d != a and d != j]
    if quad:
        q = np.array(quad)
        kt = _K_TORSION * rho[q[:, 0], q[:, 1]] * rho[q[:, 1], q[:, 2]] * rho[q[:, 2], q[:, 3]]
        q, kt = q[kt >= 1e-7], kt[kt >= 1e-7]
        f, g, hv = x[q[:, 0]] - x[q[:, 1]], x[q[:, 1]] - x[q[:, 2]], x[q[:, 3]] - x[q[:, 2]]
        a, b = np.cross(f, g), np.cross(hv, g)
        a2, b2 = np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b)
        lg = np.linalg.norm(g, axis=1)
        ok = (a2 >= 1e-4 * lg * lg) & (b2 >= 1e-4 * lg * lg)
        q, kt, f, g, hv, a, b, a2, b2, lg = (v[ok] for v in (q, kt, f, g, hv, a, b, a2, b2, lg))
        fg, hg = np.einsum("ij,ij->i", f, g), np.einsum("ij,ij->i", hv, g)
        di = -(lg / a2)[:, None] * a
        dl = (lg / b2)[:, None] * b
        dj = (lg / a2)[:, None] * a + (fg / (a2 * lg))[:, None] * a - (hg / (b2 * lg))[:, None] * b
        dk = (hg / (b2 * lg))[:, None] * b - (fg / (a2 * lg))[:, None] * a - (lg / b2)[:, None] * b
        _assemble(h, q, np.stack([di, dj, dk, dl], axis=1), kt)
    return h


def _rigid_motions(xyz: np.ndarray) -> np.ndarray:
    """Orthonormal basis (3N x m) of translations and rotations at ``xyz``."""
    n = len(xyz)
    c = xyz - xyz.mean(axis=0)
    vecs = []
    for a in range(3):
        t = np.zeros((n, 3))
        t[:, a] = 1.0
        vecs.append(t.reshape(-1))
        e = np.zeros(3)
        e[a] = 1.0
        vecs.append(np.cross(e, c).reshape(-1))
    u, s, _ = np.linalg.svd(np.array(vecs).T, full_matrices=False)
    return u[:, s > 1e-6 * s.max()]


# ----------------------------------------------------------------------------- RFO / BFGS
# Tuned on K+/Li+ complexes, an ion pair and free ligands against `xtb --opt normal`
# (bench/bench_binding.py --compare-xtb prints the comparison).
_H_LOW = 0.0005  # Eh/bohr^2, floor of the Hessian eigenvalues
_TRUST0, _TRUST_MIN, _TRUST_MAX = 0.5, 0.02, 1.0  # bohr, norm of the Cartesian step
_REJECT_EH = 1e-4  # a step raising the energy by more than this is rejected
_RESET = 15  # accepted steps after which the model Hessian is rebuilt at the current geometry


def _rfo(system: System, xyz_A: np.ndarray, fmax: float, max_steps: int):
    n = len(system.numbers)
    sp = system.compute(xyz_A, gradient=True)
    if n == 1 or _fmax_eV_per_A(sp) < fmax:
        return xyz_A.copy(), sp, 0, True
    x = xyz_A.reshape(-1) / BOHR_TO_ANGSTROM
    g = sp.gradient_Eh_per_A.reshape(-1) * BOHR_TO_ANGSTROM
    e = sp.energy_Eh
    h = lindh_hessian(system.numbers, x.reshape(-1, 3))
    trust = _TRUST0
    steps = accepted = 0
    while steps < max_steps:
        tr = _rigid_motions(x.reshape(-1, 3))
        proj = np.eye(3 * n) - tr @ tr.T
        hp = proj @ h @ proj
        hp = 0.5 * (hp + hp.T)
        lam, vec = np.linalg.eigh(hp)
        internal = np.linalg.norm(tr.T @ vec, axis=0) < 0.5
        lam, vec = np.maximum(lam[internal], _H_LOW), vec[:, internal]
        gq = vec.T @ (proj @ g)
        # RFO: lowest eigenpair of the augmented Hessian [[diag(lam), gq], [gq^T, 0]]
        aug = np.zeros((len(lam) + 1, len(lam) + 1))
        aug[: len(lam), : len(lam)] = np.diag(lam)
        aug[:-1, -1] = aug[-1, :-1] = gq
        mu = np.linalg.eigvalsh(aug)[0]
        sq = -gq / (lam - mu)
        step = vec @ sq
        norm = np.linalg.norm(step)
        if norm > trust:
            step *= trust / norm
            sq *= trust / norm
            norm = trust
        predicted = float(gq @ sq + 0.5 * sq @ (lam * sq))
        x_new = x + step
        sp_new = system.compute((x_new * BOHR_TO_ANGSTROM).reshape(-1, 3), gradient=True)
        steps += 1
        g_new = sp_new.gradient_Eh_per_A.reshape(-1) * BOHR_TO_ANGSTROM
        actual = sp_new.energy_Eh - e
        y = g_new - g
        sy = float(step @ y)
        if sy > 1e-8:  # BFGS update (keeps the Hessian positive definite)
            hs = h @ step
            h = h + np.outer(y, y) / sy - np.outer(hs, hs) / float(step @ hs)
        ratio = actual / predicted if predicted < 0 else -1.0
        if actual > _REJECT_EH:  # uphill: reject, shrink
            trust = max(_TRUST_MIN, 0.5 * min(trust, norm))
            continue
        x, g, e, sp = x_new, g_new, sp_new.energy_Eh, sp_new
        accepted += 1
        if _RESET and accepted % int(_RESET) == 0:
            h = lindh_hessian(system.numbers, x.reshape(-1, 3))
        if _fmax_eV_per_A(sp) < fmax:
            return (x * BOHR_TO_ANGSTROM).reshape(-1, 3), sp, steps, True
        if ratio < 0.25:
            trust = max(_TRUST_MIN, 0.5 * min(trust, norm))
        elif ratio > 0.75 and norm > 0.8 * trust:
            trust = min(_TRUST_MAX, 2.0 * trust)
    return (x * BOHR_TO_ANGSTROM).reshape(-1, 3), sp, steps, False


# ----------------------------------------------------------------------------- ASE L-BFGS (former default)
def _ase_lbfgs(system: System, xyz_A: np.ndarray, fmax: float, max_steps: int):
    from ase import Atoms
    from ase.optimize import LBFGS

    atoms = Atoms(numbers=system.numbers, positions=xyz_A)
    calc = EngineCalculator(system)
    atoms.calc = calc
    opt = LBFGS(atoms, logfile=None, maxstep=0.2)
    converged = bool(opt.run(fmax=fmax, steps=max_steps))
    sp = calc.last if calc.last is not None else system.compute(atoms.positions)
    return atoms.positions.copy(), sp, opt.nsteps, converged


def _ase_calculator_base():
    from ase.calculators.calculator import Calculator

    return Calculator


class EngineCalculator(_ase_calculator_base()):
    """ASE calculator over a solvscreen :class:`System` (energies in eV, forces in eV/Å)."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, system: System):
        super().__init__()
        self.system = system
        self.last: SinglePoint | None = None

    def calculate(self, atoms=None, properties=None, system_changes=None):
        from ase.calculators.calculator import all_changes
        from ase.units import Hartree

        super().calculate(atoms, properties, system_changes or all_changes)
        sp = self.system.compute(self.atoms.positions, gradient=True)
        self.last = sp
        self.results = {"energy": sp.energy_Eh * Hartree, "forces": -sp.gradient_Eh_per_A * Hartree}
