"""bench/bench_dft_crowding.py's shell expansion: every bound ligand moved rigidly to the
requested mean cation-donor distance, its internal geometry and the free molecule untouched."""

from __future__ import annotations

import numpy as np


def _water(o, toward_k):
    """H2O with its O at ``o`` and both H pointing away from the cation direction."""
    u = -np.asarray(toward_k, float) / np.linalg.norm(toward_k)
    p = np.cross(u, [0.0, 0.0, 1.0] if abs(u[2]) < 0.9 else [1.0, 0.0, 0.0])
    p /= np.linalg.norm(p)
    o = np.asarray(o, float)
    return [o, o + 0.96 * (0.6 * u + 0.8 * p), o + 0.96 * (0.6 * u - 0.8 * p)]


def test_each_bound_ligand_moves_rigidly_to_the_shell_radius(bench_module):
    mod = bench_module("bench_dft_crowding")
    k = np.array([0.1, -0.2, 0.3])
    dirs = [np.array(v, float) for v in ([1, 0, 0], [0, 1, 0], [-1, -1, 0], [0, 0.3, -1])]
    radii = [2.30, 2.41, 2.55, 2.72]  # a GFN2-like compressed shell of different depths
    numbers, pos = [19], [k]
    for d, r in zip(dirs, radii):
        d = d / np.linalg.norm(d)
        numbers += [8, 1, 1]
        pos += _water(k + r * d, -d)
    numbers, pos = np.array(numbers), np.array(pos)
    out = mod.expand_shell(numbers, pos, 2.64)
    assert np.allclose(out[0], pos[0])  # the cation stays
    for i in range(len(dirs)):
        sl = slice(1 + 3 * i, 4 + 3 * i)
        assert abs(np.linalg.norm(out[sl][0] - k) - 2.64) < 1e-6
        shift = out[sl] - pos[sl]
        assert np.allclose(shift, shift[0])  # rigid: every atom of the ligand moved alike
    assert not np.allclose(out, pos)
