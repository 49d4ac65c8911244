"""Classification: roles, predicates, two-class labels, reasons that are true, invariants,
MD and DFT evidence, calibration / leave-one-out / generalization, the CLI path.

Most tests run on SYNTHETIC stage tables written by :func:`write_synthetic_results`: the
numbers are made up to exercise the logic, they are not physics references. The MD-evidence
tests use CONSTRUCTED solvation/coordination tables whose structural numbers are the
independent measurements of shared/reference/measured_facts.md (copied into this file, so
the tests run in a bare clone). The physics-facing tests (marked slow) read the tables of a
real pipeline run from ``$SOLVSCREEN_RESULTS``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from solvscreen.classify import (
    GFN2_DEFAULT_DILUENT_BIND_MAX,
    THRESHOLDS,
    ClassificationSettings,
    Evidence,
    classes_of,
    classify_formulation,
    decide,
    fit_diluent_threshold,
    read_evidence,
    run_classification,
)
from solvscreen.core.errors import InputError
from solvscreen.inputs.grid import GridFormulation, GridSettings
from solvscreen.inputs.library import load_library
from solvscreen.inputs.formulations import load_formulations
from solvscreen.inputs.config import load_config
from solvscreen.core.result_tables import ResultTables
from solvscreen.classify.solubility import reported_formulations

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "molecules" / "library.csv"
FORMULATIONS = ROOT / "molecules" / "formulations.csv"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference"  # ../shared beside the repo
REFERENCE = SHARED / "table2_calibration.csv"
GENERALIZATION = SHARED / "generalization_set.csv"

# SYNTHETIC descriptor values, made up to test logic (never a physics reference):
# name: (-E_bind, -E_shell_per_ligand, E_exchange) in kcal/mol, (HOMO, LUMO) in eV, E_ox V.
SYNTHETIC = {
    "DME": (30, 22, -55, -10.9, 1.6, 4.1), "DEE": (32, 18, -65, -10.7, 1.7, 4.0),
    "DBE": (33, 15, -70, -10.6, 1.8, 4.0), "DGM": (40, 28, -50, -10.8, 1.5, 4.2),
    "TMP": (31, 21, -54, -11.6, 0.9, 5.1), "DX": (20, 14, -62, -10.9, 1.9, 4.3),
    "TFP": (22, 15, -66, -12.6, 0.2, 6.0), "FEMC": (21, 16, -67, -12.3, -0.6, 5.8),
    "FEC": (25, 17, -63, -12.2, -0.7, 5.7), "EC": (26, 20, -56, -11.9, -0.8, 5.5),
    "DEC": (27, 19, -57, -11.5, -0.7, 5.2), "TTE": (10, 6, -75, -13.0, 0.4, 6.6),
    "MME": (8, 5, -78, -13.4, 0.1, 6.9), "OTE": (9, 5, -77, -13.2, 0.3, 6.7),
    "DMM": (31, 17, -66, -10.8, 1.8, 4.1), "DEECl": (29, 17, -65, -11.2, 0.8, 4.6),
}
ANIONS = {"FSI": (-6.0, -1.0), "PF6": (-9.0, 1.5), "TFSI": (-6.5, -0.9)}
# SYNTHETIC denticities of the 1:1 complexes (default 1)
DENTICITY = {"DME": 2, "DEE": 2, "DBE": 2, "DGM": 3, "TREGDME": 4, "TEGDME": 5, "DGT": 3, "DMM": 3, "TMP": 2,
             "TEP": 2, "TFP": 2, "DEECl": 2, "DEM": 2}


def synthetic_values(name: str) -> tuple:
    """Known SYNTHETIC values, or made-up mid-range ones for the other liquids."""
    if name in SYNTHETIC:
        return SYNTHETIC[name]
    h = sum(map(ord, name)) % 7
    return (26 + h, 19 + h / 2, -58 - h, -11.0 - h / 10, 1.0 + h / 10, 4.5 + h / 10)


def write_synthetic_results(directory: Path, fail: tuple[str, ...] = ("AN",), library=LIBRARY,
                            extra: dict | None = None, solvating: dict | None = None,
                            dielectric: dict | None = None) -> Path:
    """descriptors.csv, binding.csv, shells.csv with SYNTHETIC numbers for every library liquid, and
    solvating_power.csv with the SYNTHETIC values ``solvating`` (name: kcal/mol; none by default) and
    the solvation stage's dielectric constant ``dielectric`` (name: value, an Onsager estimate)."""
    directory.mkdir(parents=True, exist_ok=True)
    lib = load_library(library)
    from solvscreen.complexes import molecule_features
    from solvscreen.xtb.structures import mol_from_smiles
    values = {**SYNTHETIC, **(extra or {})}
    desc, bind, shell = [], [], []
    for m in lib:
        if m.kind == "salt":
            continue
        row = {"name": m.name, "kind": m.kind, "smiles": m.smiles, "status": "ok", "failure_reason": "",
               "method": "GFN2-xTB", "engine": "tblite", "engine_version": "synthetic", "solvent_model": "gas phase",
               # the molecule's structure as the properties stage records it (computed, not made up)
               **molecule_features(mol_from_smiles(m.smiles)).to_dict()}
        if m.kind in ("solvent", "diluent"):
            b, s, e, homo, lumo, eox = values.get(m.name) or synthetic_values(m.name)
            row.update(homo_eV=homo, lumo_eV=lumo, gap_eV=lumo - homo, E_ox_vs_K_V=eox)
            brow = {"name": m.name, "kind": m.kind, "cation": "K+", "status": "ok", "failure_reason": "",
                    "E_bind_kcal_per_mol": -b, "denticity": DENTICITY.get(m.name, 1)}
            for anion in ANIONS:
                shell.append({"name": m.name, "cation": "K+", "anion": anion, "status": "ok", "failure_reason": "",
                              "shell_n": 4, "E_shell_per_ligand_kcal_per_mol": -s, "E_exchange_kcal_per_mol": e})
            if m.name in fail:
                brow.update(status="failed", failure_reason="binding: SCF did not converge (synthetic failure)",
                            E_bind_kcal_per_mol="")
            bind.append(brow)
        elif m.kind == "anion" and m.name in ANIONS:
            row.update(homo_eV=ANIONS[m.name][0], lumo_eV=ANIONS[m.name][1])
            bind.append({"name": m.name, "kind": "anion", "cation": "K+", "status": "ok", "failure_reason": "",
                         "E_bind_kcal_per_mol": -110})
        desc.append(row)
    solv = [{"name": n, "cation": "K+", "status": "ok", "failure_reason": "", "solvating_power_kcal_per_mol": v,
             "solvating_power_err_kcal_per_mol": 2.0, "dielectric_constant": (dielectric or {}).get(n, ""),
             "dielectric_source": "Onsager estimate (synthetic)" if n in (dielectric or {}) else ""}
            for n, v in (solvating or {}).items()]
    for fname, rows in (("descriptors.csv", desc), ("binding.csv", bind), ("shells.csv", shell),
                        ("solvating_power.csv", solv)):
        cols = list(dict.fromkeys(k for r in rows for k in r)) or ["name", "cation", "status"]
        with open(directory / fname, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
    return directory


@pytest.fixture(scope="module")
def lib():
    return load_library(LIBRARY)


@pytest.fixture(scope="module")
def forms(lib):
    return load_formulations(FORMULATIONS, lib)


@pytest.fixture(scope="module")
def ev(tmp_path_factory):
    return Evidence(ResultTables.from_dir(write_synthetic_results(tmp_path_factory.mktemp("synthetic"))))


# a diluent threshold for the SYNTHETIC numbers (in a run it is fitted: 'auto')
D_SYN = 18.0


def classify(lib, ev, salt, c, comps, settings=ClassificationSettings(), d=D_SYN, fid="t", known=None, **kw):
    """``known``: the formulations that show where a salt dissolves; default: the table's literature rows."""
    f = GridFormulation(fid, salt, c, tuple(comps), **kw)
    if known is None:
        known = reported_formulations(load_formulations(FORMULATIONS, lib))
    return classify_formulation(f, lib.resolve, ev, settings, diluent_bind_max=d, origin="test", known=known)


# ----------------------------------------------------------------------------- the reason checker
def check_reason(r) -> None:
    """An independent check that a reason's stated inequality holds for its own numbers, and
    that its text shows those numbers."""
    if not r.op:
        return
    v, t, e = r.value, r.threshold, r.err or 0.0
    assert v is not None and t is not None, r
    ok = {"<": v + e < t, ">=": v - e >= t, "in": (v - e < t) and (t <= v + e), "<=": v <= t, ">": v > t}[r.op]
    assert ok, f"false reason: {r.text} ({v} {r.op} {t} ± {e})"
    if True:
        shown = [f"{v:.{nd}f}" for nd in (1, 2, 3)] + [f"{v:g}"]
        assert any(x in r.text for x in shown), f"value {v} not in {r.text!r}"
        thr_shown = [f"{t:.{nd}f}" for nd in (1, 2)] + [f"{t:g}"]
        assert any(x in r.text for x in thr_shown), f"threshold {t} not in {r.text!r}"
    words = {"<": (" < ",), ">=": (" >= ",), "in": ("within",), "<=": (" < ", " <= "), ">": (" > ", " >= ")}[r.op]
    assert any(w in r.text for w in words), f"{r.op!r} not stated in {r.text!r}"


def check_all_reasons(classifications) -> int:
    n = 0
    for cl in classifications:
        if not cl.ok:
            assert cl.failure_reason
            continue
        assert cl.reasons[0].kind == "label" and cl.reasons[0].subject == cl.label
        assert set(cl.classes) == classes_of(cl.label) and cl.classes
        # one class, and a salt known or estimated to reach the concentration (classify.solubility)
        assert (cl.confidence == "high") == (len(cl.classes) == 1 and cl.features["solubility"] != "unverified")
        if len(cl.classes) > 1:
            assert "run the MD stage" in cl.decide_by or "MD run" in cl.decide_by
        for r in cl.reasons:
            assert r.holds()
            check_reason(r)
            n += 1
    return n


# ----------------------------------------------------------------------------- the rule table
def test_rule_table_states_unit_meaning_source_and_few_fitted():
    for t in THRESHOLDS.values():
        assert t.unit and t.meaning and t.source and t.quantity, t.key
    assert sum(t.fitted for t in THRESHOLDS.values()) <= 4
    # the class rules as the review states them
    assert decide(False, True, True) == "LCE"
    assert decide(True, True, True) == "LHCE" and decide(True, True, False) == "LHCE"
    assert decide(True, False, True) == "HCE" and decide(True, False, False) == "WSE"


def test_fit_diluent_threshold_on_a_known_case():
    ex = [("a", "X", 10.0, True), ("a", "Y", 12.0, True), ("b", "Z", 20.0, False), ("b", "W", 25.0, False),
          ("c", "V", 21.0, True)]  # V is a misfit whichever cut: 4/5 at best, widest gap wins
    fit = fit_diluent_threshold(ex)
    assert fit["n_right"] == 4 and fit["value"] == pytest.approx(16.0)  # gap 12 -> 20
    assert fit["misfits"] == ["c/V (diluent, -E_bind 21.0)"]


# ----------------------------------------------------------------------------- roles
def test_roles_are_a_criterion_on_the_component_itself(lib, ev, phys_ev):
    # TTE (synthetic -E_bind 10) is a diluent next to DME and next to DGM where its dielectric constant
    # and solvating power place it below theirs ...
    for solvent in ("DME", "DGM"):
        cl = classify(lib, phys_ev, "KFSI", 1.6, [(solvent, 1.0), ("TTE", 1.0)])
        assert cl.features["diluents"] == ["TTE"], cl.reasons_text()
    # ... and only undecided where neither is known: its binding energy alone does not make it a diluent
    cl = classify(lib, ev, "KFSI", 1.6, [("DME", 1.0), ("TTE", 1.0)])
    assert cl.features["undecided"] == ["TTE"] and "LHCE" in cl.classes, cl.reasons_text()
    assert "TTE: no dielectric constant for TTE" in cl.reasons_text()
    # ... and a weaker binder is not a diluent because a stronger one is present
    cl = classify(lib, ev, "KFSI", 1.0, [("DGM", 1.0), ("DEE", 1.0)])  # 40 vs 32 kcal/mol
    assert cl.features["diluents"] == [] and cl.features["undecided"] == []


def test_mixing_two_strong_solvents_creates_no_diluent(lib, ev):
    for pair in (("DME", "DGM"), ("EC", "DEC"), ("DME", "TMP")):
        cl = classify(lib, ev, "KFSI", 1.0, [(pair[0], 1.0), (pair[1], 1.0)])
        assert cl.features["diluents"] == [] and "LHCE" not in cl.classes, cl.reasons_text()


def test_a_donor_free_diluent_is_a_diluent_not_a_failure(tmp_path):
    """Hexane: no donor atom, no binding row (the binding stage cannot bind it): a diluent."""
    custom = tmp_path / "hex.csv"
    custom.write_text("name,aliases,smiles,kind,full_name,density_g_per_mL,density_source\n"
                      "HEX,,CCCCCC,diluent,n-hexane (test row),0.655,CRC Handbook\n")
    lib = load_library([LIBRARY, custom])
    res = write_synthetic_results(tmp_path / "r", library=[LIBRARY, custom])
    rows = [r for r in csv.DictReader((res / "binding.csv").open()) if r["name"] != "HEX"]
    with open(res / "binding.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    ev = Evidence(ResultTables.from_dir(res))
    cl = classify(lib, ev, "KFSI", 1.6, [("DME", 1.0), ("HEX", 1.0)])
    assert cl.ok and cl.features["diluents"] == ["HEX"], cl.failure_reason
    assert "no donor atom" in cl.reasons_text()
    # DME's local donor atoms per salt are below the K+ CN: an anion-rich LHCE core, by composition
    assert cl.label == "LHCE" and cl.confidence == "high", cl.reasons_text()
    # hexane alone dissolves no salt: a failure with that reason
    alone = classify(lib, ev, "KFSI", 1.0, [("HEX", 1.0)])
    assert not alone.ok and "would not dissolve" in alone.failure_reason
    check_all_reasons([cl])


def _rewrite(path: Path, edit) -> None:
    rows = list(csv.DictReader(path.open()))
    rows = [r for r in map(edit, rows) if r is not None]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_classification_reads_the_recorded_structure_not_the_smiles(lib, tmp_path):
    """Issue 26: donor atoms, the C-F flag and the pi-donor group come from descriptors.csv (what
    the properties stage recorded), never from the library's SMILES: a DME row recorded without
    donor atoms makes DME a diluent by structure, whatever its SMILES says."""
    res = write_synthetic_results(tmp_path / "r")
    _rewrite(res / "descriptors.csv", lambda r: {**r, "n_molecule_donor_atoms": 0} if r["name"] == "DME" else r)
    cl = classify(lib, Evidence(ResultTables.from_dir(res)), "KFSI", 1.0, [("DGM", 1.0), ("DME", 1.0)])
    assert cl.features["diluents"] == ["DME"] and "DME: 0 donor atoms" in cl.reasons_text()
    # a molecule without a descriptors or binding row has no recorded structure: named, not parsed
    assert ResultTables.from_dir(res).structure("NOPE").reason.startswith("no recorded structure of NOPE")
    src = ROOT / "src" / "solvscreen" / "classify"
    assert [p.name for p in src.glob("*.py") if "MolFromSmiles" in p.read_text()] == []


def test_an_old_descriptors_table_without_the_structure_columns_is_named(lib, tmp_path):
    res = write_synthetic_results(tmp_path / "r")
    _rewrite(res / "descriptors.csv", lambda r: {k: v for k, v in r.items() if k not in ("has_C_F", "canonical_smiles")})
    with pytest.raises(InputError, match=r"descriptors.csv: the descriptors table lacks column\(s\) has_C_F, "
                                         r"canonical_smiles.*run the workflow again"):
        classify(lib, Evidence(ResultTables.from_dir(res)), "KFSI", 1.0, [("DME", 1.0)])


def test_a_properties_record_without_the_structure_is_no_result(tmp_path):
    """A properties record written before the stage stored the molecule's structure fails the
    stage's schema, so the workflow sets it aside and recomputes it (and the table with it)."""
    from solvscreen.core.records import Record, results_problem
    from solvscreen.xtb.properties import STRUCTURE_RESULTS

    results = {"energy_Eh": -1.0, "homo_eV": -10.0, "lumo_eV": 1.0, "gap_eV": 11.0, "dipole_D": 1.0,
               "electronic_temperature_K": 300.0, "scf_attempt": 1}
    assert results_problem("properties", results) == ("properties record results without "
                                                      + ", ".join(STRUCTURE_RESULTS))
    full = {**results, "n_molecule_donor_atoms": 2, "molecule_donor_atoms": ["O1", "O4"], "has_C_F": False,
            "has_C_Cl": False, "has_C_Br": False, "has_C_I": False, "pi_donor_group": "", "canonical_smiles": "COCCOC"}
    assert results_problem("properties", full) is None
    Record(stage="properties", name="DME", results=results).write(tmp_path / "DME.json")
    with pytest.raises(Exception, match="without n_molecule_donor_atoms"):
        Record.read(tmp_path / "DME.json")


def test_a_library_diluent_that_binds_strongly_is_not_a_diluent(lib, tmp_path):
    """The kind column is a hint for the grid, not a role."""
    d = write_synthetic_results(tmp_path / "r", extra={"TTE": (30, 22, -55, -13.0, 0.4, 6.6)})
    cl = classify(lib, Evidence(ResultTables.from_dir(d)), "KFSI", 1.0, [("DME", 1.0), ("TTE", 1.0)])
    assert cl.features["diluents"] == [] and "LHCE" not in cl.classes


def test_undecided_role_gives_every_possible_class(lib, ev):
    # DX synthetic -E_bind 20: within 7 kcal/mol of the threshold 15 -> role undecided
    cl = classify(lib, ev, "KFSI", 1.0, [("TMP", 1.0), ("DX", 1.0)])
    assert cl.features["undecided"] == ["DX"]
    assert "LHCE" in cl.classes and len(cl.classes) > 1 and cl.confidence == "low"
    assert "whether DX stays out of the K+ shell" in cl.decide_by and "md=" in cl.decide_by
    check_all_reasons([cl])


# ----------------------------------------------------------------------------- without MD: honest
def test_descriptors_never_pick_lce_or_wse_alone(lib, ev):
    """No binding or exchange energy decides whether the anion enters a moderate solution:
    1 M in any strong solvent is LCE|WSE, with what would decide it."""
    for solvent in ("DME", "DEE", "TFP", "DGM", "PC", "THF"):
        cl = classify(lib, ev, "KFSI", 1.0, [(solvent, 1.0)], fid=f"x-{solvent}")
        assert cl.label == "LCE|WSE" and cl.evidence == "descriptors", (solvent, cl.label)
        assert f"formulations: [x-{solvent}]" in cl.decide_by


# SYNTHETIC solvating powers (kcal/mol), made up to test the rule: references DME 6, DGM 16,
# EC 9, PC 10; DEE clearly below DME, TFP within the uncertainty (2 x 2.0 in quadrature = 2.8).
SOLVATING = {"DME": 6.0, "DGM": 16.0, "EC": 9.0, "PC": 10.0, "DEE": -1.7, "TFP": 4.0, "THF": 7.0, "DMSO": 12.0}


@pytest.fixture(scope="module")
def sp_ev(tmp_path_factory):
    return Evidence(ResultTables.from_dir(write_synthetic_results(tmp_path_factory.mktemp("sp"),
                                                                  solvating=SOLVATING)))


# SYNTHETIC solvating powers (kcal/mol) and solvation-stage dielectric constants (Onsager estimates, for
# liquids the library gives none) of the components of the chemistry tests below
PHYS_SOLVATING = {**SOLVATING, "TTE": -3.0, "MME": -4.0, "DEC": 8.0, "DMC": 7.5, "DX": 3.0, "TMP": 9.0,
                  "FEC": 9.5, "FEMC": 3.0, "AN": 8.0}
PHYS_DIELECTRIC = {"TTE": 5.0, "MME": 4.0, "TMP": 8.9, "FEC": 40.0, "FEMC": 6.0}


@pytest.fixture(scope="module")
def phys_ev(tmp_path_factory):
    return Evidence(ResultTables.from_dir(write_synthetic_results(
        tmp_path_factory.mktemp("phys"), fail=(), solvating=PHYS_SOLVATING, dielectric=PHYS_DIELECTRIC)))


def test_a_diluent_is_below_the_solvent_in_dielectric_constant_and_solvating_power(lib, phys_ev):
    # EC:DEC: EC is more polar than DEC (89.8 vs 2.8, library); DEC is a carbonate: neither is a diluent
    for c in (0.5, 1.0):
        cl = classify(lib, phys_ev, "KFSI", c, [("EC", 1.0), ("DEC", 1.0)])
        assert cl.features["diluents"] == [] and cl.features["undecided"] == [] and "LHCE" not in cl.classes
        assert "DEC: a carbonate or ester C=O" in cl.reasons_text()
        check_all_reasons([cl])
    # FEC is never offered as a diluent (a carbonate), whatever its binding energy
    cl = classify(lib, phys_ev, "KFSI", 1.0, [("FEMC", 1.0), ("FEC", 1.0)], d=30.0)
    assert "FEC" not in cl.features["diluents"] + cl.features["undecided"] and "LHCE" not in cl.classes
    # no carbonate is a diluent next to an ether either
    for carbonate in ("DMC", "DEC", "EMC", "FEMC"):
        cl = classify(lib, phys_ev, "KFSI", 1.0, [("DME", 1.0), (carbonate, 1.0)], d=40.0)
        assert carbonate not in cl.features["diluents"] + cl.features["undecided"], cl.reasons_text()
    # a less polar ether that also holds K+ less strongly stays a possible diluent (TMP:DX, review Table 2)
    cl = classify(lib, phys_ev, "KFSI", 1.0, [("TMP", 1.0), ("DX", 1.0)])
    assert "DX" in cl.features["undecided"] + cl.features["diluents"] and "LHCE" in cl.classes
    r = next(r for r in cl.reasons if r.subject == "DX" and r.quantity == "dielectric_constant")
    assert r.op == "<" and r.value == 2.2 and r.threshold == 8.9 and "Onsager estimate" in r.text
    check_all_reasons([cl])


def test_a_blend_of_conventional_solvents_is_neither_wse_nor_lhce(lib, phys_ev, ev):
    cl = classify(lib, phys_ev, "KFSI", 1.0, [("DME", 1.0), ("DGM", 1.0)])
    assert cl.label == "LCE" and cl.confidence == "high", cl.reasons_text()
    assert "DME: a conventional solvent on its own" in cl.reasons_text()
    check_all_reasons([cl])
    # without solvating powers nothing shows they are conventional: open, and the label says what decides
    cl = classify(lib, ev, "KFSI", 1.0, [("DME", 1.0), ("DGM", 1.0)])
    assert "LHCE" not in cl.classes and cl.decide_by.startswith("open: needs MD to decide")


def test_a_solvating_power_comparison_alone_never_makes_a_blend_confident(lib, tmp_path):
    """SYNTHETIC: DX holding K+ more strongly than TMP (20 vs 9 kcal/mol) is not a diluent of it, but
    GFN2-xTB's solvating powers are what fails for non-fluorinated antisolvents: the blend stays open
    (review Table 2 has TMP:DX as an LHCE)."""
    d = write_synthetic_results(tmp_path, fail=(), solvating={**PHYS_SOLVATING, "DX": 20.0},
                                dielectric=PHYS_DIELECTRIC)
    cl = classify(lib, Evidence(ResultTables.from_dir(d)), "KFSI", 1.0, [("TMP", 1.0), ("DX", 1.0)])
    assert cl.features["diluents"] == [] and cl.features["undecided"] == []
    assert "DX: solvating power 20.0" in cl.reasons_text() and cl.confidence == "low", cl.label
    check_all_reasons([cl])


@pytest.mark.parametrize("c", [1.0, 2.0, 4.0])
def test_a_salt_in_a_liquid_too_apolar_to_dissolve_it_gets_no_class(lib, phys_ev, ev, c):
    """Neat 1,4-dioxane (dielectric constant 2.2, no reported KFSI solution): not WSE, not HCE."""
    for evidence in (phys_ev, ev):
        cl = classify(lib, evidence, "KFSI", c, [("DX", 1.0)])
        assert not cl.ok and cl.label is None and not cl.classes
        assert cl.failure_reason.startswith("KFSI may not dissolve in DX (an estimate")
        assert "dielectric constant of DX 2.2" in cl.failure_reason and "< 5.1" in cl.failure_reason
        assert "a measured solubility of KFSI in DX" in cl.decide_by
        (r,) = [r for r in cl.reasons if r.subject == "solubility"]
        check_reason(r)
    cl = classify(lib, phys_ev, "KFSI", c, [("DMC", 1.0)])
    assert not cl.ok and "dielectric constant of DMC 3.1" in cl.failure_reason


def test_a_concentration_nobody_reports_is_never_a_confident_hce(lib, phys_ev, ev):
    # 4 M KFSI in AN: polar enough to dissolve the salt (36.0 >= 5.1), but no report at 4 M
    cl = classify(lib, phys_ev, "KFSI", 4.0, [("AN", 1.0)])
    assert cl.label == "HCE" and cl.confidence == "low" and cl.features["solubility"] == "unverified"
    assert "KFSI solubility at 4 M unverified" in cl.reasons_text()
    assert cl.decide_by == "a measured solubility of KFSI in AN at 4 M"
    assert not cl.confidently_wrong
    check_all_reasons([cl])
    # 4 M KFSI/DME: the review reports 5 M KFSI/DME (HCE-DME-5M), so 4 M dissolves: a confident HCE
    cl = classify(lib, phys_ev, "KFSI", 4.0, [("DME", 1.0)])
    assert cl.label == "HCE" and cl.confidence == "high" and "<= 5 M, the reported KFSI in DME" in cl.reasons_text()
    # ... but without that report the same 4 M is unverified
    cl = classify(lib, phys_ev, "KFSI", 4.0, [("DME", 1.0)], known=[])
    assert cl.confidence == "low" and cl.features["solubility"] == "unverified"
    # nothing known about DBE's polarity (no library value, no solvation stage here): 4 M is not confident
    cl = classify(lib, ev, "KFSI", 4.0, [("DBE", 1.0)])
    assert cl.classes == ["HCE"] and cl.confidence == "low" and cl.features["solubility"] == "unverified"
    assert "no dielectric constant for DBE" in cl.reasons_text()
    # 2 M in a 1:1 blend with a diluent is over 4 M in the solvent alone: what the solvent must dissolve
    cl = classify(lib, phys_ev, "KFSI", 2.0, [("AN", 1.0), ("TTE", 1.0)])
    assert cl.features["diluents"] == ["TTE"] and cl.features["solubility"] == "unverified", cl.reasons_text()
    assert "KFSI solubility at 2 M (4.0 M in AN alone) unverified" in cl.reasons_text() and cl.confidence == "low"
    cl = classify(lib, phys_ev, "KFSI", 2.0, [("DME", 1.0), ("TTE", 1.0)])
    assert cl.features["solubility"] == "reported" and "M in DME <= 5 M, the reported KFSI in DME" in cl.reasons_text()


def test_the_generalization_set_never_shows_a_salt_dissolves(forms):
    gen = {f.id for f in forms if f.set == "generalization"}
    assert gen and not gen & {f.id for f in reported_formulations(forms)}


def test_solvating_power_decides_lce_vs_wse_relative_to_the_references(lib, sp_ev):
    assert classify(lib, sp_ev, "KFSI", 1.0, [("DME", 1.0)]).label == "LCE"  # the weakest reference itself
    cl = classify(lib, sp_ev, "KFSI", 1.0, [("DEE", 1.0)])
    assert cl.label == "WSE" and cl.confidence == "high"
    r = next(r for r in cl.reasons if r.quantity == "solvating_power_kcal_per_mol")
    assert r.op == "<" and r.threshold == 6.0 and r.holds()
    cl = classify(lib, sp_ev, "KFSI", 1.0, [("TFP", 1.0)])  # 4.0 + 2.8 >= 6.0: undecided
    assert cl.label == "LCE|WSE" and "TFP's solvating power 4.0 ± 2.8 kcal/mol is within its uncertainty" in cl.decide_by
    # a blend whose roles rest on GFN2 binding: a strong component does not close the anion predicate
    blend = classify(lib, sp_ev, "KFSI", 1.0, [("DEE", 1.0), ("DGM", 1.0)])
    assert blend.label == "LCE|WSE" and any(r.subject == "blend" for r in blend.reasons)
    assert "DGM's solvating power says conventional, but the blend's roles rest on 1:1 GFN2-xTB" in blend.decide_by
    check_all_reasons([cl])


def test_a_fluorinated_solvent_is_never_confidently_conventional_from_solvating_power(lib, tmp_path):
    """TFP (SYNTHETIC 12.0 >= the weakest reference 6.0): GFN2-xTB does not weaken fluorinated
    solvents, so the verdict stays open; a non-fluorinated solvent with the same value is an LCE."""
    ev12 = Evidence(ResultTables.from_dir(write_synthetic_results(tmp_path, solvating={**SOLVATING, "TFP": 12.0})))
    cl = classify(lib, ev12, "KFSI", 1.0, [("TFP", 1.0)])
    assert cl.label == "LCE|WSE" and cl.confidence == "low", cl.reasons_text()
    r = next(r for r in cl.reasons if r.quantity == "solvating_power_kcal_per_mol")
    assert r.op == ">=" and r.value == 12.0 and r.holds() and "fluorinated" in r.text
    assert "but TFP is fluorinated and GFN2-xTB does not weaken K+ binding" in cl.decide_by
    assert classify(lib, ev12, "KFSI", 1.0, [("DMSO", 1.0)]).label == "LCE"  # 12.0, no C-F bond
    check_all_reasons([cl])


@pytest.mark.parametrize("solvent", ["PC", "DMSO", "THF", "DME"])
def test_composition_alone_never_makes_a_confident_wse(lib, sp_ev, ev, solvent):
    """2 M in a strong solvent: too few donors per salt by composition, but not a weak solvent."""
    for evidence in (ev, sp_ev):
        cl = classify(lib, evidence, "KFSI", 2.0, [(solvent, 1.0)])
        assert cl.label != "WSE", (solvent, cl.label)
        if cl.features["donors_per_salt"] <= THRESHOLDS["shell_donors_per_cation"].default:
            assert "WSE" in cl.classes and "LCE" in cl.classes and cl.confidence == "low"


def test_concentrated_solutions_are_hce_by_composition(lib, ev):
    cl = classify(lib, ev, "KFSI", 4.0, [("DGM", 1.0)])
    assert cl.label == "HCE" and cl.confidence == "high"
    assert cl.features["donors_per_salt"] < THRESHOLDS["shell_donors_per_cation"].default


@pytest.mark.parametrize("solvent", ["DME", "DEE", "DGM", "TMP", "EC", "PC", "TEGDME", "TFP"])
def test_more_salt_never_turns_an_hce_back(lib, ev, solvent):
    labels = [classify(lib, ev, "KFSI", c, [(solvent, 1.0)]).classes
              for c in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)]
    seen_hce = False
    for cls in labels:
        if seen_hce:
            assert cls == ["HCE"], labels
        seen_hce = seen_hce or cls == ["HCE"]
    assert seen_hce, labels  # at 6 M every one of them is an HCE
    # and the LCE possibility only shrinks with salt
    lce = ["LCE" in cls for cls in labels]
    assert lce == sorted(lce, reverse=True), labels


# ----------------------------------------------------------------------------- MD evidence (constructed)
# measured_facts.md (short MD runs, ~1.6k atoms): FSI CN per K+, SSIP/CIP/AGG; TTE shows no
# K-F/K-O RDF peak (depleted below bulk; the enrichment numbers of TTE and DME are CONSTRUCTED
# to say "below bulk" / "above bulk", the measured facts give no value for them).
MD_SOLVATION = [
    # formulation, anion_cn, ssip, cip, agg
    ("LCE-DME", 0.6, 0.48, 0.46, 0.06),
    ("WSE-DEE", 1.65, 0.15, 0.32, 0.53),
    ("LHCE-DME-TTE", 1.6, 0.20, 0.31, 0.49),
    ("MD-DME-4M", 2.5, 0.05, 0.13, 0.82),
]
MD_COORDINATION = [  # formulation, species, bulk share, shell share of the neutral molecules (CONSTRUCTED)
    ("LCE-DME", "DME", 1.0, 1.0), ("WSE-DEE", "DEE", 1.0, 1.0), ("LHCE-DME-TTE", "DME", 0.6, 0.98),
    ("LHCE-DME-TTE", "TTE", 0.4, 0.02), ("MD-DME-4M", "DME", 1.0, 1.0),
]


def write_md_tables(directory: Path, solvation=MD_SOLVATION, coordination=MD_COORDINATION, err=0.05) -> tuple:
    directory.mkdir(parents=True, exist_ok=True)
    sol, coo = directory / "solvation.csv", directory / "coordination.csv"
    with sol.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["formulation", "status", "anion_cn", "anion_cn_err", "ssip_fraction", "cip_fraction",
                    "agg_fraction", "preset"])
        for f, cn, a, b, c in solvation:
            w.writerow([f, "ok", cn, err, a, b, c, "constructed"])
    with coo.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["formulation", "species", "kind", "cn", "cn_err", "cutoff_A", "bulk_mole_fraction",
                    "shell_mole_fraction"])
        for f, sp, bulk, shell in coordination:
            w.writerow([f, sp, "solvent", 3.0 * shell, err, 4.1, bulk, shell])
    return sol, coo


@pytest.fixture(scope="module")
def md_ev(tmp_path_factory):
    d = tmp_path_factory.mktemp("md")
    res = write_synthetic_results(d / "results")
    sol, coo = write_md_tables(d / "md")
    return read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv",
                         solvation=sol, coordination=coo)


@pytest.mark.parametrize("fid, c, comps, expected", [
    ("LCE-DME", 1.0, [("DME", 1.0)], "LCE"),
    ("WSE-DEE", 2.0, [("DEE", 1.0)], "WSE"),
    ("LHCE-DME-TTE", 1.6, [("DME", 1.0), ("TTE", 1.0)], "LHCE"),
    ("MD-DME-4M", 4.0, [("DME", 1.0)], "HCE"),
])
def test_md_evidence_decides_on_measured_structures(lib, md_ev, fid, c, comps, expected):
    cl = classify(lib, md_ev, "KFSI", c, comps, fid=fid)
    assert cl.evidence == "md" and cl.label == expected and cl.confidence == "high", cl.reasons_text()
    assert "MD" in cl.reasons_text()
    check_all_reasons([cl])


def test_md_value_within_its_error_names_two_classes(lib, tmp_path):
    res = write_synthetic_results(tmp_path / "r")
    sol, coo = write_md_tables(tmp_path / "md", solvation=[("X", 1.1, 0.3, 0.5, 0.2)],
                               coordination=[("X", "DME", 1.0, 1.0)], err=0.02)
    ev = read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv", solvation=sol,
                       coordination=coo)
    cl = classify(lib, ev, "KFSI", 1.0, [("DME", 1.0)], fid="X")  # 1.1 within the 0.15 seed spread of 1
    assert cl.label == "LCE|WSE" and cl.evidence == "md" and "MD" in cl.decide_by
    check_all_reasons([cl])
    # the same structure without MD evidence (use_md off) is classified from descriptors
    cl = classify(lib, ev, "KFSI", 1.0, [("DME", 1.0)], ClassificationSettings(use_md=False), fid="X")
    assert cl.evidence == "descriptors"


def test_an_md_value_that_does_not_decide_leaves_the_descriptors_verdict(lib, tmp_path):
    """MD whose anion-CN interval contains its threshold adds nothing: composition and solvating
    power decide as without MD (SYNTHETIC solvating powers: DEE clearly below the references, DME
    one of them); where they leave it open too, both are named in what would decide."""
    res = write_synthetic_results(tmp_path / "r", solvating=SOLVATING)
    sol, coo = write_md_tables(tmp_path / "md", solvation=[("X", 1.1, 0.3, 0.5, 0.2), ("Y", 1.1, 0.3, 0.5, 0.2),
                                                            ("Z", 1.1, 0.3, 0.5, 0.2)],
                               coordination=[("X", "DME", 1.0, 1.0), ("Y", "DEE", 1.0, 1.0), ("Z", "TFP", 1.0, 1.0)],
                               err=0.02)
    ev = read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv", solvating_power=res /
                       "solvating_power.csv", solvation=sol, coordination=coo)
    x = classify(lib, ev, "KFSI", 1.0, [("DME", 1.0)], fid="X")
    y = classify(lib, ev, "KFSI", 1.0, [("DEE", 1.0)], fid="Y")
    z = classify(lib, ev, "KFSI", 1.0, [("TFP", 1.0)], fid="Z")  # TFP 4.0 within the uncertainty of DME's 6.0
    assert (x.label, y.label, z.label) == ("LCE", "WSE", "LCE|WSE"), (x.reasons_text(), y.reasons_text())
    for cl in (x, y, z):
        assert cl.features["anion_cn"] == 1.1 and any(r.subject == "md_undecided" for r in cl.reasons)
    assert "MD anion CN per K+ is within its uncertainty of its threshold" in z.decide_by
    assert "solvating power 4.0" in z.decide_by
    check_all_reasons([x, y, z])


def test_dft_binding_is_preferred_and_named(lib, tmp_path):
    res = write_synthetic_results(tmp_path / "r")
    dft = tmp_path / "dft_binding.csv"
    dft.write_text("name,cation,E_bind_best_kcal_per_mol,E_bind_best_source,E_bind_calibrated_err_kcal_per_mol\n"
                   "TTE,K+,-5.0,dft,\nDME,K+,-32.0,calibrated_gfn2,2.0\n")
    ev = read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv", dft=dft)
    cl = classify(lib, ev, "KFSI", 1.6, [("DME", 1.0), ("TTE", 1.0)])
    role = {r.subject: r for r in cl.reasons if r.kind == "role"}
    assert role["TTE"].evidence == "dft" and "(DFT)" in role["TTE"].text and role["TTE"].value == 5.0
    assert role["TTE"].err == THRESHOLDS["dft_uncertainty_kcal_per_mol"].default
    assert role["DME"].evidence == "calibrated_gfn2" and role["DME"].err == 2.0
    check_all_reasons([cl])


# ----------------------------------------------------------------------------- run, calibration, generalization
def test_formulation_table_marks_calibration_and_generalization_sets(forms):
    by_id = {f.id: f for f in forms}
    assert all("." not in f.id for f in forms)  # record names are file-safe
    cal = {f.id for f in forms if f.set == "calibration"}
    gen = {f.id for f in forms if f.set == "generalization"}
    assert len(cal) == 11 and len(gen) >= 8
    for f in forms:
        assert f.set in ("calibration", "generalization", "other") and f.source
    if REFERENCE.is_file():
        with REFERENCE.open() as fh:
            ref = {r["id"]: r for r in csv.DictReader(fh)}
        assert set(ref) == cal
        for fid, r in ref.items():
            assert by_id[fid].reported_class == r["reported_class"]
            assert by_id[fid].concentration_mol_per_L == pytest.approx(float(r["concentration_M"]))
    if GENERALIZATION.is_file():
        with GENERALIZATION.open() as fh:
            ref = {r["id"]: r for r in csv.DictReader(fh)}
        assert set(ref) == gen
        for fid, r in ref.items():
            assert by_id[fid].reported_class == r["expected_class"]
            assert by_id[fid].concentration_mol_per_L == pytest.approx(float(r["concentration_M"]))


def test_run_writes_table_records_and_calibration_blocks(lib, forms, ev, tmp_path):
    out = run_classification(lib, forms, ev, ClassificationSettings(),
                             GridSettings(concentrations_mol_per_L=(1.0, 4.0), pair_concentrations_mol_per_L=(1.5,)),
                             out_csv=tmp_path / "c.csv", out_records=tmp_path / "c.json",
                             out_calibration=tmp_path / "cal.json")
    rows = list(csv.DictReader((tmp_path / "c.csv").open()))
    ids = [r["id"] for r in rows]
    assert ids[: len(forms)] == [f.id for f in forms]
    grid = [r for r in rows if r["origin"] == "grid"]
    assert grid and all("." not in i for i in ids)
    assert any(r["id"] == "grid-KFSI-TFP+TTE-1:1v-1p5M" for r in grid)
    recs = json.loads((tmp_path / "c.json").read_text())["records"]
    assert len(recs) == len(rows) and recs[0]["results"]["reasons"][0]["kind"] == "label"
    cal = json.loads((tmp_path / "cal.json").read_text())
    assert cal["fit"]["n_roles"] > 0 and cal["diluent_bind_max_kcal_per_mol"] == out["diluent_bind_max"]
    s = cal["summary"]
    assert s["calibration"]["n"] == 11 and s["leave_one_out"]["n"] == 11
    assert s["generalization"]["n"] >= 8 and cal["generalization"]["cases"]
    assert {t["key"] for t in cal["threshold_table"]} == set(THRESHOLDS)
    assert cal["summary_with_md"] is None  # no MD tables in this run
    assert check_all_reasons(out["classifications"]) > len(rows)


def test_every_reason_of_a_run_with_md_is_true(lib, forms, md_ev):
    out = run_classification(lib, forms, md_ev, ClassificationSettings(),
                             GridSettings(concentrations_mol_per_L=(1.0, 2.0, 4.0), pair_concentrations_mol_per_L=(1.0,)))
    check_all_reasons(out["classifications"])
    s = out["calibration"]["summary_with_md"]
    assert s["calibration"]["n"] == 3 and s["calibration"]["n_right"] == 3  # the three measured in measured_facts
    assert not any(c.confidently_wrong for c in out["classifications"] if c.evidence == "md")


# ----------------------------------------------------------------------------- settings
def test_settings_reject_unknown_keys_and_bad_values():
    with pytest.raises(InputError, match="unknown setting"):
        ClassificationSettings.from_dict({"nonsense": 1})
    with pytest.raises(InputError, match="diluent_bind_max"):
        ClassificationSettings.from_dict({"diluent_bind_max_kcal_per_mol": "vibes"})
    with pytest.raises(InputError, match="md_anion_cn_min"):
        ClassificationSettings.from_dict({"md_anion_cn_min": 0})
    assert ClassificationSettings.from_dict({"diluent_bind_max_kcal_per_mol": 30}).diluent_bind_max_kcal_per_mol == 30


def test_schema_defaults_are_the_dataclass_defaults():
    """The config schema documents the defaults; the settings classes must agree with it."""
    from solvscreen.inputs.composition import CompositionSettings
    from solvscreen.classify.rank import RankingSettings
    from solvscreen.report.page import ReportSettings

    cfg = load_config({})
    assert ClassificationSettings.from_dict(cfg["classification"]) == ClassificationSettings()
    assert CompositionSettings(**cfg["classification"]["composition"]) == CompositionSettings()
    assert RankingSettings.from_dict(cfg["ranking"]) == RankingSettings()
    assert ReportSettings.from_dict(cfg["report"]) == ReportSettings()
    assert GridSettings.from_dict(cfg["grid"]) == GridSettings()
    for key, t in THRESHOLDS.items():
        assert cfg["classification"][key] == t.default, key


# ----------------------------------------------------------------------------- the CLI path
CUSTOM_LIBRARY = """name,aliases,smiles,kind,full_name,density_g_per_mL,density_source
NEWGLYME,,COCCOCCC,solvent,1-methoxy-2-propoxyethane (custom test candidate),0.85,estimate
NEWFLUORO,,FC(F)(F)COCC(F)(F)C(F)(F)F,diluent,a fluoroether (custom test candidate),1.5,estimate
"""
CUSTOM_FORMULATIONS = """id,salt,concentration_mol_per_L,components,ratio_basis,reported_class,ratio_reported,source
NEW-LHCE,KFSI,1.6,NEWGLYME:1|NEWFLUORO:1,volume,,yes,custom test formulation
NEW-HCE,KFSI,4.5,NEWGLYME,volume,,yes,custom test formulation
"""


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "solvscreen.interface.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture()
def custom(tmp_path):
    (tmp_path / "custom.csv").write_text(CUSTOM_LIBRARY)
    (tmp_path / "custom_formulations.csv").write_text(CUSTOM_FORMULATIONS)
    results = write_synthetic_results(
        tmp_path / "results", library=[LIBRARY, tmp_path / "custom.csv"],
        extra={"NEWGLYME": (31, 23, -54, -10.9, 1.6, 4.1), "NEWFLUORO": (2, 1, -76, -13.1, 0.3, 6.8)})
    cfg = tmp_path / "custom.yaml"
    cfg.write_text(f"extra_libraries: [{tmp_path / 'custom.csv'}]\n"
                   f"extra_formulations: [{tmp_path / 'custom_formulations.csv'}]\n"
                   f"results: {results}\n")
    return tmp_path, cfg, results


def test_cli_classifies_custom_molecules_from_a_configfile(custom):
    tmp, cfg, results = custom
    sol, coo = write_md_tables(tmp / "md", solvation=[("NEW-LHCE", 1.7, 0.1, 0.4, 0.5)],
                               coordination=[("NEW-LHCE", "NEWGLYME", 0.5, 0.95), ("NEW-LHCE", "NEWFLUORO", 0.5, 0.05)])
    proc = _cli("classify", "--configfile", "workflows/config.yaml", cfg, "--solvation", sol, "--coordination", coo)
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in csv.DictReader((results / "classification.csv").open())}
    assert rows["NEW-LHCE"]["label"] == "LHCE" and rows["NEW-LHCE"]["diluents"] == "NEWFLUORO"
    assert rows["NEW-LHCE"]["evidence"] == "md"
    assert rows["NEW-HCE"]["label"] == "HCE" and rows["NEW-HCE"]["evidence"] == "descriptors"
    assert any(i.startswith("grid-KFSI-NEWGLYME+NEWFLUORO") for i in rows)  # the grid picks them up
    assert "calibration accuracy" in proc.stderr
    for cmd in ("rank", "report"):
        proc = _cli(cmd, "--configfile", "workflows/config.yaml", cfg)
        assert proc.returncode == 0, proc.stderr
    assert "NEWGLYME" in (results / "report.html").read_text()


def _digests(directory: Path) -> dict[str, str]:
    return {str(f.relative_to(directory)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(directory.rglob("*")) if f.is_file()}


def test_classify_print_is_a_question_that_writes_nothing(custom):
    """``classify --print``, run twice from another directory (no checkout there), prints the labels
    within the terminal's width and leaves the results directory byte-identical."""
    tmp, cfg, results = custom
    assert _cli("classify", "--configfile", cfg).returncode == 0  # the run's own tables
    before = _digests(results)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "COLUMNS": "100"}
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "solvscreen.interface.cli", "classify", "--print",
                               "--configfile", str(cfg)], cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert _digests(results) == before and list(elsewhere.iterdir()) == []
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:6] == ["id", "label", "conf.", "evidence", "lit.", "verdict"]
    assert max(map(len, lines)) <= 100
    hce = next(line.split() for line in lines if line.startswith("NEW-HCE "))
    # a custom HCE row whose solubility no report confirms: the class stands, its confidence is low
    assert hce[1:4] == ["HCE", "low", "descriptors"] and hce[4] == "-"  # no literature class for a custom row
    lit = {r["id"]: r["reported_class"] for r in csv.DictReader((results / "classification.csv").open())}
    for line in lines[1:]:
        assert line.split()[4] == (lit[line.split()[0]] or "-")


def test_classify_print_names_a_missing_results_directory_and_creates_nothing(tmp_path):
    gone = tmp_path / "nonexistent"
    proc = _cli("classify", "--print", "--results", gone, cwd=tmp_path)
    assert proc.returncode == 2 and f"results directory {gone} does not exist" in proc.stderr
    assert not gone.exists() and list(tmp_path.iterdir()) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _cli("classify", "--print", "--results", empty, cwd=tmp_path)
    assert proc.returncode == 2 and f"{empty / 'descriptors.csv'} does not exist" in proc.stderr
    assert list(empty.iterdir()) == []


def test_cli_names_a_missing_optional_table(custom):
    tmp, cfg, results = custom
    proc = _cli("classify", "--configfile", "workflows/config.yaml", cfg, "--solvation", tmp / "nope.csv")
    assert proc.returncode == 2 and "nope.csv" in proc.stderr and "does not exist" in proc.stderr


@pytest.mark.parametrize("row, message", [
    ("BAD,KFSI,1.0,NOSUCH:1,volume,,yes,x", "unknown molecule 'NOSUCH'"),
    ("BAD,KFSI,-1.0,DME,volume,,yes,x", "concentration"),
    ("BAD,KFSI,1.0,DME:one|TTE:1,volume,,yes,x", "not a positive number"),
    ("BAD,FSI,1.0,DME,volume,,yes,x", "not a salt"),
])
def test_bad_formulations_stop_the_classify_command_naming_the_row(custom, row, message):
    tmp, cfg, results = custom
    bad = tmp / "bad.csv"
    bad.write_text(CUSTOM_FORMULATIONS.splitlines()[0] + "\n" + row + "\n")
    cfg.write_text(cfg.read_text() + f"formulations: {bad}\n")
    proc = _cli("classify", "--configfile", "workflows/config.yaml", cfg)
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "row 1" in proc.stderr and message in proc.stderr, proc.stderr
    assert not (results / "classification.csv").exists()  # nothing partial written


# ----------------------------------------------------------------------------- physics (real run)
REAL = os.environ.get("SOLVSCREEN_RESULTS")


@pytest.fixture(scope="module")
def real():
    if not REAL:
        pytest.skip("SOLVSCREEN_RESULTS is not set (the default pipeline's results directory)")
    r = Path(REAL)
    missing = [f for f in ("descriptors.csv", "binding.csv", "solvating_power.csv") if not (r / f).is_file()]
    if missing:
        pytest.skip(f"{r} lacks {missing}: run `snakemake --cores all` first")
    return r


@pytest.fixture(scope="module")
def real_run(real, lib, forms):
    opt = {k: (real / f"{f}.csv") if (real / f"{f}.csv").is_file() else None
           for k, f in (("dft", "dft_binding"), ("solvation", "solvation"), ("coordination", "coordination"))}
    ev = read_evidence(real / "descriptors.csv", real / "binding.csv", None,
                       solvating_power=real / "solvating_power.csv", **opt)
    s = ClassificationSettings.from_dict(load_config({})["classification"])
    return run_classification(lib, forms, ev, s, GridSettings.from_dict(load_config({})["grid"]))


@pytest.mark.slow
def test_every_reason_of_the_default_run_is_true(real_run):
    """Walks every reason of the default formulations and the screening grid on real tables."""
    assert check_all_reasons(real_run["classifications"]) > 1000


@pytest.mark.slow
def test_no_generalization_row_is_confidently_wrong(real_run):
    gen = [c for c in real_run["classifications"] if c.set == "generalization"]
    assert len(gen) >= 8
    wrong = [(c.id, c.label, c.reported_class) for c in gen if c.outcome == "wrong"]
    assert not wrong, wrong  # right, or two-class with the expected class among them
    assert not [c.id for c in real_run["classifications"] if c.set == "calibration" and c.confidently_wrong]


@pytest.mark.slow
def test_invariants_on_the_default_run(real_run, lib):
    by = {c.id: c for c in real_run["classifications"]}
    # mixing two strong solvents creates no diluent
    assert by["G-LCE-KFSI-DMEDGM"].features["diluents"] == []
    # more salt never turns an HCE back (the grid's single solvents at 1, 2, 4 M)
    singles = {}
    for c in real_run["classifications"]:
        if c.origin == "grid" and len(c.components) == 1 and c.ok:
            singles.setdefault(c.components[0][0], []).append((c.concentration_mol_per_L, c.classes))
    for name, seq in singles.items():
        seq.sort()
        hce = False
        for _, cls in seq:
            assert not (hce and cls != ["HCE"]), (name, seq)
            hce = hce or cls == ["HCE"]


def test_docs_list_every_threshold_with_its_default():
    """Each threshold's row in a document under docs/."""
    text = "\n".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))
    for key, t in THRESHOLDS.items():
        assert f"| `{key}` | {t.default} |" in text, key


def test_a_run_without_calibration_rows_uses_the_stated_default(lib, ev, tmp_path):
    forms = load_formulations(ROOT / "tests" / "workflow" / "formulations.csv", lib)
    out = run_classification(lib, forms, ev, ClassificationSettings(), GridSettings(enabled=False))
    assert out["calibration"]["fit"] is None and "not fitted in this run" in out["calibration"]["note"]
    assert out["diluent_bind_max"] == GFN2_DEFAULT_DILUENT_BIND_MAX
    assert all(c.ok for c in out["classifications"])


@pytest.mark.slow
def test_one_to_one_binding_does_not_separate_weak_from_strong_solvents(real_run):
    """Why 1:1 binding is no rule for WSE vs LCE (docs/classification.md): on the real run the Table 2 weak
    solvents' 1:1 binding energies overlap the strong ones' (the solvating power is reported
    beside it, whatever it shows)."""
    d = real_run["calibration"]["weak_vs_strong"]
    assert set(d["weak"]) == {"TFP", "DEE", "FEMC", "FEC"}
    assert d["descriptors"]["bind"]["separated"] is False, d["descriptors"]["bind"]
    assert "solvating" in d["descriptors"]


def test_a_bad_set_value_is_rejected_naming_the_row(lib, tmp_path):
    from solvscreen.core.errors import ValidationErrors

    bad = tmp_path / "f.csv"
    bad.write_text("id,salt,concentration_mol_per_L,components,set\nX,KFSI,1.0,DME,training\n")
    with pytest.raises(ValidationErrors) as exc:
        load_formulations(bad, lib)
    text = str(exc.value)
    assert "row 1" in text and "set must be calibration" in text, text


@pytest.mark.parametrize("table, text, match", [
    ("solvation", "formulation,status,ssip_fraction\nLCE-DME,ok,0.5\n", "anion_cn"),
    ("pmf", "solvent,salt,status,dg_assoc_kcal_per_mol\nDEE,KFSI,ok,-1.0\n", "pmf table lacks column"),
    ("prefsolv", "solvent_a,solvent_b,salt,status,ddg_b_minus_a_kcal_per_mol\nDME,TTE,KFSI,ok,2.0\n",
     "prefsolv table lacks column"),
])
def test_an_md_table_without_its_columns_is_an_input_error(tmp_path, table, text, match):
    """The MD stage's solvation.csv, the md_pmf stage's pmf.csv (without its difference columns)
    and prefsolv.csv (without its share columns) are refused before any classification."""
    res = write_synthetic_results(tmp_path / "r")
    bad = tmp_path / f"{table}.csv"
    bad.write_text(text)
    with pytest.raises(InputError, match=match):
        read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv", **{table: bad})


def test_a_fluorine_only_binding_mode_does_not_make_a_solvent(lib, tmp_path):
    """GFN2-xTB binds K+ to fluoroethers through F atoms nearly as strongly as to glymes; a
    role resting only on such contacts stays undecided (docs/classification.md, known limits)."""
    res = write_synthetic_results(tmp_path / "r", extra={"OTE": (35, 20, -70, -13.2, 0.3, 6.7)})
    rows = list(csv.DictReader((res / "binding.csv").open()))
    for r in rows:
        r["donor_atoms"] = "F12;F5" if r["name"] == "OTE" else "O1;O4"
    with open(res / "binding.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    ev = Evidence(ResultTables.from_dir(res))
    cl = classify(lib, ev, "KFSI", 1.6, [("DME", 1.0), ("OTE", 1.0)])
    assert cl.features["undecided"] == ["OTE"] and "LHCE" in cl.classes, cl.reasons_text()
    assert "only through F atoms" in cl.reasons_text()
    check_all_reasons([cl])
    # an O-bound molecule of the same energy is a solvent
    cl = classify(lib, ev, "KFSI", 1.6, [("DME", 1.0), ("DEE", 1.0)])
    assert cl.features["undecided"] == [] and cl.features["diluents"] == []


# ----------------------------------------------------------------------------- too little solvent
@pytest.mark.parametrize("dme,ok", [(1, False), (4.9, False), (5, True)])
def test_only_an_additive_share_of_solvent_cannot_dissolve_the_salt(lib, ev, dme, ok):
    """1 M KFSI in DME:TTE 1:99 (SYNTHETIC: TTE a diluent, DME at 1 % an additive) was a confident
    LHCE; the salt cannot dissolve in an additive's share of solvent. At 5 % DME it is classified."""
    cl = classify(lib, ev, "KFSI", 1.0, [("DME", dme), ("TTE", 100 - dme)])
    assert cl.ok is ok, cl.failure_reason
    if ok:
        assert "LHCE" in cl.classes
        return
    assert cl.label is None and cl.failure_reason.startswith("the salt would not dissolve")
    (r,) = [r for r in cl.reasons if r.subject == "solubility"]
    assert r.holds() and r.value == pytest.approx(dme / 100, rel=0.05)
    check_reason(r)
    assert "DME: volume fraction" in cl.reasons_text() and "an additive" in cl.reasons_text()


def test_an_additive_is_called_an_additive_in_the_roles(lib, phys_ev):
    cl = classify(lib, phys_ev, "KFSI", 1.0, [("DME", 48), ("TTE", 48), ("FEC", 4)])
    assert cl.ok and "FEC=additive" in cl.row()["roles"] and "TTE=diluent" in cl.row()["roles"]


# ----------------------------------------------------------------------------- K+-anion PMF evidence
def write_pmf(path: Path, rows: dict) -> Path:
    """pmf.csv in the md_pmf stage's columns with SYNTHETIC differences from DME:
    ``rows``: solvent -> (ddG, half-width) in kcal/mol (KFSI)."""
    from solvscreen.core.records import write_csv
    from solvscreen.md.pmf_stage import PMF_COLUMNS, with_reference

    base = {"salt": "KFSI", "status": "ok", "failure_reason": "", "converged": False,
            "dg_assoc_lo_kcal_per_mol": -1.0, "dg_assoc_hi_kcal_per_mol": 1.0}
    table = [{**base, "solvent": "DME", "dg_assoc_kcal_per_mol": 0.0}]
    for name, (d, h) in rows.items():  # each run's own half-width h' with DME's 1.0 in quadrature gives h
        own = (h ** 2 - 1.0) ** 0.5
        table.append({**base, "solvent": name, "dg_assoc_kcal_per_mol": d,
                      "dg_assoc_lo_kcal_per_mol": d - own, "dg_assoc_hi_kcal_per_mol": d + own})
    write_csv(path, with_reference(table, "DME"), list(PMF_COLUMNS))
    return path


def test_a_resolved_pmf_decides_the_weak_solvent_predicate_and_an_unresolved_one_does_not(lib, tmp_path):
    """SYNTHETIC solvating powers say DEE weak, TFP undecided, DGM conventional (test above). The
    PMF (dG_assoc minus DME's, kcal/mol) decides where its interval clears 0 and only there."""
    from solvscreen.classify.pmf_evidence import pmf_decision
    from solvscreen.core.result_tables import read_rows

    res = write_synthetic_results(tmp_path / "r", solvating=SOLVATING)
    pmf = write_pmf(tmp_path / "pmf.csv", {"TFP": (-2.0, 1.5), "DGM": (0.3, 1.2), "DEE": (1.5, 1.2),
                                          "EC": (0.4, 1.2)})
    ev = read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv",
                       solvating_power=res / "solvating_power.csv", pmf=pmf)
    rows = read_rows(pmf)
    assert pmf_decision(rows, ["DME"], "KFSI")[1] is None  # the reference itself: nothing measured decides
    assert pmf_decision(rows, ["TFP"], "KFSI")[0] is True  # [-3.5, -0.5] < 0
    assert pmf_decision(rows, ["DGM"], "KFSI")[0] is None  # [-0.9, 1.5] spans 0
    assert pmf_decision(rows, ["TFP"], "KPF6")[1] is None  # another salt: no evidence
    assert pmf_decision(rows, ["TFP", "DMSO"], "KFSI")[1] is None  # DMSO has no row: the PMF does not decide
    assert pmf_decision(rows, ["TFP", "DEE"], "KFSI")[0] is False  # the stronger component decides a blend
    assert pmf_decision(rows, ["TFP", "DME"], "KFSI")[1] is None  # ... and when that is the reference, nothing

    cl = classify(lib, ev, "KFSI", 1.0, [("TFP", 1.0)])  # solvating power: undecided; PMF: weak
    assert cl.label == "WSE" and cl.confidence == "high" and cl.evidence == "md-pmf", cl.reasons_text()
    r = next(r for r in cl.reasons if r.quantity == "ddG_assoc_vs_reference_kcal_per_mol")
    assert r.op == "<" and r.value == pytest.approx(-2.0) and r.err == pytest.approx(1.5) and r.holds()
    assert not any(r.quantity == "solvating_power_kcal_per_mol" for r in cl.reasons)  # the PMF replaced it
    assert "(MD PMF) < 0" in cl.verdict and "[-3.50, -0.50]" in cl.verdict, cl.verdict
    # DEE: solvating power says weak, the PMF [+0.3, +2.7] says at least like DME: the PMF decides
    assert classify(lib, ev, "KFSI", 1.0, [("DEE", 1.0)]).label == "LCE"
    # an unresolved PMF leaves the solvating power's decision (DGM conventional) and says so
    dgm = classify(lib, ev, "KFSI", 1.0, [("DGM", 1.0)])
    assert dgm.label == "LCE" and dgm.evidence == "descriptors"
    note = next(r for r in dgm.reasons if r.subject == "pmf")
    assert "does not resolve it from DME" in note.text and "+0.30 [-0.90, +1.50]" in note.text
    # without the PMF table, TFP stays open (the solvating-power rule alone)
    assert classify(lib, Evidence(ResultTables.from_dir(res)), "KFSI", 1.0, [("TFP", 1.0)]).label == "LCE|WSE"
    # the descriptor-only evidence (the calibration's 'descriptors' mode) drops the PMF
    assert classify(lib, ev.without_md(), "KFSI", 1.0, [("TFP", 1.0)]).label == "LCE|WSE"
    check_all_reasons([cl, dgm])


def test_a_pmf_still_steep_at_its_reference_shell_decides_nothing(lib, tmp_path):
    """SYNTHETIC: TFP's PMF says weak beyond its interval, but it still rises by 2.6 kcal/mol per A
    over its outer 2 A (> kT per A): not a contact-vs-separated free energy, so not used."""
    from solvscreen.core.records import write_csv
    from solvscreen.core.result_tables import read_rows
    from solvscreen.md.pmf_stage import PMF_COLUMNS

    res = write_synthetic_results(tmp_path / "r", solvating=SOLVATING)
    pmf = write_pmf(tmp_path / "pmf.csv", {"TFP": (-15.0, 1.2), "DEE": (-1.8, 1.0)})
    rows = read_rows(pmf)
    for r in rows:
        r["outer_mean_force_kcal_per_mol_A"] = {"TFP": 2.6, "DEE": 0.12}.get(r["solvent"], 0.09)
    write_csv(pmf, rows, list(PMF_COLUMNS))
    ev = read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv",
                       solvating_power=res / "solvating_power.csv", pmf=pmf)
    tfp = classify(lib, ev, "KFSI", 1.0, [("TFP", 1.0)])
    assert tfp.label == "LCE|WSE" and tfp.evidence == "descriptors", tfp.reasons_text()  # as without the PMF
    note = next(r for r in tfp.reasons if r.subject == "pmf")
    assert "still rises by 2.60 kcal/mol per A" in note.text and "> 0.59" in note.text and "not used" in note.text
    assert classify(lib, ev, "KFSI", 1.0, [("DEE", 1.0)]).evidence == "md-pmf"  # 0.12: flat enough, decides
    check_all_reasons([tfp])


# ----------------------------------------------------------------------------- preferential solvation in a blend
def write_prefsolv(path: Path, rows: dict) -> Path:
    """prefsolv.csv (md.prefsolv's columns) with SYNTHETIC shell/bulk share ratios:
    ``rows``: (A, B) -> (ratio, lo, hi), KFSI, converged."""
    from solvscreen.core.records import write_csv
    from solvscreen.md.prefsolv import PREFSOLV_COLUMNS

    table = [{"solvent_a": a, "solvent_b": b, "salt": "KFSI", "status": "ok", "ns_production": 0.95,
              "exchanges_a": 20, "exchanges_b": 3, "shell_share_ratio_b": v, "shell_share_ratio_b_lo": lo,
              "shell_share_ratio_b_hi": hi, "converged": True, "convergence_reason": "synthetic",
              "interval_method": "blocks"} for (a, b), (v, lo, hi) in rows.items()]
    write_csv(path, table, list(PREFSOLV_COLUMNS))
    return path


def test_a_blend_share_of_the_k_shell_decides_a_role_where_its_interval_clears_the_threshold(lib, tmp_path):
    """SYNTHETIC binding leaves TTE undecided next to DME (test_roles_are_a_criterion_on_the_component_itself).
    Its share of the K+ shell against DME's in an equimolar blend, with an interval below
    md_diluent_shell_share_ratio_max (0.5), makes it a diluent; one that spans 0.5 leaves the binding
    energy to decide and says so; a molecule the MD model is known to misplace is not made solvating."""
    res = write_synthetic_results(tmp_path / "r")
    pref = write_prefsolv(tmp_path / "prefsolv.csv", {("DME", "TTE"): (0.12, 0.04, 0.20),
                                                      ("DGM", "DEE"): (0.55, 0.35, 0.75),
                                                      ("TMP", "DX"): (0.95, 0.80, 1.10)})
    ev = read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv", prefsolv=pref)
    cl = classify(lib, ev, "KFSI", 1.6, [("DME", 1.0), ("TTE", 1.0)])
    assert cl.features["diluents"] == ["TTE"] and cl.features["undecided"] == [], cl.reasons_text()
    assert cl.features["role_evidence"]["TTE"] == "md-prefsolv" and cl.evidence == "md-prefsolv"
    r = next(r for r in cl.reasons if r.kind == "role" and r.subject == "TTE")
    assert r.op == "<" and r.quantity == "shell_share_ratio" and r.value == 0.12 and r.holds()
    assert "0.12 [0.04, 0.20] in equimolar DME:TTE" in r.text and "a diluent" in r.text
    # a candidate that never entered the shell: the entry-count bound decides, and the reason says how
    from solvscreen.core.records import write_csv
    from solvscreen.md.prefsolv import PREFSOLV_COLUMNS, prefsolv_row

    rec = {"a": "DME", "b": "TTE", "salt": "KFSI", "ns_production": 0.95, "mean_shell_a": 4.0, "mean_shell_b": 0.0,
           "x_b_shell": 0.0, "x_b_bulk": 0.5, "ddg_b_minus_a_kcal_per_mol": None, "block_sem_kcal_per_mol": None,
           "halves_kcal_per_mol": [None, None], "exchanges_a": 25, "exchanges_b": 0}
    write_csv(tmp_path / "bound.csv", [prefsolv_row(rec)], list(PREFSOLV_COLUMNS))
    evb = read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv", prefsolv=tmp_path / "bound.csv")
    clb = classify(lib, evb, "KFSI", 1.6, [("DME", 1.0), ("TTE", 1.0)])
    rb = next(r for r in clb.reasons if r.kind == "role" and r.subject == "TTE")
    assert clb.features["diluents"] == ["TTE"] and rb.holds() and rb.value == 0.0, clb.reasons_text()
    assert "[0.00, 0.21]" in rb.text and "entered the shell 0 times" in rb.text and "Poisson" in rb.text
    # the same blend in another salt has no measurement: binding decides as before
    assert classify(lib, ev, "KPF6", 1.0, [("DME", 1.0), ("TTE", 1.0)]).features["undecided"] == ["TTE"]
    # [0.35, 0.75] spans 0.5: a note, and DEE's binding energy decides (solvating next to DGM)
    cl2 = classify(lib, ev, "KFSI", 1.0, [("DGM", 1.0), ("DEE", 1.0)])
    assert cl2.features["role_evidence"]["DEE"] != "md-prefsolv" and cl2.features["undecided"] == []
    note = next(r for r in cl2.reasons if r.kind == "note" and r.subject == "DEE" and "equimolar" in r.text)
    assert "role undecided" in note.text and "binding energy is used instead" in note.text
    # DX measured solvating, but GAFF2 is known to put 1,4-dioxane in the K+ shell: not trusted
    cl3 = classify(lib, ev, "KFSI", 1.0, [("TMP", 1.0), ("DX", 1.0)])
    assert cl3.features["role_evidence"]["DX"] != "md-prefsolv", cl3.reasons_text()
    assert any("known to put 1,4-dioxane in the K+ shell wrongly" in r.text for r in cl3.reasons)
    # the descriptor-only evidence (the calibration's 'descriptors' mode) drops it
    assert classify(lib, ev.without_md(), "KFSI", 1.6, [("DME", 1.0), ("TTE", 1.0)]).features["undecided"] == ["TTE"]
    # a row that is not converged (DME entered the shell too rarely) decides nothing, and says so
    from solvscreen.core.result_tables import read_rows

    rows = read_rows(pref)
    for r in rows:
        r["converged"], r["convergence_reason"] = False, "DME entered the shell 2 times < 10"
    write_csv(tmp_path / "slow.csv", rows, list(PREFSOLV_COLUMNS))
    evs = read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv", prefsolv=tmp_path / "slow.csv")
    cls_ = classify(lib, evs, "KFSI", 1.6, [("DME", 1.0), ("TTE", 1.0)])
    assert cls_.features["undecided"] == ["TTE"] and cls_.features["role_evidence"]["TTE"] != "md-prefsolv"
    assert any("not converged, so it decides nothing" in r.text for r in cls_.reasons), cls_.reasons_text()
    check_all_reasons([cl, cl2, cl3, clb, cls_])


# ----------------------------------------------------------------------------- the steps of classify_formulation
def _start(lib, ev, salt, c, comps, s=ClassificationSettings()):
    from solvscreen.classify.core import start_classification

    return start_classification(GridFormulation("t", salt, c, tuple(comps)), lib.resolve, ev, s, "test")


def test_step_component_roles(lib, ev):
    """Step 1: roles on their own evidence, then the physical diluent check (SYNTHETIC -E_bind: DME 30,
    TTE 10 kcal/mol; AN's binding failed)."""
    from solvscreen.classify.core import component_roles

    cl, comp, _, md_row = _start(lib, ev, "KFSI", 1.0, [("DME", 1.0), ("TTE", 1.0)])
    step = component_roles(comp, cl.id, cl.cation, lib.resolve, ev, ClassificationSettings(), D_SYN, md_row)
    # TTE binds too weakly (a diluent by its energy), but without dielectric constants or solvating
    # powers the physical check cannot place it below DME: undecided, and the check says so
    assert [r.decided for r in step.reasons[:2]] == [False, True] and not step.missing
    assert {r.name: r.diluent for r in step.roles} == {"DME": False, "TTE": None}
    assert any("do not both place it below the solvent" in r.text for r in step.check_reasons)
    cl, comp, _, md_row = _start(lib, ev, "KFSI", 1.0, [("DME", 1.0), ("AN", 1.0)])
    step = component_roles(comp, cl.id, cl.cation, lib.resolve, ev, ClassificationSettings(), D_SYN, md_row)
    assert step.roles == [] and len(step.missing) == 1 and step.missing[0].startswith("AN: ")


def test_step_salt_dissolution(lib, ev):
    """DME at 1 % by volume next to TTE is an additive: too little solvating liquid, no class."""
    from solvscreen.classify.core import component_roles, salt_dissolution

    s = ClassificationSettings()
    for comps, dissolves in (([("DME", 1.0)], True), ([("DME", 1.0), ("TTE", 99.0)], False)):
        cl, comp, _, md_row = _start(lib, ev, "KFSI", 1.0, comps)
        roles = component_roles(comp, cl.id, cl.cation, lib.resolve, ev, s, D_SYN, md_row)
        sol = salt_dissolution(cl, GridFormulation("t", "KFSI", 1.0, tuple(comps)), comp, roles, lib.resolve, ev, s,
                               reported_formulations(load_formulations(FORMULATIONS, lib)))
        assert (sol is not None) is dissolves and (cl.status == "failed") is not dissolves, cl.failure_reason
        if not dissolves:
            assert "volume fraction" in cl.failure_reason and cl.reasons[-1].holds()


def test_step_anion_participation(lib, ev):
    """Step 2: an MD anion CN decides the predicate; a GFN2-xTB blend keeps solvating power from closing it."""
    from solvscreen.classify.core import anion_participation, component_roles

    s = ClassificationSettings()
    cl, comp, _, _ = _start(lib, ev, "KFSI", 1.0, [("DME", 1.0)])
    roles = component_roles(comp, cl.id, cl.cation, lib.resolve, ev, s, D_SYN, None)
    none = anion_participation(None, "t", "K+", roles, ev, s)
    assert (none.md_anion, none.anion_cn, none.blend_gfn2, none.reasons) == (None, None, False, [])
    md = anion_participation({"status": "ok", "anion_cn": "2.5", "anion_cn_err": "0.05", "ns_production": "1.0"},
                             "t", "K+", roles, ev, s)
    assert md.md_anion is True and md.anion_cn == 2.5 and md.reasons[0].holds()
    cl, comp, _, _ = _start(lib, ev, "KFSI", 1.0, [("DME", 1.0), ("DBE", 1.0)])
    blend = anion_participation(None, "t", "K+", component_roles(comp, cl.id, cl.cation, lib.resolve, ev, s, D_SYN,
                                                                 None), ev, s)
    assert blend.blend_gfn2 and "1:1 GFN2-xTB binding" in blend.reasons[-1].text


@pytest.mark.parametrize("c, label", [(1.0, "LCE|WSE"), (5.0, "HCE")])
def test_step_composition_outcomes_and_decision(lib, ev, c, label):
    """Steps 3 and 4: DME alone, without MD or solvating power: 1 M leaves LCE|WSE open (composition
    alone never makes a WSE); 5 M has too few donor atoms per salt to fill the shell: HCE."""
    from solvscreen.classify.core import (anion_participation, component_roles, composition_outcomes, decision,
                                          denticities)

    s = ClassificationSettings()
    cl, comp, alt, _ = _start(lib, ev, "KFSI", c, [("DME", 1.0)])
    roles = component_roles(comp, cl.id, cl.cation, lib.resolve, ev, s, D_SYN, None)
    anion = anion_participation(None, "t", "K+", roles, ev, s)
    dent = denticities(cl, comp, ev)
    assert dent == {"DME": 2}
    step = composition_outcomes(comp, alt, roles.roles, dent, anion, ev, "K+", "KFSI", s)
    assert set(step.outcomes) == classes_of(label) and step.open_anion is (label == "LCE|WSE")
    assert all(r.holds() for r in step.reasons if r.op)
    sol = {"state": "reported", "reason": {"kind": "note", "subject": "solubility", "text": "test"}, "decide": ""}
    out = decision(cl, comp, roles, sol, anion, step, dent, ev)
    assert out.label == label and out.confidence == ("high" if label == "HCE" else "low")
    assert out.reasons[0].kind == "label" and out.decide_by.startswith("open: ") is (label == "LCE|WSE")
