"""The lowest layer: errors, units, records (the JSON record and CSV layer), settings helpers,
the result tables read by the later stages, and the HTML building blocks of report sections.

Nothing is imported here, so that any layer may import one of its modules alone.
"""
