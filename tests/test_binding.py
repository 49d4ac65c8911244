"""Cation binding, ion pairs, shells: real GFN2-xTB calculations on small molecules.

Physics is checked against independent expectations (orderings reported in the literature
and basic coordination chemistry), never against numbers produced by this code:
- charge density: Li+ binds a ligand more strongly than Na+, Na+ more than K+;
- DME chelates K+ through both ether O; diglyme offers three O;
- fluorinated diluents (TTE, MME) bind K+ more weakly than DME (review Fig. 11a);
- an anion binds K+ far more strongly than any neutral solvent (Coulomb).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from solvscreen.complexes import (
    BindingSettings,
    cation_spec,
    complex_problem,
    donor_atoms,
    polyhedron,
    search_complex,
    shell_size,
    template_combinations,
    unique_donors,
)
from solvscreen.complexes.placement import _chelate_centres
from solvscreen.xtb.engine import Engine, EngineSettings
from solvscreen.core.errors import InputError
from solvscreen.xtb.optimize import _rigid_motions, lindh_hessian, optimize
from solvscreen.core.records import Record
from solvscreen.stages.binding import BINDING_COLUMNS, aggregate_binding, run_binding, run_ion_pair
from solvscreen.stages.shell import SHELL_COLUMNS, aggregate_shells, run_shell
from solvscreen.stages.structure import load_structure, run_structure
from solvscreen.xtb.structures import ConformerSettings, mol_from_smiles, read_xyz

SMILES = {
    "DME": "COCCOC",
    "DGM": "COCCOCCOC",
    "TTE": "FC(F)C(F)(F)OCC(F)(F)C(F)F",
    "MME": "COC(F)(C(F)(C(F)(F)F)C(F)(F)F)C(F)(F)C(F)(F)F",
    "FSI": "O=S(=O)(F)[N-]S(=O)(=O)F",
    "K+": "[K+]",
    "Na+": "[Na+]",
    "Li+": "[Li+]",
}
FAST_CONFORMERS = ConformerSettings(n_embed=4, n_optimize=2)


@pytest.fixture(scope="module")
def structures(tmp_path_factory):
    """Structure-stage records (the binding stage's inputs) for the test molecules."""
    root = tmp_path_factory.mktemp("binding")
    paths = {}
    for name, smi in SMILES.items():
        kind = "anion" if "-" in smi else ("cation" if "+" in smi else "solvent")
        paths[name] = root / "structures" / f"{name}.json"
        rec = run_structure(name, smi, kind, paths[name], EngineSettings(), FAST_CONFORMERS)
        assert rec.ok, rec.failure
    return root, paths


@pytest.fixture(scope="module")
def bindings(structures):
    """1:1 K+ binding of every neutral test molecule, K+-FSI-, and DME with Na+ and Li+."""
    root, paths = structures
    out = {}
    for name in ("DME", "DGM", "TTE", "MME"):
        out[(name, "K+")] = run_binding(paths[name], paths["K+"], root / "binding" / "K+" / f"{name}.json")
    for cat in ("Na+", "Li+"):
        out[("DME", cat)] = run_binding(paths["DME"], paths[cat], root / "binding" / cat / "DME.json")
    out[("FSI", "K+")] = run_ion_pair(paths["FSI"], paths["K+"], root / "ion_pairs" / "K+" / "FSI.json")
    for rec in out.values():
        assert rec.ok, rec.failure
    return out


# ----------------------------------------------------------------------------- sites and geometry
def test_symmetry_unique_donor_sites():
    dme = donor_atoms(mol_from_smiles("COCCOC"))
    assert [d.element for d in dme] == ["O", "O"]
    assert len(unique_donors(dme)) == 1  # the two ether O are equivalent
    fsi = donor_atoms(mol_from_smiles(SMILES["FSI"]))
    assert sorted(d.element for d in unique_donors(fsi)) == ["F", "N", "O"]  # 4 O, 2 F equivalent
    clo4 = donor_atoms(mol_from_smiles("[O-]Cl(=O)(=O)=O"))
    assert {d.element for d in clo4} == {"O"} and len(unique_donors(clo4)) == 1  # Cl of ClO4- is no donor
    tep = unique_donors(donor_atoms(mol_from_smiles("CCOP(=O)(OCC)OCC")))
    assert len(tep) == 2  # P=O and the (equivalent) ester O


def test_chelating_combinations_of_glymes():
    combos = template_combinations(mol_from_smiles("COCCOC"), donor_atoms(mol_from_smiles("COCCOC")), 3, 12)
    assert [[d.label for d in c] for c in combos] == [["O1", "O4"]]
    dgm = mol_from_smiles("COCCOCCOC")
    combos = template_combinations(dgm, donor_atoms(dgm), 3, 12)
    sizes = sorted(len(c) for c in combos)
    assert sizes == [2, 2, 3]  # O1-O4 (= O4-O7 by symmetry), O1-O7, and the three O together
    g3 = mol_from_smiles("COCCOCCOCCOC")
    first = template_combinations(g3, donor_atoms(g3), 6, 12)[0]
    assert [d.label for d in first] == ["O1", "O4", "O7", "O10"]  # all four O of triglyme, tried first
    tep = mol_from_smiles("CCOP(=O)(OCC)OCC")
    assert template_combinations(tep, donor_atoms(tep), 6, 12) == []  # 1,3-related O only: rigid


def test_chelate_centre_is_at_the_requested_distances():
    pts = np.array([[0.0, 0.0, 0.0], [2.8, 0.0, 0.0], [1.4, 2.4, 0.0]])
    radii = np.array([2.75, 2.75, 2.75])
    sols = _chelate_centres(pts, radii)
    assert len(sols) == 2  # above and below the plane of the donors
    for p in sols:
        assert np.allclose(np.linalg.norm(pts - p, axis=1), radii, atol=1e-3)
    circle = _chelate_centres(pts[:2], radii[:2])
    assert circle and all(np.allclose(np.linalg.norm(pts[:2] - p, axis=1), 2.75) for p in circle)
    assert _chelate_centres(np.array([[0.0, 0, 0], [6.0, 0, 0]]), radii[:2]) == []  # too far apart to chelate


def test_shell_size_rule():
    k = cation_spec("K")
    s = BindingSettings()
    assert shell_size(k, 2, 16, s)[0] == 3  # K+ CN 6 / bidentate DME
    assert shell_size(k, 3, 22, s)[0] == 2  # tridentate diglyme
    n, why = shell_size(k, 1, 10, s)
    assert n == 4 and "capped at shell_max_n" in why  # six monodentate ligands, capped for cost
    assert shell_size(k, 1, 10, BindingSettings(shell_max_n=6))[0] == 6
    assert shell_size(cation_spec("Li"), 2, 16, s)[0] == 2  # Li+ CN 4
    n, why = shell_size(k, 1, 60, s)
    assert n == 2 and "shell_max_atoms" in why  # atom cap: 1 + 2 x 60 <= 150
    assert np.allclose(np.linalg.norm(polyhedron(6), axis=1), 1.0)


def test_settings_defaults_are_the_schema_defaults():
    from solvscreen.inputs.config import load_config

    cfg = load_config({})
    assert BindingSettings.from_dict(cfg["binding"]) == BindingSettings()
    with pytest.raises(InputError):
        BindingSettings.from_dict({"no_such_key": 1})
    assert cation_spec("K+") == cation_spec(19) == cation_spec("k")
    with pytest.raises(InputError):
        cation_spec("Cs")


# ----------------------------------------------------------------------------- optimizer
def test_model_hessian_is_invariant_and_the_optimizer_converges():
    z, x, _ = np.array([8, 1, 1]), np.array([[0.0, 0, 0], [0, 0, 1.1], [1.0, 0, -0.3]]), None
    h = lindh_hessian(z, x / 0.529177)
    tr = _rigid_motions(x)
    assert np.abs(h @ tr).max() < 1e-10  # no force constant along translations/rotations
    assert np.linalg.eigvalsh(h).min() > -1e-10
    eng = Engine()
    rfo = optimize(eng.system(z), x, fmax_eV_per_A=0.01)
    ase = optimize(eng.system(z), x, fmax_eV_per_A=0.01, algorithm="lbfgs")
    assert rfo.converged and abs(rfo.energy_Eh - ase.energy_Eh) < 2e-5
    r_oh = np.linalg.norm(rfo.positions_A[1:] - rfo.positions_A[0], axis=1)
    assert np.all((r_oh > 0.94) & (r_oh < 0.99))  # O-H of water
    assert rfo.n_gradients <= ase.n_gradients


# ----------------------------------------------------------------------------- physics
def e_bind(bindings, name, cation="K+"):
    return bindings[(name, cation)].results["E_bind_kcal_per_mol"]


def test_binding_is_negative_and_in_both_units(bindings):
    r = bindings[("DME", "K+")].results
    assert r["E_bind_kcal_per_mol"] < 0  # negative = bound
    assert r["E_bind_eV"] == pytest.approx(r["E_bind_kcal_per_mol"] / 23.0605, rel=1e-3)
    assert r["E_bind_kcal_per_mol"] == pytest.approx(
        (r["E_complex_Eh"] - r["E_cation_Eh"] - r["E_ligand_Eh"]) * 627.5095, rel=1e-6)


def test_li_binds_more_strongly_than_na_than_k(bindings):
    assert e_bind(bindings, "DME", "Li+") < e_bind(bindings, "DME", "Na+") < e_bind(bindings, "DME", "K+")


def test_dme_chelates_k_through_both_oxygens(bindings):
    r = bindings[("DME", "K+")].results
    assert r["denticity"] == 2
    assert sorted(r["donor_atoms"]) == ["O1", "O4"]
    assert all(2.0 < d < 3.3 for d in r["M_donor_distances_A"])
    # the distances in the record are those of the written geometry (cation = last atom)
    path = bindings[("DME", "K+")].files["xyz"]
    assert path.endswith(".xyz")


def test_diglyme_chelation_is_found(bindings):
    r = bindings[("DGM", "K+")].results
    assert r["denticity"] >= 2 and all(a.startswith("O") for a in r["donor_atoms"])
    assert r["search"]["n_templated"] > 0 and r["search"]["templated_combinations"]
    assert e_bind(bindings, "DGM") < e_bind(bindings, "DME")  # three O beat two


def test_dme_binds_k_more_strongly_than_fluorinated_diluents(bindings):
    assert e_bind(bindings, "DME") < e_bind(bindings, "TTE")
    assert e_bind(bindings, "DME") < e_bind(bindings, "MME")


def test_ion_pair_is_stronger_than_any_neutral_solvent(bindings):
    pair = bindings[("FSI", "K+")]
    assert pair.stage == "ion_pair" and pair.results["complex_charge"] == 0
    neutral = [e_bind(bindings, n) for n in ("DME", "DGM", "TTE", "MME")]
    assert pair.results["E_bind_kcal_per_mol"] < min(neutral)


def test_search_reports_its_work_and_is_deterministic(structures):
    _, paths = structures
    st = load_structure(paths["DME"])
    mol, xyz = mol_from_smiles(st.record.inputs["smiles"]), st.positions_A
    runs = [search_complex(Engine(), mol, 0, 0, [xyz], cation_spec("K")) for _ in range(2)]
    a, b = runs
    assert a.best.energy_Eh == b.best.energy_Eh
    assert np.array_equal(a.best.positions_A, b.best.positions_A)
    for key in ("n_starts_tried", "n_prescreened", "n_optimized"):
        assert a.summary[key] == b.summary[key]
    assert a.summary["n_starts_tried"] >= a.summary["n_prescreened"] >= a.summary["n_optimized"] >= 1
    assert a.summary["n_prescreened"] <= BindingSettings().max_singlepoints


def test_distant_start_is_rejected_as_dissociated(structures):
    _, paths = structures
    mol = mol_from_smiles(SMILES["DME"])
    xyz = load_structure(paths["DME"]).positions_A
    far = xyz.mean(axis=0) + np.array([0.0, 0.0, 12.0])
    start = np.vstack([xyz, far])
    eng = Engine()
    opt = optimize(eng.system(np.append([a.GetAtomicNum() for a in mol.GetAtoms()], 19), 1), start,
                   fmax_eV_per_A=0.02, max_steps=20, raise_on_failure=False)
    problem = complex_problem(mol, opt.positions_A, donor_atoms(mol), BindingSettings().dissociation_cutoff_A)
    assert problem is not None and problem.startswith("dissociated")
    assert complex_problem(mol, np.vstack([xyz, xyz[1] + [0, 0, 2.8]]), donor_atoms(mol), 3.5) is None


# ----------------------------------------------------------------------------- records, shells, tables
def test_binding_record_schema(bindings):
    rec = bindings[("DME", "K+")]
    d = rec.to_dict()
    assert d["stage"] == "binding" and d["status"] == "ok"
    assert d["provenance"]["engine"] == "tblite" and d["provenance"]["engine_version"]
    assert d["settings"]["binding"] == BindingSettings().to_dict()
    assert d["timings"]["engine"]["gradients"] > 0 and d["timings"]["wall_s"] > 0
    assert "sign_convention" in d["results"]


def test_shell_and_exchange_and_tables(structures, bindings, tmp_path):
    root, _ = structures
    ip = root / "ion_pairs" / "K+" / "FSI.json"
    shell = run_shell(root / "binding" / "K+" / "DME.json", [ip], tmp_path / "shells" / "K+" / "DME.json")
    assert shell.ok, shell.failure
    r = shell.results
    assert r["shell_n"] == 3 and "ceil(6/2)" in r["shell_n_reason"]
    assert r["n_bound_ligands"] == 3 and r["shell_coordination_number"] >= 5
    # crowding: each of three DME binds K+ less strongly than a lone DME does
    assert e_bind(bindings, "DME") < r["E_shell_per_ligand_kcal_per_mol"] < 0
    (ex,) = r["exchange"]
    assert ex["anion"] == "FSI" and ex["status"] == "ok" and np.isfinite(ex["E_exchange_kcal_per_mol"])
    z, x, _ = read_xyz(tmp_path / "shells" / "K+" / shell.files["exchange_FSI_xyz"])
    assert len(z) == 2 * 16 + 9 + 1

    rows = aggregate_binding([root / "binding" / "K+" / "DME.json", ip], tmp_path / "binding.csv")
    header = (tmp_path / "binding.csv").read_text().splitlines()[0].split(",")
    assert header == BINDING_COLUMNS
    assert {"name", "kind", "cation", "status", "failure_reason", "E_bind_kcal_per_mol", "E_bind_eV", "denticity",
            "donor_atoms", "M_donor_distances_A", "n_starts_tried", "n_prescreened", "n_optimized", "method",
            "engine", "engine_version", "wall_s", "gradient_evaluations", "geometry_xyz"} <= set(header)
    assert [r["kind"] for r in rows] == ["solvent", "anion"]
    srows = aggregate_shells([tmp_path / "shells" / "K+" / "DME.json"], tmp_path / "shells.csv")
    sheader = (tmp_path / "shells.csv").read_text().splitlines()[0].split(",")
    assert sheader == SHELL_COLUMNS
    assert {"name", "cation", "anion", "status", "failure_reason", "shell_n", "shell_coordination_number",
            "E_shell_per_ligand_kcal_per_mol", "E_exchange_kcal_per_mol", "wall_s",
            "gradient_evaluations"} <= set(sheader)
    assert srows[0]["anion"] == "FSI" and srows[0]["status"] == "ok"


def test_failed_structure_gives_failed_binding_record(structures, tmp_path):
    _, paths = structures
    bad = Record(stage="structure", name="BAD", status="failed", inputs={"smiles": "C", "kind": "solvent"},
                 failure={"error_type": "scf", "reason": "SCF did not converge"})
    bad.write(tmp_path / "BAD.json")
    rec = run_binding(tmp_path / "BAD.json", paths["K+"], tmp_path / "out.json")
    assert rec.status == "failed" and "SCF did not converge" in rec.failure["reason"]
    assert Record.read(tmp_path / "out.json").status == "failed"
    row = aggregate_binding([tmp_path / "out.json"], tmp_path / "b.csv")[0]
    assert row["status"] == "failed" and row["failure_reason"]


def test_engine_settings_must_match_the_structure_records(structures, tmp_path):
    _, paths = structures
    with pytest.raises(InputError, match="rerun the structure stage"):
        run_binding(paths["DME"], paths["K+"], tmp_path / "x.json", EngineSettings(method="GFN1-xTB"))


def test_plan_lists_ion_pairs_and_exchange_anions():
    from solvscreen.inputs.config import load_config
    from solvscreen.interface.inputs import validate_all
    from solvscreen.inputs.plan import make_plan

    cfg = load_config({"cations": ["K", "Li"]})
    plan = make_plan(cfg, *validate_all(cfg))
    assert plan.exchange_anions == ["FSI"]
    assert ("K+", "FSI") in plan.ion_pairs and ("Li+", "FSI") in plan.ion_pairs
    assert ("K+", "PF6") in plan.ion_pairs  # the salt KPF6
    assert len(plan.ion_pairs) == len(set(plan.ion_pairs))


def test_cli_bind_json(capsys, tmp_path):
    from solvscreen.interface.cli import main

    xyz = tmp_path / "complex.xyz"
    rc = main(["bind", "COCCOC", "--cation", "K", "--n-embed", "3", "--json", "--xyz", str(xyz)])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["status"] == "ok" and out["denticity"] == 2
    assert out["E_bind_kcal_per_mol"] < 0 and xyz.read_text().splitlines()[0].strip() == "17"  # K+ + DME
    assert "geometry_xyz" not in out and out["geometry_file"] == str(xyz)
    assert "caveat" not in out  # two ether O: no halogen contact


def test_records_carry_what_classification_needs_of_the_molecule(structures, bindings, tmp_path):
    """Issue 26: the binding and properties records (and binding.csv, descriptors.csv) carry the
    molecule's donor atoms and their count, its carbon-halogen bonds, its polar pi-donor group, its
    canonical SMILES and its charge: what classification reads instead of parsing SMILES."""
    from rdkit import Chem

    from solvscreen.complexes import donor_atoms, molecule_features
    from solvscreen.stages.properties import aggregate_descriptors, run_properties
    from solvscreen.xtb.structures import mol_from_smiles

    root, paths = structures
    expected = {"DME": (["O1", "O4"], False), "TTE": (["F0", "F2", "F4", "F5", "O6", "F9", "F10", "F12", "F13"], True),
                "FSI": (["O0", "O2", "F3", "N4", "O6", "O7", "F8"], False)}
    for name, (donors, c_f) in expected.items():
        r = bindings[(name, "K+")].results
        assert (r["molecule_donor_atoms"], r["n_molecule_donor_atoms"]) == (donors, len(donors)), name
        mol = Chem.MolFromSmiles(SMILES[name])
        assert r["n_molecule_donor_atoms"] == len(donor_atoms(mol))
        assert r["has_C_F"] is c_f is mol.HasSubstructMatch(Chem.MolFromSmarts("[#6]F"))
        assert r["canonical_smiles"] == Chem.MolToSmiles(mol)
        assert r["pi_donor_group"] == ("sulfinyl/sulfonyl S=O" if name == "FSI" else "")
        assert (r["has_C_Cl"], r["has_C_Br"], r["has_C_I"]) == (False, False, False)
    assert bindings[("FSI", "K+")].results["ligand_charge"] == -1
    dcm = molecule_features(mol_from_smiles("ClCCl"))
    assert (dcm.has_C_Cl, dcm.has_C_F, dcm.molecule_donor_atoms) == (True, False, ("Cl0", "Cl2"))
    groups = {smi: molecule_features(mol_from_smiles(smi)).pi_donor_group
              for smi in ("O=C1OCCO1", "COP(=O)(OC)OC", "CS(C)=O", "CC#N", "COCCOC", "O=S(=O)(F)[N-]S(=O)(=O)F")}
    assert groups == {"O=C1OCCO1": "carbonate or ester C=O", "COP(=O)(OC)OC": "phosphoryl P=O",
                      "CS(C)=O": "sulfinyl/sulfonyl S=O", "CC#N": "nitrile C#N", "COCCOC": "",
                      "O=S(=O)(F)[N-]S(=O)(=O)F": "sulfinyl/sulfonyl S=O"}
    rows = {r["name"]: r for r in aggregate_binding(
        [root / "binding" / "K+" / "TTE.json", root / "ion_pairs" / "K+" / "FSI.json"], tmp_path / "binding.csv")}
    assert rows["TTE"]["has_C_F"] is True and rows["TTE"]["n_molecule_donor_atoms"] == 9
    assert rows["FSI"]["ligand_charge_e"] == -1 and rows["TTE"]["ligand_charge_e"] == 0
    props = run_properties(paths["FSI"], tmp_path / "properties" / "FSI.json")
    assert props.ok, props.failure
    assert props.results["charge_e"] == -1 and props.results["molecule_donor_atoms"] == expected["FSI"][0]
    (row,) = aggregate_descriptors([(paths["FSI"], tmp_path / "properties" / "FSI.json")], tmp_path / "descriptors.csv")
    assert row["n_molecule_donor_atoms"] == 7 and row["has_C_F"] is False and row["charge_e"] == -1
