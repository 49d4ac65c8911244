"""How the outside world enters: the command line (cli), single-molecule questions (query) and
validate_all (inputs: the library's checks and every stage section's), used by the Snakefile.

Nothing is imported here, so that any layer may import one of its modules alone.
"""
