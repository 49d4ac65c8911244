"""Read-only access to the aggregated result tables the later stages consume.

Classification, ranking and the report read only the stage tables
(``descriptors.csv``, ``binding.csv``, ``solvating_power.csv``; ``shells.csv`` of the
stand-alone shell stage), never the stages' internals.
Each table may be missing (a stage not run yet) or hold failed rows; look-ups return
``None`` with the reason, so a consumer can say *why* a value is absent.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .records import parse_number, table_problem


def read_rows(path: str | Path | None) -> list[dict]:
    """Rows of a CSV as dicts (strings); numeric-looking columns are left to the caller.

    A table that does not match the checksum written beside it (truncated, edited) is an
    :class:`~solvscreen.core.errors.InputError`: nothing is computed from it."""
    if path is None or not Path(path).is_file():
        return []
    problem = table_problem(path)
    if problem:
        raise InputError(f"{path}: {problem}; rebuild it (run the workflow again), or delete "
                         f"{Path(path).name}.sha256 to accept the change")
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def ion_key(name: str | None) -> str:
    """Compare ion names loosely: ``K``, ``K+`` and ``k+`` are the same cation."""
    return (name or "").strip().rstrip("+-").lower()


#: E_bind_best_source values of dft_binding.csv on the DFT scale (a DFT result, or a GFN2 value
#: calibrated on DFT); "gfn2" is the raw GFN2-xTB value carried for molecules with neither.
DFT_SCALE_SOURCES = ("dft", "calibrated_gfn2")


def best_binding(dft_rows: list[dict], name: str, cation: str) -> tuple[float, str, dict] | None:
    """The one choice of a molecule's row in the DFT stage's ``dft_binding.csv``: (E_bind_best in
    kcal/mol, its source, the row) of ``name`` with ``cation``; None when the table has no value
    for them. A row without a source is a DFT value (tables written before the column existed)."""
    for r in dft_rows:
        if r.get("name") == name and ion_key(r.get("cation")) == ion_key(cation):
            v = parse_number(r.get("E_bind_best_kcal_per_mol"))
            return None if v is None else (v, (r.get("E_bind_best_source") or "dft").strip(), r)
    return None


@dataclass
class Value:
    """A descriptor value or the reason it is missing."""

    value: float | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.value is not None


#: The columns of descriptors.csv (and binding.csv) that say what a molecule is: the properties
#: and binding stages write them (:class:`solvscreen.complexes.MoleculeFeatures`), and
#: classification and ranking read them instead of parsing SMILES again.
STRUCTURE_COLUMNS = ("n_molecule_donor_atoms", "has_C_F", "pi_donor_group", "canonical_smiles")


@dataclass(frozen=True)
class MoleculeStructure:
    """What classification and ranking need of a molecule's structure, as its stage recorded it."""

    name: str
    n_donor_atoms: int
    has_C_F: bool
    pi_donor_group: str  # "" = none
    canonical_smiles: str
    source: str  # the table the values come from

    @property
    def donor_free(self) -> bool:
        """No donor atom (O, N, F, C-Cl, thioether S: :func:`solvscreen.complexes.donor_atoms`): the
        molecule cannot coordinate K+. The one donor rule of classification and ranking."""
        return self.n_donor_atoms == 0


def _flag(text) -> bool | None:
    t = str(text if text is not None else "").strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(t)


@dataclass
class ResultTables:
    """The stage tables of one results directory."""

    descriptors: list[dict] = field(default_factory=list)
    binding: list[dict] = field(default_factory=list)
    shells: list[dict] = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    solvating_power: list[dict] = field(default_factory=list)  # solvating_power.csv (solvation stage)

    @classmethod
    def load(cls, descriptors=None, binding=None, shells=None, solvating_power=None) -> "ResultTables":
        return cls(
            descriptors=read_rows(descriptors),
            binding=read_rows(binding),
            shells=read_rows(shells),
            sources={"descriptors": str(descriptors or ""), "binding": str(binding or ""),
                     "shells": str(shells or ""), "solvating_power": str(solvating_power or "")},
            solvating_power=read_rows(solvating_power),
        )

    @classmethod
    def from_dir(cls, results: str | Path) -> "ResultTables":
        r = Path(results)
        return cls.load(r / "descriptors.csv", r / "binding.csv", r / "shells.csv", r / "solvating_power.csv")

    # ------------------------------------------------------------------ look-ups
    def descriptor_row(self, name: str) -> dict | None:
        for row in self.descriptors:
            if row.get("name") == name:
                return row
        return None

    def binding_row(self, name: str, cation: str) -> dict | None:
        for row in self.binding:
            if row.get("name") == name and ion_key(row.get("cation")) == ion_key(cation):
                return row
        return None

    def shell_row(self, name: str, cation: str, anion: str) -> dict | None:
        for row in self.shells:
            if (row.get("name") == name and ion_key(row.get("cation")) == ion_key(cation)
                    and ion_key(row.get("anion")) == ion_key(anion)):
                return row
        return None

    def _get(self, row: dict | None, column: str, what: str) -> Value:
        """The value of ``column``; a failed row's value counts when the stage wrote it (e.g. the
        shell energy of a shell whose exchange with one anion failed), else the failure reason."""
        if row is None:
            return Value(None, f"no {what} row")
        v = parse_number(row.get(column))
        if v is not None:
            return Value(v)
        if (row.get("status") or "ok") != "ok":
            return Value(None, f"{what} failed: {row.get('failure_reason') or 'no reason recorded'}")
        return Value(None, f"{what}: {column} is empty")

    def descriptor(self, name: str, column: str) -> Value:
        return self._get(self.descriptor_row(name), column, f"descriptors of {name}")

    def binding_value(self, name: str, cation: str, column: str = "E_bind_kcal_per_mol") -> Value:
        return self._get(self.binding_row(name, cation), column, f"{cation} binding of {name}")

    def shell_value(self, name: str, cation: str, anion: str, column: str) -> Value:
        return self._get(self.shell_row(name, cation, anion), column, f"{cation}/{anion} shell of {name}")

    def structure(self, name: str) -> MoleculeStructure | Value:
        """The recorded structure of ``name`` (donor atoms, C-F bond, pi-donor group, canonical
        SMILES): from its descriptors.csv row, else from any binding.csv row of it; a :class:`Value`
        with the reason when neither has it. A descriptors table written before the properties
        stage recorded these columns is an :class:`InputError` naming the table and the columns."""
        tried = []
        for what, rows in (("descriptors", [r for r in self.descriptors if r.get("name") == name]),
                           ("binding", [r for r in self.binding if r.get("name") == name])):
            if not rows:
                continue
            missing = [c for c in STRUCTURE_COLUMNS if c not in rows[0]]
            if missing and what == "binding":
                continue  # an older binding table: only the descriptors table must carry them
            if missing:
                raise InputError(
                    f"{self.sources.get(what) or what + '.csv'}: the {what} table lacks column(s) "
                    f"{', '.join(missing)}, which classification and ranking read (the molecule's donor atoms, "
                    "C-F bond, pi-donor group and canonical SMILES): it was written before the properties stage "
                    "recorded them; run the workflow again (it recomputes the properties records that lack them "
                    "and rebuilds the table)")
            for row in rows:
                n = parse_number(row.get("n_molecule_donor_atoms"))
                if n is None:
                    tried.append(f"{what} row {row.get('status') or 'ok'}"
                                 + (f" ({row.get('failure_reason')})" if row.get("failure_reason") else ""))
                    continue
                return MoleculeStructure(name, int(n), bool(_flag(row.get("has_C_F"))),
                                         (row.get("pi_donor_group") or "").strip(),
                                         (row.get("canonical_smiles") or "").strip(),
                                         self.sources.get(what) or what)
        return Value(None, f"no recorded structure of {name} (donor atoms): "
                     + ("; ".join(tried) if tried else "no descriptors or binding row"))

    def solvation_row(self, name: str, cation: str) -> dict | None:
        for row in self.solvating_power:
            if row.get("name") == name and ion_key(row.get("cation")) == ion_key(cation):
                return row
        return None

    def solvation_value(self, name: str, cation: str, column: str = "solvating_power_kcal_per_mol") -> Value:
        return self._get(self.solvation_row(name, cation), column, f"{cation} solvating power of {name}")

    def failures(self) -> list[dict]:
        """Every failed row of every table: stage, subject and reason."""
        out = []
        for stage, rows in (("descriptors", self.descriptors), ("binding", self.binding), ("shells", self.shells),
                            ("solvation", self.solvating_power)):
            for row in rows:
                if (row.get("status") or "ok") != "ok":
                    subject = row.get("name", "?")
                    extra = [row.get(k) for k in ("cation", "anion") if row.get(k)]
                    if extra:
                        subject += " (" + ", ".join(extra) + ")"
                    out.append({"stage": stage, "subject": subject,
                                "reason": row.get("failure_reason") or "no reason recorded"})
        return out
