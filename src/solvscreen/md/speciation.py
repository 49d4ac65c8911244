"""Speciation and coordination from per-frame contacts: pure numpy, no MD packages.

Conventions (one frame at a time, then averaged over frames):

* a **contact** between a cation and a molecule: at least one donor atom of that molecule
  within the cutoff of the cation;
* **cation-centred** speciation: each cation is SSIP (0 anions in contact), CIP (exactly 1)
  or AGG (2 or more); fractions over all cations;
* **anion-centred** speciation: each anion is free (0 cations in contact), single (1) or
  multi (2 or more, the anion bridges cations: aggregate); fractions over all anions;
* **coordination number** of a species: molecules of it in contact with a cation, and
  donor atoms of it within the cutoff, averaged over cations;
* **enrichment** of a species: its donor atoms within the cutoff of a cation divided by the
  number expected at its bulk donor-atom number density (N_donor / V_box times the
  sphere volume), i.e. the mean g(r) inside the cutoff (1 = as in the bulk, < 1 depleted);
* **standard errors**: block averaging (the frame series cut into ``n_blocks`` consecutive
  blocks; SE = std(block means, ddof=1) / sqrt(n_blocks)); frames inside a block are
  correlated, blocks are assumed independent, which short runs only approximate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np


def minimum_image_distances(a: np.ndarray, b: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Distances (len(a), len(b)) between points in an orthorhombic periodic box (edges ``box``)."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    box = np.asarray(box, float)[:3]
    d = a[:, None, :] - b[None, :, :]
    d -= box * np.round(d / box)
    return np.sqrt((d * d).sum(-1))


def contacts(dist: np.ndarray, owner: np.ndarray, n_owners: int, cutoff: float) -> np.ndarray:
    """Bool (n_cations, n_owners): cation i touches molecule j through any donor atom.

    ``dist`` (n_cations, n_donor_atoms); ``owner[k]`` = molecule index (0..n_owners-1) of donor k.
    """
    within = np.asarray(dist) <= cutoff
    out = np.zeros((within.shape[0], n_owners), bool)
    for k in range(within.shape[1]):
        out[:, owner[k]] |= within[:, k]
    return out


def cation_centred(anion_contacts: np.ndarray) -> tuple[float, float, float]:
    """(SSIP, CIP, AGG) fractions of the cations: 0, 1, >= 2 anions in contact."""
    n = np.asarray(anion_contacts).sum(axis=1)
    if n.size == 0:
        return (float("nan"),) * 3
    return float(np.mean(n == 0)), float(np.mean(n == 1)), float(np.mean(n >= 2))


def anion_centred(anion_contacts: np.ndarray) -> tuple[float, float, float]:
    """(free, single, multi) fractions of the anions: 0, 1, >= 2 cations in contact."""
    n = np.asarray(anion_contacts).sum(axis=0)
    if n.size == 0:
        return (float("nan"),) * 3
    return float(np.mean(n == 0)), float(np.mean(n == 1)), float(np.mean(n >= 2))


def enrichment(n_donor_within: float, n_donor_total: int, box_volume: float, cutoff: float) -> float:
    """Donor atoms within ``cutoff`` per cation / the bulk expectation (mean g(r) in the sphere)."""
    expected = n_donor_total / box_volume * 4.0 / 3.0 * np.pi * cutoff ** 3
    return float(n_donor_within / expected) if expected > 0 else float("nan")


def block_average(series, n_blocks: int = 5) -> tuple[float, float]:
    """(mean, standard error) of a frame series by block averaging (module docstring)."""
    x = np.asarray(series, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    nb = min(n_blocks, x.size)
    if nb < 2:
        return float(x.mean()), float("nan")
    usable = x[: (x.size // nb) * nb]
    means = usable.reshape(nb, -1).mean(axis=1)
    return float(x.mean()), float(means.std(ddof=1) / np.sqrt(nb))


def shell_signature(counts_per_species: dict[str, np.ndarray], order: list[str]) -> list[tuple[int, ...]]:
    """Per cation, the tuple of molecules of each species (in ``order``) in its shell."""
    arr = np.stack([np.asarray(counts_per_species[s]) for s in order], axis=1)
    return [tuple(int(v) for v in row) for row in arr]


def most_common_shells(signatures: list[tuple[int, ...]], order: list[str], top: int = 5) -> list[dict]:
    """The ``top`` most frequent shell compositions with their fraction of all cation-frames."""
    c = Counter(signatures)
    total = sum(c.values())
    out = []
    for sig, n in c.most_common(top):
        label = " + ".join(f"{k} {s}" for k, s in zip(sig, order) if k) or "empty"
        out.append({"shell": label, "counts": dict(zip(order, sig)), "fraction": n / total})
    return out


@dataclass
class FrameSpeciation:
    """One frame's numbers (everything averaged over the frame's cations/anions)."""

    ssip: float
    cip: float
    agg: float
    anion_free: float
    anion_single: float
    anion_multi: float
    cn: dict  # species -> molecules per cation
    cn_donor: dict  # species -> donor atoms per cation
    enrichment: dict  # species -> mean g(r) inside the cutoff
    anion_share: float  # anion molecules / all molecules in the shells (NaN with empty shells)
    signatures: list


def frame_speciation(cation_xyz: np.ndarray, box: np.ndarray, species: dict[str, dict], anion: str) -> FrameSpeciation:
    """Speciation of one frame.

    ``species[name]`` = ``{"xyz": donor-atom coordinates, "owner": molecule index per donor
    atom, "n_molecules": int, "cutoff": A}``; ``anion`` names the anion's entry.
    """
    volume = float(np.prod(np.asarray(box, float)[:3]))
    cn, cnd, enr, per_cation, anion_c = {}, {}, {}, {}, None
    for name, sp in species.items():
        d = minimum_image_distances(cation_xyz, sp["xyz"], box)
        c = contacts(d, np.asarray(sp["owner"]), sp["n_molecules"], sp["cutoff"])
        per_cation[name] = c.sum(axis=1)
        cn[name] = float(per_cation[name].mean())
        within = (d <= sp["cutoff"]).sum(axis=1)
        cnd[name] = float(within.mean())
        enr[name] = enrichment(cnd[name], len(sp["owner"]), volume, sp["cutoff"])
        if name == anion:
            anion_c = c
    ssip, cip, agg = cation_centred(anion_c)
    free, single, multi = anion_centred(anion_c)
    total = sum(per_cation[n].sum() for n in species)
    share = float(per_cation[anion].sum() / total) if total else float("nan")
    order = list(species)
    return FrameSpeciation(ssip, cip, agg, free, single, multi, cn, cnd, enr, share,
                           shell_signature(per_cation, order))
