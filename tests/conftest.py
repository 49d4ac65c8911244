"""Test-wide settings: one OpenMP thread, so xTB results are bit-for-bit reproducible
(threaded reductions change the last digits, and optimizations follow them); and a loader
for the scripts under bench/ that tests exercise."""

import importlib.util
import os
from pathlib import Path

import pytest

os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def bench_module():
    """Load a script under bench/ as a module: ``bench_module("import_graph")``."""
    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    return load
