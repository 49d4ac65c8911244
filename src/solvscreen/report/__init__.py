"""The screening report: :mod:`.page` (the page, its sections, :func:`~.page.write_report`) and
:mod:`.plots` (its figures).

Nothing is imported here, so that any layer may import one of its modules alone.
"""
