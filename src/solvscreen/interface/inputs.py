"""Everything a run needs, validated in one call: the config, the molecule library, the
formulations, and every section's checks, the stage packages' included.

This is the composition point above :mod:`solvscreen.inputs` (which knows no stage) and the
stage packages (which use its types): each registered stage's ``check_config(config,
library, formulations) -> list[ValidationError]`` (:data:`solvscreen.core.registry.STAGES`)
joins :func:`config_checkers` here.
"""

from __future__ import annotations

from typing import Mapping

from ..core import registry
from ..inputs.config import BASE_CONFIG_CHECKERS, ConfigChecker, validate_inputs
from ..inputs.formulations import Formulation
from ..inputs.library import Library

__all__ = ["config_checkers", "validate_all"]


def config_checkers() -> list[ConfigChecker]:
    """Every check :func:`validate_all` runs: size guard and cross-references (the library's),
    then each registered stage's section check (MD, DFT)."""
    return [*BASE_CONFIG_CHECKERS, *(registry.resolve(s.check_config) for s in registry.STAGES if s.check_config)]


def validate_all(config: Mapping) -> tuple[Library, list[Formulation]]:
    """Validate everything a run needs (:func:`solvscreen.inputs.config.validate_inputs` with
    :func:`config_checkers`); return the library and the formulations.

    Raises
    ------
    ValidationErrors
        All problems found, across all files.
    """
    return validate_inputs(config, config_checkers())
