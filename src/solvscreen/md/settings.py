"""MD presets and the ``md`` config section.

Presets (``md.preset``); every number is a setting of :class:`MDSettings`:

============  ============  ==============  ==============  =======  ======================
preset        target atoms  equilibration   production      seeds    meant for
============  ============  ==============  ==============  =======  ======================
smoke         1,500         10 ps (+5 hot)  20 ps           1        CI: the pipeline works
screening     4,000         1 ns (+50 hot)  2 ns            1        ranking formulations
production    6,500         5 ns (+100 hot) 20 ns           2        numbers to report
============  ============  ==============  ==============  =======  ======================

"hot" is an NVT stretch at ``anneal_temperature_K`` (400 K) after minimization that
scrambles the Packmol start (ions start far apart from each other in a Packmol box, and
ion pairing at 298 K takes hundreds of ps to develop from there). Speed, one CPU thread
(measured, shared/reference/measured_facts.md): ~23 ns/day at 1.6k atoms, ~5 ns/day at
6.5k atoms, so *smoke* takes ~2 min on one core, *screening* ~1 day on one core (hours on
a GPU) and *production* is GPU/cluster work. Short runs rank formulations; they do not
converge speciation (independent starts of 1 M KFSI/DME differ by ~0.15 in anion CN).

Physical settings shared by all presets: GAFF2 + AM1-BCC (antechamber ``-j 5``),
Joung-Cheatham ions (TIP3P set), ion charges scaled by ``charge_scale`` (0.8: ECC,
Leontyev & Stuchebrukhov, Phys. Chem. Chem. Phys. 2011, 13, 2613), PME with a 1.0 nm
real-space cutoff, bonds to H constrained, 2 fs steps, Langevin middle integrator
(1/ps friction) at 298.15 K, Monte Carlo barostat at 1 bar every 25 steps.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import asdict, dataclass

from ..errors import InputError, ValidationError

PRESETS = ("smoke", "screening", "production")
PLATFORMS = ("auto", "CUDA", "OpenCL", "CPU", "Reference")

JC_CATIONS = ("K+", "Li+", "Na+")
"""Cations with Joung-Cheatham parameters (frcmod.ionsjc_tip3p)."""


@dataclass(frozen=True)
class MDSettings:
    """Everything that decides an MD run (a preset, plus the ``md`` config overrides)."""

    preset: str = "smoke"
    target_atoms: int = 1500
    anneal_ps: float = 5.0  # NVT at anneal_temperature_K after minimization
    equilibration_ps: float = 10.0  # NPT at temperature_K before production
    production_ps: float = 20.0
    seeds: tuple[int, ...] = (1,)
    frame_interval_ps: float = 0.5  # trajectory frame spacing in production
    chunk_ps: float = 5.0  # checkpoint spacing (a killed job loses at most one chunk)
    temperature_K: float = 298.15
    anneal_temperature_K: float = 400.0
    pressure_bar: float = 1.0
    barostat_interval_steps: int = 25
    friction_per_ps: float = 1.0
    timestep_fs: float = 2.0
    cutoff_nm: float = 1.0
    charge_scale: float = 0.8
    packing_volume_factor: float = 1.1  # Packmol box volume / nominal volume (NPT compresses)
    packmol_tolerance_A: float = 2.0
    # plateau check of the NPT equilibration density: the mean density of the last quarter
    # of equilibration and of the quarter before must agree within this relative tolerance
    plateau_rel_tol: float = 0.01
    max_equilibration_extensions: int = 2  # extra equilibration blocks when not on a plateau
    n_blocks: int = 5  # block averaging for standard errors
    rdf_range_A: float = 8.0
    rdf_bin_A: float = 0.05
    platform: str = "auto"  # auto = CUDA, then OpenCL, then CPU
    threads: int = 1  # CPU platform threads

    def __post_init__(self) -> None:
        if self.preset not in PRESETS and not self.preset.startswith("custom"):
            raise InputError(f"md.preset: unknown preset {self.preset!r}; presets: {', '.join(PRESETS)}")
        if self.platform not in PLATFORMS:
            raise InputError(f"md.platform: {self.platform!r} is not one of {', '.join(PLATFORMS)}")
        if not 0 < self.charge_scale <= 1:
            raise InputError(f"md.charge_scale: {self.charge_scale} must be in (0, 1]")
        for key in ("target_atoms", "production_ps", "timestep_fs", "cutoff_nm", "chunk_ps",
                    "frame_interval_ps", "temperature_K", "threads", "n_blocks"):
            if not getattr(self, key) > 0:
                raise InputError(f"md.{key}: must be > 0, got {getattr(self, key)!r}")
        if not self.seeds:
            raise InputError("md.seeds: at least one seed")
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))

    @property
    def steps_per_ps(self) -> int:
        return int(round(1000.0 / self.timestep_fs))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["seeds"] = list(self.seeds)
        return d

    def physics_hash(self, seed: int) -> str:
        """Hash of what decides a trajectory (not platform/threads): a checkpoint is only
        resumed by a run with the same hash."""
        d = self.to_dict()
        for k in ("platform", "threads", "n_blocks", "rdf_range_A", "rdf_bin_A", "preset", "seeds"):
            d.pop(k)
        d["seed"] = seed
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


_PRESET_VALUES: dict[str, dict] = {
    "smoke": dict(target_atoms=1500, anneal_ps=5.0, equilibration_ps=10.0, production_ps=20.0,
                  seeds=(1,), frame_interval_ps=0.5, chunk_ps=5.0),
    "screening": dict(target_atoms=4000, anneal_ps=50.0, equilibration_ps=1000.0, production_ps=2000.0,
                      seeds=(1,), frame_interval_ps=2.0, chunk_ps=100.0),
    "production": dict(target_atoms=6500, anneal_ps=100.0, equilibration_ps=5000.0, production_ps=20000.0,
                       seeds=(1, 2), frame_interval_ps=5.0, chunk_ps=500.0),
}

CONFIG_KEYS = ("preset", "formulations", "charge_scale", "platform", "threads", "overrides")


def preset(name: str, **overrides) -> MDSettings:
    """The settings of preset ``name`` with ``overrides`` (MDSettings field names)."""
    if name not in _PRESET_VALUES:
        raise InputError(f"md.preset: unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    known = {f.name for f in dataclasses.fields(MDSettings)}
    bad = sorted(set(overrides) - known)
    if bad:
        raise InputError(f"md.overrides: unknown setting(s) {bad}; known: {sorted(known)}")
    defaults = MDSettings()
    overrides = {k: _coerce(k, v, getattr(defaults, k)) for k, v in overrides.items()}
    values = {**_PRESET_VALUES[name], **overrides, "preset": name}
    return MDSettings(**values)


def _coerce(key: str, value, default):
    """Snakemake's ``--config md={...}`` hands nested values over as strings: convert them
    to the type of the setting (a clear error when they do not convert)."""
    if not isinstance(value, str) or isinstance(default, str):
        return value
    try:
        if isinstance(default, bool):
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return value.lower() == "true"
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            import yaml

            return tuple(int(x) for x in yaml.safe_load(value))
    except (ValueError, TypeError) as exc:
        raise InputError(f"md.overrides.{key}: {value!r} is not a {type(default).__name__}") from exc
    return value


def settings_from_config(md: dict | None) -> MDSettings:
    """MDSettings from the config's ``md`` section (preset + charge_scale/platform/threads/overrides)."""
    md = dict(md or {})
    over = dict(md.get("overrides") or {})
    for key in ("charge_scale", "platform", "threads"):
        if md.get(key) is not None:
            over[key] = md[key]
    return preset(md.get("preset", "smoke"), **over)


def selected_formulations(md: dict | None, formulation_ids: list[str]) -> list[str]:
    """Formulation ids the ``md`` section switches MD on for (none by default)."""
    sel = (md or {}).get("formulations", [])
    if sel == "all":
        return list(formulation_ids)
    return [f for f in formulation_ids if f in set(sel or [])]


def check_config(config: dict, library, formulations) -> list[ValidationError]:
    """Problems in the config's ``md`` section, each naming its key path; [] when fine.

    Checked: the preset exists, overrides name MDSettings fields with valid values, every
    listed formulation id exists, and each selected formulation's salt has a cation with
    Joung-Cheatham parameters (K+, Li+, Na+).
    """
    md = config.get("md") or {}
    errors: list[ValidationError] = []
    if not isinstance(md, dict):
        return [ValidationError(f"md: must be a mapping, not {type(md).__name__}", source="config")]
    for key in md:
        if key not in CONFIG_KEYS:
            errors.append(ValidationError(f"md.{key}: unknown key; allowed keys here: {', '.join(CONFIG_KEYS)}",
                                          source="config"))
    name = md.get("preset", "smoke")
    if name not in PRESETS:
        errors.append(ValidationError(f"md.preset: unknown preset {name!r}; presets: {', '.join(PRESETS)}",
                                      source="config"))
    else:
        try:
            settings_from_config({k: v for k, v in md.items() if k in CONFIG_KEYS})
        except (InputError, TypeError, ValueError) as exc:
            errors.append(ValidationError(f"md: {exc}", source="config"))
    by_id = {f.id: f for f in formulations}
    sel = md.get("formulations", [])
    if sel != "all":
        if not isinstance(sel, list):
            errors.append(ValidationError(f"md.formulations: expected 'all' or a list of formulation ids, "
                                          f"got {sel!r}", source="config"))
            sel = []
        for i, fid in enumerate(sel):
            if fid not in by_id:
                errors.append(ValidationError(f"md.formulations[{i}]: unknown formulation id {fid!r}; "
                                              f"known: {', '.join(by_id)}", source="config"))
    for i, fid in enumerate(selected_formulations(md, list(by_id)) if sel == "all" else sel):
        f = by_id.get(fid)
        if f is None:
            continue
        salt = library.resolve(f.salt)
        if salt.cation not in JC_CATIONS:
            where = "md.formulations" if sel == "all" else f"md.formulations[{i}]"
            errors.append(ValidationError(
                f"{where}: formulation {fid}: cation {salt.cation!r} of {salt.name} has no Joung-Cheatham "
                f"parameters (MD knows {', '.join(JC_CATIONS)})", source="config"))
    return errors


# Cluster time limit per MD job (minutes, first attempt) for profiles/slurm: the preset's
# simulated time (all seeds) at 100 ns/day, a conservative GPU speed for 4-6.5k atoms
# with OpenMM (CPU, one thread: ~5-20 ns/day, see bench/bench_md.py), times 2, at least
# 30 min. A job that hits the limit is resubmitted (retries) and resumes from its checkpoint.
RUNTIME_NS_PER_DAY = 100.0


def runtime_minutes(name: str) -> int:
    s = preset(name)
    ns = (s.anneal_ps + s.equilibration_ps + s.production_ps) * len(s.seeds) / 1000.0
    return int(max(30, round(2 * ns / RUNTIME_NS_PER_DAY * 24 * 60)))
