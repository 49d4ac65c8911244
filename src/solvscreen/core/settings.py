"""One rule for every stage's settings dataclass: a config section may only name its fields;
and the one reading of a command's ``--settings`` JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, fields

from .errors import InputError


def known_keys(cls, d: dict | None, section: str) -> dict:
    """A copy of the config section ``d`` for dataclass ``cls``; unknown keys are an InputError."""
    d = dict(d or {})
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise InputError(f"{section}: unknown setting(s) {unknown}; known: {sorted(names)}")
    return d


class ConfigSection:
    """Base of a settings dataclass read from one config section (``SECTION``): :meth:`from_dict`
    refuses unknown keys (:func:`known_keys`), converts values with :meth:`_prepare` (lists to
    tuples, nested sections) and builds it; :meth:`to_dict` is its fields as a dict. A subclass
    sets ``SECTION`` and, where needed, overrides ``_prepare``; its checks stay in
    ``__post_init__``."""

    SECTION = ""

    @classmethod
    def _prepare(cls, d: dict) -> dict:
        return d

    @classmethod
    def from_dict(cls, d: dict | None):
        return cls(**cls._prepare(known_keys(cls, d, cls.SECTION)))

    def to_dict(self) -> dict:
        return asdict(self)


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
