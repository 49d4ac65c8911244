"""Molecule building with RDKit: SMILES -> 3D conformer ensemble -> arrays and files.

Nothing here calls xTB; :mod:`solvscreen.xtb.conformers` ranks and optimizes what is
built here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rdkit import Chem, RDLogger
from rdkit.Chem import AllChem, rdMolAlign
from rdkit.Chem import rdDistGeom

from .engine import MAX_Z
from ..core.errors import CalculationFailed, InputError
from ..core.settings import ConfigSection

RDLogger.DisableLog("rdApp.*")


@dataclass(frozen=True)
class ConformerSettings(ConfigSection):
    """How a conformer ensemble is built and pruned (config section ``conformers``; seeded:
    reruns give the same numbers)."""

    SECTION = "conformers"

    n_embed: int = 12
    n_optimize: int = 3
    prune_rms_A: float = 0.5
    seed: int = 20240917
    forcefield: str = "auto"  # auto = MMFF94 where parametrized, else UFF, else none


def _refuse_whitespace(smiles: str) -> None:
    blank = next((i for i, ch in enumerate(smiles) if ch.isspace()), None)
    if blank is not None:
        raise InputError(f"SMILES {smiles!r} contains whitespace (at position {blank}); RDKit would read "
                         f"only {smiles[:blank]!r} and take the rest as a name: remove the whitespace")


def parse_smiles(smiles: str) -> Chem.Mol:
    """RDKit's own reading of ``smiles`` (sanitized, hydrogens implicit, as RDKit draws and edits
    it); raises :class:`InputError` on bad SMILES or whitespace, as :func:`mol_from_smiles` does.
    The SMILES parse of the packages that build or draw a molecule rather than compute it
    (the report's drawings)."""
    _refuse_whitespace(smiles)
    RDLogger.EnableLog("rdApp.error")
    mol = Chem.MolFromSmiles(smiles)
    RDLogger.DisableLog("rdApp.*")
    if mol is None:
        raise InputError(f"cannot parse SMILES {smiles!r}")
    return mol


def mol_from_smiles(smiles: str) -> Chem.Mol:
    """Sanitized molecule with explicit hydrogens; raises :class:`InputError` on bad SMILES.

    Whitespace inside a SMILES is an error: RDKit takes the text after it as the molecule's
    name, so ``'CCO C'`` would silently be ethanol."""
    _refuse_whitespace(smiles)
    RDLogger.EnableLog("rdApp.error")
    mol = Chem.MolFromSmiles(smiles, sanitize=False)
    RDLogger.DisableLog("rdApp.*")
    if mol is None:
        raise InputError(f"cannot parse SMILES {smiles!r}")
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several sanitization exception types
        raise InputError(f"SMILES {smiles!r} fails RDKit sanitization: {exc}") from exc
    return Chem.AddHs(mol)


def formal_charge(mol: Chem.Mol) -> int:
    return int(Chem.GetFormalCharge(mol))


def unpaired_electrons(mol: Chem.Mol) -> int:
    return int(sum(a.GetNumRadicalElectrons() for a in mol.GetAtoms()))


def _open_d_shell(atom: Chem.Atom) -> int:
    """d electrons of a d-block atom from its group, formal charge and bonds, when the d shell
    is partly filled (1-9: open-shell in general, e.g. high-spin Fe2+ d6); else 0."""
    z = atom.GetAtomicNum()
    group = z - 18 if 21 <= z <= 30 else z - 36 if 39 <= z <= 48 else z - 68 if 72 <= z <= 80 else 0
    if not group:
        return 0
    d = group - atom.GetFormalCharge() - atom.GetTotalValence()
    return d if 0 < d < 10 else 0


def structure_problems(mol: Chem.Mol, smiles: str) -> list[str]:
    """The chemistry rules every molecule passes before anything is computed (library rows and
    the single questions alike): elements GFN-xTB covers, closed shell (no radical electron, no
    partly filled d shell)."""
    reasons = []
    table = Chem.GetPeriodicTable()
    bad = sorted({a.GetAtomicNum() for a in mol.GetAtoms() if not 1 <= a.GetAtomicNum() <= MAX_Z})
    if bad:
        shown = ", ".join(f"{table.GetElementSymbol(z) if z else '* (dummy atom)'} (Z={z})" for z in bad)
        reasons.append(f"unsupported element {shown}: GFN-xTB is parametrized for Z = 1-{MAX_Z} only")
    n_unpaired = unpaired_electrons(mol)
    if n_unpaired:
        reasons.append(f"radical: SMILES {smiles!r} has {n_unpaired} unpaired electron(s); "
                       "only closed-shell species are supported (check charges and hydrogens)")
    open_d = sorted({f"{a.GetSymbol()} (d{_open_d_shell(a)})" for a in mol.GetAtoms() if _open_d_shell(a)})
    if open_d:
        reasons.append(f"open shell: SMILES {smiles!r} has a partly filled d shell ({', '.join(open_d)}), "
                       "open-shell in general; only closed-shell species are supported")
    return reasons


def canonical_smiles(mol: Chem.Mol) -> str:
    return Chem.MolToSmiles(Chem.RemoveHs(mol))


def atomic_numbers(mol: Chem.Mol) -> np.ndarray:
    return np.array([a.GetAtomicNum() for a in mol.GetAtoms()], dtype=int)


def positions(mol: Chem.Mol, conf_id: int = -1) -> np.ndarray:
    return np.array(mol.GetConformer(conf_id).GetPositions(), dtype=float)


def _forcefield_optimize(mol: Chem.Mol, choice: str) -> str:
    """Pre-optimize every conformer with a force field; return the one used ('none' if none fits)."""
    if choice in ("auto", "mmff") and AllChem.MMFFHasAllMoleculeParams(mol):
        AllChem.MMFFOptimizeMoleculeConfs(mol, maxIters=2000, numThreads=1)
        return "MMFF94"
    if choice in ("auto", "uff") and AllChem.UFFHasAllMoleculeParams(mol):
        AllChem.UFFOptimizeMoleculeConfs(mol, maxIters=2000, numThreads=1)
        return "UFF"
    return "none"


def embed_conformers(mol: Chem.Mol, settings: ConformerSettings) -> tuple[Chem.Mol, dict]:
    """ETKDGv3 ensemble, force-field pre-optimized and RMSD-pruned (symmetry-aware).

    Returns the molecule (conformers attached) and a summary for the record.
    """
    mol = Chem.Mol(mol)
    if mol.GetNumAtoms() == 1:
        conf = Chem.Conformer(1)
        conf.SetAtomPosition(0, (0.0, 0.0, 0.0))
        mol.AddConformer(conf, assignId=True)
        return mol, {"n_embedded": 1, "n_after_pruning": 1, "forcefield": "none", "embedding": "single atom"}
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = int(settings.seed)
    params.pruneRmsThresh = -1.0  # prune after force-field relaxation instead
    params.numThreads = 1
    ids = list(rdDistGeom.EmbedMultipleConfs(mol, numConfs=int(settings.n_embed), params=params))
    embedding = "ETKDGv3"
    if not ids:  # hypervalent or strained species: fall back to random starting coordinates
        params.useRandomCoords = True
        ids = list(rdDistGeom.EmbedMultipleConfs(mol, numConfs=int(settings.n_embed), params=params))
        embedding = "ETKDGv3 (random coordinates)"
    if not ids:
        raise CalculationFailed("RDKit could not embed any 3D conformer", error_type="embedding")
    n_embedded = len(ids)
    ff = _forcefield_optimize(mol, settings.forcefield)
    # ETKDG + UFF can collapse hypervalent centres (PF6-: F...F at 0.9 Å across P); such
    # starts cost xTB hundreds of slow SCF cycles and end broken. Drop them when a sound one exists.
    clashing = [c.GetId() for c in mol.GetConformers() if has_clash(mol, positions(mol, c.GetId()))]
    if len(clashing) < mol.GetNumConformers():
        for cid in clashing:
            mol.RemoveConformer(cid)
    else:
        clashing = []
    kept = prune_conformers(mol, settings.prune_rms_A)
    pruned = Chem.Mol(mol, confId=-1)
    pruned.RemoveAllConformers()
    for cid in kept:
        pruned.AddConformer(Chem.Conformer(mol.GetConformer(cid)), assignId=True)
    return pruned, {
        "n_embedded": n_embedded,
        "n_after_pruning": pruned.GetNumConformers(),
        "n_clashing_dropped": len(clashing),
        "forcefield": ff,
        "embedding": embedding,
    }


def prune_conformers(mol: Chem.Mol, threshold_A: float) -> list[int]:
    """Greedy heavy-atom RMSD pruning with symmetry-equivalent atom mappings."""
    ids = [c.GetId() for c in mol.GetConformers()]
    if len(ids) <= 1 or threshold_A <= 0:
        return ids
    heavy = Chem.RemoveHs(mol)
    if heavy.GetNumAtoms() < 3:
        return ids[:1]
    kept: list[int] = []
    for cid in ids:
        duplicate = False
        for kid in kept:
            rms = rdMolAlign.GetBestRMS(heavy, heavy, prbId=cid, refId=kid)
            if rms < threshold_A:
                duplicate = True
                break
        if not duplicate:
            kept.append(cid)
    return kept


def has_clash(mol: Chem.Mol, xyz: np.ndarray, factor: float = 1.0) -> bool:
    """True when two atoms that are not bonded sit closer than ``factor`` x their covalent radii sum.

    Sound geometries keep every non-bonded pair (1-3 pairs included) above ~1.2x that sum.
    """
    table = Chem.GetPeriodicTable()
    radii = np.array([table.GetRcovalent(a.GetAtomicNum()) for a in mol.GetAtoms()])
    d = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=-1)
    close = d < factor * (radii[:, None] + radii[None, :])
    np.fill_diagonal(close, False)
    for b in mol.GetBonds():
        close[b.GetBeginAtomIdx(), b.GetEndAtomIdx()] = close[b.GetEndAtomIdx(), b.GetBeginAtomIdx()] = False
    return bool(close.any())


def bonds_intact(mol: Chem.Mol, xyz: np.ndarray, broken: float = 1.5, formed: float = 1.15) -> bool:
    """True when ``xyz`` keeps the molecule's covalent graph: no bond broken, none formed.

    A bond counts as broken when longer than ``broken`` x the sum of covalent radii; a
    new bond as formed when two atoms that are neither bonded nor share a neighbour
    (1-3 pairs, e.g. S...S across the N of FSI-, sit close by construction) come
    closer than ``formed`` x that sum.
    """
    table = Chem.GetPeriodicTable()
    n = mol.GetNumAtoms()
    radii = np.array([table.GetRcovalent(a.GetAtomicNum()) for a in mol.GetAtoms()])
    rsum = radii[:, None] + radii[None, :]
    d = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=-1)
    graph = np.zeros((n, n), dtype=bool)
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        graph[i, j] = graph[j, i] = True
    if np.any(graph & (d > broken * rsum)):
        return False
    geminal = (graph.astype(int) @ graph.astype(int)) > 0
    candidates = ~graph & ~geminal
    np.fill_diagonal(candidates, False)
    return not bool(np.any(candidates & (d < formed * rsum)))


def xyz_block(numbers: np.ndarray, xyz: np.ndarray, comment: str = "") -> str:
    table = Chem.GetPeriodicTable()
    lines = [str(len(numbers)), comment.replace("\n", " ")]
    for z, (x, y, w) in zip(numbers, xyz):
        lines.append(f"{table.GetElementSymbol(int(z)):<2s} {x:16.10f} {y:16.10f} {w:16.10f}")
    return "\n".join(lines) + "\n"


def read_xyz(path: str | Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Atomic numbers, positions (Å) and the comment line of an XYZ file."""
    table = Chem.GetPeriodicTable()
    lines = Path(path).read_text().splitlines()
    n = int(lines[0].split()[0])
    numbers, xyz = [], []
    for line in lines[2 : 2 + n]:
        sym, x, y, z = line.split()[:4]
        numbers.append(table.GetAtomicNumber(sym))
        xyz.append([float(x), float(y), float(z)])
    return np.array(numbers, dtype=int), np.array(xyz), lines[1]


def read_xyz_frames(path: str | Path) -> list[np.ndarray]:
    """Positions (Å) of every frame of a multi-frame XYZ file."""
    lines = Path(path).read_text().splitlines()
    frames, i = [], 0
    while i < len(lines) and lines[i].strip():
        n = int(lines[i].split()[0])
        frames.append(np.array([[float(v) for v in line.split()[1:4]] for line in lines[i + 2 : i + 2 + n]]))
        i += 2 + n
    return frames


def sdf_block(mol: Chem.Mol, xyz: np.ndarray, name: str, props: dict | None = None) -> str:
    out = Chem.Mol(mol)
    out.RemoveAllConformers()
    conf = Chem.Conformer(out.GetNumAtoms())
    for i, p in enumerate(xyz):
        conf.SetAtomPosition(i, p.tolist())
    out.AddConformer(conf, assignId=True)
    out.SetProp("_Name", name)
    for k, v in (props or {}).items():
        out.SetProp(str(k), str(v))
    return Chem.MolToMolBlock(out) + "".join(f">  <{k}>\n{v}\n\n" for k, v in (props or {}).items()) + "$$$$\n"
