"""What a run is given: the molecule library and formulations (library), their composition,
the screening grid and the run's plan. Knows no stage; solvscreen.interface.inputs.validate_all
adds the stage sections' checks.

Nothing is imported here, so that any layer may import one of its modules alone.
"""
