"""The report's MD section: present only with solvation.csv; bars, RDFs and the CN table."""

from __future__ import annotations

from solvscreen.md.report import solvation_section
from solvscreen.md.runner import COORDINATION_COLUMNS, SOLVATION_COLUMNS


def _write(path, columns, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(",".join(columns) + "\n" + "".join(",".join(str(r.get(c, "")) for c in columns) + "\n" for r in rows))


def test_no_solvation_table_no_section(tmp_path):
    assert solvation_section(None) == "" and solvation_section(tmp_path / "solvation.csv") == ""


def test_section_shows_bars_rdfs_and_the_cn_table(tmp_path):
    ok = {"formulation": "LCE-DME", "status": "ok", "preset": "smoke", "ssip_fraction": 0.5, "ssip_fraction_err": 0.1,
          "cip_fraction": 0.4, "cip_fraction_err": 0.1, "agg_fraction": 0.1, "agg_fraction_err": 0.05,
          "anion_cn": 0.6, "anion_cn_err": 0.1, "density_g_per_mL": 1.0, "platform": "CPU"}
    bad = {"formulation": "WSE-DEE", "status": "failed", "failure_reason": "no record: job died"}
    _write(tmp_path / "solvation.csv", SOLVATION_COLUMNS, [ok, bad])
    _write(tmp_path / "coordination.csv", COORDINATION_COLUMNS,
           [{"formulation": "LCE-DME", "species": "DME", "kind": "solvent", "cn": 3.2, "cn_err": 0.1,
             "cn_donor_atoms": 6.1, "cutoff_A": 4.0, "cutoff_source": "rdf_first_minimum", "enrichment": 2.1,
             "enrichment_err": 0.1}])
    (tmp_path / "md" / "LCE-DME").mkdir(parents=True)
    (tmp_path / "md" / "LCE-DME" / "rdf.csv").write_text("r_A,g_K_DME_O\n2.0,0.0\n2.8,5.0\n4.0,0.5\n6.0,1.0\n")
    html = solvation_section(tmp_path / "solvation.csv", tmp_path / "coordination.csv")
    assert html.count("<svg") == 2  # speciation bars + RDF panel
    assert "LCE-DME" in html and "WSE-DEE" in html and "no record: job died" in html
    assert "rdf_first_minimum" in html and "3.20 ± 0.10" in html


def test_the_pmf_section_plots_each_difference_with_its_interval_and_only_with_a_pmf_table(tmp_path):
    """CONSTRUCTED pmf.csv (stage columns): DEE below DME beyond its interval, DMSO not resolved."""
    from solvscreen.core.records import write_csv
    from solvscreen.md.pmf_stage import PMF_COLUMNS, with_reference
    from solvscreen.md.report import report_section

    base = {"salt": "KFSI", "status": "ok", "failure_reason": "", "converged": False, "n_windows": 13,
            "production_ps_per_window": 50, "convergence_reason": "bootstrap interval 1.5 wider than 1.0 kcal/mol",
            "ns_total": 0.8, "cpu_hours": 0.45, "cost_complete": True}
    rows = [{**base, "solvent": n, "dg_assoc_kcal_per_mol": d, "dg_assoc_lo_kcal_per_mol": d - 0.5,
             "dg_assoc_hi_kcal_per_mol": d + 0.5} for n, d in (("DME", 0.3), ("DEE", -1.5), ("DMSO", 0.9))]
    rows.append({"solvent": "TTE", "salt": "KFSI", "status": "failed", "failure_reason": "AM1-BCC failed"})
    write_csv(tmp_path / "pmf.csv", with_reference(rows, "DME"), list(PMF_COLUMNS))
    assert report_section({"pmf": None}, {}) == ""  # md.pmf off: no section
    html = report_section({"pmf": tmp_path / "pmf.csv"}, {"pmf_weak_ddg_max_kcal_per_mol": 0.0})
    assert 'id="pmf"' in html and "<svg" in html
    assert "DEE (KFSI)" in html and "DMSO (KFSI)" in html  # plotted: the two with a difference
    half = round((0.5 ** 2 * 2) ** 0.5, 2)  # two half-widths of 0.5, no drift columns
    assert f"-1.80 [{-1.8 - half:.2f}, {-1.8 + half:.2f}]" in html
    assert "weaker solvent than DME" in html and "not resolved from DME" in html
    assert "AM1-BCC failed" in html and "no: bootstrap interval 1.5 wider" in html
