"""solvscreen: screen electrolyte components for potassium-metal batteries.

The package is framework-free: Snakemake rules and the command line are adapters
that call into it. Data flows one way::

    library -> structures -> engine-backed properties / binding -> records
            -> aggregate tables -> classification -> ranking / report
"""

__version__ = "0.1.0"

SCHEMA_VERSION = 1
