"""The xTB chemistry of single molecules: the engine (backends), the optimizer, RDKit structures,
the conformer protocol and the electronic properties.

Nothing is imported here, so that any layer may import one of its modules alone.
"""
