# Design from parent solvents (config `design`, docs/design.md). The Snakefile has already added
# the new derivatives that pass the filters to LIBRARY (so their structures, properties, binding
# and solvating power are computed like any library molecule's); this rule writes them as a library
# table for the rules that read library tables (classify, rank, report: CONFIG["extra_libraries"]
# ends with it) and the whole design, removed derivatives and their reasons included, as JSON.

if DESIGN is not None:

    rule design_library:
        input:
            library=list(DESIGN.source_libraries),
        output:
            library=DESIGN.library_csv,
            design=f"{RESULTS}/design/derivatives.json",
        log:
            f"{RESULTS}/logs/design.log",
        params:
            args=" ".join(shlex.quote(a) for a in DESIGN.cli_args()),
        localrule: True
        conda:
            CONDA_ENV
        shell:
            "solvscreen design {params.args} --library {input.library:q} --json"
            " --write-library {output.library:q} > {output.design:q} 2> {log:q}"

    TARGETS.append(f"{RESULTS}/design/derivatives.json")

    rule design_report:
        input:
            design=f"{RESULTS}/design/derivatives.json",
            descriptors=f"{RESULTS}/descriptors.csv",
            solvating_power=f"{RESULTS}/solvating_power.csv",
            ranking=f"{RESULTS}/ranking.csv",
            classification=f"{RESULTS}/classification.csv",
        output:
            csv=f"{RESULTS}/design.csv",
            html=f"{RESULTS}/design.html",
        log:
            f"{RESULTS}/logs/design_report.log",
        params:
            results=RESULTS,
            cation=PLAN.cations[0],
            salt=CONFIG["ranking"]["salt"],
            eps_ox=CONFIG["ranking"]["resolution"]["oxidative_stability"],
            eps_sp=CONFIG["ranking"]["resolution"]["anion_rich_shell"],
        localrule: True
        conda:
            CONDA_ENV
        shell:
            "solvscreen design-report {params.results:q} --out {output.csv:q} --html {output.html:q} --cation {params.cation:q}"
            " --salt {params.salt:q}"
            " --eps-ox {params.eps_ox} --eps-sp {params.eps_sp} > {log:q} 2>&1"

    TARGETS.append(f"{RESULTS}/design.csv")
