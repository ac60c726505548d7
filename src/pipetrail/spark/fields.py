"""Typed access to event fields: a value of the wrong type rejects the whole event.

Event handlers read every field they keep through these helpers before changing any
state, so a damaged event raises :class:`TypeError` (and is skipped with a warning by the
analysis) instead of leaving a half-applied update or a value that breaks the report.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def req_int(event: Json, key: str) -> int:
    value = event[key]
    if type(value) is not int:
        raise TypeError(f"{key!r} must be an integer, not {type(value).__name__}")
    return value


def opt_int(event: Json, key: str, default: int | None = None) -> int | None:
    value = event.get(key)
    if value is None:
        return default
    if type(value) is not int:
        raise TypeError(f"{key!r} must be an integer, not {type(value).__name__}")
    return value


def int_or(event: Json, key: str, default: int) -> int:
    value = event.get(key, default)
    if type(value) is not int:
        raise TypeError(f"{key!r} must be an integer, not {type(value).__name__}")
    return value


def opt_str(event: Json, key: str) -> str | None:
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{key!r} must be a string, not {type(value).__name__}")
    return value


def req_str(event: Json, key: str) -> str:
    value = event[key]
    if not isinstance(value, str):
        raise TypeError(f"{key!r} must be a string, not {type(value).__name__}")
    return value


def obj(event: Json, key: str) -> Json:
    """A nested object (``{}`` when absent or null)."""
    value = event.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{key!r} must be an object, not {type(value).__name__}")
    return value


def arr(event: Json, key: str) -> list[Any]:
    """A nested array (``[]`` when absent or null)."""
    value = event.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{key!r} must be an array, not {type(value).__name__}")
    return value


def int_list(event: Json, key: str) -> list[int]:
    values = arr(event, key)
    if any(type(v) is not int for v in values):
        raise TypeError(f"{key!r} must hold integers")
    return values


def str_map(event: Json, key: str) -> dict[str, str]:
    """An object of strings (Spark properties), values turned into text."""
    return {str(k): str(v) for k, v in obj(event, key).items()}
