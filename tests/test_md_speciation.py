"""Speciation, coordination and errors on hand-built frames with known answers (pure numpy)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from solvscreen.md.analysis import FALLBACK_CUTOFF_A, first_minimum, primary_donor
from solvscreen.md.speciation import (
    anion_centred,
    block_average,
    cation_centred,
    contacts,
    enrichment,
    frame_speciation,
    minimum_image_distances,
    most_common_shells,
)

BOX = np.array([20.0, 20.0, 20.0])


def test_minimum_image_crosses_the_box_edge():
    d = minimum_image_distances(np.array([[1.0, 1.0, 1.0]]), np.array([[19.0, 1.0, 1.0], [11.0, 1.0, 1.0]]), BOX)
    assert d[0, 0] == pytest.approx(2.0)   # through the periodic boundary, not 18
    assert d[0, 1] == pytest.approx(10.0)  # half the box: either image


def _frame():
    """Two cations; anion 0 and anion 1 (through the boundary) touch cation 0, anion 2 touches
    cation 1, anion 3 touches none. Solvent S: molecule 0 binds cation 1 with both its O atoms."""
    cations = np.array([[2.0, 2.0, 2.0], [12.0, 12.0, 12.0]])
    anion = {"xyz": np.array([[4.5, 2.0, 2.0], [5.5, 2.0, 2.0],    # anion 0: 2.5 and 3.5 A from cation 0
                              [2.0, 2.0, 19.5],                     # anion 1: 2.5 A through z = 0
                              [14.0, 12.0, 12.0], [8.0, 12.0, 12.0],  # anion 2: 2.0 A from cation 1
                              [8.0, 8.0, 8.0]]),                    # anion 3: far from both
             "owner": np.array([0, 0, 1, 2, 2, 3]), "n_molecules": 4, "cutoff": 3.0}
    solvent = {"xyz": np.array([[12.0, 14.5, 12.0], [12.0, 12.0, 14.5],  # molecule 0: both O at 2.5 A of cation 1
                                [17.0, 17.0, 17.0]]),                     # molecule 1: far
               "owner": np.array([0, 0, 1]), "n_molecules": 2, "cutoff": 3.0}
    return cations, {"FSI": anion, "S": solvent}


def test_cation_and_anion_centred_fractions_of_a_built_frame():
    cations, sp = _frame()
    d = minimum_image_distances(cations, sp["FSI"]["xyz"], BOX)
    c = contacts(d, sp["FSI"]["owner"], 4, 3.0)
    assert c.tolist() == [[True, True, False, False], [False, False, True, False]]
    assert cation_centred(c) == (0.0, 0.5, 0.5)          # cation 0: 2 anions (AGG); cation 1: 1 (CIP)
    assert anion_centred(c) == (0.25, 0.75, 0.0)         # anion 3 free; 0, 1, 2 single


def test_an_anion_bridging_two_cations_is_multi_and_both_cations_are_cip():
    cations = np.array([[5.0, 5.0, 5.0], [9.0, 5.0, 5.0]])
    d = minimum_image_distances(cations, np.array([[7.0, 5.0, 5.0]]), BOX)
    c = contacts(d, np.array([0]), 1, 3.0)
    assert anion_centred(c) == (0.0, 0.0, 1.0)
    assert cation_centred(c) == (0.0, 1.0, 0.0)


def test_frame_speciation_counts_molecules_and_donor_atoms():
    cations, sp = _frame()
    f = frame_speciation(cations, BOX, sp, "FSI")
    assert f.cn["FSI"] == pytest.approx(1.5)       # (2 + 1) anions / 2 cations
    assert f.cn_donor["FSI"] == pytest.approx(1.5)  # O atoms within 3 A: 2 at cation 0 (x 4.5, z 19.5), 1 at cation 1
    assert f.cn["S"] == pytest.approx(0.5)         # one molecule, at cation 1
    assert f.cn_donor["S"] == pytest.approx(1.0)   # through both of its O atoms
    assert f.anion_share == pytest.approx(3 / 4)   # 3 anion molecules of 4 molecules in the shells
    assert sorted(f.signatures) == [(1, 1), (2, 0)]
    # enrichment of S: 1 donor atom within 3 A per cation vs 3 atoms spread over 8000 A^3
    expected = 3 / 8000.0 * 4 / 3 * math.pi * 27
    assert f.enrichment["S"] == pytest.approx(1.0 / expected)


def test_enrichment_of_a_uniform_density_is_one():
    # exactly the bulk number of donors inside the sphere -> mean g(r) = 1
    n, vol, r = 1000, 1.0e5, 4.0
    inside = n / vol * 4 / 3 * math.pi * r ** 3
    assert enrichment(inside, n, vol, r) == pytest.approx(1.0)


def test_most_common_shells_are_ranked_by_frequency():
    sigs = [(1, 3)] * 3 + [(2, 2)] * 1
    top = most_common_shells(sigs, ["FSI", "DME"])
    assert top[0]["shell"] == "1 FSI + 3 DME" and top[0]["fraction"] == pytest.approx(0.75)
    assert top[1]["counts"] == {"FSI": 2, "DME": 2}


def test_block_average_of_two_plateaus():
    mean, se = block_average([1.0] * 10 + [3.0] * 10, n_blocks=2)
    assert mean == pytest.approx(2.0)
    assert se == pytest.approx(1.0)  # block means 1 and 3: std 1.414, / sqrt(2)
    mean, se = block_average([2.0] * 50, n_blocks=5)
    assert (mean, se) == (2.0, 0.0)


def test_first_minimum_of_a_model_rdf_and_the_fallback():
    r = np.arange(0.025, 8.0, 0.05)
    g = np.where(r < 2.3, 0.0, 1.0 + 5 * np.exp(-((r - 2.8) / 0.2) ** 2) - 0.8 * np.exp(-((r - 3.9) / 0.3) ** 2))
    cut, info = first_minimum(r, g)
    assert cut == pytest.approx(3.9, abs=0.1)
    assert info["peak_r_A"] == pytest.approx(2.8, abs=0.1)
    # a depleted species: no first-shell peak -> None (the fixed fallback applies)
    flat = np.where(r < 3.0, 0.0, 0.9)
    cut, info = first_minimum(r, flat)
    assert cut is None and "no first-shell peak" in info["reason"]
    assert FALLBACK_CUTOFF_A == 3.5


def test_primary_donor_prefers_oxygen():
    assert primary_donor(["C", "O", "F"]) == "O"        # TTE: ether O
    assert primary_donor(["C", "N", "H"]) == "N"        # acetonitrile
    assert primary_donor(["P", "F"]) == "F"             # PF6-
    assert primary_donor(["C", "H"]) is None
