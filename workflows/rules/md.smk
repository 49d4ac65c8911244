# Molecular dynamics of formulations (config section `md`, off by default): per-molecule
# GAFF2/AM1-BCC parameters -> one OpenMM run per formulation -> results/solvation.csv and
# results/coordination.csv. Needs the `md` extra (openmm, AmberTools, Packmol, MDAnalysis).
#
# md.formulations: undecided -> the checkpoint md_select classifies from descriptors alone
# first; MD then runs on the formulations it leaves with more than one class, and the
# classify rule reads their MD tables (all in one snakemake invocation).
# Presets with a reference solvent (screening, production) also run each formulation's
# reference (same salt and concentration in DME) once per salt and concentration (md_reference).
from solvscreen.classify import ClassificationSettings
from solvscreen.md.adaptive import needs_reference, reference_id
from solvscreen.md.settings import MD_CLASSIFICATION_KEYS, settings_from_config, selected_formulations, slurm_resources, undecided_formulations


MD_FORMULATIONS = selected_formulations(CONFIG["md"], [f.id for f in FORMULATIONS])
MD_UNDECIDED = CONFIG["md"].get("formulations") == "undecided"
_MD_BY_ID = {f.id: f for f in FORMULATIONS}
MD_CONDA_ENV = "../envs/solvscreen-md.yaml"
MD_SETTINGS = settings_from_config(CONFIG["md"])
# MD jobs on CUDA share each GPU md.jobs_per_gpu at a time (solvscreen.md.gpu); where a job runs,
# not what it computes, so it travels in the environment and is no job's param
os.environ["SOLVSCREEN_JOBS_PER_GPU"] = str(CONFIG["md"].get("jobs_per_gpu", 1))
workflow.register_envvars("SOLVSCREEN_JOBS_PER_GPU")
MD_RESOURCES = slurm_resources(MD_SETTINGS)
_HCE_MIN = ClassificationSettings.from_dict(CONFIG["classification"]).hce_min_concentration_mol_per_L


def md_species(fid):
    """Library names of a formulation's cation, anion and liquid components."""
    f = _MD_BY_ID[fid]
    salt = LIBRARY.resolve(f.salt)
    return [salt.cation, salt.anion, *(LIBRARY.resolve(n).name for n in f.component_names)]


def md_reference_of(fid):
    """Reference id of formulation ``fid`` (None when it is judged by the absolute threshold)."""
    f = _MD_BY_ID[fid]
    return reference_id(f, LIBRARY, MD_SETTINGS.reference_solvent) \
        if needs_reference(f, LIBRARY, MD_SETTINGS, _HCE_MIN) else None


def md_run_inputs(wc):
    ref = md_reference_of(wc.formulation)
    return {"params": [f"{RESULTS}/md_params/{n}.json" for n in md_species(wc.formulation)],
            "reference": [f"{RESULTS}/md_ref/{ref}.json"] if ref else []}


def md_reference_species(ref):
    salt = LIBRARY.resolve(_MD_BY_ID[_MD_REF_SOURCE[ref]].salt)
    return [salt.cation, salt.anion, LIBRARY.resolve(MD_SETTINGS.reference_solvent).name]


def md_table_inputs(wildcards):
    ids = MD_FORMULATIONS
    if MD_UNDECIDED:
        ids = undecided_formulations(checkpoints.md_select.get().output.csv)
    return expand(f"{RESULTS}/md/{{formulation}}.json", formulation=ids)


# reference id -> the first formulation that has it (its salt and concentration define it)
_MD_REF_SOURCE = {}
for _f in FORMULATIONS:
    _r = md_reference_of(_f.id)
    if _r:
        _MD_REF_SOURCE.setdefault(_r, _f.id)


wildcard_constraints:
    formulation=r"[^/.]+",


# The config an MD job reads (its --settings): the md section without its formulation list, and
# of the classification section only what the run uses (the box composition and the stop rule's
# thresholds). Snakemake reruns a job whose params change, so adding a formulation to
# md.formulations, or changing a classification setting the MD does not read, leaves finished
# MD jobs alone.
MD_RUN_SETTINGS = settings_json(
    md={k: v for k, v in CONFIG["md"].items() if k not in ("formulations", "pmf", "jobs_per_gpu", "prefsolv")},
    classification={k: CONFIG["classification"][k] for k in MD_CLASSIFICATION_KEYS if k in CONFIG["classification"]},
)


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


rule md_reference:
    wildcard_constraints:
        ref=r"REF-[^/.]+",
    input:
        lambda wc: [f"{RESULTS}/md_params/{n}.json" for n in md_reference_species(wc.ref)],
    output:
        record=f"{RESULTS}/md_ref/{{ref}}.json",
        dir=directory(f"{RESULTS}/md_ref/{{ref}}"),
    log:
        f"{RESULTS}/logs/md_ref/{{ref}}.log",
    params:
        settings=MD_RUN_SETTINGS,
        source=lambda wc: _MD_REF_SOURCE[wc.ref],
        pairs=lambda wc, input: " ".join(f"{n}={p}" for n, p in zip(md_reference_species(wc.ref), input)),
        library=LIBRARY_FILES,
        formulations=FORMULATION_FILES,
    threads: CONFIG["md"]["threads"]
    conda:
        MD_CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=MD_RESOURCES["mem_mb"],
        runtime=lambda wc, attempt: MD_RESOURCES["runtime"] * attempt,
        gpu=MD_RESOURCES["gpu"],
    shell:
        stage_shell(
            "solvscreen --threads {threads} md-run --formulation {params.source:q} --as-reference"
            " --library {params.library:q} --formulations {params.formulations:q}"
            " --params {params.pairs} --settings {params.settings:q} --out {output.record:q}",
            "md", name="{wildcards.ref:q}",
        )


rule md_run:
    input:
        unpack(md_run_inputs),
    output:
        record=f"{RESULTS}/md/{{formulation}}.json",
        dir=directory(f"{RESULTS}/md/{{formulation}}"),
    log:
        f"{RESULTS}/logs/md/{{formulation}}.log",
    params:
        settings=MD_RUN_SETTINGS,
        pairs=lambda wc, input: " ".join(f"{n}={p}" for n, p in zip(md_species(wc.formulation), input.params)),
        reference=lambda wc, input: f"--reference-record {shlex.quote(input.reference[0])}" if input.reference else "",
        library=LIBRARY_FILES,
        formulations=FORMULATION_FILES,
    threads: CONFIG["md"]["threads"]
    conda:
        MD_CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=MD_RESOURCES["mem_mb"],
        runtime=lambda wc, attempt: MD_RESOURCES["runtime"] * attempt,
        gpu=MD_RESOURCES["gpu"],
    shell:
        stage_shell(
            "solvscreen --threads {threads} md-run --formulation {wildcards.formulation:q}"
            " --library {params.library:q} --formulations {params.formulations:q} {params.reference}"
            " --params {params.pairs} --settings {params.settings:q} --out {output.record:q}",
            "md", name="{wildcards.formulation:q}",
        )


checkpoint md_select:
    # descriptor-only classification: which formulations MD must decide (md.formulations: undecided)
    input:
        **STAGE_TABLES,
        library=LIBRARY_FILES,
        formulations=FORMULATION_FILES,
    output:
        csv=f"{RESULTS}/md_select/classification.csv",
        records=f"{RESULTS}/md_select/classification.json",
        calibration=f"{RESULTS}/md_select/calibration.json",
    log:
        f"{RESULTS}/logs/md_select.log",
    params:
        settings=settings_json("classification", "grid"),
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "solvscreen classify --descriptors {input.descriptors:q} --binding {input.binding:q}"
        " --solvating-power {input.solvating_power:q} --library {input.library:q} --formulations {input.formulations:q}"
        " --settings {params.settings:q} --out {output.csv:q} --records {output.records:q}"
        " --calibration {output.calibration:q} > {log:q} 2>&1"


rule md_table:
    input:
        md_table_inputs,
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


if MD_FORMULATIONS or MD_UNDECIDED:
    TARGETS.extend([f"{RESULTS}/solvation.csv", f"{RESULTS}/coordination.csv"])


# K+-anion PMF of one ion pair per (solvent, salt) in the neat solvent (md.pmf; off by default):
# umbrella sampling + WHAM -> results/pmf.csv (docs/md_free_energy.md).
from solvscreen.md.pmf_stage import pmf_config, pmf_pairs, record_name, undecided_components

MD_PMF_PAIRS = pmf_pairs(CONFIG["md"])
MD_PMF_UNDECIDED = pmf_config(CONFIG["md"])["solvents"] == "undecided"


def md_pmf_table_inputs(wildcards):
    pairs = MD_PMF_PAIRS
    if MD_PMF_UNDECIDED:  # the components of what the descriptor-only classification leaves open
        comps = undecided_components(checkpoints.md_select.get().output.csv, FORMULATIONS)
        pairs = pmf_pairs(CONFIG["md"], comps)
    return [f"{RESULTS}/md_pmf/{record_name(s, k)}.json" for s, k in pairs]
MD_PMF_REFERENCE = pmf_config(CONFIG["md"])["reference"]
# a PMF job reads md.pmf and the platform/threads/charge scale, nothing else of the config
MD_PMF_SETTINGS = settings_json(md={k: v for k, v in CONFIG["md"].items()
                                    if k in ("pmf", "platform", "threads", "charge_scale")})


rule md_pmf:
    wildcard_constraints:
        solvent=r"[^/.]+",
        salt=r"[^/.-]+",
    output:
        record=f"{RESULTS}/md_pmf/{{solvent}}--{{salt}}.json",
        dir=directory(f"{RESULTS}/md_pmf/{{solvent}}--{{salt}}"),
    log:
        f"{RESULTS}/logs/md_pmf/{{solvent}}--{{salt}}.log",
    params:
        settings=MD_PMF_SETTINGS,
        library=LIBRARY_FILES,
        formulations=FORMULATION_FILES,
        cache=f"{RESULTS}/md_pmf/.params_cache",
    threads: CONFIG["md"]["threads"]
    conda:
        MD_CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=2000,
        runtime=lambda wc, attempt: 240 * attempt,
        gpu=MD_RESOURCES["gpu"],
        gpu_slot=MD_RESOURCES["gpu"],
    shell:
        stage_shell(
            "solvscreen --threads {threads} md-pmf --solvent {wildcards.solvent:q} --salt {wildcards.salt:q}"
            " --library {params.library:q} --formulations {params.formulations:q} --cache {params.cache:q}"
            " --settings {params.settings:q} --out {output.record:q}",
            "md_pmf", name="{wildcards.solvent:q}--{wildcards.salt:q}",
        )


rule md_pmf_table:
    input:
        md_pmf_table_inputs,
    output:
        f"{RESULTS}/pmf.csv",
    log:
        f"{RESULTS}/logs/md_pmf_table.log",
    params:
        reference=MD_PMF_REFERENCE or "",
    localrule: True
    conda:
        MD_CONDA_ENV
    shell:
        "solvscreen md-pmf-table --records {input:q} --reference {params.reference:q} --out {output:q} > {log:q} 2>&1"


if MD_PMF_PAIRS or MD_PMF_UNDECIDED:
    TARGETS.append(f"{RESULTS}/pmf.csv")


# Preferential solvation of K+ in an equimolar blend, one ion pair (md.prefsolv; off by default):
# a component's share of the K+ shell against a solvating partner -> results/prefsolv.csv,
# which decides its diluent role where the interval clears the threshold (docs/md_free_energy.md).
from solvscreen.md.prefsolv_stage import prefsolv_config, prefsolv_pairs, undecided_role_pairs
from solvscreen.md.prefsolv_stage import record_name as prefsolv_record_name

MD_PREFSOLV_PAIRS = prefsolv_pairs(CONFIG["md"])
MD_PREFSOLV_UNDECIDED = prefsolv_config(CONFIG["md"])["pairs"] == "undecided"


def md_prefsolv_table_inputs(wildcards):
    triples = MD_PREFSOLV_PAIRS
    if MD_PREFSOLV_UNDECIDED:  # the undecided roles of what the descriptor-only classification leaves open
        triples = prefsolv_pairs(CONFIG["md"], undecided_role_pairs(checkpoints.md_select.get().output.csv))
    return [f"{RESULTS}/md_prefsolv/{prefsolv_record_name(a, b, k)}.json" for a, b, k in triples]
# a job reads md.prefsolv without its pair list (listing one more pair reruns no finished job)
# and the platform/threads/charge scale, nothing else of the config
MD_PREFSOLV_SETTINGS = settings_json(md={
    **{k: v for k, v in CONFIG["md"].items() if k in ("platform", "threads", "charge_scale")},
    "prefsolv": {k: v for k, v in (CONFIG["md"].get("prefsolv") or {}).items() if k != "pairs"}})


rule md_prefsolv:
    wildcard_constraints:
        a=r"[^/.-]+",
        b=r"[^/.-]+",
        salt=r"[^/.-]+",
    output:
        record=f"{RESULTS}/md_prefsolv/{{a}}--{{b}}--{{salt}}.json",
        dir=directory(f"{RESULTS}/md_prefsolv/{{a}}--{{b}}--{{salt}}"),
    log:
        f"{RESULTS}/logs/md_prefsolv/{{a}}--{{b}}--{{salt}}.log",
    params:
        settings=MD_PREFSOLV_SETTINGS,
        library=LIBRARY_FILES,
        formulations=FORMULATION_FILES,
        cache=f"{RESULTS}/md_pmf/.params_cache",
    threads: CONFIG["md"]["threads"]
    conda:
        MD_CONDA_ENV
    resources:
        retries_left=retries_left,
        mem_mb=2000,
        runtime=lambda wc, attempt: 240 * attempt,
        gpu=MD_RESOURCES["gpu"],
        gpu_slot=MD_RESOURCES["gpu"],
    shell:
        stage_shell(
            "solvscreen --threads {threads} md-prefsolv --a {wildcards.a:q} --b {wildcards.b:q}"
            " --salt {wildcards.salt:q} --library {params.library:q} --formulations {params.formulations:q}"
            " --cache {params.cache:q} --settings {params.settings:q} --out {output.record:q}",
            "md_prefsolv", name="{wildcards.a:q}--{wildcards.b:q}--{wildcards.salt:q}",
        )


rule md_prefsolv_table:
    input:
        md_prefsolv_table_inputs,
    output:
        f"{RESULTS}/prefsolv.csv",
    log:
        f"{RESULTS}/logs/md_prefsolv_table.log",
    localrule: True
    conda:
        MD_CONDA_ENV
    shell:
        "solvscreen md-prefsolv-table --records {input:q} --out {output:q} > {log:q} 2>&1"


if MD_PREFSOLV_PAIRS or MD_PREFSOLV_UNDECIDED:
    TARGETS.append(f"{RESULTS}/prefsolv.csv")
