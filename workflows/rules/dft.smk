# DFT reference level for cation binding (solvscreen.dft; docs/dft.md).
# Off unless config `dft.molecules` selects molecules. Per (cation, molecule): the binding
# stage's GFN2-xTB complex is refined with PySCF (gpu4pyscf on a CUDA GPU) and E_bind
# recomputed at one level -> results/dft/<cation>/<name>.json (+ geometries in its
# directory); aggregate -> results/dft_binding.csv and results/dft_calibration.json.
from solvscreen.dft.resources import dft_job_resources
from solvscreen.dft.settings import DFTSettings, select_molecules


DFT = DFTSettings.from_dict(CONFIG["dft"])
DFT_MOLECULES = select_molecules(CONFIG, LIBRARY, FORMULATIONS)
DFT_LEVEL = DFT.level_of_theory()
DFT_THREADS = DFT.threads or THREADS
DFT_CONDA_ENV = "../envs/solvscreen-dft.yaml"


def dft_resources(wildcards, attempt):
    return dft_job_resources(molecule(wildcards.name).smiles, DFT_LEVEL.basis, DFT.relax, attempt,
                             DFT_THREADS, DFT.gpu)


rule dft:
    input:
        binding=f"{RESULTS}/binding/{{cation}}/{{name}}.json",
        ligand=f"{RESULTS}/structures/{{name}}.json",
    output:
        record=f"{RESULTS}/dft/{{cation}}/{{name}}.json",
        dir=directory(f"{RESULTS}/dft/{{cation}}/{{name}}"),
    log:
        f"{RESULTS}/logs/dft/{{cation}}/{{name}}.log",
    params:
        settings=settings_json("dft"),
    threads: DFT_THREADS
    conda:
        DFT_CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=lambda wc, attempt: dft_resources(wc, attempt)["mem_mb"],
        runtime=lambda wc, attempt: dft_resources(wc, attempt)["runtime"],
        **({"gpu": 1} if DFT.gpu else {}),
    shell:
        stage_shell(
            "PYSCF_MAX_MEMORY=$(( {resources.mem_mb} * 8 / 10 )) solvscreen --threads {threads} dft --binding {input.binding:q}"
            " --ligand-structure {input.ligand:q} --settings {params.settings:q} --out {output.record:q}",
            "dft", inputs="--input cation={wildcards.cation:q}",
        )


rule dft_table:
    input:
        binding=f"{RESULTS}/binding.csv",
        records=expand(f"{RESULTS}/dft/{{cation}}/{{name}}.json", cation=PLAN.cations, name=DFT_MOLECULES),
    output:
        csv=f"{RESULTS}/dft_binding.csv",
        calibration=f"{RESULTS}/dft_calibration.json",
    log:
        f"{RESULTS}/logs/dft_table.log",
    localrule: True
    conda:
        DFT_CONDA_ENV
    shell:
        "solvscreen aggregate-dft --binding-csv {input.binding:q} --records {input.records:q}"
        " --out-csv {output.csv:q} --out-json {output.calibration:q} > {log:q} 2>&1"


if DFT_MOLECULES:
    TARGETS.extend([f"{RESULTS}/dft_binding.csv", f"{RESULTS}/dft_calibration.json"])
