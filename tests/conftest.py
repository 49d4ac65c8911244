"""Test-wide settings: one OpenMP thread, so xTB results are bit-for-bit reproducible
(threaded reductions change the last digits, and optimizations follow them)."""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
