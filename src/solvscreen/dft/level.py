"""Level of theory, backend and SCF of the DFT stage.

A :class:`DFTLevel` says *what* is computed (functional, dispersion, basis, grids, SCF
convergence, implicit solvent); :func:`choose_backend` says *where* (PySCF on the CPU, or
gpu4pyscf when a CUDA GPU and the package are present); :func:`run_scf` converges an SCF
through a retry ladder and raises :class:`SCFFailed` (a
:class:`~solvscreen.core.errors.CalculationFailed`, so the stage writes a failure record) when
every rung fails.

The recipe for K+ binding (facts measured with PySCF 2.14, see docs/dft.md):

* omegaB97X with D4 dispersion: ``xc="wb97x-v"`` with its VV10 term switched off
  (``nlc=False``) and ``disp="d4:wb97x"``. The name ``wb97x-d4`` is ambiguous in PySCF 2.14
  (it takes omegaB97X-2008 with a warning) and ``wb97x-d`` is unsupported.
* D4, not D3(BJ): D3 gives K+ the C6 coefficient of the neutral atom and adds 3-5 kcal/mol
  of spurious dispersion binding to K+ complexes (K+.DME: -8.2 vs -5.2 kcal/mol).
* Density fitting (def2-universal-jkfit) on; def2-TZVP or larger: the counterpoise error of
  K+-H2O is 4.4 kcal/mol at def2-SVP and 0.8 at def2-TZVP, so def2-SVP is for tests only.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..core.errors import CalculationFailed, InputError

__all__ = [
    "BASES",
    "METHODS",
    "PRESETS",
    "BackendChoice",
    "DFTLevel",
    "SCFFailed",
    "SCFOutcome",
    "build_mf",
    "choose_backend",
    "level_from_preset",
    "run_scf",
]

# method name -> PySCF settings. `disp` is the pyscf-dispersion label (None = no dispersion).
METHODS: dict[str, dict[str, Any]] = {
    "wb97x-d4": {"xc": "wb97x-v", "nlc": False, "disp": "d4:wb97x", "label": "wB97X-D4"},
    "wb97x-d3bj": {"xc": "wb97x-v", "nlc": False, "disp": "d3bj:wb97x", "label": "wB97X-D3(BJ)"},
    "wb97x": {"xc": "wb97x-v", "nlc": False, "disp": None, "label": "wB97X (no dispersion)"},
    "r2scan-d4": {"xc": "r2scan", "nlc": False, "disp": "d4:r2scan", "label": "r2SCAN-D4"},
    "wb97m-v": {"xc": "wb97m-v", "nlc": True, "disp": None, "label": "wB97M-V"},
}
"""Methods the stage accepts. wb97m-v is 30-40x the cost of density-fitted wB97X here."""

BASES = ("def2-SVP", "def2-SVPD", "def2-TZVP", "def2-TZVPD", "def2-TZVPP", "def2-TZVPPD", "def2-QZVP")
"""Karlsruhe bases (all-electron for K: 24/33/36 functions for K+ at SVP/TZVP/TZVPD)."""

PRESETS: dict[str, dict[str, Any]] = {
    "reference": {"method": "wb97x-d4", "basis": "def2-TZVPD"},
    "calibration": {"method": "wb97x-d4", "basis": "def2-TZVP"},
    "quick": {"method": "wb97x-d4", "basis": "def2-SVP"},
}
"""Named levels. reference: the level checked against CCSD(T) for K+-H2O (GMTKN55 CHB6);
calibration: def2-TZVP (counterpoise error 0.8 kcal/mol for K+-H2O, ~60 % of the TZVPD cost);
quick: def2-SVP, for tests and smoke runs only (counterpoise error 4.4 kcal/mol)."""

RETRY_LADDER = ("default", "more_cycles", "level_shift_damping", "soscf")
"""SCF attempts in order; each starts from the previous attempt's density."""


class SCFFailed(CalculationFailed):
    """Every rung of the SCF retry ladder failed to converge."""

    def __init__(self, message: str, attempts: list[dict]):
        self.attempts = attempts
        super().__init__(message, error_type="scf")


@dataclass(frozen=True)
class DFTLevel:
    """What a DFT calculation computes. Energies in hartree, thresholds in atomic units."""

    method: str = "wb97x-d4"
    basis: str = "def2-TZVP"
    grids_level: int = 3             # PySCF Becke grid level (3 = default, ~0.01 kcal/mol in E_bind)
    density_fit: bool = True         # RI-J/K with def2-universal-jkfit
    conv_tol_Eh: float = 1e-8        # SCF energy convergence
    max_cycle: int = 100             # SCF iterations of the first attempt
    retries: bool = True             # walk the retry ladder after a failed first attempt
    solvent_eps: float | None = None  # PCM (IEF-PCM) dielectric constant; None = gas phase
    threads: int = 1
    backend: str = "auto"            # auto | pyscf | gpu4pyscf

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"dft level: unknown method {self.method!r}; known: {sorted(METHODS)}")
        if self.basis not in BASES:
            raise InputError(f"dft level: unknown basis {self.basis!r}; known: {list(BASES)}")
        if self.backend not in ("auto", "pyscf", "gpu4pyscf"):
            raise InputError(f"dft level: backend must be auto, pyscf or gpu4pyscf, got {self.backend!r}")
        if self.solvent_eps is not None and not self.solvent_eps >= 1.0:
            raise InputError(f"dft level: solvent eps must be >= 1, got {self.solvent_eps}")
        if self.threads < 1 or self.max_cycle < 1:
            raise InputError("dft level: threads and max_cycle must be >= 1")

    @property
    def label(self) -> str:
        return METHODS[self.method]["label"]

    @property
    def dispersion(self) -> str:
        d = METHODS[self.method]["disp"]
        return d.split(":")[0].upper() if d else ("VV10" if METHODS[self.method]["nlc"] else "none")

    def to_dict(self) -> dict:
        return asdict(self)

    def with_(self, **kw) -> "DFTLevel":
        return replace(self, **kw)


def level_from_preset(preset: str = "calibration", **overrides) -> DFTLevel:
    """A :class:`DFTLevel` from a preset name; ``overrides`` (non-None) replace its fields."""
    if preset not in PRESETS:
        raise InputError(f"dft: unknown preset {preset!r}; known: {sorted(PRESETS)}")
    kw = dict(PRESETS[preset])
    kw.update({k: v for k, v in overrides.items() if v is not None})
    return DFTLevel(**kw)


# ----------------------------------------------------------------------------- backend
@dataclass(frozen=True)
class BackendChoice:
    name: str      # "pyscf" (CPU) or "gpu4pyscf"
    reason: str


def cuda_gpu_count() -> int:
    """Number of CUDA devices visible through CuPy (0 when CuPy or a driver is missing)."""
    if importlib.util.find_spec("cupy") is None:
        return 0
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # no driver, no device
        return 0


def choose_backend(request: str = "auto", *, n_gpus: int | None = None,
                   has_gpu4pyscf: bool | None = None) -> BackendChoice:
    """Which backend runs the DFT: gpu4pyscf when asked or (auto) when it can, else PySCF.

    ``n_gpus`` and ``has_gpu4pyscf`` default to what this machine has (arguments for tests).
    Asking for gpu4pyscf where it cannot run is an :class:`InputError` (a setup problem,
    not a failed calculation).
    """
    if request == "pyscf":
        return BackendChoice("pyscf", "PySCF on CPU (requested)")
    if n_gpus is None:
        n_gpus = cuda_gpu_count()
    if has_gpu4pyscf is None:
        has_gpu4pyscf = importlib.util.find_spec("gpu4pyscf") is not None
    if request == "gpu4pyscf":
        if n_gpus and has_gpu4pyscf:
            return BackendChoice("gpu4pyscf", f"gpu4pyscf (requested; {n_gpus} CUDA device(s))")
        missing = "no CUDA device" if not n_gpus else "gpu4pyscf is not installed"
        raise InputError(f"dft backend gpu4pyscf requested but {missing}")
    if request != "auto":
        raise InputError(f"dft backend must be auto, pyscf or gpu4pyscf, got {request!r}")
    if n_gpus and has_gpu4pyscf:
        return BackendChoice("gpu4pyscf", f"gpu4pyscf (auto: {n_gpus} CUDA device(s) found)")
    if n_gpus:
        return BackendChoice("pyscf", f"PySCF on CPU (auto: {n_gpus} CUDA device(s) but gpu4pyscf not installed)")
    return BackendChoice("pyscf", "PySCF on CPU (auto: no CUDA device)")


def provenance(level: DFTLevel, backend: BackendChoice) -> dict:
    """What a record states about how its DFT numbers were made."""
    import pyscf

    prov = {
        "dft_program": "pyscf",
        "dft_program_version": pyscf.__version__,
        "dft_backend": backend.name,
        "dft_backend_reason": backend.reason,
        "level_of_theory": f"{level.label}/{level.basis}",
        "dft_method": level.method,
        "dft_xc": METHODS[level.method]["xc"],
        "dft_nlc": METHODS[level.method]["nlc"],
        "dft_dispersion": METHODS[level.method]["disp"],
        "dft_basis": level.basis,
        "dft_density_fitting": "def2-universal-jkfit" if level.density_fit else None,
        "dft_grids_level": level.grids_level,
        "dft_conv_tol_Eh": level.conv_tol_Eh,
        "dft_solvent_model": f"IEF-PCM(eps={level.solvent_eps})" if level.solvent_eps else "gas phase",
        "dft_threads": level.threads,
    }
    for pkg, mod in (("pyscf_dispersion", "pyscf.dispersion"), ("geometric", "geometric"), ("gpu4pyscf", "gpu4pyscf")):
        if importlib.util.find_spec(mod) is not None:
            try:
                from importlib.metadata import version

                prov[f"{pkg}_version"] = version(pkg.replace("_", "-"))
            except Exception:
                prov[f"{pkg}_version"] = "unknown"
    return prov


# ----------------------------------------------------------------------------- SCF
def build_mf(mol, level: DFTLevel, backend: BackendChoice | None = None):
    """The (restricted, closed-shell or ROKS) Kohn-Sham object for ``mol`` at ``level``."""
    from pyscf import dft, lib

    lib.num_threads(level.threads)
    spec = METHODS[level.method]
    mf = dft.RKS(mol, xc=spec["xc"]) if mol.spin == 0 else dft.ROKS(mol, xc=spec["xc"])
    if not spec["nlc"]:
        mf.nlc = False
    if spec["disp"]:
        mf.disp = spec["disp"]
    mf.grids.level = level.grids_level
    mf.conv_tol = level.conv_tol_Eh
    mf.max_cycle = level.max_cycle
    if level.density_fit:
        mf = mf.density_fit(auxbasis="def2-universal-jkfit")
    if level.solvent_eps is not None:
        mf = mf.PCM()
        mf.with_solvent.method = "IEF-PCM"
        mf.with_solvent.eps = float(level.solvent_eps)
    if backend is not None and backend.name == "gpu4pyscf":
        mf = mf.to_gpu()
    return mf


@dataclass
class SCFOutcome:
    energy_Eh: float
    converged: bool
    cycles: int
    attempts: list[dict] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def retried(self) -> int:
        return max(0, len(self.attempts) - 1)


def _apply_rung(mf, rung: str, level: DFTLevel):
    if rung == "more_cycles":
        mf.max_cycle = 3 * level.max_cycle
    elif rung == "level_shift_damping":
        mf.max_cycle = 3 * level.max_cycle
        mf.level_shift = 0.3   # Eh, virtual orbitals raised: damps occupied/virtual mixing
        mf.damp = 0.5
        mf.diis_start_cycle = 4
    elif rung == "soscf":
        mf.level_shift = 0.0
        mf.damp = 0.0
        mf = mf.newton()       # second-order (Newton) SCF from the last density
        mf.max_cycle = level.max_cycle
    return mf


def run_scf(mf, level: DFTLevel, dm0=None) -> tuple[Any, SCFOutcome]:
    """Converge ``mf``; walk :data:`RETRY_LADDER` (when ``level.retries``) before giving up.

    Returns the converged object (a rung may wrap it, e.g. SOSCF) and the outcome; raises
    :class:`SCFFailed` naming every attempt when none converged.
    """
    t0 = time.perf_counter()
    rungs = RETRY_LADDER if level.retries else RETRY_LADDER[:1]
    attempts: list[dict] = []
    cur = mf
    for rung in rungs:
        if rung != "default":
            cur = _apply_rung(cur, rung, level)
        t = time.perf_counter()
        try:
            e = cur.kernel(dm0=dm0)
            ok = bool(cur.converged)
            err = None
        except Exception as exc:  # numerical breakdown (linear dependence, NaN)
            e, ok, err = float("nan"), False, f"{type(exc).__name__}: {exc}"
        attempts.append({"rung": rung, "converged": ok, "cycles": int(getattr(cur, "cycles", -1) or -1),
                         "energy_Eh": float(e), "wall_s": round(time.perf_counter() - t, 3),
                         **({"error": err} if err else {})})
        if ok:
            return cur, SCFOutcome(float(e), True, attempts[-1]["cycles"], attempts,
                                   round(time.perf_counter() - t0, 3))
        if err is None:
            dm0 = cur.make_rdm1()
    raise SCFFailed(
        f"SCF not converged after {len(attempts)} attempt(s) "
        f"({', '.join(a['rung'] for a in attempts)}; conv_tol {level.conv_tol_Eh:g} Eh)",
        attempts,
    )
