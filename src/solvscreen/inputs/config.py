"""The workflow config: :func:`load_config` (validated against
``schemas/config.schema.yaml``, defaults filled in), config files, the cross-checks of a
config against its library and formulations, :func:`validate_inputs` and :func:`summary`.

Everything a run needs is checked before any computation: the Snakefile calls
:func:`solvscreen.interface.inputs.validate_all` (these checks and the stage packages')
at parse time and ``solvscreen validate`` prints :func:`summary`. Every problem of a file
is collected and raised together as one :class:`~solvscreen.core.errors.ValidationErrors`;
each entry names the file, the row and the reason.
"""

from __future__ import annotations

import copy
from importlib import resources
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ..core.errors import InputError, ValidationError, ValidationErrors
from ..core.records import parse_number
from .schema import KINDS, LIQUID_KINDS, PathLike, _DefaultFillingValidator, _as_paths, load_schema
from .library import Library, _load_library, size_problem
from .formulations import Formulation, _load_formulations


# ============================================================================ config
def _key_path(path: Iterable[Any]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _config_errors(err: jsonschema.ValidationError) -> list[ValidationError]:
    """User-facing errors for one schema violation, naming the config key path."""
    path = list(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = list(err.schema.get("properties", {}))
        return [ValidationError(f"{_key_path(path + [k])}: unknown key; allowed keys here: {', '.join(allowed)}",
                                source="config")
                for k in err.instance if k not in allowed]
    if err.validator in ("oneOf", "anyOf") and "description" in err.schema:
        reason = f"{err.instance!r} is not valid; expected {err.schema['description']}"
    else:
        reason = err.message
    return [ValidationError(f"{_key_path(path)}: {reason}", source="config")]


_TEXT_VALUES = {
    "integer": lambda t: int(t) if t.strip().lstrip("+-").isdigit() else None,
    "number": parse_number,  # finite only
    "boolean": lambda t: {"true": True, "false": False}.get(t.strip().lower()),
}


def _read_text_values(cfg: dict, validator) -> None:
    """Read numbers and booleans given as text where the schema asks for them, in place.

    Snakemake's ``--config 'md={"threads": 2}'`` hands values nested in a mapping over as
    text (``'2'``); a text that is exactly an integer, a finite number or true/false, at a
    key whose schema type is that, is read as one. Any other text stays, and fails validation.
    Each such value is a leaf, so one pass over the schema errors finds them all.
    """
    for err in list(validator.iter_errors(cfg)):
        if err.validator != "type" or not isinstance(err.instance, str) or not err.absolute_path:
            continue
        types = [err.validator_value] if isinstance(err.validator_value, str) else list(err.validator_value)
        value = next((v for v in (_TEXT_VALUES[t](err.instance) for t in types if t in _TEXT_VALUES)
                      if v is not None), None)
        if value is None:
            continue
        *parents, last = err.absolute_path
        node = cfg
        for key in parents:
            node = node[key]
        node[last] = value


def _resolve_path(base_dir: PathLike, value: str) -> str:
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else Path(base_dir) / p)


#: The embedded default tables: the config's default paths (in the checkout) and the names of
#: their copies shipped with the package (``solvscreen/data/``: links to ``molecules/`` in a
#: checkout, the files themselves in a built wheel).
PACKAGED_TABLES = {"molecules/library.csv": "library.csv", "molecules/formulations.csv": "formulations.csv"}


def packaged_table(default_path: str) -> str:
    """The package's copy of the default table ``default_path`` (a key of :data:`PACKAGED_TABLES`)."""
    return str(resources.files("solvscreen").joinpath("data", PACKAGED_TABLES[default_path]))


def _resolve_table(base_dir: PathLike, value: str) -> str:
    """A table path of the config, resolved like :func:`_resolve_path`; the default library or
    formulations table that is not there (a command run outside the checkout) is the package's copy."""
    path = _resolve_path(base_dir, value)
    if value in PACKAGED_TABLES and not Path(path).exists():
        return packaged_table(value)
    return path


def load_config(config: Mapping | None, base_dir: PathLike = ".") -> dict:
    """Validate a workflow config against the schema and fill in its defaults.

    Parameters
    ----------
    config
        The config mapping (e.g. Snakemake's ``config``); not modified.
    base_dir
        Directory that relative paths (``library``, ``extra_libraries``, ``formulations``,
        ``extra_formulations``, ``results``) are resolved against. With the default
        ``"."`` relative paths stay relative, so calling this again on its own output
        changes nothing. The default library and formulations tables (``molecules/...``)
        that are not there, as outside the checkout, are the copies shipped with the package.

    Returns
    -------
    dict
        A new, complete config.

    Raises
    ------
    ValidationErrors
        One entry per problem, each naming the key path (``engine.method``) and reason.
    """
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise ValidationErrors([ValidationError(
            f"the config must be a mapping of keys to values, not {type(config).__name__}", source="config")])
    cfg = copy.deepcopy(dict(config))
    validator = _DefaultFillingValidator(load_schema("config"))
    _read_text_values(cfg, validator)
    errors = [e for err in sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path)))
              for e in _config_errors(err)]
    if errors:
        raise ValidationErrors(errors)
    for key in ("library", "formulations"):
        cfg[key] = _resolve_table(base_dir, cfg[key])
    cfg["results"] = _resolve_path(base_dir, cfg["results"])
    for key in ("extra_libraries", "extra_formulations"):
        cfg[key] = [_resolve_path(base_dir, p) for p in cfg[key]]
    return cfg


def _check_settings(config: dict, errors: list[ValidationError]) -> None:
    """Settings the schema cannot express (combinations) are checked by their own classes."""
    from ..xtb.engine import EngineSettings
    from ..xtb.structures import ConformerSettings

    for key, cls in (("engine", EngineSettings), ("conformers", ConformerSettings)):
        try:
            cls(**config[key])
        except (InputError, TypeError, ValueError) as exc:
            errors.append(ValidationError(f"{key}: {exc}", source="config"))


def _existing(config: dict, key: str, errors: list[ValidationError]) -> list[str]:
    values = config[key] if isinstance(config[key], list) else [config[key]]
    found = []
    for i, p in enumerate(values):
        if Path(p).is_file():
            found.append(p)
        else:
            where = key if key in ("library", "formulations") else f"{key}[{i}]"
            errors.append(ValidationError(f"{where}: no such file {p!r}", source="config"))
    return found


def _check_selection(config: dict, library: Library, broken: set[str], errors: list[ValidationError]) -> None:
    """``molecules`` and ``cations`` must name library rows of the right kind."""
    selections = [("cations", config["cations"])]
    if config["molecules"] != "all":
        selections.append(("molecules", config["molecules"]))
    for key, names in selections:
        for i, name in enumerate(names):
            mol = library.get(name)
            if mol is None:
                if name.lower() not in broken:
                    errors.append(ValidationError(f"{key}[{i}]: unknown molecule {name!r}", source="config"))
            elif key == "cations" and mol.kind != "cation":
                errors.append(ValidationError(f"cations[{i}]: {name!r} is {'an' if mol.kind[0] in 'aeiou' else 'a'} {mol.kind}, not a cation "
                                              f"(cations: {', '.join(library.names('cation'))})", source="config"))
            elif key == "molecules" and mol.kind == "salt":
                errors.append(ValidationError(
                    f"molecules[{i}]: {name!r} is a salt; salts are not computed on their own, list its ions "
                    f"({mol.cation}, {mol.anion}) or a formulation that uses it", source="config"))


def check_molecule_size(config: dict, library: Library, formulations: list[Formulation]) -> list[ValidationError]:
    """Size guard: every molecule computed on its own has at most ``max_atoms`` atoms (H included)."""
    return [ValidationError(reason, source=m.source, row=m.row) for m in library if m.kind != "salt"
            and (reason := size_problem(m.name, m.n_atoms, config["max_atoms"])) is not None]


def _reference(library: Library, key: str, name: str, kinds: tuple[str, ...]) -> ValidationError | None:
    """An error when the config key ``key`` names no library row of one of ``kinds``."""
    mol = library.get(name)
    if mol is None:
        try:
            library.resolve(name)
        except ValidationError as exc:
            return ValidationError(f"{key}: {exc.reason}", source="config")
    if mol.kind not in kinds:
        names = ", ".join(n for k in kinds for n in library.names(k))
        return ValidationError(f"{key}: {name!r} is a{'n' if mol.kind[0] in 'aeiou' else ''} {mol.kind}, "
                               f"not a{'n' if kinds[0][0] in 'aeiou' else ''} {' or '.join(kinds)} ({names})",
                               source="config")
    return None


def check_references(config: dict, library: Library, formulations: list[Formulation]) -> list[ValidationError]:
    """Every config value that names a library row names one of the right kind (key path in the message)."""
    refs: list[tuple[str, str, tuple[str, ...]]] = []
    refs += [(f"binding.exchange_anions[{i}]", n, ("anion",))
             for i, n in enumerate((config.get("binding") or {}).get("exchange_anions", ["FSI"]))]
    ranking, grid = config.get("ranking") or {}, config.get("grid") or {}
    if ranking.get("salt") is not None:
        refs.append(("ranking.salt", ranking["salt"], ("salt",)))
    for key in ("k_metal_stable_references", "k_metal_reduced_references"):
        names = list(ranking.get(key) or [])
        # the default lists name molecules of the default library: one a smaller library lacks leaves
        # the K-metal verdict undecided (said in the ranking's reasons); a list you set must name rows
        default = names == load_schema("config")["properties"]["ranking"]["properties"][key]["default"]
        refs += [(f"ranking.{key}[{i}]", n, LIQUID_KINDS) for i, n in enumerate(names)
                 if not (default and n not in library)]
    # the classification's solvating-power references: one text of ','- or '|'-separated names
    # (solvscreen.classify.solvating.reference_band reads it the same way)
    text = (config.get("classification") or {}).get("solvating_power_references")
    if text is not None:
        names = [n.strip() for n in str(text).replace(",", "|").split("|") if n.strip()]
        default = text == load_schema("config")["properties"]["classification"]["properties"][
            "solvating_power_references"]["default"]
        refs += [(f"classification.solvating_power_references[{i}]", n, LIQUID_KINDS) for i, n in enumerate(names)
                 if not (default and n not in library)]
    refs += [(f"grid.salts[{i}]", n, ("salt",)) for i, n in enumerate(grid.get("salts") or [])]
    for key in ("solvents", "diluents"):
        if grid.get(key, "all") != "all":
            refs += [(f"grid.{key}[{i}]", n, LIQUID_KINDS) for i, n in enumerate(grid[key])]
    return [e for key, name, kinds in refs if (e := _reference(library, key, name, kinds)) is not None]


ConfigChecker = Callable[[dict, Library, "list[Formulation]"], "list[ValidationError]"]

#: The checks of this module that :func:`validate_inputs` runs on a complete config with its
#: library and formulations; each returns its errors (config key path or file and row in each).
#: The stage packages' section checks (md/, dft/) are added by :mod:`solvscreen.interface.inputs`, which
#: sits above them: this module knows no stage.
BASE_CONFIG_CHECKERS: list[ConfigChecker] = [check_molecule_size, check_references]


def validate_inputs(config: Mapping, checkers: "list[ConfigChecker]") -> tuple[Library, list[Formulation]]:
    """Validate everything a run needs; return the library and the formulations. The entry
    point is :func:`solvscreen.interface.inputs.validate_all` (these checks and every stage's).

    ``config`` may be raw or already passed through :func:`load_config` (paths already
    resolved stay as they are). Checks the config, the settings, every library and
    formulation file, that the config's ``molecules`` and ``cations`` exist, then every
    checker in ``checkers`` (size guard, cross-references, stage sections).

    Raises
    ------
    ValidationErrors
        All problems found, across all files.
    """
    config = load_config(config)
    errors: list[ValidationError] = []
    _check_settings(config, errors)
    library_paths = _existing(config, "library", errors) + _existing(config, "extra_libraries", errors)
    formulation_paths = (_existing(config, "formulations", errors)
                         + _existing(config, "extra_formulations", errors))
    library, lib_errors, broken = _load_library(library_paths)
    errors.extend(lib_errors)
    formulations, form_errors = _load_formulations(formulation_paths, library, broken)
    errors.extend(form_errors)
    _check_selection(config, library, broken, errors)
    for checker in checkers:
        errors.extend(e for e in checker(config, library, formulations)
                      if not (e.source == "config" and _names_broken_row(e, broken)))
    if errors:
        raise ValidationErrors(errors)
    return library, formulations


def _names_broken_row(error: ValidationError, broken: set[str]) -> bool:
    """True for an "unknown molecule" error about a row already reported as invalid."""
    return "unknown molecule" in error.reason and any(f"'{b}'" in error.reason.lower() for b in broken)


def read_config_files(paths: Iterable[PathLike]) -> dict:
    """Merge YAML config files (later ones on top, nested sections merged like Snakemake's).

    A missing file or malformed YAML is a :class:`ValidationErrors` naming the file (and
    the line), never a traceback.
    """
    config: dict = {}
    errors: list[ValidationError] = []
    for path in _as_paths(paths):
        try:
            text = Path(path).read_text()
        except OSError as exc:
            errors.append(ValidationError(f"cannot read config file: {exc.strerror or exc}", source=str(path)))
            continue
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            errors.append(ValidationError(f"malformed YAML: {where}{problem}", source=str(path)))
            continue
        if data is None:
            continue
        if not isinstance(data, Mapping):
            errors.append(ValidationError(f"a config file must be a mapping of keys to values, "
                                          f"not {type(data).__name__}", source=str(path)))
            continue
        deep_update(config, data)
    if errors:
        raise ValidationErrors(errors)
    return config


def deep_update(base: dict, new: Mapping) -> dict:
    for k, v in new.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            deep_update(base[k], v)
        else:
            base[k] = copy.deepcopy(v) if isinstance(v, (dict, list)) else v
    return base


# ============================================================================ summary
def summary(library: Library, formulations: list[Formulation]) -> str:
    """Human-readable overview of a validated library and its formulations."""
    lines = [f"library: {len(library)} molecules ({len(library.computed_names())} computed individually)"]
    for kind in KINDS:
        mols = [library.molecules[n] for n in library.names(kind)]
        if not mols:
            continue
        lines.append(f"  {kind} ({len(mols)}):")
        for m in mols:
            extra = [f"aliases {', '.join(m.aliases)}"] if m.aliases else []
            if m.density_g_per_mL is not None:
                extra.append(f"{m.density_g_per_mL:g} g/mL" + (" (estimate)" if m.density_is_estimate else ""))
            if m.kind == "salt":
                extra.append(f"{m.cation} + {m.anion}")
            lines.append(f"    {m.name:<10} {m.canonical_smiles}" + (f"  [{'; '.join(extra)}]" if extra else ""))
    lines.append(f"formulations: {len(formulations)}")
    for f in formulations:
        comps = ":".join(n for n in f.component_names)
        ratios = ":".join(f"{r:g}" for _, r in f.components)
        ratio = f" {ratios} ({f.ratio_basis}{'' if f.ratio_reported is not False else ', assumed'})" \
            if len(f.components) > 1 else ""
        cls = f"  reported {f.reported_class}" if f.reported_class else ""
        lines.append(f"  {f.id:<22} {f.concentration_mol_per_L:g} M {f.salt} in {comps}{ratio}{cls}")
    return "\n".join(lines)
