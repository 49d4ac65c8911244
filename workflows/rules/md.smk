# Molecular dynamics of formulations (config section `md`, off by default): per-molecule
# GAFF2/AM1-BCC parameters -> one OpenMM run per formulation -> results/solvation.csv and
# results/coordination.csv. Needs the `md` extra (openmm, AmberTools, Packmol, MDAnalysis).
from solvscreen.md.settings import runtime_minutes, selected_formulations


MD_FORMULATIONS = selected_formulations(CONFIG["md"], [f.id for f in FORMULATIONS])
_MD_BY_ID = {f.id: f for f in FORMULATIONS}
MD_CONDA_ENV = "../envs/solvscreen-md.yaml"


wildcard_constraints:
    formulation=r"[^/.]+",


rule md_params:
    wildcard_constraints:
        name=r"[^/.]+",  # record names have no dots: md_params/X.json is never the directory of X.json
    output:
        record=f"{RESULTS}/md_params/{{name}}.json",
        dir=directory(f"{RESULTS}/md_params/{{name}}"),
    log:
        f"{RESULTS}/logs/md_params/{{name}}.log",
    params:
        smiles=lambda wc: molecule(wc.name).smiles,
        kind=lambda wc: molecule(wc.name).kind,
    conda:
        MD_CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=1000,
        runtime=10,
    shell:
        stage_shell(
            "solvscreen md-params --name {wildcards.name:q} --smiles {params.smiles:q} --kind {params.kind}"
            " --out {output.record:q}",
            "md_params",
        )


rule md_run:
    input:
        lambda wc: [f"{RESULTS}/md_params/{n}.json" for n in md_species(wc.formulation)],
    output:
        record=f"{RESULTS}/md/{{formulation}}.json",
        dir=directory(f"{RESULTS}/md/{{formulation}}"),
    log:
        f"{RESULTS}/logs/md/{{formulation}}.log",
    params:
        settings=settings_json("md", "classification"),
        pairs=lambda wc, input: " ".join(f"{n}={p}" for n, p in zip(md_species(wc.formulation), input)),
        library=LIBRARY_FILES,
        formulations=FORMULATION_FILES,
    threads: CONFIG["md"]["threads"]
    conda:
        MD_CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=4000,
        runtime=lambda wc, attempt: runtime_minutes(CONFIG["md"]["preset"]) * attempt,
    shell:
        stage_shell(
            "solvscreen --threads {threads} md-run --formulation {wildcards.formulation:q}"
            " --library {params.library:q} --formulations {params.formulations:q}"
            " --params {params.pairs} --settings {params.settings:q} --out {output.record:q}",
            "md", name="{wildcards.formulation:q}",
        )


rule md_table:
    input:
        expand(f"{RESULTS}/md/{{formulation}}.json", formulation=MD_FORMULATIONS),
    output:
        solvation=f"{RESULTS}/solvation.csv",
        coordination=f"{RESULTS}/coordination.csv",
    log:
        f"{RESULTS}/logs/md_table.log",
    localrule: True
    conda:
        MD_CONDA_ENV
    shell:
        "solvscreen md-table --records {input:q} --solvation {output.solvation:q}"
        " --coordination {output.coordination:q} > {log:q} 2>&1"


if MD_FORMULATIONS:
    TARGETS.extend([f"{RESULTS}/solvation.csv", f"{RESULTS}/coordination.csv"])
