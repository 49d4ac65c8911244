# Cation binding: 1:1 complexes of every solvent/diluent with every cation and ion pairs of the
# salts (and of every cation with the solvation stage's anion) -> results/binding.csv (anion
# rows = ion pairs). Crowded shells and the anion's competition: workflows/rules/solvation.smk.
# The work list (PLAN.ligands, PLAN.cations, PLAN.ion_pairs, PLAN.exchange_anions) comes from
# solvscreen.inputs.plan; settings from the config's `engine` and `binding` sections.
# Each record X.json has its companion files (complex.xyz, shell.xyz, ...) in X/.


rule binding:
    input:
        ligand=f"{RESULTS}/structures/{{name}}.json",
        ligand_dir=f"{RESULTS}/structures/{{name}}",
        cation=f"{RESULTS}/structures/{{cation}}.json",
        cation_dir=f"{RESULTS}/structures/{{cation}}",
    output:
        record=f"{RESULTS}/binding/{{cation}}/{{name}}.json",
        dir=directory(f"{RESULTS}/binding/{{cation}}/{{name}}"),
    log:
        f"{RESULTS}/logs/binding/{{cation}}/{{name}}.log",
    params:
        settings=settings_json("engine", "binding"),
    threads: THREADS
    conda:
        CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=1500,
        runtime=30,
    shell:
        stage_shell(
            "solvscreen --threads {threads} binding --ligand-structure {input.ligand:q}"
            " --cation-structure {input.cation:q} --settings {params.settings:q} --out {output.record:q}",
            "binding", inputs="--input cation={wildcards.cation:q}",
        )


rule ion_pair:
    input:
        anion=f"{RESULTS}/structures/{{anion}}.json",
        anion_dir=f"{RESULTS}/structures/{{anion}}",
        cation=f"{RESULTS}/structures/{{cation}}.json",
        cation_dir=f"{RESULTS}/structures/{{cation}}",
    output:
        record=f"{RESULTS}/ion_pairs/{{cation}}/{{anion}}.json",
        dir=directory(f"{RESULTS}/ion_pairs/{{cation}}/{{anion}}"),
    log:
        f"{RESULTS}/logs/ion_pair/{{cation}}/{{anion}}.log",
    params:
        settings=settings_json("engine", "binding"),
    threads: THREADS
    conda:
        CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=1500,
        runtime=30,
    shell:
        stage_shell(
            "solvscreen --threads {threads} ion-pair --anion-structure {input.anion:q}"
            " --cation-structure {input.cation:q} --settings {params.settings:q} --out {output.record:q}",
            "ion_pair", name="{wildcards.anion:q}", inputs="--input cation={wildcards.cation:q} --input kind=anion",
        )


rule binding_table:
    input:
        binding=expand(f"{RESULTS}/binding/{{cation}}/{{name}}.json", cation=PLAN.cations, name=PLAN.ligands),
        ion_pairs=[f"{RESULTS}/ion_pairs/{c}/{a}.json" for c, a in PLAN.ion_pairs],
    output:
        binding=f"{RESULTS}/binding.csv",
    log:
        f"{RESULTS}/logs/binding_table.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "solvscreen aggregate-binding --binding {input.binding:q} --ion-pairs {input.ion_pairs:q}"
        " --out-binding {output.binding:q} > {log:q} 2>&1"


TARGETS.append(f"{RESULTS}/binding.csv")
