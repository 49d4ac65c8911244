"""The engine: one interface over several backends, GFN-xTB through ``tblite`` (default) and
``xtb-python`` built in, any other method (an ML potential, another semiempirical code) as a
plug-in backend.

One interface, several backends (the QCEngine pattern): :class:`EngineSettings`
says *what* to compute (backend, method, solvent model, electronic temperature), an
:class:`Engine` runs it on a backend and counts what it did (single points,
gradient evaluations, seconds inside the backend), and results come back as
:class:`SinglePoint` in chemists' units (Å, eV, Debye, Eh).

Adding a backend
----------------
A backend is a :class:`Backend` entry (name, the methods it runs, what it can compute:
``orbitals``, ``alpb``, ``max_z``) whose ``calculator`` follows :class:`Calculator`: built for
one system (``settings, numbers, positions_bohr, charge, uhf, attempt``), it returns from
``compute(positions_bohr, gradient)`` a :class:`CalculatorOutput`: the energy (Eh), the
gradient (Eh/bohr), the orbital energies (Eh) and occupations (empty without orbitals), the
atomic charges and the dipole (e·bohr); and it sets ``kelvin``. A package outside this one registers it with an entry
point in the group ``solvscreen.engines`` naming the :class:`Backend` object (or calls
:func:`register_backend`); nothing here changes. Stages that need orbitals (the properties
stage: HOMO/LUMO, IP/EA) refuse a backend without them with a clear failure; geometry,
binding and solvation stages need only energies and gradients.

SCF non-convergence is retried the way a chemist would: more iterations with
stronger damping, then a higher electronic temperature. The temperature that was
finally used is part of the result, so a caller can flag it.

Example
-------
>>> import numpy as np
>>> from solvscreen.xtb.engine import Engine, EngineSettings
>>> eng = Engine(EngineSettings(method="GFN2-xTB"))
>>> numbers = np.array([8, 1, 1])
>>> positions = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.96], [0.93, 0.0, -0.24]])
>>> sp = eng.singlepoint(numbers, positions)
>>> round(sp.energy_Eh, 3)
-5.07
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

import numpy as np

from ..core.errors import CalculationFailed, EngineUnavailable, InputError
from ..core.settings import ConfigSection
from ..core.units import ANGSTROM_TO_BOHR, BOHR_TO_ANGSTROM, E_A0_TO_DEBYE, HARTREE_TO_EV, KB_HARTREE_PER_K

METHODS = ("GFN2-xTB", "GFN1-xTB", "IPEA1-xTB")
# Elements GFN-xTB is parametrized for (Z = 1..86).
MAX_Z = 86
#: ALPB solvent names tblite accepts (its solvent database; checked against tblite 0.4:
#: ``Calculator.add("alpb-solvation", name)`` rejects any other name). Case-insensitive.
ALPB_SOLVENTS = ("acetone", "acetonitrile", "aniline", "benzaldehyde", "benzene", "ch2cl2", "chcl3", "cs2",
                 "dioxane", "dmf", "dmso", "ether", "ethylacetate", "furane", "hexadecane", "hexane",
                 "methanol", "nitromethane", "octanol", "woctanol", "phenol", "toluene", "thf", "water")


@dataclass(frozen=True)
class Backend:
    """One backend, registered once in :data:`BACKEND_REGISTRY` with what it can compute.

    ``module`` is imported to tell whether it is installed (:meth:`found`), ``distribution``
    gives its version, ``methods`` the methods (parametrizations, models) it runs, ``alpb``
    whether it offers ALPB implicit solvent, ``orbitals`` whether its results carry orbital
    energies and occupations (HOMO/LUMO), ``max_z`` the largest atomic number it is
    parametrized for, ``calculator`` the class binding it to one system (:class:`Calculator`).
    """

    name: str
    module: str
    distribution: str
    methods: tuple[str, ...]
    alpb: bool
    install_hint: str
    calculator: Callable[..., "Calculator"]
    orbitals: bool = True
    max_z: int = MAX_Z

    def found(self) -> bool:
        """True when the backend's Python package imports."""
        import importlib

        try:
            importlib.import_module(self.module)
        except Exception:
            return False
        return True

    def version(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(self.distribution)
        except PackageNotFoundError:
            return "not installed"


@dataclass(frozen=True)
class EngineSettings(ConfigSection):
    """What to compute (config section ``engine``). Immutable; hashable; serialised into every record."""

    SECTION = "engine"

    backend: str = "tblite"
    method: str = "GFN2-xTB"
    solvent: str | None = None  # ALPB solvent name, None for gas phase
    electronic_temperature_K: float = 300.0
    accuracy: float = 1.0
    max_iterations: int = 250

    def __post_init__(self) -> None:
        registry = backend_registry()
        if self.backend not in registry:
            raise InputError(f"unknown engine backend {self.backend!r}; choose one of {tuple(registry)}")
        all_methods = sorted({m for b in registry.values() for m in b.methods})
        if self.method not in all_methods:
            raise InputError(f"unknown method {self.method!r}; choose one of {all_methods}")
        info = registry[self.backend]
        if self.method not in info.methods:
            with_it = [b.name for b in registry.values() if self.method in b.methods]
            raise InputError(f"{self.method} is only available through the {' or '.join(with_it)} backend")
        if self.solvent and not info.alpb:
            raise InputError("implicit solvent (ALPB) is only available through the "
                             f"{' or '.join(b.name for b in registry.values() if b.alpb)} backend; "
                             f"{self.backend} does not offer it")
        if self.solvent and str(self.solvent).lower() not in ALPB_SOLVENTS:
            raise InputError(f"unknown ALPB solvent {self.solvent!r}; the solvents tblite knows are "
                             f"{', '.join(ALPB_SOLVENTS)}")
        if self.electronic_temperature_K <= 0:
            raise InputError("electronic_temperature_K must be positive")

    def with_method(self, method: str) -> "EngineSettings":
        return replace(self, method=method)


@dataclass
class SinglePoint:
    """Result of one xTB calculation on one geometry (chemists' units)."""

    energy_Eh: float
    gradient_Eh_per_A: np.ndarray | None
    orbital_energies_eV: np.ndarray
    occupations: np.ndarray
    charges_e: np.ndarray
    dipole_D: np.ndarray  # vector, Debye
    electronic_temperature_K: float
    scf_attempt: int = 1

    @property
    def homo_index(self) -> int:
        occ = self.occupations
        filled = np.nonzero(occ > 0.5)[0]
        return int(filled[-1]) if filled.size else -1

    @property
    def homo_eV(self) -> float:
        i = self.homo_index
        return float(self.orbital_energies_eV[i]) if i >= 0 else float("nan")

    @property
    def lumo_eV(self) -> float:
        i = self.homo_index + 1
        return float(self.orbital_energies_eV[i]) if i < len(self.orbital_energies_eV) else float("nan")

    @property
    def gap_eV(self) -> float:
        return self.lumo_eV - self.homo_eV

    @property
    def dipole_magnitude_D(self) -> float:
        return float(np.linalg.norm(self.dipole_D))


@dataclass
class EngineStats:
    """What an engine did: counts and time spent inside the xTB library."""

    singlepoints: int = 0
    gradients: int = 0
    scf_retries: int = 0
    seconds_in_xtb: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def since(self, before: "EngineStats") -> "EngineStats":
        return EngineStats(
            self.singlepoints - before.singlepoints,
            self.gradients - before.gradients,
            self.scf_retries - before.scf_retries,
            self.seconds_in_xtb - before.seconds_in_xtb,
        )

    def copy(self) -> "EngineStats":
        return replace(self)


# The retry ladder: (label, extra iterations factor, mixer damping, temperature K or None).
_RETRIES: tuple[tuple[str, int, float | None, float | None], ...] = (
    ("as requested", 1, None, None),
    ("4x iterations, damping 0.2", 4, 0.2, None),
    ("electronic temperature 1000 K", 4, 0.2, 1000.0),
    ("electronic temperature 3000 K", 4, 0.2, 3000.0),
)
_LAST_REQUESTED_TEMPERATURE_RUNG = max(i for i, r in enumerate(_RETRIES) if r[3] is None)


def set_threads(threads: int) -> None:
    """Pin OpenMP/BLAS threads; must run before the xTB library is loaded to fully apply."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(int(threads))
    os.environ.setdefault("OMP_STACKSIZE", "1G")


def backend_available(backend: str) -> bool:
    """True when ``backend`` is registered and its Python package imports."""
    info = backend_registry().get(backend)
    return info is not None and info.found()


def backend_version(backend: str) -> str:
    return backend_registry()[backend].version()


def check_elements(numbers: np.ndarray, max_z: int = MAX_Z, method: str = "GFN-xTB") -> None:
    bad = sorted({int(z) for z in numbers if z < 1 or z > max_z})
    if bad:
        raise InputError(f"elements with Z={bad} are outside {method}'s parametrization (Z=1..{max_z})")


def _is_setup_error(exc: Exception) -> bool:
    """Errors no retry can fix (impossible electron count / spin), told apart by their message."""
    text = str(exc).lower()
    return "not compatible" in text or "number of electrons" in text or "invalid" in text


@dataclass
class CalculatorOutput:
    """What a backend's :meth:`Calculator.compute` returns for one geometry, in atomic units
    (the :class:`System` converts to :class:`SinglePoint`'s chemists' units). A backend without
    orbitals (``Backend.orbitals = False``) leaves them empty."""

    energy_Eh: float
    charges_e: np.ndarray
    dipole_e_bohr: np.ndarray
    gradient_Eh_per_bohr: np.ndarray | None = None  # None when no gradient was asked for
    orbital_energies_Eh: np.ndarray = field(default_factory=lambda: np.zeros(0))
    occupations: np.ndarray = field(default_factory=lambda: np.zeros(0))


class Calculator:
    """The contract of a backend's calculator: bound to one system (atoms, charge, spin) by
    ``__init__(settings, numbers, positions_bohr, charge, uhf, attempt)`` (``attempt``: the
    rung of the SCF retry ladder, which a method without an SCF may ignore) and reused across
    geometries. :meth:`compute` returns a :class:`CalculatorOutput`. ``kelvin`` is the
    electronic temperature used (0 where the method has none)."""

    kelvin: float = 0.0

    def compute(self, positions_bohr: np.ndarray, gradient: bool) -> CalculatorOutput:  # pragma: no cover
        raise NotImplementedError


_Backend = Calculator  # the built-in backends' base


class _TBLiteBackend(_Backend):
    def __init__(self, settings: EngineSettings, numbers, positions_bohr, charge, uhf, attempt):
        try:
            from tblite.interface import Calculator
        except ImportError as exc:  # pragma: no cover - depends on install
            raise EngineUnavailable("tblite is not installed (pip install tblite)") from exc
        label, factor, damping, temperature = _RETRIES[attempt]
        calc = Calculator(settings.method, numbers, positions_bohr, charge=float(charge), uhf=int(uhf))
        calc.set("verbosity", 0)
        calc.set("accuracy", settings.accuracy)
        calc.set("max-iter", settings.max_iterations * factor)
        kelvin = temperature or settings.electronic_temperature_K
        calc.set("temperature", kelvin * KB_HARTREE_PER_K)
        if damping is not None:
            calc.set("mixer-damping", damping)
        if settings.solvent:
            calc.add("alpb-solvation", settings.solvent)
        self.calc = calc
        self.kelvin = kelvin
        self.last = None

    def compute(self, positions_bohr, gradient):
        self.calc.update(positions_bohr)
        res = self.calc.singlepoint(self.last) if self.last is not None else self.calc.singlepoint()
        self.last = res
        return CalculatorOutput(
            energy_Eh=float(res.get("energy")),
            gradient_Eh_per_bohr=np.asarray(res.get("gradient")) if gradient else None,
            orbital_energies_Eh=np.asarray(res.get("orbital-energies")),
            occupations=np.asarray(res.get("orbital-occupations")),
            charges_e=np.asarray(res.get("charges")),
            dipole_e_bohr=np.asarray(res.get("dipole")),
        )


class _XTBPythonBackend(_Backend):
    def __init__(self, settings: EngineSettings, numbers, positions_bohr, charge, uhf, attempt):
        try:
            from xtb.interface import Calculator
            from xtb.libxtb import VERBOSITY_MUTED
            from xtb.utils import get_method, get_solvent
        except ImportError as exc:  # pragma: no cover - depends on install
            raise EngineUnavailable(
                "xtb-python is not installed (pip install xtb; wheels exist for Python <= 3.11)"
            ) from exc
        label, factor, damping, temperature = _RETRIES[attempt]
        calc = Calculator(get_method(settings.method), numbers, positions_bohr, charge=float(charge), uhf=int(uhf))
        calc.set_verbosity(VERBOSITY_MUTED)
        calc.set_accuracy(settings.accuracy)
        calc.set_max_iterations(settings.max_iterations * factor)
        kelvin = temperature or settings.electronic_temperature_K
        calc.set_electronic_temperature(kelvin)
        if settings.solvent:
            solvent = get_solvent(settings.solvent)
            if solvent is None:
                raise InputError(f"xtb-python does not know the solvent {settings.solvent!r}")
            calc.set_solvent(solvent)
        self.calc = calc
        self.kelvin = kelvin
        self.last = None

    def compute(self, positions_bohr, gradient):
        self.calc.update(positions_bohr)
        res = self.calc.singlepoint(self.last) if self.last is not None else self.calc.singlepoint()
        self.last = res
        return CalculatorOutput(
            energy_Eh=float(res.get_energy()),
            gradient_Eh_per_bohr=np.asarray(res.get_gradient()) if gradient else None,
            orbital_energies_Eh=np.asarray(res.get_orbital_eigenvalues()),
            occupations=np.asarray(res.get_orbital_occupations()),
            charges_e=np.asarray(res.get_charges()),
            dipole_e_bohr=np.asarray(res.get_dipole()),
        )


#: Every backend, registered once: the settings check, the CLI choices, ``found()`` and the
#: version in provenance all read this table (through :func:`backend_registry`, which adds the
#: plug-in backends of the entry-point group ``solvscreen.engines``).
BACKEND_REGISTRY: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("tblite", "tblite.interface", "tblite", ("GFN2-xTB", "GFN1-xTB", "IPEA1-xTB"), alpb=True,
                install_hint="pip install tblite", calculator=_TBLiteBackend),
        # xtb-python's set_solvent() gives GBSA, not ALPB (checked against the xtb program: it
        # reproduces `xtb --gbsa`, not `--alpb`), so it is registered without ALPB.
        Backend("xtb-python", "xtb.interface", "xtb", ("GFN2-xTB", "GFN1-xTB"), alpb=False,
                install_hint="pip install xtb; wheels exist for Python <= 3.11", calculator=_XTBPythonBackend),
    )
}
BACKENDS = tuple(BACKEND_REGISTRY)  # the built-in backends
ENTRY_POINT_GROUP = "solvscreen.engines"
_PLUGINS_LOADED = False


def register_backend(backend: Backend) -> None:
    """Add a backend (a plug-in's :class:`Backend`); a name already registered is an error."""
    if not isinstance(backend, Backend):
        raise InputError(f"an engine plug-in must register a solvscreen.xtb.engine.Backend, not {type(backend).__name__}")
    if backend.name in BACKEND_REGISTRY and BACKEND_REGISTRY[backend.name] is not backend:
        raise InputError(f"engine backend {backend.name!r} is registered twice")
    BACKEND_REGISTRY[backend.name] = backend


def backend_registry() -> dict[str, Backend]:
    """The built-in backends and those of the installed plug-ins (entry-point group
    ``solvscreen.engines``, each naming a :class:`Backend`), loaded on first use."""
    global _PLUGINS_LOADED
    if not _PLUGINS_LOADED:
        _PLUGINS_LOADED = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                backend = ep.load()
            except Exception as exc:  # a broken plug-in costs its own backend, not the run
                import logging

                logging.getLogger("solvscreen.engine").warning("engine plug-in %s could not be loaded: %s", ep.value, exc)
                continue
            register_backend(backend)
    return BACKEND_REGISTRY


class System:
    """A molecule bound to an engine: fixed atoms, charge and spin; geometries change.

    Keeping the backend calculator alive between geometries lets each SCF start
    from the previous wavefunction, which is what makes optimizations cheap.
    """

    def __init__(self, engine: "Engine", numbers, charge: int = 0, uhf: int = 0):
        self.engine = engine
        self.numbers = np.asarray(numbers, dtype=int)
        info = backend_registry()[engine.settings.backend]
        check_elements(self.numbers, info.max_z, engine.settings.method)
        self.charge = int(charge)
        self.uhf = int(uhf)
        self._backend: _Backend | None = None
        self._attempt = 0

    def compute(self, positions_A: np.ndarray, gradient: bool = True) -> SinglePoint:
        """Energy (and gradient) at one geometry, with the SCF retry ladder."""
        positions_bohr = np.asarray(positions_A, dtype=float) * ANGSTROM_TO_BOHR
        stats = self.engine.stats
        last_error: Exception | None = None
        for attempt in range(self._attempt, len(_RETRIES)):
            t0 = time.perf_counter()
            try:
                if self._backend is None or attempt != self._attempt:
                    self._backend = backend_registry()[self.engine.settings.backend].calculator(
                        self.engine.settings, self.numbers, positions_bohr, self.charge, self.uhf, attempt
                    )
                    self._attempt = attempt
                out = self._backend.compute(positions_bohr, gradient)
            except (EngineUnavailable, InputError):
                raise
            except Exception as exc:  # backend-specific SCF errors
                if _is_setup_error(exc):
                    raise CalculationFailed(f"invalid electronic setup: {exc}", error_type="setup") from exc
                last_error = exc
                stats.scf_retries += 1
                self._backend = None
                continue
            finally:
                stats.seconds_in_xtb += time.perf_counter() - t0
            if not isinstance(out, CalculatorOutput):
                raise EngineUnavailable(f"engine backend {self.engine.settings.backend!r}: its calculator returned a "
                                        f"{type(out).__name__}, not a solvscreen.xtb.engine.CalculatorOutput")
            stats.singlepoints += 1
            if gradient:
                stats.gradients += 1
            occ, eps, grad = out.occupations, out.orbital_energies_Eh, out.gradient_Eh_per_bohr
            occ = occ.sum(axis=0) if occ.ndim == 2 else occ
            eps = eps[0] if eps.ndim == 2 else eps
            kelvin = self._backend.kelvin
            if _RETRIES[attempt][3] is not None:
                # a raised electronic temperature is for this geometry only: the next one starts
                # again at the requested temperature (on the strongest rung that keeps it)
                self._attempt = _LAST_REQUESTED_TEMPERATURE_RUNG
                self._backend = None
            return SinglePoint(
                energy_Eh=out.energy_Eh,
                gradient_Eh_per_A=None if grad is None else grad / BOHR_TO_ANGSTROM,
                orbital_energies_eV=eps * HARTREE_TO_EV,
                occupations=occ,
                charges_e=out.charges_e,
                dipole_D=out.dipole_e_bohr * E_A0_TO_DEBYE,
                electronic_temperature_K=kelvin,
                scf_attempt=attempt + 1,
            )
        raise CalculationFailed(
            f"SCF did not converge after {len(_RETRIES)} attempts "
            f"({'; '.join(r[0] for r in _RETRIES)}): {last_error}",
            error_type="scf",
        )


@dataclass
class Engine:
    """Runs :class:`EngineSettings` on a backend and keeps :class:`EngineStats`."""

    settings: EngineSettings = field(default_factory=EngineSettings)
    stats: EngineStats = field(default_factory=EngineStats)

    def __post_init__(self) -> None:
        if not backend_available(self.settings.backend):
            raise EngineUnavailable(f"engine backend {self.settings.backend!r} is not installed "
                                    f"({backend_registry()[self.settings.backend].install_hint})")

    @property
    def version(self) -> str:
        return backend_version(self.settings.backend)

    @property
    def capabilities(self) -> Backend:
        """What this engine's backend can compute (``orbitals``, ``alpb``, ``max_z``, ``methods``)."""
        return backend_registry()[self.settings.backend]

    def provenance(self) -> dict:
        return {"engine": self.settings.backend, "engine_version": self.version, **self.settings.to_dict()}

    def system(self, numbers, charge: int = 0, uhf: int = 0) -> System:
        return System(self, numbers, charge, uhf)

    def singlepoint(self, numbers, positions_A, charge: int = 0, uhf: int = 0, gradient: bool = False) -> SinglePoint:
        return self.system(numbers, charge, uhf).compute(positions_A, gradient=gradient)

    def with_method(self, method: str) -> "Engine":
        """An engine for another method sharing this one's counters."""
        return Engine(self.settings.with_method(method), self.stats)
