"""Cation complexes: donor sites, cation placement, complex search, E_bind, ion pairs, shells.

The chemistry of the binding and shell stages (their record I/O is in
:mod:`solvscreen.stages.binding` and :mod:`solvscreen.stages.shell`). Modules, in
dependency order: :mod:`.cations` (cation parameters), :mod:`.settings`
(:class:`BindingSettings`), :mod:`.donors` (donor sites, binding mode), :mod:`.ligands`
(ligand and cation-templated conformers), :mod:`.placement` (cation placements and the
point-charge prescreen model), :mod:`.search` (prescreen -> loose -> tight search, E_bind),
:mod:`.shells` (filled shells and anion exchange). The protocol (stated in every record):

1. **Donor sites** — every symmetry-unique donor atom (O, N, F, Cl, divalent S; the O of
   S=O and P=O is an O donor) by RDKit canonical ranking
   (``Chem.CanonicalRankAtoms(mol, breakTies=False)``), and every chelating pair and
   triple of donors that a ligand conformer's geometry allows.
2. **Ligand conformers** — the structure stage's optimized ensemble, extra seeded ETKDG
   conformers of the free ligand, and *cation-templated* conformers: for every
   topologically flexible chain of up to ``max_template_donors`` hard donors (O, N, Cl, S;
   largest first, e.g. all four O of triglyme), the ligand is embedded
   with the cation held at the ideal distance from each donor (RDKit distance-geometry
   bounds, then MMFF94/UFF with distance restraints), which yields the gauche conformers
   chelation needs (the two O of DME, the three O of diglyme).
3. **Placements** — the cation goes along a donor's lone-pair directions (opposite the mean
   of the bonded neighbours' directions, plus tilted directions) or at the chelation centre
   (the point at the ideal distance from every donor of the combination, on the side away
   from the ligand), at cation- and element-specific distances (:data:`CATIONS`,
   :data:`DONOR_SCALE`); placements closer than the clash limits to any other atom are
   rejected.
4. **Prescreen** (so cost does not grow with sites x conformers): every placement is scored
   with a point-charge model (GFN2 charges of the free conformer, Coulomb + a soft wall,
   plus the conformer's energy); the best ``max_singlepoints`` (distinct donor sets first)
   get a GFN-xTB single point; the best ``n_relax`` of those (distinct donor sets first) a
   loose, short optimization; the best ``n_optimize`` distinct binding modes the tight one.
5. **Validation** — a complex is rejected when the cation drifted off (no donor within
   ``dissociation_cutoff_A``), the ligand's covalent bonds changed
   (:func:`solvscreen.xtb.structures.bonds_intact`) or the optimization did not converge; the
   next candidate is then tried.
6. **Binding energy** — ``E_bind = E(M+·L) - E(M+) - E(L, lowest conformer)``, Eh converted to
   kcal/mol and eV; **negative = bound** (more negative = stronger binding). For an anion the
   same quantity is the ion-pair binding ``E_pair = E(M+A-) - E(M+) - E(A-)``.
   The binding mode reports the denticity (donors within ``denticity_factor`` x the ideal
   M-donor distance, i.e. <= 3.30 A for K-O), the donor atoms (element + 0-based atom index
   in the ligand, the order of its XYZ file; the cation is the complex's last atom) and the
   M-donor distances.

GFN2-xTB overbinds alkali cations (tens of percent): compare orderings, not absolute values.
"""

from .cations import CATIONS, COULOMB_KCAL_A, DONOR_SCALE, HARD_DONORS, CationSpec, cation_spec, clash_limit
from .donors import (PI_DONOR_GROUPS, Donor, MoleculeFeatures, binding_mode, complex_problem, donor_atoms,
                     molecule_features, pi_donor_group, template_combinations, unique_donors)
from .ligands import LigandConformer, ligand_conformers, templated_conformers
from .placement import Start, model_energy, placements, site_directions
from .search import (
    PRESCREEN_SCF_ITERATIONS,
    SIGN_CONVENTION,
    BindingResult,
    ComplexCandidate,
    ComplexSearchResult,
    bind,
    search_complex,
    select_diverse,
)
from .settings import BindingSettings
from .shells import (
    ClusterResult,
    Fragment,
    build_exchange,
    build_shell,
    cluster_problem,
    polyhedron,
    shell_size,
)

__all__ = [
    "CATIONS", "COULOMB_KCAL_A", "DONOR_SCALE", "HARD_DONORS", "CationSpec", "cation_spec", "clash_limit",
    "PI_DONOR_GROUPS", "Donor", "MoleculeFeatures", "binding_mode", "complex_problem", "donor_atoms",
    "molecule_features", "pi_donor_group", "template_combinations", "unique_donors",
    "LigandConformer", "ligand_conformers", "templated_conformers",
    "Start", "model_energy", "placements", "site_directions",
    "PRESCREEN_SCF_ITERATIONS", "SIGN_CONVENTION", "BindingResult", "ComplexCandidate", "ComplexSearchResult",
    "bind", "search_complex", "select_diverse",
    "BindingSettings",
    "ClusterResult", "Fragment", "build_exchange", "build_shell", "cluster_problem", "polyhedron", "shell_size",
]
