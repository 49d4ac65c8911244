"""Classify electrolyte formulations as LCE, HCE, LHCE or WSE from their solvation structure
(MD, where run) or physical descriptors, with honest uncertainty.

- :mod:`.rules`: the one table of thresholds (unit, meaning, source) and class rules;
- :mod:`.evidence`: binding energies (DFT or GFN2-xTB), donor atoms, MD tables;
- :mod:`.result`: the settings, the :class:`Reason` and the :class:`Classification` of one formulation;
- :mod:`.roles`: component roles from descriptors or MD;
- :mod:`.core`: predicates, labels and reasons of one formulation;
- :mod:`.solvating`, :mod:`.solubility`, :mod:`.md_anion`: the solvating-power, solubility and MD anion predicates;
- :mod:`.calibration`: the fitted diluent threshold, calibration / leave-one-out /
  generalization accuracy with and without MD;
- :mod:`.stage`: the table + grid run and its output files;
- :mod:`.rank`: the candidate ranking (objectives, K-metal verdict, epsilon-Pareto front); :mod:`.score`
  its score within a tier (uncertainty, terms that weigh nothing, rank bands).
"""

from __future__ import annotations

from ..core.result_tables import ResultTables
from .calibration import calibrate_and_report, fit_diluent_threshold, molecule_roles, role_examples
from .core import classify_formulation
from .result import Classification, ClassificationSettings, Reason
from .evidence import METRICS, Evidence, metric_value, read_evidence
from .rules import CLASS_RULES, CLASSES, GFN2_DEFAULT_DILUENT_BIND_MAX, THRESHOLDS, classes_of, decide, label_of
from .stage import CLASSIFICATION_COLUMNS, run_classification, threshold_table


__all__ = [
    "CLASSES", "CLASS_RULES", "CLASSIFICATION_COLUMNS", "THRESHOLDS", "Classification", "ClassificationSettings",
    "Evidence", "GFN2_DEFAULT_DILUENT_BIND_MAX", "METRICS", "Reason", "ResultTables", "calibrate_and_report", "classes_of", "classify_formulation", "decide",
    "fit_diluent_threshold", "label_of", "metric_value", "molecule_roles",
    "read_evidence", "role_examples", "run_classification", "threshold_table",
]
