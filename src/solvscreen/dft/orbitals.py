"""Frontier orbital energies of a converged SCF (same level as the energies)."""

from __future__ import annotations

import numpy as np

from ..core.units import HARTREE_TO_EV

__all__ = ["homo_lumo_eV"]


def homo_lumo_eV(mf) -> tuple[float | None, float | None]:
    """(HOMO, LUMO) in eV from the orbital energies and occupations of ``mf``.

    None where the orbital does not exist (no occupied or no virtual orbital in the basis).
    For ROKS the (single) set of orbital energies is used; singly occupied count as occupied.
    """
    e = np.asarray(_host(mf.mo_energy), dtype=float)
    occ = np.asarray(_host(mf.mo_occ), dtype=float)
    if e.ndim != 1:
        raise ValueError("homo_lumo_eV: restricted (RKS/ROKS) orbitals expected")
    occupied, virtual = e[occ > 0], e[occ == 0]
    homo = float(occupied.max()) * HARTREE_TO_EV if occupied.size else None
    lumo = float(virtual.min()) * HARTREE_TO_EV if virtual.size else None
    return homo, lumo


def _host(a):
    """A NumPy array from a NumPy or CuPy one (gpu4pyscf keeps orbitals on the device)."""
    return a.get() if hasattr(a, "get") else a
