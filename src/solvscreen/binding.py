"""Cation binding: donor sites, cation placement, complex search, E_bind and ion pairs.

Where a K+ (Li+, Na+) complex is made. The protocol (stated in every record):

1. **Donor sites** — every symmetry-unique donor atom (O, N, F, Cl, divalent S; the O of
   S=O and P=O is an O donor) by RDKit canonical ranking
   (``Chem.CanonicalRankAtoms(mol, breakTies=False)``), and every chelating pair and
   triple of donors that a ligand conformer's geometry allows.
2. **Ligand conformers** — the structure stage's optimized ensemble, extra seeded ETKDG
   conformers of the free ligand, and *cation-templated* conformers: for every
   topologically flexible chain of up to ``max_template_donors`` hard donors (O, N, Cl, S;
   largest first, e.g. all four O of triglyme), the ligand is embedded
   with the cation held at the ideal distance from each donor (RDKit distance-geometry
   bounds, then MMFF94/UFF with distance restraints), which yields the gauche conformers
   chelation needs (the two O of DME, the three O of diglyme).
3. **Placements** — the cation goes along a donor's lone-pair directions (opposite the mean
   of the bonded neighbours' directions, plus tilted directions) or at the chelation centre
   (the point at the ideal distance from every donor of the combination, on the side away
   from the ligand), at cation- and element-specific distances (:data:`CATIONS`,
   :data:`DONOR_SCALE`); placements closer than the clash limits to any other atom are
   rejected.
4. **Prescreen** (so cost does not grow with sites x conformers): every placement is scored
   with a point-charge model (GFN2 charges of the free conformer, Coulomb + a soft wall,
   plus the conformer's energy); the best ``max_singlepoints`` (distinct donor sets first)
   get a GFN-xTB single point; the best ``n_relax`` of those (distinct donor sets first) a
   loose, short optimization; the best ``n_optimize`` distinct binding modes the tight one.
5. **Validation** — a complex is rejected when the cation drifted off (no donor within
   ``dissociation_cutoff_A``), the ligand's covalent bonds changed
   (:func:`solvscreen.structures.bonds_intact`) or the optimization did not converge; the
   next candidate is then tried.
6. **Binding energy** — ``E_bind = E(M+·L) - E(M+) - E(L, lowest conformer)``, Eh converted to
   kcal/mol and eV; **negative = bound** (more negative = stronger binding). For an anion the
   same quantity is the ion-pair binding ``E_pair = E(M+A-) - E(M+) - E(A-)``.
   The binding mode reports the denticity (donors within ``denticity_factor`` x the ideal
   M-donor distance, i.e. <= 3.30 A for K-O), the donor atoms (element + 0-based atom index
   in the ligand, the order of its XYZ file; the cation is the complex's last atom) and the
   M-donor distances.

GFN2-xTB overbinds alkali cations (tens of percent): compare orderings, not absolute values.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem, rdDistGeom
from rdkit.DistanceGeometry import DoTriangleSmoothing

from .engine import Engine, EngineSettings, SinglePoint
from .errors import CalculationFailed, InputError
from .settings import known_keys
from .optimize import optimize
from .records import Record, capture_failure, write_csv, write_text_atomic
from .structures import (
    ConformerSettings,
    bonds_intact,
    embed_conformers,
    mol_from_smiles,
    positions,
    read_xyz,
    xyz_block,
)
from .units import HARTREE_TO_EV, HARTREE_TO_KCAL_PER_MOL

PRESCREEN_SCF_ITERATIONS = 60
COULOMB_KCAL_A = 332.0637  # e^2/(4 pi eps0) in kcal/mol * Angstrom
SIGN_CONVENTION = "E_bind = E(M+.L) - E(M+) - E(L, lowest conformer); negative = bound, more negative = stronger"


# ----------------------------------------------------------------------------- cations
@dataclass(frozen=True)
class CationSpec:
    """A metal cation: ideal M-O distance (A) and the first-shell coordination number aimed at."""

    symbol: str
    Z: int
    charge: int
    r_MO_A: float
    target_cn: int

    def ideal_distance(self, element: str) -> float:
        return self.r_MO_A * DONOR_SCALE.get(element, 1.0)


# Typical M-O distances in ether/carbonate complexes (K 2.75, Na 2.35, Li 1.95 A) and
# first-shell coordination numbers (K+ 6, Na+ 6 (5-6), Li+ 4 (4-5)).
CATIONS: dict[str, CationSpec] = {
    "Li": CationSpec("Li", 3, 1, 1.95, 4),
    "Na": CationSpec("Na", 11, 1, 2.35, 6),
    "K": CationSpec("K", 19, 1, 2.75, 6),
}
# M-donor distance relative to M-O, by donor element (larger, softer donors sit further out).
DONOR_SCALE: dict[str, float] = {"O": 1.0, "F": 1.0, "N": 1.05, "S": 1.18, "Cl": 1.18}
HARD_DONORS = ("O", "N", "S", "Cl")  # donors whose flexible combinations get templated conformers


def cation_spec(name_or_z: str | int) -> CationSpec:
    """The :class:`CationSpec` for a symbol ('K', 'K+'), or atomic number."""
    if isinstance(name_or_z, (int, np.integer)):
        for spec in CATIONS.values():
            if spec.Z == int(name_or_z):
                return spec
        raise InputError(f"no cation binding parameters for Z={int(name_or_z)}; known: {sorted(CATIONS)}")
    key = str(name_or_z).strip().rstrip("+").strip("[]").rstrip("+")
    key = key[:1].upper() + key[1:].lower()
    if key not in CATIONS:
        raise InputError(f"unknown cation {name_or_z!r}; known: {sorted(CATIONS)}")
    return CATIONS[key]


# ----------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class BindingSettings:
    """How complexes, ion pairs and shells are searched. The source of truth for defaults."""

    seed: int = 20240917
    # ligand conformers
    n_extra_conformers: int = 8  # extra ETKDG conformers of the free ligand (seeded, pruned)
    n_template_conformers: int = 2  # cation-templated embeddings per flexible hard-donor combination
    max_chelate_donors: int = 3  # geometric chelate placements: 2 = pairs; 3 = pairs and triples
    max_template_donors: int = 6  # cation-templated conformers for combinations of up to this many hard donors
    max_template_combinations: int = 12  # cap on templated combinations (symmetry-unique, shortest first)
    # prescreen -> loose -> tight
    max_singlepoints: int = 40
    n_relax: int = 8
    n_optimize: int = 3
    loose_fmax_eV_per_A: float = 0.15
    loose_max_steps: int = 30
    fmax_eV_per_A: float = 0.02
    max_steps: int = 300
    # binding mode / validation
    denticity_factor: float = 1.2  # donors within this x ideal M-donor distance count (K-O: 3.30 A)
    dissociation_cutoff_A: float = 3.5
    # solvation shells and anion exchange
    exchange_anions: tuple[str, ...] = ("FSI",)
    shell_target_cn: tuple[tuple[str, int], ...] = ()  # overrides of CationSpec.target_cn, e.g. (("Li", 5),)
    shell_max_n: int = 4
    shell_max_atoms: int = 150
    shell_n_arrangements: int = 6
    shell_n_optimize: int = 2  # arrangements (best by single point) optimized; the lowest is kept
    shell_fmax_eV_per_A: float = 0.05
    shell_max_steps: int = 200

    def __post_init__(self) -> None:
        if self.max_chelate_donors not in (1, 2, 3):
            raise InputError("binding.max_chelate_donors must be 1, 2 or 3")
        if min(self.n_relax, self.n_optimize, self.max_singlepoints) < 1:
            raise InputError("binding.n_relax, n_optimize and max_singlepoints must be >= 1")
        # tuples keep the dataclass hashable; accept lists/dicts from JSON/YAML
        object.__setattr__(self, "exchange_anions", tuple(self.exchange_anions))
        cn = self.shell_target_cn
        if isinstance(cn, dict):
            cn = tuple(sorted(cn.items()))
        object.__setattr__(self, "shell_target_cn", tuple((str(k), int(v)) for k, v in cn))

    @classmethod
    def from_dict(cls, d: dict | None) -> "BindingSettings":
        return cls(**known_keys(cls, d, "binding"))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["exchange_anions"] = list(self.exchange_anions)
        d["shell_target_cn"] = dict(self.shell_target_cn)
        return d

    def target_cn(self, cation: CationSpec) -> int:
        return dict(self.shell_target_cn).get(cation.symbol, cation.target_cn)


# ----------------------------------------------------------------------------- donor sites
@dataclass(frozen=True)
class Donor:
    index: int  # 0-based atom index in the ligand
    element: str
    rank: int  # canonical rank without tie breaking: equal ranks = symmetry-equivalent

    @property
    def label(self) -> str:
        return f"{self.element}{self.index}"


def _is_donor(atom: Chem.Atom) -> bool:
    z = atom.GetAtomicNum()
    if z in (8, 9):
        return True
    if z == 7:  # amines, nitriles, imide N-; not ammonium / 4-coordinate N
        return atom.GetFormalCharge() <= 0 and atom.GetDegree() <= 3
    if z == 17:  # C-Cl (not the central Cl of ClO4-)
        return atom.GetDegree() <= 1
    if z == 16:  # thioether / thiolate S (the donor of S=O is its O)
        return atom.GetDegree() <= 2 and not any(n.GetAtomicNum() == 8 for n in atom.GetNeighbors())
    return False


def donor_atoms(mol: Chem.Mol) -> list[Donor]:
    """Every donor atom of ``mol`` with its symmetry class (canonical rank, ties unbroken)."""
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=False))
    return [
        Donor(a.GetIdx(), a.GetSymbol(), int(ranks[a.GetIdx()]))
        for a in mol.GetAtoms()
        if _is_donor(a)
    ]


def unique_donors(donors: list[Donor]) -> list[Donor]:
    """One representative per symmetry class (lowest index)."""
    seen: set[int] = set()
    out = []
    for d in donors:
        if d.rank not in seen:
            seen.add(d.rank)
            out.append(d)
    return out


def template_combinations(mol: Chem.Mol, donors: list[Donor], max_size: int, limit: int) -> list[tuple[Donor, ...]]:
    """Flexible chelating combinations of hard donors, one per symmetry class.

    A combination qualifies when its donors are linked into one chain by *flexible* pairs
    (3 to 9 bonds apart: rigid 1,3-pairs such as O=S=O or O=C-O need no template, every
    conformer shows them) and no two of its donors are geminal. Largest combinations first
    (the four O of triglyme bind K+ far better than any three), then by topological span
    (5-membered chelate rings first); capped at ``limit``.
    """
    hard = [d for d in donors if d.element in HARD_DONORS]
    if len(hard) < 2 or max_size < 2:
        return []
    dm = Chem.GetDistanceMatrix(mol)

    def flexible(a: Donor, b: Donor) -> bool:
        return 3 <= dm[a.index, b.index] <= 9

    def chained(combo: tuple[Donor, ...]) -> bool:
        reached, todo = {0}, [0]
        while todo:
            i = todo.pop()
            for j in range(len(combo)):
                if j not in reached and flexible(combo[i], combo[j]):
                    reached.add(j)
                    todo.append(j)
        return len(reached) == len(combo)

    combos: dict[tuple, tuple[tuple[Donor, ...], float]] = {}
    for size in range(2, min(max_size, len(hard)) + 1):
        for combo in itertools.combinations(hard, size):
            spans = sorted(dm[a.index, b.index] for a, b in itertools.combinations(combo, 2))
            if spans[0] < 2 or not chained(combo):
                continue
            key = (tuple(sorted(d.rank for d in combo)), tuple(spans))
            if key not in combos:
                combos[key] = (combo, float(sum(spans)))
    ordered = sorted(combos.values(), key=lambda t: (-len(t[0]), t[1], [d.index for d in t[0]]))
    return [c for c, _ in ordered[:limit]]


# ----------------------------------------------------------------------------- ligand conformers
@dataclass
class LigandConformer:
    label: str
    positions_A: np.ndarray
    energy_Eh: float = float("nan")
    charges_e: np.ndarray | None = None
    template: tuple = ()  # donors a templated conformer was embedded around ...
    cation_position_A: np.ndarray | None = None  # ... and where the cation sat


def templated_conformers(
    mol: Chem.Mol, combo: tuple[Donor, ...], cation: CationSpec, n: int, seed: int
) -> list[np.ndarray]:
    """Ligand conformers embedded around a cation bound to every donor of ``combo``.

    Distance geometry on ligand + M with M-donor bounds at the ideal distance (+-0.1 A) and
    lower bounds keeping every other atom out of the first shell; then MMFF94 (UFF where
    MMFF lacks parameters) with the M-donor distances restrained. Returns positions of
    ligand + cation (cation last).
    """
    ion = Chem.MolFromSmiles(f"[{cation.symbol}+]")
    both = Chem.CombineMols(mol, ion)
    Chem.SanitizeMol(both)
    m = mol.GetNumAtoms()
    bm = rdDistGeom.GetMoleculeBoundsMatrix(both)
    targets = {d.index: cation.ideal_distance(d.element) for d in combo}
    for a in mol.GetAtoms():
        i = a.GetIdx()
        if i in targets:
            lo, hi = targets[i] - 0.1, targets[i] + 0.1
        else:
            lo, hi = (_clash_limit(cation, a.GetSymbol()) + 0.2), 100.0
        bm[i, m], bm[m, i] = hi, lo  # upper bound above the diagonal, lower below
    if not DoTriangleSmoothing(bm):
        return []
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = int(seed)
    params.useRandomCoords = True
    params.embedFragmentsSeparately = False
    params.numThreads = 1
    params.SetBoundsMat(bm)
    ids = list(rdDistGeom.EmbedMultipleConfs(both, numConfs=int(n), params=params))
    out = []
    mmff = AllChem.MMFFHasAllMoleculeParams(both)
    uff = not mmff and AllChem.UFFHasAllMoleculeParams(both)
    props = AllChem.MMFFGetMoleculeProperties(both) if mmff else None
    for cid in ids:
        ff = None
        if mmff:
            ff = AllChem.MMFFGetMoleculeForceField(both, props, confId=cid)
            add = ff.MMFFAddDistanceConstraint
        elif uff:
            ff = AllChem.UFFGetMoleculeForceField(both, confId=cid)
            add = ff.UFFAddDistanceConstraint
        if ff is not None:
            for i, r in targets.items():
                add(i, m, False, r - 0.1, r + 0.1, 200.0)
            ff.Minimize(maxIts=1000)
        out.append(positions(both, cid).copy())
    return out


def ligand_conformers(
    engine: Engine,
    mol: Chem.Mol,
    base: list[np.ndarray],
    charge: int,
    uhf: int,
    donors: list[Donor],
    cation: CationSpec,
    settings: BindingSettings,
) -> tuple[list[LigandConformer], dict]:
    """Structure-stage ensemble + extra ETKDG + cation-templated conformers, each with a
    GFN-xTB single point (energy and charges for the placement prescreen)."""
    confs = [LigandConformer(f"ensemble {i}", np.asarray(x, dtype=float)) for i, x in enumerate(base)]
    n_extra = n_templ = 0
    combos: list[tuple[Donor, ...]] = []
    if mol.GetNumAtoms() > 1:
        if settings.n_extra_conformers > 0:
            try:
                extra, _ = embed_conformers(
                    mol, ConformerSettings(n_embed=settings.n_extra_conformers, seed=settings.seed)
                )
                for c in extra.GetConformers():
                    confs.append(LigandConformer(f"etkdg {c.GetId()}", positions(extra, c.GetId()).copy()))
                    n_extra += 1
            except CalculationFailed:
                pass
        if settings.n_template_conformers > 0:
            combos = template_combinations(mol, donors, settings.max_template_donors,
                                           settings.max_template_combinations)
            for k, combo in enumerate(combos):
                label = "+".join(d.label for d in combo)
                for j, x in enumerate(
                    templated_conformers(mol, combo, cation, settings.n_template_conformers, settings.seed + k)
                ):
                    if bonds_intact(mol, x[:-1]):
                        confs.append(LigandConformer(f"templated {label} #{j}", x[:-1], template=tuple(
                            d.index for d in combo), cation_position_A=x[-1]))
                        n_templ += 1
    system = engine.system([a.GetAtomicNum() for a in mol.GetAtoms()], charge, uhf)
    kept = []
    for c in confs:
        try:
            sp = system.compute(c.positions_A, gradient=False)
        except CalculationFailed:
            continue
        c.energy_Eh, c.charges_e = sp.energy_Eh, np.asarray(sp.charges_e, dtype=float)
        kept.append(c)
    if not kept:
        raise CalculationFailed("no ligand conformer gave a converged SCF", error_type="scf")
    summary = {
        "n_ensemble": len(base),
        "n_extra_etkdg": n_extra,
        "n_templated": n_templ,
        "templated_combinations": ["+".join(d.label for d in c) for c in combos],
        "n_conformers": len(kept),
    }
    return kept, summary


# ----------------------------------------------------------------------------- placements
def _clash_limit(cation: CationSpec, element: str) -> float:
    """Closest approach of the cation to an atom that is not one of the site's donors."""
    if element == "H":
        return max(0.8 * cation.r_MO_A, 2.0)
    return max(0.9 * cation.r_MO_A, 2.2)


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
    limits = np.array([_clash_limit(cation, s) for s in symbols])
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


def select_diverse(items: list, score, key, n: int) -> list:
    """The ``n`` best items by ``score``, taking the best of each distinct ``key`` first."""
    ordered = sorted(range(len(items)), key=lambda i: (score(items[i]), i))
    chosen, seen = [], set()
    for i in ordered:
        k = key(items[i])
        if k not in seen:
            seen.add(k)
            chosen.append(i)
        if len(chosen) >= n:
            break
    for i in ordered:
        if len(chosen) >= n:
            break
        if i not in chosen:
            chosen.append(i)
    return [items[i] for i in sorted(chosen, key=lambda i: (score(items[i]), i))]


# ----------------------------------------------------------------------------- binding mode / validation
def binding_mode(mol: Chem.Mol, xyz_complex: np.ndarray, donors: list[Donor], cation: CationSpec,
                 factor: float) -> dict:
    """Denticity, donor atoms and M-donor distances of a complex (cation = last atom)."""
    m = xyz_complex[-1]
    contacts = []
    for d in donors:
        r = float(np.linalg.norm(xyz_complex[d.index] - m))
        if r <= factor * cation.ideal_distance(d.element):
            contacts.append((r, d))
    contacts.sort(key=lambda t: (t[0], t[1].index))
    nearest = min((float(np.linalg.norm(xyz_complex[d.index] - m)) for d in donors), default=float("inf"))
    return {
        "denticity": len(contacts),
        "donor_atoms": [d.label for _, d in contacts],
        "M_donor_distances_A": [round(r, 4) for r, _ in contacts],
        "donor_elements": sorted({d.element for _, d in contacts}),
        "nearest_donor_A": round(nearest, 4),
        "key": tuple(sorted(d.rank for _, d in contacts)),
    }


def complex_problem(mol: Chem.Mol, xyz_complex: np.ndarray, donors: list[Donor], cutoff_A: float) -> str | None:
    """Why a complex geometry is unacceptable (None if it is fine).

    ``"dissociated"``: no donor atom within ``cutoff_A`` of the cation (last atom);
    ``"bonds changed"``: the ligand's covalent graph is no longer intact.
    """
    m = xyz_complex[-1]
    lig = xyz_complex[:-1]
    nearest = min((float(np.linalg.norm(lig[d.index] - m)) for d in donors), default=float("inf"))
    if nearest > cutoff_A:
        return f"dissociated (nearest donor {nearest:.2f} A > {cutoff_A} A)"
    if mol.GetNumAtoms() > 1 and not bonds_intact(mol, lig):
        return "bonds changed (ligand covalent graph not intact)"
    return None


# ----------------------------------------------------------------------------- complex search
@dataclass(eq=False)
class ComplexCandidate:
    positions_A: np.ndarray
    singlepoint: SinglePoint
    start: Start
    n_gradients: int
    converged: bool
    mode: dict = field(default_factory=dict)
    problem: str | None = None
    start_positions_A: np.ndarray | None = None  # the start geometry it was optimized from

    @property
    def energy_Eh(self) -> float:
        return self.singlepoint.energy_Eh


@dataclass
class ComplexSearchResult:
    numbers: np.ndarray
    best: ComplexCandidate
    candidates: list[ComplexCandidate]
    summary: dict


def _complex_xyz(lig_xyz: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.vstack([lig_xyz, p[None, :]])


def search_complex(
    engine: Engine,
    mol: Chem.Mol,
    charge: int,
    uhf: int,
    base_conformers: list[np.ndarray],
    cation: CationSpec,
    settings: BindingSettings = BindingSettings(),
) -> ComplexSearchResult:
    """Find the lowest M+·L complex (see the module docstring for the protocol)."""
    t0 = time.perf_counter()
    donors = donor_atoms(mol)
    if not donors:
        raise CalculationFailed("no donor atom (O, N, F, Cl, S) to bind a cation", error_type="no_donor")
    lig_numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()], dtype=int)
    numbers = np.append(lig_numbers, cation.Z)
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    confs, conf_summary = ligand_conformers(engine, mol, base_conformers, charge, uhf, donors, cation, settings)
    e_min = min(c.energy_Eh for c in confs)
    t_conf = time.perf_counter()

    starts: list[Start] = []
    n_clash = 0
    for ci, c in enumerate(confs):
        s, nc = placements(mol, ci, c, donors, cation, settings.max_chelate_donors)
        n_clash += nc
        for st in s:
            st.model_kcal = (c.energy_Eh - e_min) * HARTREE_TO_KCAL_PER_MOL + model_energy(
                c.positions_A, c.charges_e, symbols, st.donors, st.position_A, cation
            )
        starts.extend(s)
    if not starts:
        raise CalculationFailed(
            f"every cation placement clashed with the ligand ({n_clash} tried)", error_type="placement"
        )

    # 1. single points on the best placements by the point-charge model. Each start gets a
    # fresh SCF (a guess from another start's geometry can send the SCF astray) with a
    # short iteration budget: a start whose SCF struggles (e.g. a near-zero gap) is a bad
    # start, not worth the retry ladder's thousands of iterations.
    pre = Engine(replace(engine.settings, max_iterations=min(engine.settings.max_iterations, PRESCREEN_SCF_ITERATIONS)),
                 engine.stats)
    screened = select_diverse(starts, lambda s: s.model_kcal, lambda s: s.key, settings.max_singlepoints)
    sp_ok: list[Start] = []
    n_scf_skipped = 0
    for st in screened:
        try:
            sp = pre.system(numbers, charge + cation.charge, uhf).compute(
                _complex_xyz(confs[st.conformer].positions_A, st.position_A), gradient=False)
        except CalculationFailed:
            n_scf_skipped += 1
            continue
        if sp.scf_attempt > 2:  # converged only at an elevated electronic temperature
            n_scf_skipped += 1
            continue
        st.energy_Eh = sp.energy_Eh
        sp_ok.append(st)
    if not sp_ok:
        raise CalculationFailed("no complex start gave a converged SCF", error_type="scf")
    t_sp = time.perf_counter()

    # 2. loose, short optimization of the best distinct donor sets
    relaxed: list[ComplexCandidate] = []
    rejected: list[str] = []
    to_relax = select_diverse(sp_ok, lambda s: s.energy_Eh, lambda s: s.key, settings.n_relax)
    for st in to_relax:
        start_xyz = _complex_xyz(confs[st.conformer].positions_A, st.position_A)
        try:
            opt = optimize(engine.system(numbers, charge + cation.charge, uhf), start_xyz,
                           fmax_eV_per_A=settings.loose_fmax_eV_per_A, max_steps=settings.loose_max_steps,
                           raise_on_failure=False)
        except CalculationFailed as exc:
            rejected.append(f"{_start_label(mol, st, confs)}: {exc}")
            continue
        cand = ComplexCandidate(opt.positions_A, opt.singlepoint, st, opt.n_gradients, opt.converged,
                                start_positions_A=start_xyz)
        cand.problem = complex_problem(mol, cand.positions_A, donors, settings.dissociation_cutoff_A)
        cand.mode = binding_mode(mol, cand.positions_A, donors, cation, settings.denticity_factor)
        if cand.problem:
            rejected.append(f"{_start_label(mol, st, confs)} (loose): {cand.problem}")
            continue
        relaxed.append(cand)
    t_relax = time.perf_counter()

    # 3. tight optimization of the best distinct binding modes; the next ones if those fail
    final: list[ComplexCandidate] = []
    queue = select_diverse(relaxed, lambda c: c.energy_Eh, lambda c: c.mode["key"], len(relaxed))
    distinct = select_diverse(relaxed, lambda c: c.energy_Eh, lambda c: c.mode["key"], settings.n_optimize)
    queue = distinct + [c for c in queue if c not in distinct]
    n_tight = 0
    for cand in queue:
        if n_tight >= settings.n_optimize and final:
            break
        n_tight += 1
        try:
            opt = optimize(engine.system(numbers, charge + cation.charge, uhf), cand.positions_A,
                           fmax_eV_per_A=settings.fmax_eV_per_A, max_steps=settings.max_steps,
                           raise_on_failure=False)
        except CalculationFailed as exc:
            rejected.append(f"{_start_label(mol, cand.start, confs)} (tight): {exc}")
            continue
        sp = opt.singlepoint
        if sp.electronic_temperature_K > engine.settings.electronic_temperature_K:
            # the SCF ladder raised the temperature on the way: re-evaluate at the requested one
            try:
                sp = engine.system(numbers, charge + cation.charge, uhf).compute(opt.positions_A)
            except CalculationFailed as exc:
                rejected.append(f"{_start_label(mol, cand.start, confs)} (tight): {exc}")
                continue
        tight = ComplexCandidate(opt.positions_A, sp, cand.start, cand.n_gradients + opt.n_gradients, opt.converged,
                                 start_positions_A=cand.start_positions_A)
        tight.problem = complex_problem(mol, tight.positions_A, donors, settings.dissociation_cutoff_A)
        if tight.problem is None and not tight.converged:
            tight.problem = f"optimization not converged in {settings.max_steps} steps"
        if tight.problem is None and sp.electronic_temperature_K > engine.settings.electronic_temperature_K:
            tight.problem = f"SCF converged only at {sp.electronic_temperature_K:.0f} K electronic temperature"
        tight.mode = binding_mode(mol, tight.positions_A, donors, cation, settings.denticity_factor)
        if tight.problem:
            rejected.append(f"{_start_label(mol, cand.start, confs)} (tight): {tight.problem}")
            continue
        final.append(tight)
    t_opt = time.perf_counter()
    if not final:
        kinds = "dissociated" if rejected and all("dissociated" in r for r in rejected) else "optimization"
        raise CalculationFailed("no acceptable complex: " + "; ".join(rejected[:8]), error_type=kinds)
    final.sort(key=lambda c: c.energy_Eh)
    best = final[0]
    summary = {
        **conf_summary,
        "n_donor_atoms": len(donors),
        "n_unique_donor_sites": len(unique_donors(donors)),
        "donor_sites": [d.label for d in unique_donors(donors)],
        "n_starts_tried": len(starts) + n_clash,
        "n_starts_clash_free": len(starts),
        "n_rejected_clash": n_clash,
        "n_prescreened": len(sp_ok) + n_scf_skipped,
        "n_prescreen_scf_skipped": n_scf_skipped,
        "n_relaxed": len(to_relax),
        "n_optimized": n_tight,
        "n_rejected": len(rejected),
        "rejected": rejected,
        "candidates": [
            {
                "start": _start_label(mol, c.start, confs),
                "E_rel_kcal_per_mol": round((c.energy_Eh - best.energy_Eh) * HARTREE_TO_KCAL_PER_MOL, 3),
                "denticity": c.mode["denticity"],
                "donor_atoms": c.mode["donor_atoms"],
                "gradient_evaluations": c.n_gradients,
            }
            for c in final
        ],
        "phase_seconds": {
            "conformers": round(t_conf - t0, 3),
            "prescreen": round(t_sp - t_conf, 3),
            "loose_optimization": round(t_relax - t_sp, 3),
            "tight_optimization": round(t_opt - t_relax, 3),
        },
    }
    return ComplexSearchResult(numbers, best, final, summary)


def _start_label(mol: Chem.Mol, st: Start, confs: list[LigandConformer]) -> str:
    sites = "+".join(f"{mol.GetAtomWithIdx(i).GetSymbol()}{i}" for i in st.donors)
    return f"{sites} {st.tag} on {confs[st.conformer].label}"


# ----------------------------------------------------------------------------- binding energy
@dataclass
class BindingResult:
    cation: CationSpec
    E_bind_Eh: float
    E_complex_Eh: float
    E_cation_Eh: float
    E_ligand_Eh: float
    search: ComplexSearchResult

    @property
    def E_bind_kcal_per_mol(self) -> float:
        return self.E_bind_Eh * HARTREE_TO_KCAL_PER_MOL

    @property
    def E_bind_eV(self) -> float:
        return self.E_bind_Eh * HARTREE_TO_EV

    @property
    def mode(self) -> dict:
        return self.search.best.mode

    def to_results(self) -> dict:
        mode = {k: v for k, v in self.mode.items() if k != "key"}
        s = self.search.summary
        return {
            "cation": self.cation.symbol,
            "E_bind_kcal_per_mol": self.E_bind_kcal_per_mol,
            "E_bind_eV": self.E_bind_eV,
            "sign_convention": SIGN_CONVENTION,
            "E_complex_Eh": self.E_complex_Eh,
            "E_cation_Eh": self.E_cation_Eh,
            "E_ligand_Eh": self.E_ligand_Eh,
            "binding_mode": mode,
            "denticity": mode["denticity"],
            "donor_atoms": mode["donor_atoms"],
            "M_donor_distances_A": mode["M_donor_distances_A"],
            "n_starts_tried": s["n_starts_tried"],
            "n_prescreened": s["n_prescreened"],
            "n_optimized": s["n_optimized"],
            "search": s,
            "atom_labels": "donor atoms: element + 0-based ligand atom index (XYZ order); the cation is the last atom",
        }


def bind(
    engine: Engine,
    mol: Chem.Mol,
    charge: int,
    uhf: int,
    ligand_energy_Eh: float,
    cation_energy_Eh: float,
    conformers: list[np.ndarray],
    cation: CationSpec,
    settings: BindingSettings = BindingSettings(),
) -> BindingResult:
    """E_bind of ``cation`` to the ligand ``mol`` whose lowest conformer has ``ligand_energy_Eh``."""
    search = search_complex(engine, mol, charge, uhf, conformers, cation, settings)
    e = search.best.energy_Eh
    return BindingResult(cation, e - cation_energy_Eh - ligand_energy_Eh, e, cation_energy_Eh, ligand_energy_Eh, search)


# ----------------------------------------------------------------------------- stage runners
def _stats_delta(engine: Engine, before) -> dict:
    d = engine.stats.since(before).to_dict()
    d["seconds_in_xtb"] = round(d["seconds_in_xtb"], 4)
    return d


def check_engine_consistency(structure: Record, engine_settings: EngineSettings) -> None:
    """Energies from different methods/solvent models must never be subtracted."""
    theirs = structure.settings.get("engine")
    if theirs is None:
        return
    try:
        other = EngineSettings(**theirs)
    except (TypeError, InputError) as exc:
        raise InputError(f"structure record {structure.name}: unreadable engine settings {theirs}") from exc
    if other != engine_settings:
        raise InputError(
            f"structure record {structure.name} was computed with engine settings {other.to_dict()}, "
            f"the binding stage asks for {engine_settings.to_dict()}; rerun the structure stage"
        )


def load_structure(path: str | Path) -> tuple[Record, np.ndarray | None, list[np.ndarray]]:
    """(record, reference positions, ensemble positions) of a structure-stage record."""
    path = Path(path)
    rec = Record.read(path)
    if not rec.ok:
        return rec, None, []
    numbers, xyz, _ = read_xyz(path.parent / rec.files["xyz"])
    ensemble = []
    ens = rec.files.get("ensemble_xyz")
    if ens and (path.parent / ens).exists():
        ensemble = read_xyz_frames(path.parent / ens)
    return rec, xyz, ensemble or [xyz]


def read_xyz_frames(path: str | Path) -> list[np.ndarray]:
    """All frames of a multi-frame XYZ file (positions only)."""
    lines = Path(path).read_text().splitlines()
    frames, i = [], 0
    while i < len(lines) and lines[i].strip():
        n = int(lines[i].split()[0])
        frames.append(np.array([[float(v) for v in line.split()[1:4]] for line in lines[i + 2 : i + 2 + n]]))
        i += 2 + n
    return frames


def _require_ok(rec: Record, what: str) -> None:
    if not rec.ok:
        raise CalculationFailed(
            f"{what} structure stage failed: {(rec.failure or {}).get('reason')}",
            error_type=f"structure:{(rec.failure or {}).get('error_type')}",
        )


def load_cation(path: str | Path) -> tuple[Record, CationSpec | None]:
    rec = Record.read(path)
    if not rec.ok:
        return rec, None
    numbers, _, _ = read_xyz(Path(path).parent / rec.files["xyz"])
    if len(numbers) != 1:
        raise InputError(f"{path}: a cation structure must be a single atom, found {len(numbers)} atoms")
    spec = cation_spec(int(numbers[0]))
    if rec.results.get("charge") != spec.charge:
        raise InputError(f"{path}: cation {spec.symbol} has charge {rec.results.get('charge')}, "
                         f"expected +{spec.charge}")
    return rec, spec


def run_binding(
    ligand_structure: str | Path,
    cation_structure: str | Path,
    out: str | Path,
    engine_settings: EngineSettings = EngineSettings(),
    settings: BindingSettings = BindingSettings(),
    stage: str = "binding",
) -> Record:
    """Binding (or, for an anion, ion-pair) record of one ligand with one cation.

    Writes ``out`` (.json) and the complex geometry beside it (.xyz).
    """
    out = Path(out)
    lig, lig_xyz, ensemble = load_structure(ligand_structure)
    cat, spec = load_cation(cation_structure)
    record = Record(
        stage=stage,
        name=lig.name,
        inputs={
            "ligand": lig.name,
            "smiles": lig.inputs.get("smiles"),
            "kind": lig.inputs.get("kind"),
            "cation": cat.name,
            "ligand_structure": str(ligand_structure),
            "cation_structure": str(cation_structure),
        },
        settings={"engine": engine_settings.to_dict(), "binding": settings.to_dict()},
    )
    with capture_failure(record):
        _require_ok(lig, f"ligand {lig.name}")
        _require_ok(cat, f"cation {cat.name}")
        check_engine_consistency(lig, engine_settings)
        check_engine_consistency(cat, engine_settings)
        engine = Engine(engine_settings)
        record.provenance.update(engine.provenance())
        before = engine.stats.copy()
        mol = mol_from_smiles(lig.inputs["smiles"])
        if mol.GetNumAtoms() != len(lig_xyz):
            raise InputError(f"{ligand_structure}: geometry has {len(lig_xyz)} atoms, SMILES {mol.GetNumAtoms()}")
        result = bind(engine, mol, int(lig.results["charge"]), int(lig.results["uhf"]), float(lig.results["energy_Eh"]),
                      float(cat.results["energy_Eh"]), ensemble, spec, settings)
        best = result.search.best
        xyz_path = out.with_suffix(".xyz")
        comment = (f"{spec.symbol}+ . {lig.name} E={best.energy_Eh:.10f} Eh E_bind={result.E_bind_kcal_per_mol:.3f} "
                   f"kcal/mol donors={','.join(result.mode['donor_atoms'])} {engine_settings.method}")
        write_text_atomic(xyz_path, xyz_block(result.search.numbers, best.positions_A, comment))
        record.files = {"xyz": xyz_path.name}
        res = result.to_results()
        res["complex_charge"] = int(lig.results["charge"]) + spec.charge
        res["ligand_charge"] = int(lig.results["charge"])
        record.results = res
        record.timings["engine"] = _stats_delta(engine, before)
        record.timings["phases_s"] = result.search.summary["phase_seconds"]
    record.write(out)
    return record


def run_ion_pair(anion_structure, cation_structure, out, engine_settings=EngineSettings(),
                 settings: BindingSettings = BindingSettings()) -> Record:
    """E_pair = E(M+A-) - E(M+) - E(A-): the binding search with the anion as ligand."""
    return run_binding(anion_structure, cation_structure, out, engine_settings, settings, stage="ion_pair")


# ----------------------------------------------------------------------------- aggregation
BINDING_COLUMNS = [
    "name", "kind", "cation", "status", "failure_reason",
    "E_bind_kcal_per_mol", "E_bind_eV", "denticity", "donor_atoms", "M_donor_distances_A",
    "n_starts_tried", "n_prescreened", "n_optimized",
    "method", "engine", "engine_version", "solvent_model", "wall_s", "gradient_evaluations", "xtb_s",
    "n_conformers", "geometry_xyz", "smiles", "record",
]


def binding_row(path: str | Path) -> dict:
    """One binding.csv row from a binding or ion-pair record."""
    path = Path(path)
    r = Record.read(path)
    eng = r.settings.get("engine") or {}
    res = r.results
    row = {
        "name": r.name,
        "kind": r.inputs.get("kind"),
        "cation": r.inputs.get("cation"),
        "status": r.status,
        "failure_reason": "" if r.ok else f"{r.stage}: {(r.failure or {}).get('reason')}",
        "method": eng.get("method"),
        "engine": eng.get("backend"),
        "engine_version": r.provenance.get("engine_version"),
        "solvent_model": f"ALPB({eng['solvent']})" if eng.get("solvent") else "gas phase",
        "wall_s": r.timings.get("wall_s"),
        "gradient_evaluations": (r.timings.get("engine") or {}).get("gradients"),
        "xtb_s": (r.timings.get("engine") or {}).get("seconds_in_xtb"),
        "smiles": r.inputs.get("smiles"),
        "record": str(path),
    }
    if r.ok:
        row.update({k: res.get(k) for k in ("E_bind_kcal_per_mol", "E_bind_eV", "denticity", "donor_atoms",
                                             "M_donor_distances_A", "n_starts_tried", "n_prescreened", "n_optimized")})
        row["n_conformers"] = (res.get("search") or {}).get("n_conformers")
        row["geometry_xyz"] = str(path.parent / r.files["xyz"])
    return row


def aggregate_binding(records: list[str | Path], out_csv: str | Path) -> list[dict]:
    """binding.csv: one row per (molecule, cation); anions carry their ion-pair binding."""
    rows = [binding_row(p) for p in records]
    write_csv(out_csv, rows, BINDING_COLUMNS)
    return rows


# ----------------------------------------------------------------------------- single question
def query_binding(
    smiles: str,
    cation: str = "K",
    engine_settings: EngineSettings = EngineSettings(),
    settings: BindingSettings = BindingSettings(),
    conformer_settings: ConformerSettings = ConformerSettings(),
    workdir: str | Path | None = None,
    shell: bool = False,
    exchange_anions: dict[str, str] | None = None,
) -> dict:
    """``solvscreen bind``: the same stage functions as the workflow, on one SMILES.

    Runs the structure stage for the molecule and the cation, then the binding (an anion
    gets the ion-pair search, which is the same search), optionally the filled shell and
    the anion exchange (``exchange_anions``: name -> SMILES). Records go to ``workdir``
    (a temporary directory when None). Returns a summary dict.
    """
    import tempfile

    from .descriptors import run_structure
    from .structures import formal_charge

    spec = cation_spec(cation)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(workdir) if workdir else Path(tmp)
        lig_charge = formal_charge(mol_from_smiles(smiles))  # InputError on a bad SMILES, before any run
        kind = "anion" if lig_charge < 0 else "query"
        structures = {}
        jobs = [("query", smiles, kind), (f"{spec.symbol}+", f"[{spec.symbol}+]", "cation")]
        jobs += [(name, smi, "anion") for name, smi in (exchange_anions or {}).items()]
        for name, smi, what in jobs:
            structures[name] = root / "structures" / f"{name}.json"
            run_structure(name, smi, what, structures[name], engine_settings, conformer_settings)
        cat = structures[f"{spec.symbol}+"]
        rec = run_binding(structures["query"], cat, root / "binding" / f"{spec.symbol}+" / "query.json",
                          engine_settings, settings, stage="ion_pair" if lig_charge < 0 else "binding")
        out = {"smiles": smiles, "cation": spec.symbol, "stage": rec.stage, "status": rec.status,
               "failure": rec.failure, "method": engine_settings.method, "engine": engine_settings.backend,
               "wall_s": rec.timings.get("wall_s"),
               "gradient_evaluations": (rec.timings.get("engine") or {}).get("gradients")}
        if rec.ok:
            res = rec.results
            out.update({k: res[k] for k in ("E_bind_kcal_per_mol", "E_bind_eV", "denticity", "donor_atoms",
                                            "M_donor_distances_A", "n_starts_tried", "n_prescreened", "n_optimized")})
            out["sign_convention"] = SIGN_CONVENTION
            xyz_path = root / "binding" / f"{spec.symbol}+" / "query.xyz"
            out["geometry_xyz"] = xyz_path.read_text()
            if workdir:
                out["record"] = str(xyz_path.with_suffix(".json"))
        if shell and rec.ok and lig_charge >= 0:
            from .shells import run_shell

            ips = []
            for name in exchange_anions or {}:
                ip = root / "ion_pairs" / f"{spec.symbol}+" / f"{name}.json"
                run_ion_pair(structures[name], cat, ip, engine_settings, settings)
                ips.append(ip)
            srec = run_shell(root / "binding" / f"{spec.symbol}+" / "query.json", ips,
                             root / "shells" / f"{spec.symbol}+" / "query.json", engine_settings, settings)
            out["shell_status"] = srec.status
            if srec.ok:
                r = srec.results
                out.update({k: r[k] for k in ("shell_n", "shell_n_reason", "shell_coordination_number",
                                              "E_shell_per_ligand_kcal_per_mol")})
                for ex in r["exchange"]:
                    out[f"E_exchange_{ex['anion']}_kcal_per_mol"] = ex.get("E_exchange_kcal_per_mol")
            else:
                out["shell_failure"] = srec.failure
    return out
