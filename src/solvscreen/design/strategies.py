"""The review's three design strategies as RDKit edits, and their enumeration in combination.

A **strategy** is a family of **variants**; a variant is a site pattern (SMARTS; the edited atom
is the pattern's first atom) and an edit of that atom. Applying a variant is one **step**, made
either at one site of a symmetry class of atoms (topologically equivalent atoms,
``Chem.CanonicalRankAtoms(..., breakTies=False)``) or at every site of that class at once
("symmetric": DME → DEE edits both methoxy ends in one step, as a chemist makes symmetric
molecules). The strategies (default: all three):

==============  ============================  =============================================
strategy        site                          variants (what replaces the site's H)
==============  ============================  =============================================
``homologate``  a methyl on an ether/ester O   ``ethyl``, ``n-propyl``, ``isopropyl``, ``n-butyl``
                (``O–CH3``, not in a ring)     (methoxy → ethoxy ...: steric hindrance at the ends;
                                               DME → DEE → DBE, DGM → DGT)
``halogenate``  a methyl (``CH3``)             ``CF3``, ``CHF2``, ``CH2F``, ``CH2Cl`` (TEP → TFP,
                                               EMC → FEMC, DEE → DEECl)
                a ring CH2                     ``ring-CHF`` (EC → FEC)
``branch``      a CH2 of an O–C–C–O bridge     ``CH(CH3)`` (DGM → DMM; EC → PC)
==============  ============================  =============================================

:func:`enumerate_derivatives` applies up to ``max_steps`` steps in combination, breadth first,
and keeps each molecule once (by InChIKey) with the first, shortest path that reached it. The
order of everything is fixed (strategies, variants, site classes by canonical rank, molecules
by InChIKey), so two runs give the same set in the same order.

New stereocentres (a branched bridge, a ring CHF) are left unassigned: the structure stage
embeds one stereoisomer (RDKit's choice, seeded), and each derivative states how many
stereocentres it leaves unassigned (DMM has two; its diastereomers are not told apart).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from rdkit import Chem, RDLogger

from ..core.errors import InputError
from ..inputs.library import parse_smiles

__all__ = ["STRATEGIES", "DEFAULT_STRATEGIES", "Edit", "Derivative", "Enumeration", "Variant",
           "enumerate_derivatives", "parent_mol"]

RDLogger.DisableLog("rdApp.*")


# ============================================================================ edits
def _add_chain(*atoms: tuple[str, int]) -> Callable[[Chem.RWMol, int], None]:
    """An edit that replaces one H of the site with a chain: ``atoms`` are (element, index of the
    atom it bonds to, -1 = the site), in order."""
    def edit(rw: Chem.RWMol, site: int) -> None:
        new: list[int] = []
        for symbol, anchor in atoms:
            idx = rw.AddAtom(Chem.Atom(symbol))
            rw.AddBond(site if anchor < 0 else new[anchor], idx, Chem.BondType.SINGLE)
            new.append(idx)
    return edit


@dataclass(frozen=True)
class Variant:
    """One edit of a strategy: ``name`` (readable), ``site`` (SMARTS, first atom edited), the edit."""

    name: str
    site: str
    edit: Callable[[Chem.RWMol, int], None] = field(compare=False, repr=False)

    def pattern(self) -> Chem.Mol:
        return Chem.MolFromSmarts(self.site)


_O_METHYL = "[CH3;X4;!R][OX2]"
_METHYL = "[CH3;X4]"
_RING_CH2 = "[CH2;X4;R]"
_BRIDGE_CH2 = "[CH2;X4]([OX2])[CX4;H1,H2][OX2]"

#: strategy name -> its variants, in the order they are tried.
STRATEGIES: dict[str, tuple[Variant, ...]] = {
    "homologate": (
        Variant("ethyl", _O_METHYL, _add_chain(("C", -1))),
        Variant("n-propyl", _O_METHYL, _add_chain(("C", -1), ("C", 0))),
        Variant("isopropyl", _O_METHYL, _add_chain(("C", -1), ("C", -1))),
        Variant("n-butyl", _O_METHYL, _add_chain(("C", -1), ("C", 0), ("C", 1))),
    ),
    "halogenate": (
        Variant("CF3", _METHYL, _add_chain(("F", -1), ("F", -1), ("F", -1))),
        Variant("CHF2", _METHYL, _add_chain(("F", -1), ("F", -1))),
        Variant("CH2F", _METHYL, _add_chain(("F", -1))),
        Variant("CH2Cl", _METHYL, _add_chain(("Cl", -1))),
        Variant("ring-CHF", _RING_CH2, _add_chain(("F", -1))),
    ),
    "branch": (
        Variant("CH(CH3)", _BRIDGE_CH2, _add_chain(("C", -1))),
    ),
}
DEFAULT_STRATEGIES: tuple[str, ...] = tuple(STRATEGIES)


# ============================================================================ results
@dataclass(frozen=True)
class Edit:
    """One step of a path: a strategy's variant at ``n_sites`` equivalent sites."""

    strategy: str
    variant: str
    n_sites: int

    @property
    def label(self) -> str:
        return f"{self.strategy}({self.variant}{'' if self.n_sites == 1 else f' x{self.n_sites}'})"


@dataclass(frozen=True)
class Derivative:
    """One molecule of a design: its structure, the path from its parent, and its identity.

    Attributes
    ----------
    parent
        The parent's name (library name, or the label of a SMILES parent).
    smiles, inchikey
        RDKit canonical SMILES (stereo as far as assigned) and standard InChIKey.
    path
        The steps from the parent, in order.
    n_atoms, n_heavy_atoms
        Atoms with hydrogens, and without.
    unassigned_stereocentres
        Stereocentres (RDKit, legacy perception) without an assigned configuration.
    library_name
        The library row with the same InChIKey, else ``None``; ``library_match`` says how
        (``"InChIKey"``, or ``"constitution"`` when only the first block, the skeleton without
        stereo, matches).
    """

    parent: str
    smiles: str
    inchikey: str
    path: tuple[Edit, ...]
    n_atoms: int
    n_heavy_atoms: int
    unassigned_stereocentres: int
    library_name: str | None = None
    library_match: str = ""

    @property
    def steps(self) -> int:
        return len(self.path)

    @property
    def path_text(self) -> str:
        """E.g. ``DME →homologate(ethyl x2)→halogenate(CH2Cl x2)``."""
        return self.parent + "".join(f" →{e.label}" for e in self.path)

    @property
    def mol(self) -> Chem.Mol:
        return parse_smiles(self.smiles)

    def to_dict(self) -> dict:
        return {"parent": self.parent, "smiles": self.smiles, "inchikey": self.inchikey,
                "path": self.path_text, "steps": self.steps, "n_atoms": self.n_atoms,
                "n_heavy_atoms": self.n_heavy_atoms, "unassigned_stereocentres": self.unassigned_stereocentres,
                "library_name": self.library_name, "library_match": self.library_match}


@dataclass(frozen=True)
class Enumeration:
    """A parent's derivatives (parent itself excluded), in enumeration order, with counts."""

    parent: str
    parent_smiles: str
    parent_inchikey: str
    strategies: tuple[str, ...]
    max_steps: int
    derivatives: tuple[Derivative, ...]
    n_products: int  # products made, duplicates included
    n_duplicates: int  # products whose InChIKey was already seen (the parent's included)


# ============================================================================ enumeration
def parent_mol(smiles: str) -> Chem.Mol:
    """The parent, sanitized, hydrogens implicit (so edits may replace them)."""
    try:
        mol = parse_smiles(smiles)
    except InputError as exc:
        raise InputError(f"design: the parent SMILES {smiles!r} is not a valid molecule ({exc})") from exc
    if len(Chem.GetMolFrags(mol)) != 1 or Chem.GetFormalCharge(mol) != 0:
        raise InputError(f"design: the parent {smiles!r} must be one neutral molecule (a solvent)")
    for atom in mol.GetAtoms():
        atom.SetNoImplicit(False)
        atom.SetNumExplicitHs(0)
    Chem.SanitizeMol(mol)
    return mol


def _unassigned(mol: Chem.Mol) -> int:
    centres = Chem.FindMolChiralCenters(mol, includeUnassigned=True, useLegacyImplementation=True)
    return sum(1 for _, tag in centres if tag == "?")


def _apply(mol: Chem.Mol, variant: Variant, sites: Iterable[int]) -> Chem.Mol | None:
    rw = Chem.RWMol(mol)
    for site in sites:
        rw.GetAtomWithIdx(site).SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)  # its H is gone
        variant.edit(rw, site)
    out = rw.GetMol()
    try:
        Chem.SanitizeMol(out)
    except Exception:  # an edit that breaks valence is no product  # noqa: BLE001
        return None
    return out


def _products(mol: Chem.Mol, strategies: Iterable[str]) -> list[tuple[Edit, Chem.Mol]]:
    """Every one-step product: each variant at one site of each symmetry class, and at all of them."""
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=False))
    out: list[tuple[Edit, Chem.Mol]] = []
    for strategy in strategies:
        for variant in STRATEGIES[strategy]:
            hits = sorted({m[0] for m in mol.GetSubstructMatches(variant.pattern(), uniquify=False)})
            classes: dict[int, list[int]] = {}
            for idx in hits:
                classes.setdefault(ranks[idx], []).append(idx)
            for rank in sorted(classes):
                members = classes[rank]
                for sites in ([members[0]], members) if len(members) > 1 else ([members[0]],):
                    product = _apply(mol, variant, sites)
                    if product is not None:
                        out.append((Edit(strategy, variant.name, len(sites)), product))
    return out


def enumerate_derivatives(parent: str, smiles: str, strategies: Iterable[str] = DEFAULT_STRATEGIES,
                          max_steps: int = 2, known: Mapping[str, str] | None = None) -> Enumeration:
    """The derivatives of one parent: up to ``max_steps`` steps of the given strategies.

    Parameters
    ----------
    parent, smiles
        The parent's name (used in paths and derivative names) and SMILES.
    strategies
        Names of :data:`STRATEGIES`, applied in that order at each step.
    max_steps
        Steps in combination (1 = single edits).
    known
        InChIKey -> library name, to recognise derivatives already in the library (a full
        key, else the first block: the same constitution with another or no stereo).

    Raises
    ------
    InputError
        An unknown strategy, a ``max_steps`` below 1, or a parent that is not one neutral molecule.
    """
    strategies = tuple(dict.fromkeys(strategies))
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown or not strategies:
        raise InputError(f"design: unknown strategy {unknown or '(none given)'}; strategies are {', '.join(STRATEGIES)}")
    if max_steps < 1:
        raise InputError(f"design: max_steps must be at least 1, not {max_steps}")
    known = dict(known or {})
    by_block = {}
    for key, name in sorted(known.items()):
        by_block.setdefault(key.split("-")[0], name)
    root = parent_mol(smiles)
    root_key = Chem.MolToInchiKey(root)
    seen = {root_key}
    level: list[tuple[Chem.Mol, tuple[Edit, ...]]] = [(root, ())]
    found: list[Derivative] = []
    n_products = n_dupes = 0
    for _ in range(max_steps):
        nxt: list[tuple[str, Chem.Mol, tuple[Edit, ...]]] = []
        for mol, path in level:
            for edit, product in _products(mol, strategies):
                n_products += 1
                key = Chem.MolToInchiKey(product)
                if not key or key in seen:
                    n_dupes += 1
                    continue
                seen.add(key)
                nxt.append((key, product, path + (edit,)))
        for key, product, path in nxt:
            name = known.get(key)
            match = "InChIKey" if name else ""
            if name is None and key.split("-")[0] in by_block:
                name, match = by_block[key.split("-")[0]], "constitution"
            found.append(Derivative(
                parent=parent, smiles=Chem.MolToSmiles(product), inchikey=key, path=path,
                n_atoms=Chem.AddHs(product).GetNumAtoms(), n_heavy_atoms=product.GetNumAtoms(),
                unassigned_stereocentres=_unassigned(product), library_name=name, library_match=match))
        level = [(p, path) for _, p, path in nxt]
    return Enumeration(parent, Chem.MolToSmiles(root), root_key, strategies, max_steps, tuple(found),
                       n_products, n_dupes)
