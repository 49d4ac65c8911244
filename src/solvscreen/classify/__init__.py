"""Classify electrolyte formulations as LCE, HCE, LHCE or WSE from their solvation structure
(MD, where run) or physical descriptors, with honest uncertainty.

- :mod:`.rules`: the one table of thresholds (unit, meaning, source) and class rules;
- :mod:`.evidence`: binding energies (DFT or GFN2-xTB), donor atoms, MD tables;
- :mod:`.core`: roles, predicates, labels and reasons of one formulation;
- :mod:`.calibration`: the fitted diluent threshold, calibration / leave-one-out /
  generalization accuracy with and without MD;
- :mod:`.stage`: the table + grid run and its output files.
"""

from __future__ import annotations

from ..result_tables import ResultTables, Value
from .calibration import calibrate_and_report, fit_diluent_threshold, molecule_roles, role_examples
from .core import Classification, ClassificationSettings, Reason, classify_formulation
from .evidence import Evidence, donor_count, read_evidence
from .rules import CLASS_RULES, CLASSES, GFN2_DEFAULT_DILUENT_BIND_MAX, THRESHOLDS, classes_of, decide, label_of
from .stage import CLASSIFICATION_COLUMNS, run_classification, threshold_table


METRICS = {  # physical descriptors the calibration tabulates
    "bind": ("-E_bind (1:1 cation binding)", "kcal/mol"),
    "shell": ("-E_shell_per_ligand (filled shell)", "kcal/mol"),
    "exchange": ("E_exchange (anion into the shell)", "kcal/mol"),
}


def metric_value(tables: ResultTables, metric: str, name: str, cation: str, anion: str | None,
                 molar_volume_mL_per_mol: float | None = None) -> Value:
    """A physical descriptor of ``name`` (bind, shell, exchange), or why it is missing."""
    if metric == "bind":
        v = tables.binding_value(name, cation, "E_bind_kcal_per_mol")
        return Value(-v.value) if v.ok else v
    if anion is None:
        return Value(None, f"{metric}: the salt has no anion")
    if metric == "shell":
        v = tables.shell_value(name, cation, anion, "E_shell_per_ligand_kcal_per_mol")
        return Value(-v.value, v.reason) if v.ok else v
    if metric == "exchange":
        return tables.shell_value(name, cation, anion, "E_exchange_kcal_per_mol")
    from ..errors import InputError

    raise InputError(f"unknown descriptor {metric!r}; choose from {sorted(METRICS)}")


__all__ = [
    "CLASSES", "CLASS_RULES", "CLASSIFICATION_COLUMNS", "THRESHOLDS", "Classification", "ClassificationSettings",
    "Evidence", "Reason", "ResultTables", "calibrate_and_report", "classes_of", "classify_formulation", "decide",
    "donor_count", "fit_diluent_threshold", "label_of", "metric_value", "molecule_roles",
    "read_evidence", "role_examples", "run_classification", "threshold_table",
]
