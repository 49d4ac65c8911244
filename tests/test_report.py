"""The HTML report: every section present, self-contained, failures listed; the workflow's
classify/rank/report rules and `snakemake --report`; a real headless browser (marked).

Runs on SYNTHETIC stage tables (tests/test_classify.py::write_synthetic_results): made-up
numbers to exercise the pipeline, not physics references.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

from solvscreen.classify import ClassificationSettings, run_classification
from solvscreen.inputs.grid import GridSettings
from solvscreen.inputs.library import load_library
from solvscreen.inputs.formulations import load_formulations
from solvscreen.classify.rank import RANKING_COLUMNS, candidates_from, rank_candidates
from solvscreen.core.records import write_csv
from solvscreen.report.page import SECTIONS, ReportSettings, write_report
from solvscreen.core.result_tables import ResultTables
from test_classify import FORMULATIONS, LIBRARY, write_synthetic_results

ROOT = Path(__file__).resolve().parents[1]


def build(results: Path, grid: GridSettings | None = None) -> Path:
    lib = load_library(LIBRARY)
    forms = load_formulations(FORMULATIONS, lib)
    tables = ResultTables.from_dir(results)
    run_classification(lib, forms, tables, ClassificationSettings(),
                       grid or GridSettings(concentrations_mol_per_L=(1.0, 4.0), pair_concentrations_mol_per_L=(1.0,)),
                       out_csv=results / "classification.csv", out_records=results / "classification.json",
                       out_calibration=results / "calibration.json")
    liquids = candidates_from(tables, lib)
    write_csv(results / "ranking.csv", [c.row() for c in rank_candidates(tables, liquids, cation="K+", anion="FSI")],
              RANKING_COLUMNS)
    out = results / "report.html"
    write_report(out, descriptors=results / "descriptors.csv", binding=results / "binding.csv",
                 shells=results / "shells.csv", classification=results / "classification.csv",
                 calibration=results / "calibration.json", ranking=results / "ranking.csv")
    return out


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, str]:
    results = write_synthetic_results(tmp_path_factory.mktemp("report") / "results")
    out = build(results)
    return out, out.read_text()


def test_every_section_is_there(page):
    _, html = page
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in html, sid
    for title in ("HOMO/LUMO ladder", "K+ binding energies", "Class map", "Ranking",
                  "Calibration: predicted vs literature class", "Failures"):
        assert title in html


def test_self_contained(page):
    _, html = page
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:|//)""", html)
    assert not re.search(r"url\(\s*['\"]?https?:", html)
    assert "<img" not in html  # drawings are inline SVG


def test_structures_and_plots_are_inline_svg(page):
    _, html = page
    lib = load_library(LIBRARY)
    n_computed = len(lib.computed_names())
    n_svg = html.count("<svg")
    assert n_svg >= n_computed + 3  # a drawing per molecule + ladder, binding bars, class map
    for plot in ("orbitals", "binding", "classmap"):
        sec = html.split(f'<section id="{plot}">')[1].split("</section>")[0]
        assert "<svg" in sec, plot


def test_failures_calibration_and_ranking_tables(page):
    _, html = page
    fail = html.split('<section id="failures">')[1].split("</section>")[0]
    assert "AN" in fail and "SCF did not converge" in fail  # the synthetic binding failure
    cal = html.split('<section id="calibration">')[1].split("</section>")[0]
    for fid in ("LCE-DME", "HCE-TMP", "LHCE-DGM-DBE", "WSE-FEMC-FEC", "HCE-DME-5M"):
        assert fid in cal
    assert "leave-one-out" in cal
    gen = cal.split("generalization: checking only")[1]  # its own block, after the calibration set
    assert "G-LCE-KFSI-DMEDGM" in gen and "G-HCE-KFSI-DGM-5" in gen and "LCE-DME<" not in gen
    assert "diluent_bind_max_kcal_per_mol" in cal  # the threshold table with units and sources
    rank = html.split('<section id="ranking">')[1].split("</section>")[0]
    assert "front" in rank and "solvents" in rank and "diluents" in rank


def test_report_with_missing_tables_says_so(tmp_path):
    results = write_synthetic_results(tmp_path / "r")
    out = tmp_path / "r" / "partial.html"
    html = write_report(out, descriptors=results / "descriptors.csv", settings=ReportSettings(title="partial"))
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in html
    assert "not available in this run" in html


# ----------------------------------------------------------------------------- the workflow rules
SNAKEFILE = """
import json
from pathlib import Path
from solvscreen.inputs.config import load_config

configfile: "config.yaml"
CONFIG = load_config(config)
RESULTS = CONFIG["results"]
TARGETS = []

include: "{common}"
include: "{rules}"

rule all:
    input: TARGETS
"""


@pytest.fixture(scope="module")
def workflow_run(tmp_path_factory):
    """The real classify.smk, on SYNTHETIC stage tables given as source files."""
    snakemake = shutil.which("snakemake")
    if snakemake is None:
        pytest.skip("snakemake is not installed")
    wd = tmp_path_factory.mktemp("wf")
    results = write_synthetic_results(wd / "results")
    (wd / "Snakefile").write_text(SNAKEFILE.format(common=ROOT / "workflows" / "rules" / "common.smk",
                                                   rules=ROOT / "workflows" / "rules" / "classify.smk"))
    (wd / "config.yaml").write_text(textwrap.dedent(f"""
        library: {LIBRARY}
        formulations: {FORMULATIONS}
        results: {results}
        grid: {{concentrations_mol_per_L: [1.0], pair_concentrations_mol_per_L: [1.0]}}
        """))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([snakemake, "--cores", "1", "--nolock"], cwd=wd, capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return wd, results, snakemake, env


def test_workflow_rules_produce_classification_ranking_report(workflow_run):
    wd, results, _, _ = workflow_run
    for name in ("classification.csv", "classification.json", "calibration.json", "ranking.csv", "report.html"):
        assert (results / name).stat().st_size > 0, name
    for log in ("classify", "rank", "report"):
        assert (results / "logs" / f"{log}.log").is_file()
    cal = json.loads((results / "calibration.json").read_text())
    assert cal["summary"]["calibration"]["n"] == 11


def test_snakemake_report(workflow_run):
    wd, results, snakemake, env = workflow_run
    proc = subprocess.run([snakemake, "--report", "wf-report.zip", "--nolock"], cwd=wd, capture_output=True,
                          text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    with zipfile.ZipFile(wd / "wf-report.zip") as z:
        names = z.namelist()
    for out in ("classification.csv", "calibration.json", "ranking.csv", "report.html"):
        assert any(n.endswith(out) for n in names), (out, names)


# ----------------------------------------------------------------------------- a real browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--enable-logging=stderr", "--v=0"]


def _browser_page(page) -> Path:
    """The real pipeline's report if $SOLVSCREEN_RESULTS has one, else the synthetic one."""
    real = os.environ.get("SOLVSCREEN_RESULTS")
    if real and (Path(real) / "report.html").is_file():
        return Path(real) / "report.html"
    return page[0]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_in_headless_chromium(page, tmp_path):
    path = _browser_page(page)
    url = path.resolve().as_uri()
    dump = subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
                          capture_output=True, text=True, timeout=180)
    assert dump.returncode == 0, dump.stderr[-3000:]
    dom = dump.stdout
    for sid in SECTIONS:
        assert f'id="{sid}"' in dom, sid
    assert dom.count("<svg") >= 4
    # no failed loads or script errors in the browser log (dbus noise is the sandbox's, not ours)
    bad = [line for line in dump.stderr.splitlines()
           if re.search(r"ERR_(FILE|NAME|CONNECTION|INTERNET|BLOCKED)|Uncaught|CONSOLE\(\d+\)", line)]
    assert not bad, bad
    shot = tmp_path / "report.png"
    proc = subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}",
                           "--window-size=1400,3000", f"--screenshot={shot}", url],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and shot.stat().st_size > 20_000, proc.stderr[-3000:]
    from PIL import Image

    im = Image.open(shot).convert("L")
    lo, hi = im.getextrema()
    assert hi - lo > 100  # something was drawn, not a blank page
