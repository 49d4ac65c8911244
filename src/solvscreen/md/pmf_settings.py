"""Settings of the K+-anion PMF (:mod:`solvscreen.md.pmf`) and the config's ``md.pmf`` section.

Kept apart from the simulation code so that the config check (:mod:`solvscreen.md.settings`)
reads them without importing OpenMM-facing modules.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from ..core.errors import InputError, ValidationError
from ..core.settings import ConfigSection, known_keys


@dataclass(frozen=True)
class PMFSettings(ConfigSection):
    """Everything that decides a K+-anion PMF run (preset ``screening``).

    Built from a preset and the ``md.pmf.overrides`` mapping (:meth:`from_preset`);
    :meth:`from_dict` refuses unknown keys and reads numbers given as text (:meth:`_prepare`);
    the checks are in ``__post_init__``."""

    SECTION = "md.pmf.overrides"

    box_edge_A: float = 24.0  # solvent count: this cube at the solvent's density
    r_min_A: float = 3.0
    r_max_A: float = 9.0  # < half the box edge (minimum image)
    window_spacing_A: float = 0.5
    k_kcal_per_mol_A2: float = 10.0  # sigma = sqrt(kT/k) = 0.24 A at 298 K: neighbours overlap
    pull_ps: float = 20.0
    equilibration_ps: float = 10.0
    round_ps: float = 50.0  # production added to every window per round
    max_production_ps: float = 150.0  # per window: the cap of the rounds
    sample_interval_ps: float = 0.2
    temperature_K: float = 298.15
    pressure_bar: float = 1.0
    barostat_interval_steps: int = 25
    friction_per_ps: float = 1.0
    timestep_fs: float = 4.0
    hydrogen_mass_amu: float = 3.024
    cutoff_nm: float = 0.9
    charge_scale: float = 0.8
    bin_A: float = 0.05
    reference_width_A: float = 1.0
    contact_max_A: float = 4.6  # the contact minimum is looked for at r <= this
    n_bootstrap: int = 200
    n_blocks: int = 10
    converged_tol_kcal_per_mol: float = 0.5  # ~ kT: halves agree and the interval is narrow
    seed: int = 1
    platform: str = "auto"
    threads: int = 1

    def __post_init__(self) -> None:
        if not self.r_min_A < self.r_max_A:
            raise InputError("md_pmf: r_min_A must be below r_max_A")
        if self.r_max_A >= self.box_edge_A / 2 - 1.0:
            raise InputError(f"md_pmf: r_max_A {self.r_max_A} must stay 1 A below half the box edge "
                             f"({self.box_edge_A / 2} A) for the minimum image")
        if self.box_edge_A < 2 * self.cutoff_nm * 10 + 2:
            raise InputError(f"md_pmf: box_edge_A {self.box_edge_A} too small for a {self.cutoff_nm} nm cutoff")
        if self.timestep_fs > 2.5 and not self.hydrogen_mass_amu:
            raise InputError("md_pmf: a timestep above 2.5 fs needs hydrogen mass repartitioning")
        for key in ("window_spacing_A", "k_kcal_per_mol_A2", "round_ps", "sample_interval_ps", "bin_A",
                    "threads", "temperature_K"):
            if not getattr(self, key) > 0:
                raise InputError(f"md_pmf.{key}: must be > 0, got {getattr(self, key)!r}")
        if self.max_production_ps < self.round_ps:
            raise InputError("md_pmf: max_production_ps must be >= round_ps")

    #: settings that change what a window samples: a work directory made with other values is not resumed
    SAMPLING_KEYS = ("box_edge_A", "r_min_A", "r_max_A", "window_spacing_A", "k_kcal_per_mol_A2", "pull_ps",
                     "equilibration_ps", "sample_interval_ps", "temperature_K", "pressure_bar",
                     "barostat_interval_steps", "friction_per_ps", "timestep_fs", "hydrogen_mass_amu", "cutoff_nm",
                     "charge_scale", "seed")

    def sampling_stamp(self) -> str:
        return json.dumps({k: getattr(self, k) for k in self.SAMPLING_KEYS}, sort_keys=True)

    @property
    def centers_A(self) -> list[float]:
        n = int(round((self.r_max_A - self.r_min_A) / self.window_spacing_A))
        return [round(self.r_min_A + i * self.window_spacing_A, 4) for i in range(n + 1)]

    @property
    def steps_per_ps(self) -> int:
        return int(round(1000.0 / self.timestep_fs))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_preset(cls, preset: str = "screening", overrides: dict | None = None) -> "PMFSettings":
        """The settings of ``preset`` with ``overrides`` (PMFSettings fields)."""
        if preset not in PMF_PRESETS:
            raise InputError(f"md.pmf.preset: unknown preset {preset!r}; presets: {', '.join(PMF_PRESETS)}")
        return cls(**{**PMF_PRESETS[preset], **cls._prepare(known_keys(cls, overrides, cls.SECTION))})

    @classmethod
    def _prepare(cls, d: dict) -> dict:
        """Numbers given as text (Snakemake's ``--config`` hands nested values over so) read as numbers."""
        from dataclasses import fields

        from ..core.records import parse_number

        types = {f.name: type(f.default) for f in fields(cls)}
        values = {}
        for k, v in d.items():
            if isinstance(v, str) and types[k] in (int, float):
                x = parse_number(v)
                if x is None or (types[k] is int and x != int(x)):
                    raise InputError(f"md.pmf.overrides.{k}: {v!r} is not a {types[k].__name__}")
                v = types[k](x)
            values[k] = v
        return values


PMF_PRESETS = {
    # a few minutes: tests and a first look (not converged)
    # (k = 3 kcal/mol/A^2: sigma 0.44 A, so windows 1 A apart still overlap)
    "smoke": dict(box_edge_A=22.0, r_min_A=3.0, r_max_A=7.0, window_spacing_A=1.0, k_kcal_per_mol_A2=3.0, pull_ps=4.0,
                  equilibration_ps=2.0, round_ps=6.0, max_production_ps=6.0, n_bootstrap=50),
    "screening": {},
}


def pmf_settings(preset: str = "screening", **overrides) -> PMFSettings:
    """The settings of ``preset`` with ``overrides`` (:meth:`PMFSettings.from_preset`)."""
    return PMFSettings.from_preset(preset, overrides)


PMF_DEFAULTS = {"solvents": [], "salts": ["KFSI"], "reference": "DME", "preset": "screening", "overrides": {}}


def pmf_config(md: dict | None) -> dict:
    """The ``md.pmf`` section with its defaults (raises InputError on a bad preset or override)."""
    sec = {**PMF_DEFAULTS, **((md or {}).get("pmf") or {})}
    if sec["preset"] not in PMF_PRESETS:
        raise InputError(f"md.pmf.preset: unknown preset {sec['preset']!r}; presets: {', '.join(PMF_PRESETS)}")
    pmf_settings(sec["preset"], **_threads(md, sec["overrides"]))  # refuses unknown or bad overrides
    return sec


def _threads(md: dict | None, overrides: dict) -> dict:
    over = dict(overrides or {})
    for key in ("platform", "threads", "charge_scale"):
        if (md or {}).get(key) is not None and key not in over:
            over[key] = md[key]
    return over


def settings_for(md: dict | None):
    sec = pmf_config(md)
    return pmf_settings(sec["preset"], **_threads(md, sec["overrides"]))


def check_pmf_config(md: dict | None, library) -> list[ValidationError]:
    """Problems of ``md.pmf`` naming their key path: presets, overrides, library names and kinds."""
    errors = []
    raw = (md or {}).get("pmf") or {}
    unknown = sorted(set(raw) - set(PMF_DEFAULTS))
    for k in unknown:
        errors.append(ValidationError(f"md.pmf.{k}: unknown key; allowed: {', '.join(PMF_DEFAULTS)}", source="config"))
    try:
        sec = pmf_config(md)
    except (InputError, TypeError, ValueError) as exc:
        return errors + [ValidationError(f"md.pmf: {exc}", source="config")]
    if isinstance(sec["solvents"], str) and sec["solvents"] != "undecided":
        errors.append(ValidationError(f"md.pmf.solvents: {sec['solvents']!r}: a list of names or 'undecided'",
                                      source="config"))
    for key, kinds in (("solvents", ("solvent", "diluent")), ("salts", ("salt",))):
        names = sec[key] if isinstance(sec[key], list) else []
        for i, n in enumerate(names):
            try:
                m = library.resolve(n)
            except Exception:  # noqa: BLE001 - the library's own "unknown name" message
                errors.append(ValidationError(f"md.pmf.{key}[{i}]: {n!r} is not in the library", source="config"))
                continue
            if m.kind not in kinds:
                errors.append(ValidationError(f"md.pmf.{key}[{i}]: {n} is of kind {m.kind}, not {' or '.join(kinds)}",
                                              source="config"))
            elif key == "solvents" and not m.density_g_per_mL:
                errors.append(ValidationError(f"md.pmf.solvents[{i}]: {n} has no density in the library "
                                              "(the PMF box is sized from it)", source="config"))
    if sec["solvents"] and sec["reference"] and sec["reference"] != "undecided":
        try:
            library.resolve(sec["reference"])
        except Exception:  # noqa: BLE001
            errors.append(ValidationError(f"md.pmf.reference: {sec['reference']!r} is not in the library", source="config"))
    return errors


