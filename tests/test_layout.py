"""The package's layering, measured on its import graph (bench/import_graph.py): no
package-level cycle, and the input layer (library) knows no stage package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _import_graph():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "bench" / "import_graph.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_no_package_level_import_cycle():
    ig = _import_graph()
    _, _, nodes, edges = ig.graphs()
    assert len(nodes) > 10 and len(edges) > 10  # the graph was read
    cycles = [c for c in ig.strongly_connected(nodes, edges) if len(c) > 1]
    assert cycles == []


def test_the_library_and_the_harness_import_no_stage_package():
    ig = _import_graph()
    _, _, _, edges = ig.graphs()
    stage_packages = {"solvscreen.md/", "solvscreen.dft/", "solvscreen.solvation/", "solvscreen.classify/"}
    for low in ("solvscreen.inputs.library", "solvscreen.stages/", "solvscreen.core.records", "solvscreen.core.result_tables"):
        assert not {b for a, b in edges if a == low} & stage_packages, low
