"""One rule for every stage's settings dataclass: a config section may only name its fields."""

from __future__ import annotations

from dataclasses import fields

from .errors import InputError


def known_keys(cls, d: dict | None, section: str) -> dict:
    """A copy of the config section ``d`` for dataclass ``cls``; unknown keys are an InputError."""
    d = dict(d or {})
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise InputError(f"{section}: unknown setting(s) {unknown}; known: {sorted(names)}")
    return d
