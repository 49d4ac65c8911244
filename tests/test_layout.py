"""The package's layering, measured on its import graph (bench/import_graph.py): no
package-level cycle, and the input layer (library) knows no stage package."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_package_level_import_cycle(bench_module):
    ig = bench_module("import_graph")
    _, _, nodes, edges = ig.graphs()
    assert len(nodes) > 10 and len(edges) > 10  # the graph was read
    cycles = [c for c in ig.strongly_connected(nodes, edges) if len(c) > 1]
    assert cycles == []


def test_the_library_and_the_harness_import_no_stage_package(bench_module):
    ig = bench_module("import_graph")
    _, _, _, edges = ig.graphs()
    stage_packages = {"solvscreen.md/", "solvscreen.dft/", "solvscreen.solvation/", "solvscreen.classify/"}
    for low in ("solvscreen.inputs.library", "solvscreen.stages/", "solvscreen.core.records", "solvscreen.core.result_tables"):
        assert not {b for a, b in edges if a == low} & stage_packages, low



def test_the_design_package_sits_above_the_inputs_and_below_the_interface(bench_module):
    """design/ (derivatives of a parent) reads the library (inputs) and builds molecules (xtb);
    it imports no stage package, and only the interface imports it."""
    ig = bench_module("import_graph")
    _, _, _, edges = ig.graphs()
    assert {b for a, b in edges if a == "solvscreen.design/"} <= {
        "solvscreen.core/", "solvscreen.xtb/", "solvscreen.inputs/"}
    assert {a for a, b in edges if b == "solvscreen.design/"} <= {"solvscreen.interface/"}

# ----------------------------------------------------------------------------- the stage registry
def test_every_registered_stage_resolves():
    """Each entry of the stage registry names parts that exist: its package and config section,
    its rule file, its check, subcommands and report section."""
    from importlib import resources

    import yaml

    from solvscreen.core.registry import STAGES, resolve
    from solvscreen.inputs.schema import load_schema

    assert [s.name for s in STAGES] == ["md", "dft", "solvation"]
    props = load_schema("config")["properties"]
    for s in STAGES:
        assert (ROOT / s.rules).is_file(), s.rules
        if s.config_section:
            fragment = yaml.safe_load(resources.files(s.package).joinpath("config.schema.yaml").read_text())
            assert list(fragment) == [s.config_section] and s.config_section in props
        for ref in (s.check_config, s.report_section):
            assert ref is None or callable(resolve(ref)), ref
        assert s.cli is None or callable(resolve(s.cli).add_parsers)
        assert s.tables


TOY_SCHEMA = """toy:
  type: object
  additionalProperties: false
  default: {}
  properties:
    level: {type: integer, minimum: 0, default: 1}
"""
TOY_CODE = '''
from solvscreen.core.errors import ValidationError


def check_config(config, library, formulations):
    level = config["toy"]["level"]
    return [ValidationError(f"toy.level: {level} is above 3", source="config")] if level > 3 else []


def report_section(tables, thresholds):
    return '<section id="toy"><h2>Toy</h2></section>' if tables.get("solvating_power") else ""


def add_parsers(sub, command):
    sub.add_parser("toy-hello", help="say hello")

    @command("toy-hello")
    def hello(ns):
        print("hello from the toy stage")
        return 0
'''


def test_a_new_stage_is_one_package_and_one_registry_entry(tmp_path, monkeypatch, capsys):
    """The worked example of docs/development.md ("Adding a stage"): a toy stage package with a config
    section, a config check, a subcommand and a report section, plugged in by one registry
    entry (its rule file is the third place; the Snakefile includes the registered ones)."""
    from solvscreen.core import registry
    from solvscreen.core.errors import ValidationErrors
    from solvscreen.inputs.config import load_config
    from solvscreen.inputs.schema import load_schema
    from solvscreen.interface import cli
    from solvscreen.interface.inputs import validate_all
    from solvscreen.report.page import write_report

    pkg = tmp_path / "toystage"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(TOY_CODE)
    (pkg / "config.schema.yaml").write_text(TOY_SCHEMA)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "STAGES", (*registry.STAGES, registry.StageSpec(
        "toy", "toystage", "workflows/rules/toy.smk", config_section="toy", check_config="toystage:check_config",
        cli="toystage", report_section="toystage:report_section", tables=("toy.csv",))))
    load_schema.cache_clear()
    try:
        assert load_config({})["toy"] == {"level": 1}  # its config section, with its defaults
        base = {"library": str(ROOT / "tests" / "workflow" / "library.csv"),
                "formulations": str(ROOT / "tests" / "workflow" / "formulations.csv")}
        validate_all(load_config(base))
        try:
            validate_all(load_config({**base, "toy": {"level": 5}}))
            raise AssertionError("the toy stage's check did not run")
        except ValidationErrors as exc:
            assert "toy.level: 5 is above 3" in str(exc)
        assert cli.main(["toy-hello"]) == 0 and "hello from the toy stage" in capsys.readouterr().out
        sp = tmp_path / "solvating_power.csv"
        sp.write_text("name,cation,status\nDME,K+,ok\n")
        html = write_report(tmp_path / "report.html", solvating_power=sp)
        assert '<section id="toy">' in html
    finally:
        load_schema.cache_clear()


def test_settings_sections_share_one_from_dict_and_to_dict():
    """Settings dataclasses of config sections derive from core.settings.ConfigSection: each names
    a section of the config schema, builds from it with its defaults, refuses an unknown key
    naming the section, and round-trips through to_dict."""
    import pytest

    from solvscreen.classify.result import ClassificationSettings
    from solvscreen.complexes.settings import BindingSettings
    from solvscreen.core.errors import InputError
    from solvscreen.inputs.config import load_config
    from solvscreen.inputs.grid import GridSettings
    from solvscreen.report.page import ReportSettings
    from solvscreen.solvation.settings import SolvationSettings

    config = load_config({})
    for cls in (ClassificationSettings, BindingSettings, GridSettings, ReportSettings, SolvationSettings):
        assert cls.SECTION in config, cls
        s = cls.from_dict(config[cls.SECTION])
        assert cls.from_dict(s.to_dict()) == s
        with pytest.raises(InputError, match=f"^{cls.SECTION}: unknown setting"):
            cls.from_dict({"no_such_key": 1})
