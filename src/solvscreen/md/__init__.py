"""MD solvation structure: GAFF2/AM1-BCC + Joung-Cheatham ions, Packmol, OpenMM, MDAnalysis.

Modules: :mod:`.settings` (presets, config check), :mod:`.params` (antechamber/parmchk2,
cached), :mod:`.ions` (Joung-Cheatham, charge scaling), :mod:`.box` (counts, Packmol),
:mod:`.system` (tleap -> OpenMM), :mod:`.simulate` (protocol, checkpoints, platform),
:mod:`.speciation` (pure numpy SSIP/CIP/AGG, CN, block errors), :mod:`.analysis` (RDFs,
cutoffs), :mod:`.runner` (stage runners, tables), :mod:`.cli`, :mod:`.report`.
The heavy packages (openmm, MDAnalysis, AmberTools, Packmol: the ``md`` extra) are
imported only inside the functions that need them.
"""
