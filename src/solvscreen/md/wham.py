"""WHAM for one-dimensional umbrella sampling, with a block bootstrap (pure numpy).

The weighted histogram analysis method (Kumar et al., J. Comput. Chem. 1992, 13, 1011;
the self-consistent form of Roux, Comput. Phys. Commun. 1995, 91, 275) combines samples of
a coordinate r drawn in K windows, each biased by a harmonic potential U_i(r), into the
unbiased distribution P(r):

    P(b) = sum_i n_i(b) / sum_i N_i exp[f_i - beta U_i(b)],
    exp(-f_i) = sum_b P(b) exp[-beta U_i(b)],

iterated to self-consistency (here in log space). Errors come from a block bootstrap:
each window's series is cut into contiguous blocks, which are drawn with replacement
(correlated samples stay together), and WHAM is solved again per draw.

Energies are in kcal/mol, distances in A.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KB_KCAL_PER_MOL_K = 0.0019872043  # Boltzmann constant, kcal/(mol K)


@dataclass(frozen=True)
class Window:
    """One umbrella window: U(r) = 0.5 k (r - r0)^2 and its samples of r (A)."""

    r0_A: float
    k_kcal_per_mol_A2: float
    samples_A: np.ndarray

    def bias(self, r: np.ndarray) -> np.ndarray:
        return 0.5 * self.k_kcal_per_mol_A2 * (r - self.r0_A) ** 2


@dataclass(frozen=True)
class WhamResult:
    """The unbiased distribution on bins; ``log_p`` is ln P per bin (-inf where empty)."""

    edges_A: np.ndarray
    centers_A: np.ndarray
    log_p: np.ndarray
    f_kcal_per_mol: np.ndarray  # window free energies (first = 0)
    iterations: int
    converged: bool


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def wham(windows: list[Window], edges_A: np.ndarray, temperature_K: float, *, tol: float = 1e-8,
         max_iter: int = 20000, counts: np.ndarray | None = None) -> WhamResult:
    """Solve the WHAM equations on the bins ``edges_A`` (samples outside them are dropped).

    ``counts``: precomputed per-window histograms (K x bins), e.g. of a bootstrap draw."""
    beta = 1.0 / (KB_KCAL_PER_MOL_K * temperature_K)
    centers = 0.5 * (edges_A[1:] + edges_A[:-1])
    if counts is None:
        counts = np.array([np.histogram(w.samples_A, bins=edges_A)[0] for w in windows], dtype=float)
    n_i = counts.sum(axis=1)
    if np.any(n_i == 0):
        raise ValueError("a window has no samples inside the bins")
    total = counts.sum(axis=0)
    bias = np.array([w.bias(centers) for w in windows]) * beta  # K x B
    log_n = np.log(n_i)
    with np.errstate(divide="ignore"):
        log_total = np.log(total)
    f = np.zeros(len(windows))  # dimensionless f_i (beta * free energy)
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        log_den = _logsumexp(log_n[:, None] + f[:, None] - bias, axis=0)
        log_p = log_total - log_den
        log_p = np.where(total > 0, log_p, -np.inf)
        f_new = -_logsumexp(log_p[None, :] - bias, axis=1)
        f_new -= f_new[0]
        if np.max(np.abs(f_new - f)) < tol:
            f = f_new
            converged = True
            break
        f = f_new
    log_den = _logsumexp(log_n[:, None] + f[:, None] - bias, axis=0)
    log_p = np.where(total > 0, log_total - log_den, -np.inf)
    norm = _logsumexp(log_p[np.isfinite(log_p)], axis=0)
    return WhamResult(edges_A, centers, log_p - norm, f / beta, it, converged)


def block_counts(windows: list[Window], edges_A: np.ndarray, n_blocks: int) -> list[np.ndarray]:
    """Per window: an (n_blocks x bins) array of the histograms of its contiguous blocks."""
    out = []
    for w in windows:
        parts = np.array_split(np.asarray(w.samples_A), n_blocks)
        out.append(np.array([np.histogram(p, bins=edges_A)[0] for p in parts], dtype=float))
    return out


def bootstrap(windows: list[Window], edges_A: np.ndarray, temperature_K: float, n_boot: int, *,
              n_blocks: int = 10, seed: int = 1) -> list[WhamResult]:
    """WHAM solved for ``n_boot`` block-bootstrap draws (the blocks of every window redrawn)."""
    rng = np.random.default_rng(seed)
    blocks = block_counts(windows, edges_A, n_blocks)
    results = []
    for _ in range(n_boot):
        counts = np.array([b[rng.integers(0, len(b), len(b))].sum(axis=0) for b in blocks])
        if np.any(counts.sum(axis=1) == 0):
            continue
        results.append(wham(windows, edges_A, temperature_K, counts=counts, tol=1e-7, max_iter=5000))
    return results
