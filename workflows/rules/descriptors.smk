# Per-molecule descriptors: reference structure (conformer search) -> electronic
# properties -> results/descriptors.csv. Each record X.json has its companion files in X/.


rule structure:
    output:
        record=f"{RESULTS}/structures/{{name}}.json",
        dir=directory(f"{RESULTS}/structures/{{name}}"),
    log:
        f"{RESULTS}/logs/structure/{{name}}.log",
    params:
        smiles=lambda wc: molecule(wc.name).smiles,
        kind=lambda wc: molecule(wc.name).kind,
        settings=settings_json("engine", "conformers"),
    threads: THREADS
    conda:
        CONDA_ENV
    # measured: the process <= 107 MB RSS and <= 7 s on the default library; as a SLURM job
    # (under Snakemake's job-step processes) <= 471 MB. profiles/slurm: requests per attempt.
    resources:
        retries_left=retries_left,
        mem_mb=1000,
        runtime=3,
    shell:
        stage_shell(
            "solvscreen --threads {threads} structure --name {wildcards.name:q} --smiles {params.smiles:q}"
            " --kind {params.kind} --settings {params.settings:q} --out {output.record:q}",
            "structure", inputs="--input kind={params.kind} --input smiles={params.smiles:q}",
        )


rule properties:
    input:
        record=f"{RESULTS}/structures/{{name}}.json",
        dir=f"{RESULTS}/structures/{{name}}",
    output:
        record=f"{RESULTS}/properties/{{name}}.json",
        dir=directory(f"{RESULTS}/properties/{{name}}"),
    log:
        f"{RESULTS}/logs/properties/{{name}}.log",
    params:
        settings=settings_json("engine", "properties"),
    threads: THREADS
    conda:
        CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=1000,
        runtime=1,
    shell:
        stage_shell(
            "solvscreen --threads {threads} properties --structure {input.record:q} --settings {params.settings:q}"
            " --out {output.record:q}",
            "properties",
        )


rule descriptors:
    input:
        structures=expand(f"{RESULTS}/structures/{{name}}.json", name=PLAN.molecules),
        properties=expand(f"{RESULTS}/properties/{{name}}.json", name=PLAN.molecules),
    output:
        f"{RESULTS}/descriptors.csv",
    log:
        f"{RESULTS}/logs/descriptors.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "solvscreen aggregate-descriptors --structures {input.structures:q} --properties {input.properties:q}"
        " --out {output:q} > {log:q} 2>&1"


TARGETS.append(f"{RESULTS}/descriptors.csv")
