"""Everything a run needs, validated in one call: the config, the molecule library, the
formulations, and every section's checks, the stage packages' included.

This is the composition point above :mod:`solvscreen.inputs.library` (which knows no stage) and the
stage packages (which use the library's types): a stage package with a config section adds
its ``check_config(config, library, formulations) -> list[ValidationError]`` to
:data:`CONFIG_CHECKERS` here, and nothing else changes.
"""

from __future__ import annotations

from typing import Mapping

from ..dft.settings import check_config as check_dft
from ..inputs.library import Library
from ..inputs.formulations import Formulation
from ..inputs.config import BASE_CONFIG_CHECKERS, ConfigChecker, validate_inputs
from ..md.settings import check_config as check_md

__all__ = ["CONFIG_CHECKERS", "validate_all"]

#: Every check :func:`validate_all` runs: size guard and cross-references (library), then the
#: MD and DFT sections.
CONFIG_CHECKERS: list[ConfigChecker] = [*BASE_CONFIG_CHECKERS, check_md, check_dft]


def validate_all(config: Mapping) -> tuple[Library, list[Formulation]]:
    """Validate everything a run needs (:func:`solvscreen.inputs.config.validate_inputs` with
    :data:`CONFIG_CHECKERS`); return the library and the formulations.

    Raises
    ------
    ValidationErrors
        All problems found, across all files.
    """
    return validate_inputs(config, CONFIG_CHECKERS)
