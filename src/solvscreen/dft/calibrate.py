"""Linear calibration of GFN2-xTB binding energies against the DFT level.

``DFT ~ a * GFN2 + b`` by ordinary least squares on the molecules computed at both levels,
with its in-sample errors (MAE, RMSE, R^2), the Spearman rank correlation of the two
levels, and its leave-one-out (LOO) errors: each molecule predicted by the map fitted
without it, the honest estimate of how well the map predicts a molecule it has not seen.

The calibrated value of any molecule is ``a * GFN2 + b``; its stated uncertainty
(1 sigma, kcal/mol) is the OLS prediction standard error
``s * sqrt(1 + 1/n + (x - xbar)^2 / Sxx)`` (s = residual standard deviation with n - 2
degrees of freedom), which grows for GFN2 values outside the fitted range, and never less
than the LOO RMSE. With fewer than 3 points there is no error estimate and no calibration.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

__all__ = ["LinearCalibration", "fit_calibration", "spearman"]

MIN_POINTS = 3


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean rank), 1-based."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), float)
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i : j + 1]] = 0.5 * (i + j) + 1.0
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman rank correlation (Pearson correlation of average ranks); None if undefined."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3:
        return None
    rx, ry = _ranks(x), _ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    if sxx == 0:
        raise ValueError("calibration: all GFN2 values are equal; no slope can be fitted")
    a = float(((x - xm) * (y - ym)).sum() / sxx)
    return a, float(ym - a * xm)


@dataclass
class LinearCalibration:
    slope: float
    intercept: float
    n: int
    names: list[str]
    x_gfn2: list[float]
    y_dft: list[float]
    mae: float
    rmse: float
    r2: float | None
    spearman: float | None
    residual_sd: float | None
    loo_mae: float | None
    loo_rmse: float | None
    loo_max: float | None
    loo_residuals: list[float] = field(default_factory=list)
    unit: str = "kcal/mol"

    def predict(self, x: float) -> tuple[float, float | None]:
        """(calibrated value, 1-sigma uncertainty) for a GFN2 value ``x``."""
        value = self.slope * x + self.intercept
        if self.residual_sd is None:
            return value, None
        xs = np.asarray(self.x_gfn2)
        sxx = float(((xs - xs.mean()) ** 2).sum())
        se = self.residual_sd * math.sqrt(1.0 + 1.0 / self.n + (x - xs.mean()) ** 2 / sxx)
        return value, max(se, self.loo_rmse or 0.0)

    def to_dict(self) -> dict:
        return asdict(self)


def fit_calibration(names: Sequence[str], gfn2: Sequence[float], dft: Sequence[float]) -> LinearCalibration:
    """Fit DFT ~ a*GFN2 + b (needs >= 2 points; errors and LOO need >= 3)."""
    x, y = np.asarray(gfn2, float), np.asarray(dft, float)
    if len(x) != len(y) or len(x) != len(names):
        raise ValueError("calibration: names, gfn2 and dft must have equal lengths")
    if len(x) < 2:
        raise ValueError(f"calibration: at least 2 molecules are needed, got {len(x)}")
    a, b = _ols(x, y)
    res = y - (a * x + b)
    n = len(x)
    sst = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((res**2).sum()) / sst if sst > 0 else None
    sd = math.sqrt(float((res**2).sum()) / (n - 2)) if n >= MIN_POINTS else None
    loo = []
    if n >= MIN_POINTS:
        for i in range(n):
            m = np.arange(n) != i
            try:
                ai, bi = _ols(x[m], y[m])
            except ValueError:
                loo = []
                break
            loo.append(float(y[i] - (ai * x[i] + bi)))
    la = np.abs(np.asarray(loo)) if loo else None
    return LinearCalibration(
        slope=a, intercept=b, n=n, names=list(names), x_gfn2=[float(v) for v in x], y_dft=[float(v) for v in y],
        mae=float(np.abs(res).mean()), rmse=float(np.sqrt((res**2).mean())), r2=r2,
        spearman=spearman(x, y), residual_sd=sd,
        loo_mae=float(la.mean()) if la is not None else None,
        loo_rmse=float(np.sqrt((la**2).mean())) if la is not None else None,
        loo_max=float(la.max()) if la is not None else None,
        loo_residuals=loo,
    )


# ----------------------------------------------------------------------------- donor numbers
def donor_numbers() -> dict[str, float]:
    """Gutmann donor numbers (kcal/mol, SbCl5 in 1,2-dichloroethane) of library solvents,
    from dft/data/donor_numbers.csv (each row names its source)."""
    import csv
    from pathlib import Path

    path = Path(__file__).with_name("data") / "donor_numbers.csv"
    with open(path, newline="") as fh:
        return {r["name"]: float(r["donor_number_kcal_per_mol"]) for r in csv.DictReader(fh)}


def donor_number_correlation(names: Sequence[str], e_bind: Sequence[float]) -> dict:
    """Spearman of |E_bind| with the Gutmann donor number over the molecules that have one."""
    dn = donor_numbers()
    pairs = [(n, abs(float(e)), dn[n]) for n, e in zip(names, e_bind) if n in dn and e is not None]
    rho = spearman([p[1] for p in pairs], [p[2] for p in pairs]) if len(pairs) >= 3 else None
    return {"n": len(pairs), "spearman": rho, "names": [p[0] for p in pairs],
            "abs_E_bind_kcal_per_mol": [p[1] for p in pairs], "donor_number_kcal_per_mol": [p[2] for p in pairs],
            "source": "Gutmann 1976 / Marcus 1984 compilation (dft/data/donor_numbers.csv)"}
