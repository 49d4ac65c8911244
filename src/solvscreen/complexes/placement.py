"""Cation placements on a ligand conformer (single sites, geometric chelates, templates)
and the point-charge model that prescreens them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from rdkit import Chem

from .cations import COULOMB_KCAL_A, CationSpec, clash_limit
from .donors import Donor, unique_donors
from .ligands import LigandConformer


@dataclass(eq=False)
class Start:
    """One starting geometry of the complex: a ligand conformer and a cation position."""

    conformer: int
    donors: tuple[int, ...]  # ligand atom indices the cation was placed at
    kind: str  # "site" or "chelate"
    tag: str
    position_A: np.ndarray
    key: tuple  # symmetry class of the donor set
    model_kcal: float = float("nan")
    energy_Eh: float = float("nan")


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 1e-9 else v


def _perpendicular(v: np.ndarray) -> np.ndarray:
    trial = np.array([1.0, 0.0, 0.0]) if abs(v[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    return _unit(np.cross(v, trial))


def _rotate(v: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    axis = _unit(axis)
    return v * np.cos(angle) + np.cross(axis, v) * np.sin(angle) + axis * np.dot(axis, v) * (1 - np.cos(angle))


def site_directions(mol: Chem.Mol, xyz: np.ndarray, index: int) -> list[tuple[str, np.ndarray]]:
    """Lone-pair-like directions of a donor: opposite the mean of its bonds, plus tilted ones."""
    atom = mol.GetAtomWithIdx(index)
    nbrs = [n.GetIdx() for n in atom.GetNeighbors()]
    if not nbrs:
        return [(f"axis{k}", v) for k, v in enumerate(np.vstack([np.eye(3), -np.eye(3)]))]
    bonds = np.array([_unit(xyz[j] - xyz[index]) for j in nbrs])
    axis = -bonds.sum(axis=0)
    if np.linalg.norm(axis) < 0.3:  # e.g. linear environment: any perpendicular
        axis = _perpendicular(bonds[0])
    axis = _unit(axis)
    dirs = [("axis", axis)]
    tilt = np.deg2rad(50.0)
    if len(nbrs) == 1:  # terminal donor (C=O, S=O, P=O, C-F, C-Cl): tilt in the substituent plane
        j = nbrs[0]
        others = [n.GetIdx() for n in mol.GetAtomWithIdx(j).GetNeighbors() if n.GetIdx() != index]
        ref = _unit(xyz[others[0]] - xyz[j]) if others else _perpendicular(axis)
        normal = np.cross(axis, ref)
        if np.linalg.norm(normal) < 1e-6:
            normal = _perpendicular(axis)
        dirs += [("tilt+", _rotate(axis, normal, tilt)), ("tilt-", _rotate(axis, normal, -tilt))]
    elif len(nbrs) == 2:  # ether-like: the two out-of-plane lone pairs
        normal = np.cross(bonds[0], bonds[1])
        if np.linalg.norm(normal) > 1e-6:
            inplane = np.cross(normal, axis)
            dirs += [("lp+", _rotate(axis, inplane, tilt)), ("lp-", _rotate(axis, inplane, -tilt))]
    return dirs


def _chelate_centres(points: np.ndarray, radii: np.ndarray) -> list[np.ndarray]:
    """Points at distance radii[k] from points[k] (pairs: a circle, sampled; triples: two points)."""
    if len(points) == 2:
        u = points[1] - points[0]
        d = np.linalg.norm(u)
        if d < 1e-6 or d >= radii[0] + radii[1] - 0.1:
            return []
        u = u / d
        a = (radii[0] ** 2 - radii[1] ** 2 + d**2) / (2 * d)
        h = np.sqrt(max(radii[0] ** 2 - a**2, 0.0))
        c = points[0] + a * u
        e1 = _perpendicular(u)
        e2 = np.cross(u, e1)
        return [c + h * (np.cos(t) * e1 + np.sin(t) * e2) for t in np.linspace(0, 2 * np.pi, 24, endpoint=False)]
    # three or more donors: least-squares distances from both faces of the donors' plane
    centroid = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - centroid)
    normal = vt[-1]
    sols = []
    for side in (1.0, -1.0):
        p = centroid + side * normal * float(np.mean(radii)) * 0.7
        for _ in range(30):  # Gauss-Newton on sum_k (|p - D_k| - r_k)^2
            diff = p - points
            dist = np.maximum(np.linalg.norm(diff, axis=1), 1e-6)
            jac = diff / dist[:, None]
            step, *_ = np.linalg.lstsq(jac, -(dist - radii), rcond=None)
            p = p + step
            if np.linalg.norm(step) < 1e-4:
                break
        if np.all(np.abs(np.linalg.norm(points - p, axis=1) - radii) < 0.5) and all(
            np.linalg.norm(p - s) > 0.3 for s in sols
        ):
            sols.append(p)
    return sols


def _clearance(xyz: np.ndarray, limits: np.ndarray, site: tuple[int, ...], p: np.ndarray) -> float:
    """min over non-site atoms of (distance to p - clash limit); negative = clash."""
    mask = np.ones(len(xyz), dtype=bool)
    mask[list(site)] = False
    if not mask.any():
        return 10.0
    return float(np.min(np.linalg.norm(xyz[mask] - p, axis=1) - limits[mask]))


def placements(
    mol: Chem.Mol, conf_index: int, conf: LigandConformer, donors: list[Donor], cation: CationSpec, max_size: int
) -> tuple[list[Start], int]:
    """Cation placements on one ligand conformer: single sites, geometric chelates and, for
    a templated conformer, the cation position it was embedded around.

    Returns the clash-free starts and the number rejected for clashes.
    """
    xyz = conf.positions_A
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    limits = np.array([clash_limit(cation, s) for s in symbols])
    for d in donors:  # other donors may come close (the start then chelates), but not too close
        limits[d.index] = 0.85 * cation.ideal_distance(d.element)
    starts: list[Start] = []
    n_clash = 0
    if conf.cation_position_A is not None:
        ranks = {d.index: d.rank for d in donors}
        starts.append(Start(conf_index, conf.template, "template", f"{len(conf.template)}-dentate template",
                            conf.cation_position_A, tuple(sorted(ranks[i] for i in conf.template))))
    for d in unique_donors(donors):
        r = cation.ideal_distance(d.element)
        for tag, v in site_directions(mol, xyz, d.index):
            p = xyz[d.index] + r * v
            if _clearance(xyz, limits, (d.index,), p) < 0:
                n_clash += 1
                continue
            starts.append(Start(conf_index, (d.index,), "site", tag, p, (d.rank,)))
    seen: set[tuple] = set()
    for size in range(2, max_size + 1):
        for combo in itertools.combinations(donors, size):
            idx = tuple(d.index for d in combo)
            pts = xyz[list(idx)]
            radii = np.array([cation.ideal_distance(d.element) for d in combo])
            dd = [np.linalg.norm(pts[a] - pts[b]) for a, b in itertools.combinations(range(size), 2)]
            if min(dd) < 1.8 or any(
                dd[k] >= radii[a] + radii[b] - 0.1 for k, (a, b) in enumerate(itertools.combinations(range(size), 2))
            ):
                continue
            key = (tuple(sorted(d.rank for d in combo)), tuple(sorted(round(x / 0.2) for x in dd)))
            if key in seen:  # symmetry-equivalent combination with the same geometry
                continue
            seen.add(key)
            cands = _chelate_centres(pts, radii)
            if not cands:
                continue
            scored = [(_clearance(xyz, limits, idx, c), k) for k, c in enumerate(cands)]
            best, k = max(scored)
            if best < 0:
                n_clash += 1
                continue
            starts.append(Start(conf_index, idx, "chelate", f"{size}-dentate", cands[k],
                                tuple(sorted(d.rank for d in combo))))
    return starts, n_clash


def model_energy(xyz: np.ndarray, charges: np.ndarray, symbols: list[str], site: tuple[int, ...],
                 p: np.ndarray, cation: CationSpec) -> float:
    """Point-charge prescreen energy (kcal/mol): Coulomb with GFN charges + a soft r^-12 wall."""
    r = np.maximum(np.linalg.norm(xyz - p, axis=1), 0.5)
    sigma = np.array([cation.r_MO_A * (0.9 if s == "H" else 1.0) for s in symbols])
    sigma[list(site)] *= 0.8
    return float(COULOMB_KCAL_A * cation.charge * np.sum(charges / r) + 0.5 * np.sum((sigma / r) ** 12))

