# Solvating power: stepwise solvation free energies of M+(L)n to saturation and the anion's
# competing step, per (solvent/diluent, cation), in the candidate's own dielectric continuum
# -> results/solvating_power.csv. Settings: the config's `engine`, `binding` and `solvation`
# sections; the competing anion is `solvation.anion` (PLAN.solvation_anion).


def liquid_json(name):
    """Density, molar mass and dielectric constant (with its source) of a library liquid."""
    m = molecule(name)
    return json.dumps({"density_g_per_mL": m.density_g_per_mL, "molar_mass_g_per_mol": m.molar_mass_g_per_mol,
                        "dielectric_constant": m.dielectric_constant, "dielectric_source": m.dielectric_source},
                       sort_keys=True, separators=(",", ":"))


rule solvation:
    input:
        ligand=f"{RESULTS}/structures/{{name}}.json",
        ligand_dir=f"{RESULTS}/structures/{{name}}",
        binding=f"{RESULTS}/binding/{{cation}}/{{name}}.json",
        binding_dir=f"{RESULTS}/binding/{{cation}}/{{name}}",
        cation=f"{RESULTS}/structures/{{cation}}.json",
        cation_dir=f"{RESULTS}/structures/{{cation}}",
        anion=f"{RESULTS}/structures/{PLAN.solvation_anion}.json",
        anion_dir=f"{RESULTS}/structures/{PLAN.solvation_anion}",
        ion_pair=f"{RESULTS}/ion_pairs/{{cation}}/{PLAN.solvation_anion}.json",
        ion_pair_dir=f"{RESULTS}/ion_pairs/{{cation}}/{PLAN.solvation_anion}",
    output:
        record=f"{RESULTS}/solvation/{{cation}}/{{name}}.json",
        dir=directory(f"{RESULTS}/solvation/{{cation}}/{{name}}"),
    log:
        f"{RESULTS}/logs/solvation/{{cation}}/{{name}}.log",
    params:
        settings=settings_json("engine", "binding", "solvation"),
        liquid=lambda wc: liquid_json(wc.name),
    threads: THREADS
    conda:
        CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=1500,
        runtime=30,
    shell:
        stage_shell(
            "solvscreen --threads {threads} solvation --ligand-structure {input.ligand:q} --binding {input.binding:q}"
            " --cation-structure {input.cation:q} --anion-structure {input.anion:q} --ion-pair {input.ion_pair:q}"
            " --liquid {params.liquid:q} --settings {params.settings:q} --out {output.record:q}",
            "solvation", inputs="--input cation={wildcards.cation:q}",
        )


rule solvation_table:
    input:
        expand(f"{RESULTS}/solvation/{{cation}}/{{name}}.json", cation=PLAN.cations, name=PLAN.ligands),
    output:
        f"{RESULTS}/solvating_power.csv",
    log:
        f"{RESULTS}/logs/solvation_table.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "solvscreen aggregate-solvation --records {input:q} --out {output:q} > {log:q} 2>&1"


TARGETS.append(f"{RESULTS}/solvating_power.csv")
