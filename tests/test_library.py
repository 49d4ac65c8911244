"""Candidate library, formulation table and config validation.

The default library is checked against the review's molecule list and Table 2
(shared/reference/; embedded below so the check runs from a bare clone, and compared
with the shared files when they are present). Every kind of bad input must stop with
a message that names the file, the row and the reason.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdkit import Chem

from solvscreen.xtb import engine
from solvscreen.core.errors import ValidationError, ValidationErrors
from solvscreen.inputs.config import load_config, packaged_table, summary
from solvscreen.inputs.formulations import Formulation, load_formulations
from solvscreen.inputs.library import Library, load_library
from solvscreen.inputs.schema import KINDS, load_schema
from solvscreen.interface.inputs import validate_all

ROOT = Path(__file__).resolve().parents[1]
LIBRARY_CSV = ROOT / "molecules" / "library.csv"
FORMULATIONS_CSV = ROOT / "molecules" / "formulations.csv"
SHARED_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"  # ../shared beside the repo

# shared/reference/molecules.csv: name, aliases, SMILES, kind (review and its tables).
REFERENCE_MOLECULES = """\
name,aliases,smiles,kind
DME,G1,COCCOC,solvent
DEE,,CCOCCOCC,solvent
DBE,,CCCCOCCOCCCC,solvent
DGM,DEGDME|G2,COCCOCCOC,solvent
DGT,,CCOCCOCCOCC,solvent
DMM,DPGDME,CC(COC)OCC(C)OC,solvent
DEECl,,ClCCOCCOCCCl,solvent
DEM,,CCOCOCC,solvent
DX,,C1COCCO1,solvent
TMP,,COP(=O)(OC)OC,solvent
TEP,,CCOP(=O)(OCC)OCC,solvent
TFP,,O=P(OCC(F)(F)F)(OCC(F)(F)F)OCC(F)(F)F,solvent
EC,,O=C1OCCO1,solvent
PC,,CC1COC(=O)O1,solvent
DMC,,COC(=O)OC,solvent
DEC,,CCOC(=O)OCC,solvent
FEC,,O=C1OCC(F)O1,solvent
FEMC,,COC(=O)OCC(F)(F)F,solvent
TTE,OOE,FC(F)C(F)(F)OCC(F)(F)C(F)F,diluent
OTE,,FC(F)C(F)(F)OCC(F)(F)C(F)(F)C(F)(F)C(F)F,diluent
HFME,,FCOC(C(F)(F)F)C(F)(F)F,diluent
MME,,COC(F)(C(F)(C(F)(F)F)C(F)(F)F)C(F)(F)C(F)(F)F,diluent
FSI,,O=S(=O)(F)[N-]S(=O)(=O)F,anion
TFSI,,O=S(=O)(C(F)(F)F)[N-]S(=O)(=O)C(F)(F)F,anion
PF6,,F[P-](F)(F)(F)(F)F,anion
BF4,,F[B-](F)(F)F,anion
ClO4,,[O-]Cl(=O)(=O)=O,anion
HFDF,,O=S1(=O)[N-]S(=O)(=O)C(F)(F)C(F)(F)C1(F)F,anion
"""

# shared/reference/table2_calibration.csv: id, salt, M, solvents, ratio_reported, class.
REFERENCE_TABLE2 = """\
id,salt,concentration_M,solvents,ratio_reported,reported_class
LCE-DME,KFSI,1.0,DME,yes,LCE
LCE-EC-DEC,KFSI,0.5,EC:1|DEC:1,no,LCE
HCE-DEGDME,KFSI,4.0,DEGDME,yes,HCE
HCE-TMP,KFSI,3.29,TMP,yes,HCE
LHCE-DME-MME-OOE,KFSI,1.0,DME:1|MME:1|OOE:1,no,LHCE
LHCE-DME-TTE,KFSI,1.6,DME:1|TTE:1,no,LHCE
LHCE-DGM-DBE,KFSI,1.5,DGM:1|DBE:1,no,LHCE
LHCE-TMP-DX,KFSI,1.0,TMP:1|DX:1,no,LHCE
WSE-TFP,KFSI,1.0,TFP,yes,WSE
WSE-DEE,KFSI,2.0,DEE,yes,WSE
WSE-FEMC-FEC,KFSI,1.0,FEMC:1|FEC:1,no,WSE
"""


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(text.splitlines()))


def _canonical(smiles: str) -> str:
    """Canonical SMILES straight from RDKit (independent of solvscreen.xtb.structures)."""
    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


@pytest.fixture(scope="module")
def default():
    return validate_all(load_config({}, base_dir=ROOT))


@pytest.fixture(scope="module")
def library(default) -> Library:
    return default[0]


# ============================================================================ default data
def test_default_library_and_formulations_load(default):
    library, formulations = default
    assert 35 <= len(library) <= 50
    assert {m.kind for m in library} == set(KINDS)
    assert len(formulations) >= 11
    assert all(isinstance(f, Formulation) for f in formulations)
    # every liquid has a positive density below 5 g/mL and says where it comes from
    for m in library:
        if m.is_liquid:
            assert 0.5 < m.density_g_per_mL < 2.0, m.name
            assert m.density_source, m.name
        else:
            assert m.density_g_per_mL is None, m.name
    # what the workflow computes individually: everything except the salts
    assert set(library.computed_names()) == {m.name for m in library if m.kind != "salt"}
    assert "KFSI" not in library.computed_names()


def test_repository_copy_of_table2_is_the_embedded_one():
    """tests/data/table2_calibration.csv (read by test_classify) holds the same rows as above."""
    with open(ROOT / "tests" / "data" / "table2_calibration.csv", newline="") as fh:
        copy = list(csv.DictReader(fh))
    embedded = _rows(REFERENCE_TABLE2)
    assert [{k: r[k] for k in embedded[0]} for r in copy] == embedded


def test_shared_reference_copies_are_current():
    """The embedded reference tables equal the shared files (when those are reachable)."""
    files = {"molecules.csv": REFERENCE_MOLECULES, "table2_calibration.csv": REFERENCE_TABLE2}
    if not all((SHARED_REFERENCE / f).is_file() for f in files):
        pytest.skip("shared/reference is not mounted here")
    for fname, text in files.items():
        with open(SHARED_REFERENCE / fname, newline="") as fh:
            shared = list(csv.DictReader(fh))
        embedded = _rows(text)
        assert [{k: r[k] for k in embedded[0]} for r in shared] == embedded, fname


@pytest.mark.parametrize("ref", _rows(REFERENCE_MOLECULES), ids=lambda r: r["name"])
def test_every_reference_molecule_is_in_the_library(library, ref):
    mol = library.resolve(ref["name"])
    assert mol.name == ref["name"]
    assert mol.kind == ref["kind"]
    assert mol.canonical_smiles == _canonical(ref["smiles"])
    for alias in filter(None, ref["aliases"].split("|")):
        assert library.resolve(alias) is mol


def test_aliases_resolve(library):
    assert library.resolve("OOE").name == "TTE"
    assert library.resolve("DPGDME").name == "DMM"
    assert library.resolve("G2").name == "DGM"
    assert library.resolve("DEGDME").name == "DGM"
    assert library.resolve("G4").name == "TEGDME"
    assert library.resolve("ooe").name == "TTE"  # case-insensitive
    assert [library.resolve(c).name for c in ("K", "Li", "Na")] == ["K+", "Li+", "Na+"]
    assert "OOE" in library and "XYZ" not in library
    with pytest.raises(ValidationError, match="unknown molecule 'OEE'.*did you mean"):
        library.resolve("OEE")


def test_ions_and_salts(library):
    for m in library:
        expected = {"anion": -1, "cation": 1}.get(m.kind, 0)
        assert m.charge == expected, m.name
    pairs = {m.name: (m.cation, m.anion) for m in library.salts()}
    assert pairs == {"KFSI": ("K+", "FSI"), "KTFSI": ("K+", "TFSI"), "KPF6": ("K+", "PF6"),
                     "KBF4": ("K+", "BF4"), "KClO4": ("K+", "ClO4"), "KHFDF": ("K+", "HFDF")}
    # molar masses (IUPAC average atomic masses): KFSI = K + N + 2 S + 4 O + 2 F
    kfsi = 39.098 + 14.007 + 2 * 32.06 + 4 * 15.999 + 2 * 18.998
    assert library.resolve("KFSI").molar_mass_g_per_mol == pytest.approx(kfsi, abs=0.02)
    assert library.resolve("DME").molar_mass_g_per_mol == pytest.approx(90.12, abs=0.01)


@pytest.mark.parametrize("ref", _rows(REFERENCE_TABLE2), ids=lambda r: r["id"])
def test_formulations_hold_table2(default, ref):
    library, formulations = default
    by_id = {f.id: f for f in formulations}
    f = by_id[ref["id"]]
    assert f.salt == library.resolve(ref["salt"]).name
    assert f.concentration_mol_per_L == pytest.approx(float(ref["concentration_M"]))
    expected = [(library.resolve(p.split(":")[0]).name, float(p.split(":")[1]) if ":" in p else 1.0)
                for p in ref["solvents"].split("|")]
    assert list(f.components) == expected
    assert f.reported_class == ref["reported_class"]
    assert f.ratio_reported is (ref["ratio_reported"] == "yes")
    assert f.ratio_basis == "volume"


def test_summary_lists_everything(default):
    library, formulations = default
    text = summary(library, formulations)
    assert f"library: {len(library)} molecules" in text
    assert f"formulations: {len(formulations)}" in text
    assert "aliases OOE" in text and "LHCE-DME-MME-OOE" in text


# ============================================================================ bad libraries
HEADER = "name,aliases,smiles,kind,full_name,density_g_per_mL,density_source"
BASE_ROWS = [
    "DME,G1,COCCOC,solvent,dimethoxyethane,0.867,Sigma-Aldrich",
    "TTE,OOE,FC(F)C(F)(F)OCC(F)(F)C(F)F,diluent,TTE,1.53,estimate",
    "FSI,,O=S(=O)(F)[N-]S(=O)(=O)F,anion,FSI,,",
    "K+,K,[K+],cation,potassium ion,,",
    "KFSI,,[K+].O=S(=O)(F)[N-]S(=O)(=O)F,salt,KFSI,,",
]


def write_table(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def library_errors(path: Path | list[Path]) -> list[ValidationError]:
    with pytest.raises(ValidationErrors) as info:
        load_library(path)
    return info.value.errors


def assert_reported(errors: list[ValidationError], path: Path, row: int | None, *words: str) -> ValidationError:
    """One error names ``path``, data row ``row`` and contains every word of the reason."""
    for e in errors:
        where = str(e)
        if e.source != str(path):
            continue
        if row is not None and not str(e.row).startswith(f"{row} (line {row + 1})"):
            continue
        if all(w.lower() in e.reason.lower() for w in words):
            assert str(path) in where and (row is None or f"row {row} (line" in where)
            return e
    raise AssertionError(f"no error at {path} row {row} mentioning {words}; got:\n" +
                         "\n".join(map(str, errors)))


BAD_ROWS = {
    "invalid SMILES": ("BAD,,C1CC,solvent,,0.9,estimate", ["invalid SMILES", "C1CC"]),
    "space inside SMILES": ("BAD,,CCO C,solvent,,0.9,estimate", ["invalid SMILES", "'CCO C' contains whitespace"]),
    "unparsable atom": ("BAD,,C[Xx]C,solvent,,0.9,estimate", ["invalid SMILES"]),
    "valence": ("BAD,,CC(C)(C)(C)(C)C,solvent,,0.9,estimate", ["invalid SMILES", "valence"]),
    "anion given as neutral": ("HFSI,,O=S(=O)(F)NS(=O)(=O)F,anion,,,", ["charge/kind mismatch", "anion", "+0"]),
    "charged solvent": ("MeO,,C[O-],solvent,,0.8,estimate", ["charge/kind mismatch", "solvent", "-1"]),
    "negative cation": ("Cl,,[Cl-],cation,,,", ["charge/kind mismatch", "cation", "positive"]),
    "unsupported element U": ("UF6,,F[U](F)(F)(F)(F)F,solvent,,,", ["unsupported element", "U (Z=92)"]),
    "element beyond 86": ("Og,,[Og],solvent,,,", ["unsupported element", "Z=118"]),
    "dummy atom": ("R,,*C,solvent,,,", ["unsupported element", "dummy"]),
    "radical": ("Et,,C[CH2],solvent,,0.8,estimate", ["radical", "1 unpaired"]),
    "neutral K atom": ("K0,,[K],cation,,,", ["radical"]),
    "duplicate structure": ("glyme,,C(OC)COC,solvent,,0.87,estimate",
                            ["duplicate structure", "'DME'", "alias"]),
    "duplicate name": ("DME,,CCOC,solvent,,0.7,estimate", ["duplicate name or alias 'DME'"]),
    "alias clash": ("DEE,g1,CCOCCOCC,solvent,,0.84,estimate", ["duplicate name or alias 'g1'", "'DME'"]),
    "empty name": (",,CCOCC,solvent,,0.71,estimate", ["name is empty"]),
    "unknown kind": ("DEE,,CCOCCOCC,solvant,,0.84,estimate", ["unknown kind"]),
    "salt without anion": ("KEtOH,,[K+].CCO,salt,,,", ["salt without anion"]),
    "salt anion not in library": ("KPF6,,[K+].F[P-](F)(F)(F)(F)F,salt,,,",
                                  ["anion F[P-](F)(F)(F)(F)F", "not a valid anion row"]),
    "salt cation not in library": ("NaFSI,,[Na+].O=S(=O)(F)[N-]S(=O)(=O)F,salt,,,", ["cation [Na+]"]),
    "ion pair as solvent": ("KFSI2,,[K+].O=S(=O)(F)[N-]S(=O)(=O)C(F)(F)F,solvent,,1.0,estimate",
                            ["must be one molecule"]),
    "density too high": ("DEE,,CCOCCOCC,solvent,,7.5,estimate", ["density", "< 5"]),
    "negative density": ("DEE,,CCOCCOCC,solvent,,-0.8,estimate", ["density", "> 0"]),
    "density not a number": ("DEE,,CCOCCOCC,solvent,,heavy,estimate", ["density", "'heavy'"]),
    "density without source": ("DEE,,CCOCCOCC,solvent,,0.84,", ["density_source is empty"]),
    "density of an ion": ("BF4,,F[B-](F)(F)F,anion,,1.8,estimate", ["only used for liquids and salts"]),
    "bad name": ("my/solvent,,CCOCCOCC,solvent,,0.84,estimate", ["name is 'my/solvent'"]),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_bad_library_row_names_file_row_and_reason(tmp_path, case):
    bad_row, words = BAD_ROWS[case]
    path = write_table(tmp_path / "library.csv", HEADER, BASE_ROWS + [bad_row])
    errors = library_errors(path)
    assert_reported(errors, path, len(BASE_ROWS) + 1, *words)
    # the base rows are fine: nothing else is blamed on them
    assert all(str(e.row).startswith(f"{len(BASE_ROWS) + 1} ") for e in errors), errors


def test_all_errors_of_a_file_are_collected(tmp_path):
    rows = BASE_ROWS + [BAD_ROWS["invalid SMILES"][0], BAD_ROWS["radical"][0], BAD_ROWS["unsupported element U"][0]]
    path = write_table(tmp_path / "lib.csv", HEADER, rows)
    errors = library_errors(path)
    assert [str(e.row).split()[0] for e in errors] == ["6", "7", "8"]
    assert "3 validation error(s)" in str(ValidationErrors(errors))


def test_row_numbers_skip_comments_and_blank_lines(tmp_path):
    path = tmp_path / "lib.csv"
    path.write_text("\n".join([HEADER, "# a comment", *BASE_ROWS, "", "BAD,,C1CC,solvent,,0.9,estimate"]) + "\n")
    (err,) = library_errors(path)
    assert err.row == "6 (line 9)"  # sixth data row, ninth line of the file


@pytest.mark.parametrize("header, words", [
    ("name,aliases,kind", ["missing required column", "smiles"]),
    (HEADER + ",boiling_point_C", ["unknown column", "boiling_point_C"]),
])
def test_missing_and_extra_columns(tmp_path, header, words):
    rows = [",".join(r.split(",")[:3]) for r in BASE_ROWS] if "smiles" not in header else \
        [r + ",85" for r in BASE_ROWS]
    path = write_table(tmp_path / "lib.csv", header, rows)
    assert_reported(library_errors(path), path, None, *words)


def test_minimal_table_infers_kinds(tmp_path):
    """A custom table needs only name and SMILES; kind follows from the charge."""
    path = write_table(tmp_path / "mine.csv", "name,smiles",
                       ["DOL,C1COCO1", "FSI,O=S(=O)(F)[N-]S(=O)(=O)F", "K+,[K+]",
                        "KFSI,[K+].O=S(=O)(F)[N-]S(=O)(=O)F"])
    lib = load_library(path)
    assert [m.kind for m in lib] == ["solvent", "anion", "cation", "salt"]
    assert lib.resolve("DOL").density_g_per_mL is None and lib.resolve("DOL").row == 1


def test_extra_library_adds_rows_and_must_not_repeat_them(tmp_path):
    extra = write_table(tmp_path / "extra.csv", HEADER,
                        ['DOL,,C1COCO1,solvent,"1,3-dioxolane",1.06,estimate',
                         "glyme,,COCCOC,solvent,,0.87,estimate"])
    errors = library_errors([LIBRARY_CSV, extra])
    assert_reported(errors, extra, 2, "duplicate structure", "'DME'", f"{LIBRARY_CSV}, row 1")
    assert len(errors) == 1
    extra.write_text("\n".join([HEADER, "DOL,,C1COCO1,solvent,\"1,3-dioxolane\",1.06,estimate"]) + "\n")
    lib = load_library([LIBRARY_CSV, extra])
    assert lib.names()[-1] == "DOL" and lib.resolve("DOL").source == str(extra)


# ============================================================================ bad formulations
FHEADER = "id,salt,concentration_mol_per_L,components,ratio_basis,reported_class,ratio_reported,source"

BAD_FORMULATIONS = {
    "unknown alias": ("F1,KFSI,1.0,DME:1|OEE:1,volume,LHCE,no,test", ["unknown molecule 'OEE'", "OOE"]),
    "unknown salt": ("F1,KXYZ,1.0,DME,volume,,,", ["unknown molecule 'KXYZ'"]),
    "salt is not a salt": ("F1,DME,1.0,TTE,volume,,,", ["salt 'DME' is a row of kind solvent"]),
    "negative concentration": ("F1,KFSI,-1,DME,volume,,,", ["concentration_mol_per_L is -1.0", "positive"]),
    "zero concentration": ("F1,KFSI,0,DME,volume,,,", ["concentration_mol_per_L is 0.0"]),
    "absurd concentration": ("F1,KFSI,12,DME,volume,,,", ["concentration_mol_per_L is 12.0", "8 mol/L"]),
    "concentration not a number": ("F1,KFSI,1 M,DME,volume,,,", ["concentration_mol_per_L is '1 M'"]),
    # 7 mol/L x M(KTFSI) 319.2 g/mol = 2235 g of salt per litre
    "more salt than fits": ("F1,KTFSI,7,DME,volume,,,", ["more salt than fits", "7 mol/L of KTFSI", "2235 g"]),
    "ratio does not parse": ("F1,KFSI,1.0,DME:one|TTE:1,volume,,,", ["ratio 'one' of 'DME'"]),
    "ratio zero": ("F1,KFSI,1.0,DME:0|TTE:1,volume,,,", ["ratio '0' of 'DME'", "positive"]),
    "ratio negative": ("F1,KFSI,1.0,DME:1|TTE:-2,volume,,,", ["ratio '-2' of 'TTE'"]),
    "ratio with two colons": ("F1,KFSI,1.0,DME:1:2,volume,,,", ["ratio '1:2'"]),
    "empty component": ("F1,KFSI,1.0,DME:1||TTE:1,volume,,,", ["empty component"]),
    "ion as component": ("F1,KFSI,1.0,DME:1|FSI:1,volume,,,", ["component 'FSI' is an anion"]),
    "salt as component": ("F1,KFSI,1.0,DME:1|KPF6:1,volume,,,", ["component 'KPF6' is a salt"]),
    "same molecule twice": ("F1,KFSI,1.0,DGM:1|G2:1,volume,,,", ["'DGM' and 'G2' are the same molecule"]),
    "unknown class": ("F1,KFSI,1.0,DME,volume,XCE,,", ["reported_class is 'XCE'"]),
    "unknown basis": ("F1,KFSI,1.0,DME:1|TTE:1,mass,,,", ["ratio_basis is 'mass'"]),
    "bad ratio_reported": ("F1,KFSI,1.0,DME,volume,,maybe,", ["ratio_reported is 'maybe'"]),
}


@pytest.fixture(scope="module")
def default_library() -> Library:
    return load_library(LIBRARY_CSV)


@pytest.mark.parametrize("case", list(BAD_FORMULATIONS))
def test_bad_formulation_row_names_file_row_and_reason(tmp_path, default_library, case):
    bad_row, words = BAD_FORMULATIONS[case]
    good = "OK,KFSI,1.0,DME:1|OOE:1,volume,LHCE,no,test"
    path = write_table(tmp_path / "formulations.csv", FHEADER, [good, bad_row])
    with pytest.raises(ValidationErrors) as info:
        load_formulations(path, default_library)
    assert_reported(info.value.errors, path, 2, *words)
    assert all(str(e.row).startswith("2 ") for e in info.value.errors)


def test_duplicate_formulation_id(tmp_path, default_library):
    path = write_table(tmp_path / "f.csv", FHEADER, ["A,KFSI,1,DME,,,,", "A,KFSI,2,DME,,,,"])
    with pytest.raises(ValidationErrors) as info:
        load_formulations(path, default_library)
    assert_reported(info.value.errors, path, 2, "duplicate id 'A'", "row 1")


def test_formulation_defaults_and_aliases(tmp_path, default_library):
    path = write_table(tmp_path / "f.csv", "id,salt,concentration_mol_per_L,components",
                       ["A,KFSI,1.5,G2:2|OOE:1"])
    (f,) = load_formulations(path, default_library)
    assert f.components == (("DGM", 2.0), ("TTE", 1.0))
    assert f.ratio_basis == "volume" and f.reported_class is None and f.ratio_reported is None
    assert dict(f.fractions) == pytest.approx({"DGM": 2 / 3, "TTE": 1 / 3})
    assert f.row == 1 and f.file == str(path)


# ============================================================================ config
def test_config_defaults_are_filled_and_paths_resolved(tmp_path):
    raw = {"cations": ["K", "Li"], "engine": {"method": "GFN1-xTB"}}
    cfg = load_config(raw, base_dir=tmp_path)
    assert raw == {"cations": ["K", "Li"], "engine": {"method": "GFN1-xTB"}}  # input untouched
    assert cfg["engine"] == {"backend": "tblite", "method": "GFN1-xTB", "solvent": None,
                             "electronic_temperature_K": 300.0, "accuracy": 1.0, "max_iterations": 250}
    assert cfg["conformers"]["n_embed"] == 12 and cfg["conformers"]["seed"] == 20240917
    assert cfg["threads"] == 1 and cfg["molecules"] == "all" and cfg["extra_libraries"] == []
    # a default table that base_dir lacks (outside the checkout) is the package's copy; base_dir's own wins
    assert cfg["library"] == packaged_table("molecules/library.csv") and Path(cfg["library"]).is_file()
    assert Path(cfg["formulations"]).read_bytes() == (ROOT / "molecules" / "formulations.csv").read_bytes()
    (tmp_path / "molecules").mkdir()
    (tmp_path / "molecules" / "library.csv").write_text("name,smiles\nW,O\n")
    assert load_config(raw, base_dir=tmp_path)["library"] == str(tmp_path / "molecules" / "library.csv")
    assert cfg["results"] == str(tmp_path / "results")
    # stage sections are filled with their own documented defaults, never left missing
    for section in ("binding", "classification", "ranking", "report", "properties"):
        assert isinstance(cfg[section], dict) and cfg[section], section
    assert cfg["properties"]["orbital_solvent"] == "thf"
    assert load_config(load_config({})) == load_config({})  # idempotent with base_dir "."


def test_workflow_default_config_is_valid():
    import yaml

    raw = yaml.safe_load((ROOT / "workflows" / "config.yaml").read_text())
    library, _ = validate_all(load_config(raw, base_dir=ROOT))
    assert len(library) > 0


def test_numbers_given_as_text_are_read_where_the_schema_asks_for_numbers():
    # Snakemake's --config 'md={"threads": 2}' hands nested values over as text
    cfg = load_config({"threads": "2", "md": {"threads": "+2", "charge_scale": "0.8", "preset": "smoke"}})
    assert cfg["threads"] == 2 and cfg["md"]["threads"] == 2 and cfg["md"]["charge_scale"] == 0.8
    assert isinstance(cfg["md"]["threads"], int)
    for bad in ("2.5", "nan", "inf", "2 cores"):
        with pytest.raises(ValidationErrors, match="md.threads"):
            load_config({"md": {"threads": bad}})
    assert load_config({"engine": {"method": "2"}})["engine"]["method"] == "2"  # text where text is asked stays text


@pytest.mark.parametrize("raw, words", [
    ({"threads": "two"}, ["threads", "'two' is not of type 'integer'"]),
    ({"threads": 0}, ["threads", "minimum"]),
    ({"foo": 1}, ["foo: unknown key"]),
    ({"engine": {"methd": "GFN2-xTB"}}, ["engine.methd: unknown key"]),
    ({"engine": {"method": ""}}, ["engine.method", "should be non-empty"]),
    ({"engine": {"solvent": "dme"}}, ["engine.solvent", "'dme'"]),
    ({"conformers": {"n_embed": 2.5}}, ["conformers.n_embed"]),
    ({"cations": "K"}, ["cations", "not of type 'array'"]),
    ({"molecules": "DME"}, ["molecules", "'DME' is not valid"]),
    ({"extra_libraries": [3]}, ["extra_libraries[0]"]),
])
def test_malformed_config_names_key_and_reason(raw, words):
    with pytest.raises(ValidationErrors) as info:
        load_config(raw)
    text = str(info.value)
    assert all(w in text for w in words), text
    assert all(e.source == "config" for e in info.value.errors)


@pytest.mark.parametrize("raw, words", [
    ({"cations": ["Cs"]}, ["cations[0]: unknown molecule 'Cs'"]),
    ({"cations": ["DME"]}, ["cations[0]: 'DME' is a solvent, not a cation"]),
    ({"molecules": ["DME", "XYZ"]}, ["molecules[1]: unknown molecule 'XYZ'"]),
    ({"molecules": ["DME", "KFSI"]}, ["molecules[1]: 'KFSI' is a salt"]),
    ({"engine": {"backend": "xtb-python", "solvent": "thf"}}, ["engine:", "only available through the tblite"]),
    ({"engine": {"method": "GFN3-xTB"}}, ["engine:", "unknown method 'GFN3-xTB'", "GFN2-xTB"]),
    ({"engine": {"backend": "mace"}}, ["engine:", "unknown engine backend 'mace'", "tblite"]),
    ({"library": "nowhere.csv"}, ["library: no such file"]),
])
def test_validate_all_checks_the_config_against_the_library(raw, words):
    with pytest.raises(ValidationErrors) as info:
        validate_all(load_config(raw, base_dir=ROOT))
    text = str(info.value)
    assert all(w in text for w in words), text


def test_validate_all_reports_every_file_and_no_cascades(tmp_path):
    extra_lib = write_table(tmp_path / "extra.csv", HEADER,
                            ["DOL,,C1COCO1,solvent,dioxolane,,", "BROKEN,,C1CC,solvent,,0.9,estimate"])
    extra_form = write_table(tmp_path / "f.csv", FHEADER, [
        "DOL-1M,KFSI,1.0,DOL:1|DME:1,volume,,,",  # DOL has no density -> needed here
        "BROKEN-1M,KFSI,1.0,BROKEN,volume,,,",  # BROKEN's own row is already reported
        "NEG,KFSI,-2,DME,volume,,,",
    ])
    with pytest.raises(ValidationErrors) as info:
        validate_all(load_config({"extra_libraries": [str(extra_lib)], "extra_formulations": [str(extra_form)]},
                                 base_dir=ROOT))
    errors = info.value.errors
    assert_reported(errors, extra_lib, 2, "invalid SMILES")
    assert_reported(errors, extra_form, 1, "'DOL' has no density_g_per_mL")
    assert_reported(errors, extra_form, 3, "concentration_mol_per_L is -2.0")
    assert not any("BROKEN" in e.reason for e in errors if e.source == str(extra_form))
    assert len(errors) == 3


def test_schema_defaults_name_a_registered_engine():
    """The engine's backend and method are names the engine registry checks (plug-ins included);
    the schema's defaults are the built-in GFN2-xTB on tblite."""
    engine_schema = load_schema("config")["properties"]["engine"]["properties"]
    assert engine_schema["backend"]["default"] in engine.BACKENDS
    assert engine_schema["method"]["default"] in engine.METHODS
    assert load_schema("molecule")["properties"]["kind"]["enum"][1:] == list(KINDS)


def test_the_concentration_limit_has_one_home():
    """The 8 mol/L limit is MAX_CONCENTRATION_MOL_PER_L; the schemas name it, GridSettings uses it."""
    from importlib import resources

    from solvscreen.core.errors import InputError
    from solvscreen.inputs.grid import GridSettings
    from solvscreen.inputs.schema import MAX_CONCENTRATION_MOL_PER_L, load_schema

    assert load_schema("formulation")["properties"]["concentration_mol_per_L"]["maximum"] == MAX_CONCENTRATION_MOL_PER_L
    grid = load_schema("config")["properties"]["grid"]["properties"]
    for key in ("concentrations_mol_per_L", "pair_concentrations_mol_per_L"):
        assert grid[key]["items"]["maximum"] == MAX_CONCENTRATION_MOL_PER_L
    for name in ("formulation", "config"):
        raw = resources.files("solvscreen").joinpath("schemas", f"{name}.schema.yaml").read_text()
        assert "maximum: 8" not in raw and "${MAX_CONCENTRATION_MOL_PER_L}" in raw
    with pytest.raises(InputError, match=r"\(0, 8\] mol/L"):
        GridSettings(concentrations_mol_per_L=(MAX_CONCENTRATION_MOL_PER_L + 0.5,))
