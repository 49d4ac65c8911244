"""DFT reference level for cation binding (PySCF on CPU, gpu4pyscf on a CUDA GPU).

The modules, in the order data moves through them:

* :mod:`.level` -- what to compute: functional, dispersion, basis, grids, SCF settings and
  presets; which backend runs it; the SCF with its retry ladder.
* :mod:`.singlepoint` -- one SCF: energy, dispersion term, HOMO/LUMO, basis size.
* :mod:`.relax` -- geomeTRIC relaxation of the cation (or the donor atoms, or everything).
* :mod:`.orbitals` -- HOMO/LUMO of a converged SCF.
* :mod:`.binding` -- E_bind = E(M+.L) - E(M+) - E(L), all at one level.
* :mod:`.calibrate` -- the linear map DFT ~ a*GFN2 + b and its errors.
* :mod:`.settings` -- the workflow's ``dft`` config section and its checks.
* :mod:`.stage` -- stage runners (records through :func:`solvscreen.stages.harness.run_stage`)
  and the aggregate tables.
* :mod:`.report` -- parity plot and orderings table for the HTML report.
* :mod:`.cli` -- the ``dft`` and ``aggregate-dft`` subcommands.
"""
