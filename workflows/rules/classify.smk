# Classification, ranking and the report: cheap local rules on the aggregated stage tables
# (descriptors.csv, binding.csv, solvating_power.csv; solvation/coordination.csv and dft_binding.csv
# when those stages are on). Every table a rule reads is a declared input of that rule, so a
# changed MD or DFT table reruns classify, rank and report. Outputs are marked for `snakemake --report`.

LIBRARY_FILES = [CONFIG["library"], *CONFIG["extra_libraries"]]
FORMULATION_FILES = [CONFIG["formulations"], *CONFIG["extra_formulations"]]
STAGE_TABLES = {
    "descriptors": f"{RESULTS}/descriptors.csv",
    "binding": f"{RESULTS}/binding.csv",
    "solvating_power": f"{RESULTS}/solvating_power.csv",
}


# Optional evidence: the MD tables when the MD stage is on (config md.formulations non-empty),
# the DFT binding table when the DFT stage is on (config dft.molecules non-empty). Those config
# sections arrive with the MD / DFT stages, hence .get.
MD_ON = bool((CONFIG.get("md") or {}).get("formulations"))
DFT_ON = bool((CONFIG.get("dft") or {}).get("molecules"))
PMF_ON = bool(((CONFIG.get("md") or {}).get("pmf") or {}).get("solvents"))
CLASSIFY_EVIDENCE = {
    **({"solvation": f"{RESULTS}/solvation.csv", "coordination": f"{RESULTS}/coordination.csv"} if MD_ON else {}),
    **({"dft_binding": f"{RESULTS}/dft_binding.csv"} if DFT_ON else {}),
}
# the K+-anion PMF table (md.pmf): evidence for classify and rank, and its own report section
PMF_EVIDENCE = {"pmf": f"{RESULTS}/pmf.csv"} if PMF_ON else {}
# preferential solvation in blends (md.prefsolv): a component's diluent role, for classify only
PREFSOLV_ON = bool(((CONFIG.get("md") or {}).get("prefsolv") or {}).get("pairs"))
PREFSOLV_EVIDENCE = {"prefsolv": f"{RESULTS}/prefsolv.csv"} if PREFSOLV_ON else {}


report: "../report/workflow.rst"


def classify_evidence_args(wildcards, input):
    """--solvation/--coordination/--dft-binding for the optional inputs this run has."""
    return " ".join(f"--{key.replace('_', '-')} {shlex.quote(str(input[key]))}"
                    for key in ("solvation", "coordination", "dft_binding", "pmf", "prefsolv") if key in input.keys())


rule classify:
    input:
        **STAGE_TABLES,
        **CLASSIFY_EVIDENCE,
        **PMF_EVIDENCE,
        **PREFSOLV_EVIDENCE,
        library=LIBRARY_FILES,
        formulations=FORMULATION_FILES,
    output:
        csv=report(f"{RESULTS}/classification.csv", caption="../report/classification.rst",
                   category="Classification"),
        records=f"{RESULTS}/classification.json",
        calibration=report(f"{RESULTS}/calibration.json", caption="../report/calibration.rst",
                           category="Classification"),
    log:
        f"{RESULTS}/logs/classify.log",
    params:
        settings=settings_json("classification", "grid"),
        evidence=classify_evidence_args,
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "solvscreen classify --descriptors {input.descriptors:q} --binding {input.binding:q}"
        " --solvating-power {input.solvating_power:q} --library {input.library:q} --formulations {input.formulations:q}"
        " {params.evidence} --settings {params.settings:q} --out {output.csv:q} --records {output.records:q}"
        " --calibration {output.calibration:q} > {log:q} 2>&1"


rule rank:
    input:
        **STAGE_TABLES,
        **{k: v for k, v in CLASSIFY_EVIDENCE.items() if k == "dft_binding"},
        **PMF_EVIDENCE,
        library=LIBRARY_FILES,
    output:
        report(f"{RESULTS}/ranking.csv", caption="../report/ranking.rst", category="Ranking"),
    log:
        f"{RESULTS}/logs/rank.log",
    params:
        settings=settings_json("ranking", "classification"),
        evidence=classify_evidence_args,
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "solvscreen rank --descriptors {input.descriptors:q} --binding {input.binding:q}"
        " --solvating-power {input.solvating_power:q} --library {input.library:q} {params.evidence}"
        " --settings {params.settings:q} --out {output:q} > {log:q} 2>&1"


rule report:
    input:
        **STAGE_TABLES,
        **CLASSIFY_EVIDENCE,
        **PMF_EVIDENCE,
        # the DFT section also reads dft_calibration.json (beside dft_binding.csv, same job)
        **({"dft_calibration": f"{RESULTS}/dft_calibration.json"} if DFT_ON else {}),
        library=LIBRARY_FILES,
        classification=f"{RESULTS}/classification.csv",
        calibration=f"{RESULTS}/calibration.json",
        ranking=f"{RESULTS}/ranking.csv",
    output:
        report(f"{RESULTS}/report.html", caption="../report/report.rst", category="Report"),
    log:
        f"{RESULTS}/logs/report.log",
    params:
        settings=settings_json("report", "ranking", "classification"),
        evidence=classify_evidence_args,
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "solvscreen report --descriptors {input.descriptors:q} --binding {input.binding:q}"
        " --solvating-power {input.solvating_power:q} --library {input.library:q} --classification {input.classification:q}"
        " --calibration {input.calibration:q} --ranking {input.ranking:q} {params.evidence} --settings {params.settings:q}"
        " --out {output:q} > {log:q} 2>&1"


TARGETS.extend([f"{RESULTS}/classification.csv", f"{RESULTS}/ranking.csv", f"{RESULTS}/report.html"])
