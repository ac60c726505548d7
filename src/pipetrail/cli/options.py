"""Option parsing shared by verbs: ``KEY=VALUE`` pairs, ``JSON_OR_@FILE`` values, times."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from pipetrail.model.clock import parse_time
from pipetrail.model.errors import ValidationError

MAX_JSON_BYTES = 1024 * 1024


def pairs(items: Sequence[str], what: str = "--dimension") -> dict[str, str]:
    """``["k=v", …]`` as a dict; a malformed item is a ValidationError."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(f"{what} takes KEY=VALUE, not {item!r}")
        result[key] = value
    return result


def json_value(text: str, what: str) -> Any:
    """Inline JSON, ``@FILE``, or ``@-`` for standard input."""
    if text.startswith("@"):
        source = text[1:]
        try:
            raw = sys.stdin.buffer.read(MAX_JSON_BYTES + 1) if source == "-" \
                else Path(source).read_bytes()
        except OSError as exc:
            raise ValidationError(f"cannot read {what} from {source}: {exc.strerror}") from None
    else:
        raw = text.encode()
    if len(raw) > MAX_JSON_BYTES:
        raise ValidationError(f"{what} is larger than {MAX_JSON_BYTES} bytes")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"{what} is not valid JSON: {exc}") from None


def time_option(text: str | None) -> int | None:
    return parse_time(text) if text else None
