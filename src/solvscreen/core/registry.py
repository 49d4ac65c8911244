"""The stage registry: the stage packages a run can switch on, and what each brings.

A stage package (``solvscreen.md``, ``solvscreen.dft``, ``solvscreen.solvation``) is one
folder with its chemistry, its runner (on :func:`solvscreen.stages.harness.run_stage`), its
settings and config check, its subcommands and its report section, plus one rule file in
``workflows/rules/``. Its entry here says where each part is, by name: nothing below the
interface imports a stage package, and the parts that gather them read this table:

- :func:`solvscreen.inputs.schema.load_schema` adds each stage's config section from
  ``<package>/config.schema.yaml``;
- :func:`solvscreen.interface.inputs.validate_all` runs each stage's ``check_config``;
- :mod:`solvscreen.interface.cli` adds each stage's subcommands (``add_parsers``);
- :func:`solvscreen.report.page.write_report` adds each stage's ``report_section``;
- the ``Snakefile`` includes each stage's rule file.

Adding a stage therefore touches three places: its package, its rule file and one entry
below (docs/development.md, "Adding a stage").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["StageSpec", "STAGES", "resolve"]


@dataclass(frozen=True)
class StageSpec:
    """Where the parts of one stage package are (``module:attribute`` references)."""

    name: str
    package: str  # the stage package; its config section schema is <package>/config.schema.yaml
    rules: str  # its rule file, relative to the repository root (the Snakefile's directory)
    config_section: str | None = None  # top-level config key of its settings (None: no section)
    check_config: str | None = None  # "module:function(config, library, formulations) -> [ValidationError]"
    cli: str | None = None  # module with add_parsers(sub, command)
    report_section: str | None = None  # "module:function(tables, thresholds) -> HTML <section> or ''"
    tables: tuple[str, ...] = ()  # the result tables it writes (file names under <results>/)
    results: tuple[str, ...] = ()  # modules whose StageResult classes name their RECORD_STAGES (record schemas)


#: The registered stage packages, in report order.
STAGES: tuple[StageSpec, ...] = (
    StageSpec("md", "solvscreen.md", "workflows/rules/md.smk", config_section="md",
              check_config="solvscreen.md.settings:check_config", cli="solvscreen.md.cli",
              report_section="solvscreen.md.report:report_section",
              tables=("solvation.csv", "coordination.csv"), results=("solvscreen.md.prefsolv",)),
    StageSpec("dft", "solvscreen.dft", "workflows/rules/dft.smk", config_section="dft",
              check_config="solvscreen.dft.settings:check_config", cli="solvscreen.dft.cli",
              report_section="solvscreen.dft.report:report_section",
              tables=("dft_binding.csv", "dft_calibration.json"), results=("solvscreen.dft.stage",)),
    StageSpec("solvation", "solvscreen.solvation", "workflows/rules/solvation.smk", config_section="solvation",
              cli="solvscreen.solvation.cli", report_section="solvscreen.solvation.report:report_section",
              tables=("solvating_power.csv",), results=("solvscreen.solvation.stepwise",)),
)


def resolve(ref: str) -> Callable[..., Any] | Any:
    """The object a ``module:attribute`` reference names (the module is imported now)."""
    module, _, attr = ref.partition(":")
    obj = importlib.import_module(module)
    return getattr(obj, attr) if attr else obj
