"""How complexes, ion pairs and shells are searched (config section ``binding``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..core.errors import InputError
from ..core.settings import ConfigSection
from .cations import CationSpec


@dataclass(frozen=True)
class BindingSettings(ConfigSection):
    """How complexes, ion pairs and shells are searched. The source of truth for defaults."""

    SECTION = "binding"

    seed: int = 20240917
    # ligand conformers
    n_extra_conformers: int = 8  # extra ETKDG conformers of the free ligand (seeded, pruned)
    n_template_conformers: int = 2  # cation-templated embeddings per flexible hard-donor combination
    max_chelate_donors: int = 3  # geometric chelate placements: 2 = pairs; 3 = pairs and triples
    max_template_donors: int = 6  # cation-templated conformers for combinations of up to this many hard donors
    max_template_combinations: int = 12  # cap on templated combinations (symmetry-unique, shortest first)
    # prescreen -> loose -> tight
    max_singlepoints: int = 40
    n_relax: int = 8
    n_optimize: int = 3
    loose_fmax_eV_per_A: float = 0.15
    loose_max_steps: int = 30
    fmax_eV_per_A: float = 0.02
    max_steps: int = 300
    # binding mode / validation
    denticity_factor: float = 1.2  # donors within this x ideal M-donor distance count (K-O: 3.30 A)
    dissociation_cutoff_A: float = 3.5
    # solvation shells and anion exchange
    exchange_anions: tuple[str, ...] = ("FSI",)
    shell_target_cn: tuple[tuple[str, int], ...] = ()  # overrides of CationSpec.target_cn, e.g. (("Li", 5),)
    shell_max_n: int = 4
    shell_max_atoms: int = 150
    shell_n_arrangements: int = 6
    shell_n_optimize: int = 2  # arrangements (best by single point) optimized; the lowest is kept
    shell_fmax_eV_per_A: float = 0.05
    shell_max_steps: int = 200

    def __post_init__(self) -> None:
        if self.max_chelate_donors not in (1, 2, 3):
            raise InputError("binding.max_chelate_donors must be 1, 2 or 3")
        if min(self.n_relax, self.n_optimize, self.max_singlepoints) < 1:
            raise InputError("binding.n_relax, n_optimize and max_singlepoints must be >= 1")
        # tuples keep the dataclass hashable; accept lists/dicts from JSON/YAML
        object.__setattr__(self, "exchange_anions", tuple(self.exchange_anions))
        cn = self.shell_target_cn
        if isinstance(cn, dict):
            cn = tuple(sorted(cn.items()))
        object.__setattr__(self, "shell_target_cn", tuple((str(k), int(v)) for k, v in cn))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["exchange_anions"] = list(self.exchange_anions)
        d["shell_target_cn"] = dict(self.shell_target_cn)
        return d

    def target_cn(self, cation: CationSpec) -> int:
        return dict(self.shell_target_cn).get(cation.symbol, cation.target_cn)

