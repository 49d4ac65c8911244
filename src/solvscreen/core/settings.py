"""One rule for every stage's settings dataclass: a config section may only name its fields;
and the one reading of a command's ``--settings`` JSON."""

from __future__ import annotations

import json
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


def settings_from_json(text: str | None) -> dict:
    """A command's ``--settings``: a JSON object of config sections ({} when not given)."""
    if not text:
        return {}
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--settings is not valid JSON: {exc}") from exc
    if not isinstance(settings, dict):
        raise InputError("--settings must be a JSON object of config sections")
    return settings
