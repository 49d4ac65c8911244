"""The evidence the class rules read: binding energies (DFT where present, else GFN2-xTB),
the molecules' structure as their stages recorded it (donor atoms, C-F bond, pi-donor group:
:meth:`ResultTables.structure`; classification parses no SMILES), and the MD solvation
structure (solvation.csv, coordination.csv) where present.

Every value comes with its source and its uncertainty, so a rule can say which evidence it
used and name two classes when a value lies within its uncertainty of a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError
from ..core.records import parse_number as _num
from ..core.result_tables import MoleculeStructure, ResultTables, Value, best_binding, read_rows
from .pmf_evidence import check_pmf_rows


@dataclass(frozen=True)
class BindingUncertainty:
    """Uncertainty (kcal/mol) of a K+ binding energy by its level (the classification settings'
    gfn2_uncertainty_kcal_per_mol and dft_uncertainty_kcal_per_mol)."""

    gfn2_kcal_per_mol: float
    dft_kcal_per_mol: float


@dataclass(frozen=True)
class Binding:
    """-E_bind (kcal/mol, larger = binds more strongly) of one molecule, its source and uncertainty."""

    value: float | None
    source: str  # dft | calibrated_gfn2 | gfn2
    uncertainty: float
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def level(self) -> str:
        return {"dft": "DFT", "calibrated_gfn2": "GFN2-xTB calibrated to DFT", "gfn2": "GFN2-xTB"}.get(
            self.source, self.source)


@dataclass
class Evidence:
    """Stage tables for classification: the xTB tables, plus the DFT and MD tables when run."""

    tables: ResultTables
    dft: list[dict] = field(default_factory=list)
    solvation: list[dict] = field(default_factory=list)
    coordination: list[dict] = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    pmf: list[dict] = field(default_factory=list)  # pmf.csv of the md_pmf stage (classify.pmf_evidence)
    prefsolv: list[dict] = field(default_factory=list)  # prefsolv.csv (md.prefsolv): blend shell shares

    @classmethod
    def load(cls, tables: ResultTables, *, dft=None, solvation=None, coordination=None, pmf=None,
             prefsolv=None) -> "Evidence":
        ev = cls(tables, read_rows(dft), read_rows(solvation), read_rows(coordination),
                 {"dft_binding": str(dft or ""), "solvation": str(solvation or ""),
                  "coordination": str(coordination or ""), "pmf": str(pmf or ""), "prefsolv": str(prefsolv or "")},
                 read_rows(pmf), read_rows(prefsolv))
        check_pmf_rows(ev.pmf, ev.sources["pmf"])
        for what, rows, need in (("dft_binding", ev.dft, ("name", "cation", "E_bind_best_kcal_per_mol")),
                                 ("solvation", ev.solvation, ("formulation", "anion_cn")),
                                 ("coordination", ev.coordination, ("formulation", "species", "shell_mole_fraction", "bulk_mole_fraction")),
                                 ("prefsolv", ev.prefsolv, ("solvent_a", "solvent_b", "salt", "status",
                                                            "shell_share_ratio_b", "shell_share_ratio_b_lo",
                                                            "shell_share_ratio_b_hi"))):
            if rows:
                missing = [c for c in need if c not in rows[0]]
                if missing:
                    raise InputError(f"{ev.sources[what]}: {what} table lacks column(s) {missing}")
        return ev

    def without_md(self) -> "Evidence":
        return Evidence(self.tables, self.dft, [], [],
                        {**self.sources, "solvation": "", "coordination": "", "pmf": "", "prefsolv": ""})

    def prefsolv_row(self, name: str, partners, salt: str) -> dict | None:
        """The preferential-solvation row of ``name`` (as solvent B) against the first of
        ``partners`` (the blend's other components) that was measured with it in ``salt``."""
        for a in partners:
            for r in self.prefsolv:
                if r.get("solvent_b") == name and r.get("solvent_a") == a and a != name and r.get("salt") == salt:
                    return r
        return None

    @property
    def has_md(self) -> bool:
        return bool(self.solvation)

    # ------------------------------------------------------------------ structure
    def structure(self, name: str) -> MoleculeStructure | Value:
        """The recorded structure of ``name`` (:meth:`ResultTables.structure`)."""
        return self.tables.structure(name)

    def donor_free(self, name: str) -> bool:
        """Whether ``name`` has no donor atom by its recorded structure (False when none is recorded:
        then its binding energy, or the reason it is missing, decides)."""
        st = self.structure(name)
        return isinstance(st, MoleculeStructure) and st.donor_free

    def has_C_F(self, name: str) -> bool:
        """Whether ``name`` has a C-F bond by its recorded structure (False when none is recorded)."""
        st = self.structure(name)
        return isinstance(st, MoleculeStructure) and st.has_C_F

    def canonical_smiles(self, name: str) -> str:
        """The canonical SMILES its stage recorded for ``name`` ("" when none is recorded)."""
        st = self.structure(name)
        return st.canonical_smiles if isinstance(st, MoleculeStructure) else ""

    # ------------------------------------------------------------------ binding
    def binding(self, name: str, cation: str, uncertainty: BindingUncertainty) -> Binding:
        """-E_bind of ``name``: DFT/calibrated value from dft_binding.csv where present, else GFN2-xTB,
        with the ``uncertainty`` of its level (a calibrated value's own error where the table gives one)."""
        best = best_binding(self.dft, name, cation)
        if best is not None:
            v, src, r = best
            if src == "dft":
                u = uncertainty.dft_kcal_per_mol
            elif src == "calibrated_gfn2":
                u = _num(r.get("E_bind_calibrated_err_kcal_per_mol")) or uncertainty.gfn2_kcal_per_mol
            else:
                u = uncertainty.gfn2_kcal_per_mol
            return Binding(-v, src, u)
        v: Value = self.tables.binding_value(name, cation, "E_bind_kcal_per_mol")
        if not v.ok:
            return Binding(None, "gfn2", uncertainty.gfn2_kcal_per_mol, v.reason)
        return Binding(-v.value, "gfn2", uncertainty.gfn2_kcal_per_mol)

    def denticity(self, name: str, cation: str) -> int | None:
        """Donor atoms of ``name`` bound to the cation in its 1:1 complex (binding.csv)."""
        row = self.tables.binding_row(name, cation)
        v = _num((row or {}).get("denticity"))
        return int(v) if v else None

    def binding_donors(self, name: str, cation: str) -> list[str]:
        """Element symbols of the donor atoms bound in the 1:1 complex (binding.csv), e.g. ['F', 'F']."""
        row = self.tables.binding_row(name, cation) or {}
        out = []
        for label in (row.get("donor_atoms") or "").replace("|", ";").split(";"):
            sym = "".join(ch for ch in label.strip() if ch.isalpha())
            if sym:
                out.append(sym)
        return out

    def dielectric(self, name: str, molecule) -> tuple[float, str] | None:
        """Static dielectric constant of the liquid ``name`` and its source: the library's
        (literature, ``dielectric_source``), else the solvation stage's (its record says whether it
        is an Onsager estimate from the GFN2-xTB dipole), else None."""
        m = molecule(name)
        if getattr(m, "dielectric_constant", None):
            return float(m.dielectric_constant), m.dielectric_source or "library"
        for row in self.tables.solvating_power:
            v = _num(row.get("dielectric_constant")) if row.get("name") == m.name else None
            if v:
                src = str(row.get("dielectric_source") or "solvation stage")
                return v, "Onsager estimate, solvation stage" if "estimate" in src.lower() else src
        return None

    # ------------------------------------------------------------------ MD
    def solvation_row(self, formulation: str) -> dict | None:
        for r in self.solvation:
            if r.get("formulation") == formulation:
                return r
        return None

    def coordination_row(self, formulation: str, species: str, resolve=None) -> dict | None:
        for r in self.coordination:
            if r.get("formulation") != formulation:
                continue
            sp = r.get("species", "")
            if sp == species:
                return r
            if resolve is not None:
                try:
                    if resolve(sp).name == species:
                        return r
                except Exception:  # noqa: BLE001 - an unknown species name is simply not this one
                    continue
        return None


def md_value(row: dict | None, column: str) -> tuple[float | None, float]:
    """(value, error) of an MD column; error 0 when the table gives none."""
    if not row or (row.get("status") or "ok") != "ok":
        return None, 0.0
    return _num(row.get(column)), _num(row.get(column + "_err")) or 0.0


def read_evidence(descriptors, binding, shells, *, dft=None, solvation=None, coordination=None,
                  solvating_power=None, pmf=None, prefsolv=None) -> Evidence:
    tables = ResultTables.load(descriptors, binding, shells, solvating_power)
    given = (("dft", dft), ("solvation", solvation), ("coordination", coordination), ("pmf", pmf),
             ("prefsolv", prefsolv))
    opt = {k: (p if p and Path(p).is_file() else None) for k, p in given}
    for k, p in given:
        if p and not Path(p).is_file():
            raise InputError(f"--{k.replace('_', '-')}: {p} does not exist")
    return Evidence.load(tables, **opt)


METRICS = {  # physical descriptors the calibration tabulates
    "bind": ("-E_bind (1:1 cation binding)", "kcal/mol"),
    "shell": ("-E_shell_per_ligand (filled shell)", "kcal/mol"),
    "exchange": ("E_exchange (anion into the shell)", "kcal/mol"),
    "solvating": ("solvating power (-dG of the step completing the shell)", "kcal/mol"),
}


def metric_value(tables: ResultTables, metric: str, name: str, cation: str, anion: str | None,
                 molar_volume_mL_per_mol: float | None = None) -> Value:
    """A physical descriptor of ``name`` (bind, shell, exchange), or why it is missing."""
    if metric == "bind":
        v = tables.binding_value(name, cation, "E_bind_kcal_per_mol")
        return Value(-v.value) if v.ok else v
    if metric == "solvating":
        return tables.solvation_value(name, cation)
    if anion is None:
        return Value(None, f"{metric}: the salt has no anion")
    if metric == "shell":
        v = tables.shell_value(name, cation, anion, "E_shell_per_ligand_kcal_per_mol")
        return Value(-v.value, v.reason) if v.ok else v
    if metric == "exchange":
        return tables.shell_value(name, cation, anion, "E_exchange_kcal_per_mol")
    from ..core.errors import InputError

    raise InputError(f"unknown descriptor {metric!r}; choose from {sorted(METRICS)}")
