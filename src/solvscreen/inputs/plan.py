"""What a run computes: the molecules, cations and pairs implied by a validated config.

The Snakefile asks this module for its wildcard values, so the work list is
decided in one tested place, not in rule files.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Plan:
    molecules: list[str]  # every structure computed on its own (solvents, diluents, ions)
    cations: list[str]  # cation names to bind (K by default)
    ligands: list[str]  # neutral molecules whose cation binding is computed
    anions: list[str]
    salts: list[str]
    # binding stage: anions whose exchange into the shell is computed, (cation, anion) ion
    # pairs (every salt's own pair, and every binding cation with every exchange anion)
    exchange_anions: list[str] = field(default_factory=list)
    ion_pairs: list[tuple[str, str]] = field(default_factory=list)
    solvation_anion: str = "FSI"  # the anion competing for the last site (solvation stage)


def make_plan(config: dict, library, formulations) -> Plan:
    """Resolve the config's selection against the library (aliases allowed)."""
    selection = config.get("molecules", "all")
    if selection == "all":
        names = list(library.computed_names())
    else:
        names = [library.resolve(n).name for n in selection]
    cations = [library.resolve(c).name for c in config.get("cations", ["K"])]
    salts = [m.name for m in library.salts()] if selection == "all" else []
    for f in formulations:
        if selection != "all" and not all(c in names for c, _ in f.components):
            continue
        if f.salt not in salts:
            salts.append(f.salt)
    wanted = list(dict.fromkeys(names + cations))
    for s in salts:
        salt = library.molecules[s]
        for ion in (salt.cation, salt.anion):
            if ion and ion not in wanted:
                wanted.append(ion)
    exchange = _exchange_anions(config, library)
    solv_anion = library.resolve((config.get("solvation") or {}).get("anion", "FSI")).name
    if library.molecules[solv_anion].kind != "anion":
        from ..core.errors import ValidationError

        raise ValidationError(f"solvation.anion: {solv_anion!r} is not an anion", source="config")
    if solv_anion not in exchange:
        exchange.append(solv_anion)
    for a in exchange:
        if a not in wanted:
            wanted.append(a)
    kinds = {n: library.molecules[n].kind for n in wanted}
    pairs: list[tuple[str, str]] = []
    for s in salts:
        salt = library.molecules[s]
        if salt.cation and salt.anion:
            pairs.append((salt.cation, salt.anion))
    pairs += [(c, a) for c in cations for a in exchange]
    return Plan(
        molecules=wanted,
        cations=cations,
        ligands=[n for n in wanted if kinds[n] in ("solvent", "diluent")],
        anions=[n for n in wanted if kinds[n] == "anion"],
        salts=salts,
        exchange_anions=exchange,
        ion_pairs=list(dict.fromkeys(pairs)),
        solvation_anion=solv_anion,
    )


def _exchange_anions(config: dict, library) -> list[str]:
    """binding.exchange_anions resolved to library anion names (FSI by default)."""
    from ..core.errors import ValidationError

    names = []
    for n in (config.get("binding") or {}).get("exchange_anions", ["FSI"]):
        mol = library.resolve(n)
        if mol.kind != "anion":
            raise ValidationError(f"binding.exchange_anions: {n!r} is a {mol.kind}, not an anion", source="config")
        names.append(mol.name)
    return list(dict.fromkeys(names))
