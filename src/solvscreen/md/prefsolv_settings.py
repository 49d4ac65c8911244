"""The config's ``md.prefsolv`` section (:mod:`.prefsolv_stage`), checked.

Kept apart from the simulation code so that the config check (:mod:`solvscreen.md.settings`)
reads it without importing OpenMM-facing modules.
"""

from __future__ import annotations

from ..core.errors import InputError, ValidationError

PREFSOLV_DEFAULTS = {"pairs": [], "salts": ["KFSI"], "ns": 1.0, "discard_ps": 50.0, "preset": "screening"}


def prefsolv_config(md: dict | None) -> dict:
    """The ``md.prefsolv`` section with its defaults (raises InputError on a bad value)."""
    from .pmf_settings import PMF_PRESETS

    raw = (md or {}).get("prefsolv") or {}
    unknown = sorted(set(raw) - set(PREFSOLV_DEFAULTS))
    if unknown:
        raise InputError(f"md.prefsolv.{unknown[0]}: unknown key; allowed: {', '.join(PREFSOLV_DEFAULTS)}")
    sec = {**PREFSOLV_DEFAULTS, **raw}
    if sec["preset"] not in PMF_PRESETS:
        raise InputError(f"md.prefsolv.preset: unknown preset {sec['preset']!r}; presets: {', '.join(PMF_PRESETS)}")
    try:
        ns = float(sec["ns"])
    except (TypeError, ValueError):
        raise InputError(f"md.prefsolv.ns: {sec['ns']!r} is not a number of ns") from None
    try:
        discard = float(sec["discard_ps"])
    except (TypeError, ValueError):
        raise InputError(f"md.prefsolv.discard_ps: {sec['discard_ps']!r} is not a number of ps") from None
    if discard < 0:
        raise InputError(f"md.prefsolv.discard_ps: {discard} must be >= 0")
    if ns * 1000 < discard + 10:
        raise InputError(f"md.prefsolv.ns: {ns} ns leaves fewer than 10 ps of production after the first "
                         f"{discard:g} ps")
    sec["ns"], sec["discard_ps"] = ns, discard
    pairs = sec["pairs"]
    if pairs != "undecided":
        if not isinstance(pairs, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
            raise InputError(f"md.prefsolv.pairs: {pairs!r}: a list of [solvating partner, candidate] pairs "
                             "or 'undecided'")
        sec["pairs"] = [tuple(p) for p in pairs]
    return sec


def settings_for(md: dict | None):
    """The run settings: the PMF preset's force field and protocol, with md.platform/threads."""
    from .pmf_settings import pmf_settings

    sec = prefsolv_config(md)
    over = {k: md[k] for k in ("platform", "threads", "charge_scale") if (md or {}).get(k) is not None}
    return pmf_settings(sec["preset"], **over)


def check_prefsolv_config(md: dict | None, library) -> list[ValidationError]:
    """Problems of ``md.prefsolv`` naming their key path: keys, values, library names and kinds."""
    try:
        sec = prefsolv_config(md)
    except (InputError, TypeError, ValueError) as exc:
        return [ValidationError(str(exc), source="config")]
    errors = []
    pairs = sec["pairs"] if isinstance(sec["pairs"], list) else []
    for i, pair in enumerate(pairs):
        if pair[0] == pair[1]:
            errors.append(ValidationError(f"md.prefsolv.pairs[{i}]: {pair[0]} twice: two different solvents",
                                          source="config"))
        for j, n in enumerate(pair):
            errors += _check_name(library, n, f"md.prefsolv.pairs[{i}][{j}]", ("solvent", "diluent"), density=True)
    for i, n in enumerate(sec["salts"] or []):
        errors += _check_name(library, n, f"md.prefsolv.salts[{i}]", ("salt",))
    return errors


def _check_name(library, name, where: str, kinds: tuple, density: bool = False) -> list[ValidationError]:
    try:
        m = library.resolve(name)
    except Exception:  # noqa: BLE001 - the library's own "unknown name" message
        return [ValidationError(f"{where}: {name!r} is not in the library", source="config")]
    if m.kind not in kinds:
        return [ValidationError(f"{where}: {name} is of kind {m.kind}, not {' or '.join(kinds)}", source="config")]
    if density and not m.density_g_per_mL:
        return [ValidationError(f"{where}: {name} has no density in the library (the blend box is sized from it)",
                                source="config")]
    return []
