"""MD presets and the ``md`` config section.

Presets (``md.preset``); every number is a setting of :class:`MDSettings`:

============  =====  ==========  ==================  ==========================  =========================
preset        atoms  step        starts              production                  meant for
============  =====  ==========  ==================  ==========================  =========================
smoke         1,500  2 fs        1 (random, 400 K)   20 ps                       CI: the pipeline works
screening     1,500  4 fs HMR    2 (aggregated,      50-ps chunks until decided  a 2-core workstation:
                                 dispersed) + DME    (>= 100 ps, cap 1 ns)       ~1 CPU-h when clear-cut
                                 reference
production    6,500  4 fs HMR    2 + DME reference   0.5-ns chunks until decided GPU or cluster
                                                     (>= 2 ns, cap 20 ns)
============  =====  ==========  ==================  ==========================  =========================

*smoke* keeps the old protocol (one Packmol start scrambled by ``anneal_ps`` at 400 K,
fixed production). *screening* and *production* run until decided
(:mod:`solvscreen.md.decide`): two starts that bracket the equilibrium ion pairing from
both sides (``aggregated``: the ions packed together in a salt-dense region, anion CN per
K+ above any equilibrium value; ``dispersed``: no ion within 4 A of another, CN 0), run in
chunks; after each chunk the anion CN interval spanned by both starts is compared with the
decision threshold (absolute, or against the same salt at the same concentration in a
conventional solvent, ``reference_solvent``, run by the same protocol: a difference in
which the force field's overall ion-pairing bias cancels), and the run stops when the
interval clears it (decided), when even an optimistic projection cannot clear it before
the cap (undecided), or at the cap.

Speed (bench/bench_md.py, measured): 1.5k atoms ~28 ns/day at 2 fs, ~47 ns/day at 4 fs
with hydrogen mass repartitioning (one CPU thread; docs/md.md).

Physical settings shared by all presets: GAFF2 + AM1-BCC (antechamber ``-j 5``),
Joung-Cheatham ions (TIP3P set), ion charges scaled by ``charge_scale`` (0.8: ECC,
Leontyev & Stuchebrukhov, Phys. Chem. Chem. Phys. 2011, 13, 2613), PME with a 1.0 nm
real-space cutoff, bonds to H constrained, Langevin middle integrator (1/ps friction) at
298.15 K, Monte Carlo barostat at 1 bar every 25 steps. ``hydrogen_mass_amu`` (3.024 amu
in screening and production) repartitions hydrogen mass for the 4 fs step.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from dataclasses import asdict, dataclass

from ..core.errors import InputError, ValidationError
from ..core.settings import ConfigSection, known_keys

PRESETS = ("smoke", "screening", "production")
STARTS = ("random", "aggregated", "dispersed")
PLATFORMS = ("auto", "CUDA", "OpenCL", "CPU", "Reference")

#: Hydrogen mass (amu) under hydrogen mass repartitioning: 3.024 amu is the value of
#: Hopkins, Le Grand, Walker & Roitberg, J. Chem. Theory Comput. 2015, 11, 1864 (4 fs with
#: bonds to H constrained); OpenMM's ``hydrogenMass`` takes it from the bonded heavy atom.
HMR_MASS_AMU = 3.024

JC_CATIONS = ("K+", "Li+", "Na+")
"""Cations with Joung-Cheatham parameters (frcmod.ionsjc_tip3p)."""


@dataclass(frozen=True)
class MDSettings(ConfigSection):
    """Everything that decides an MD run (a preset, plus the ``md`` config overrides).

    The ``md`` config section is not these fields but a preset and overrides of them:
    :meth:`from_config` reads it (once per process for one section), :meth:`from_preset` builds a
    preset with overrides, :meth:`from_dict` (the ``md.overrides`` mapping) refuses unknown keys
    and converts the strings Snakemake's ``--config`` hands over (:meth:`_prepare`); the checks
    are in ``__post_init__``."""

    SECTION = "md.overrides"

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
    hydrogen_mass_amu: float | None = None  # HMR (OpenMM hydrogenMass); None = natural masses
    # ---- run until decided (screening, production): see solvscreen.md.decide
    starts: tuple[str, ...] = ("random",)  # start kinds, one trajectory each per seed
    stop_rule: bool = False  # production in chunks until decided; production_ps is then the cap
    min_production_ps: float = 0.0  # no decision before this much production per start
    decision_z: float = 2.0  # interval half-width in block standard errors (~95 %)
    decision_window: float = 0.5  # the decision reads the last half of each start's production
    reference_solvent: str | None = None  # same salt and concentration in this solvent (e.g. DME)
    # a reference run stops when its CN interval is this narrow (half the excess threshold
    # md_reference_anion_cn_excess_min, 0.5), or at the cap; None: at the minimum production (its
    # bracketing interval, however wide, still bounds the reference value: decisions against it
    # are conservative, and a clear-cut formulation does not wait for a precise reference)
    reference_halfwidth: float | None = 0.25
    expected_ns_per_day: float = 40.0  # planning speed of one start on the preset's machine (SLURM runtime)
    gpu: bool = False  # SLURM: ask for one GPU per MD job

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
        object.__setattr__(self, "starts", tuple(self.starts))
        bad = [k for k in self.starts if k not in STARTS]
        if bad or not self.starts:
            raise InputError(f"md.starts: {bad or 'none'}: each start is one of {', '.join(STARTS)}")
        if self.stop_rule and len(self.runs) < 2:
            raise InputError("md.stop_rule needs at least two independent starts (md.starts x md.seeds)")
        if self.hydrogen_mass_amu is not None and not 1.0 <= self.hydrogen_mass_amu <= 4.5:
            raise InputError(f"md.hydrogen_mass_amu: {self.hydrogen_mass_amu} outside 1-4.5 amu")
        if self.timestep_fs > 2.5 and not self.hydrogen_mass_amu:
            raise InputError(f"md.timestep_fs {self.timestep_fs} fs needs hydrogen mass repartitioning "
                             "(md.hydrogen_mass_amu)")
        if not 0 < self.decision_window <= 1:
            raise InputError("md.decision_window must be in (0, 1]")

    @property
    def runs(self) -> list[tuple[int, str]]:
        """(seed, start kind) of every independent trajectory."""
        return [(seed, kind) for seed in self.seeds for kind in self.starts]

    @property
    def steps_per_ps(self) -> int:
        return int(round(1000.0 / self.timestep_fs))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["seeds"] = list(self.seeds)
        return d

    # ------------------------------------------------------------------ building it
    @classmethod
    def from_preset(cls, name: str, overrides: dict | None = None) -> "MDSettings":
        """The settings of preset ``name`` with ``overrides`` (MDSettings field names)."""
        if name not in _PRESET_VALUES:
            raise InputError(f"md.preset: unknown preset {name!r}; presets: {', '.join(PRESETS)}")
        over = cls._prepare(known_keys(cls, overrides, cls.SECTION))
        return cls(**{**_PRESET_VALUES[name], **over, "preset": name})

    @classmethod
    def from_config(cls, md: dict | None) -> "MDSettings":
        """MDSettings from the config's ``md`` section (preset + charge_scale/platform/threads/overrides),
        built and validated once per process for one section (the config check, the rules and the
        SLURM resources share it)."""
        md = dict(md or {})
        over = dict(md.get("overrides") or {})
        for key in ("charge_scale", "platform", "threads"):
            if md.get(key) is not None:
                over[key] = md[key]
        return _cached(md.get("preset", "smoke"), json.dumps(over, sort_keys=True, default=str))

    @classmethod
    def _prepare(cls, d: dict) -> dict:
        """Snakemake's ``--config md={...}`` hands nested values over as strings: convert each to
        the type of its setting (a clear error when it does not convert)."""
        defaults = cls()
        return {k: _coerce(k, v, getattr(defaults, k)) for k, v in d.items()}

    def physics_hash(self, seed: int) -> str:
        """Hash of what decides a trajectory (not platform/threads): a checkpoint is only
        resumed by a run with the same hash."""
        d = self.to_dict()
        # the production length is not physics: a longer run continues a shorter one
        for k in ("platform", "threads", "n_blocks", "rdf_range_A", "rdf_bin_A", "preset", "seeds", "starts",
                  "production_ps", "stop_rule", "min_production_ps", "decision_z", "decision_window",
                  "reference_solvent", "reference_halfwidth", "expected_ns_per_day", "gpu"):
            d.pop(k)
        d["seed"] = seed
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


_PRESET_VALUES: dict[str, dict] = {
    "smoke": dict(target_atoms=1500, anneal_ps=5.0, equilibration_ps=10.0, production_ps=20.0,
                  seeds=(1,), frame_interval_ps=0.5, chunk_ps=5.0),
    # 2-core workstation: a clear-cut formulation decides at min_production_ps (2 starts x
    # (50 + 100) ps + the same for its reference = 600 ps at ~40 ns/day per start on one
    # thread = ~0.4 CPU-h); a borderline one runs to the cap (2 x 1.05 ns + reference, <= 6 CPU-h)
    "screening": dict(target_atoms=1500, anneal_ps=0.0, equilibration_ps=50.0, production_ps=1000.0,
                      seeds=(1,), starts=("aggregated", "dispersed"), stop_rule=True, min_production_ps=100.0,
                      frame_interval_ps=1.0, chunk_ps=50.0, timestep_fs=4.0, hydrogen_mass_amu=HMR_MASS_AMU,
                      reference_solvent="DME", reference_halfwidth=None, expected_ns_per_day=40.0),
    "production": dict(target_atoms=6500, anneal_ps=0.0, equilibration_ps=500.0, production_ps=20000.0,
                       seeds=(1,), starts=("aggregated", "dispersed"), stop_rule=True, min_production_ps=2000.0,
                       frame_interval_ps=5.0, chunk_ps=500.0, timestep_fs=4.0, hydrogen_mass_amu=HMR_MASS_AMU,
                       reference_solvent="DME", expected_ns_per_day=200.0, gpu=True),
}

def _coerce(key: str, value, default):
    """``value`` converted to the type of ``default`` when it is a string from Snakemake's ``--config``."""
    if not isinstance(value, str) or isinstance(default, str):
        return value
    if default is None:  # optional numbers (hydrogen_mass_amu): a number or "none"
        if value.lower() in ("none", "null", ""):
            return None
        try:
            return float(value)
        except ValueError:
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

            items = yaml.safe_load(value)
            return tuple(int(x) for x in items) if key == "seeds" else tuple(str(x) for x in items)
    except (ValueError, TypeError) as exc:
        raise InputError(f"md.overrides.{key}: {value!r} is not a {type(default).__name__}") from exc
    return value


CONFIG_KEYS = ("preset", "formulations", "charge_scale", "platform", "threads", "overrides", "pmf", "jobs_per_gpu",
               "prefsolv")
#: The classification settings an MD run reads: the box composition (``composition``) and the
#: stop rule's thresholds (``runner.decision_setup``). The workflow passes only these to MD jobs,
#: so that a change elsewhere in the classification section does not rerun finished MD jobs.
MD_CLASSIFICATION_KEYS = ("composition", "md_anion_cn_min", "md_reference_anion_cn_excess_min")


def preset(name: str, **overrides) -> MDSettings:
    """The settings of preset ``name`` with ``overrides`` (:meth:`MDSettings.from_preset`)."""
    return MDSettings.from_preset(name, overrides)


def settings_from_config(md: dict | None) -> MDSettings:
    """MDSettings from the config's ``md`` section (:meth:`MDSettings.from_config`)."""
    return MDSettings.from_config(md)


@lru_cache(maxsize=32)
def _cached(name: str, overrides_json: str) -> MDSettings:
    return MDSettings.from_preset(name, json.loads(overrides_json))


def selected_formulations(md: dict | None, formulation_ids: list[str]) -> list[str]:
    """Formulation ids the ``md`` section switches MD on for (none by default; ``undecided``:
    none known before the descriptor-only classification, see :func:`undecided_formulations`)."""
    sel = (md or {}).get("formulations", [])
    if sel == "all":
        return list(formulation_ids)
    if sel == "undecided":
        return []
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
            settings_from_config({k: v for k, v in md.items()
                                  if k in CONFIG_KEYS and k not in ("pmf", "jobs_per_gpu", "prefsolv")})
        except (InputError, TypeError, ValueError) as exc:
            errors.append(ValidationError(f"md: {exc}", source="config"))
    by_id = {f.id: f for f in formulations}
    sel = md.get("formulations", [])
    if sel == "undecided":
        sel = "all"  # every formulation may turn out undecided
    if sel != "all":
        if not isinstance(sel, list):
            errors.append(ValidationError(f"md.formulations: expected 'all', 'undecided' or a list of formulation ids, "
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
    from .pmf_settings import check_pmf_config

    errors += check_pmf_config(md, library)
    from .prefsolv_settings import check_prefsolv_config

    errors += check_prefsolv_config(md, library)
    jpg = md.get("jobs_per_gpu", 1)
    if not isinstance(jpg, int) or isinstance(jpg, bool) or jpg < 1:
        errors.append(ValidationError(f"md.jobs_per_gpu: {jpg!r} must be an integer >= 1", source="config"))
    return errors


def undecided_formulations(classification_csv) -> list[str]:
    """Formulation ids a (descriptor-only) classification table leaves with more than one class."""
    from ..core.result_tables import read_rows

    return [r["id"] for r in read_rows(classification_csv)
            if r.get("origin", "table") == "table" and "|" in (r.get("label") or "")]


# Cluster time limit per MD job (minutes, first attempt) for profiles/slurm, from the preset:
# the most simulated time one job can need (all starts to the cap, equilibration included,
# at the preset's planning speed ``expected_ns_per_day`` per start, run one after the other),
# times 2, at least 30 min. A job that hits the limit is resubmitted (retries) and resumes
# from its checkpoint. ``gpu``: the job asks for one GPU.
def runtime_minutes(settings: "MDSettings | str") -> int:
    s = preset(settings) if isinstance(settings, str) else settings
    ns = (s.anneal_ps + s.equilibration_ps * (1 + 0.5 * s.max_equilibration_extensions) + s.production_ps) \
        * len(s.runs) / 1000.0
    return int(max(30, round(2 * ns / s.expected_ns_per_day * 24 * 60)))


def slurm_resources(settings: "MDSettings | str") -> dict:
    """SLURM resources of one MD job (runtime in minutes, gpu count) from the run's MD settings
    (its preset with the config's overrides), or from a preset name."""
    s = preset(settings) if isinstance(settings, str) else settings
    return {"runtime": runtime_minutes(s), "gpu": 1 if s.gpu else 0, "mem_mb": 4000}
