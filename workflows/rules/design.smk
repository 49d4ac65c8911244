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
