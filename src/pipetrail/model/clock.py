"""Time in the forms records use: epoch milliseconds and CloudTrail's ISO 8601 UTC."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from pipetrail.model.errors import ValidationError


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def iso_from_ms(ms: int) -> str:
    """``2026-11-25T10:00:00.123Z`` for an epoch-milliseconds value."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def cloudtrail_time(ms: int) -> str:
    """``2026-11-25T10:00:00Z``: CloudTrail's ``eventTime`` form (whole seconds)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
MIN_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_RELATIVE = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, *, now: int | None = None) -> int:
    """Parse a user-given time into epoch milliseconds.

    Accepts ISO 8601 (``2026-11-25``, ``2026-11-25T10:00:00Z``, with offsets; naive
    times are UTC), epoch seconds or milliseconds (digits only), ``now``, and relative
    times back from now such as ``15m``, ``2h``, ``7d``.
    """
    value = text.strip()
    current = now_ms() if now is None else now
    if value == "now":
        return current
    rel = _RELATIVE.match(value)
    if rel:
        moment = current - int(rel.group(1)) * _UNITS[rel.group(2)] * 1000
        if moment < MIN_MS:
            raise ValidationError(f"time {text!r} is before the year 1")
        return moment
    if value.isdigit():
        number = int(value)
        ms = number if number > 10**11 else number * 1000
        if ms > MAX_MS:
            raise ValidationError(f"time {text!r} is after the year 9999")
        return ms
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"cannot read time {text!r}: use ISO 8601 (2026-11-25T10:00:00Z), "
            "epoch seconds, 'now', or a relative time such as 15m, 2h, 7d"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def duration_text(seconds: float) -> str:
    """``1h02m03s`` style text for a duration."""
    delta = timedelta(seconds=round(seconds, 3))
    total = delta.total_seconds()
    if total < 60:
        return f"{total:.2f}s"
    minutes, secs = divmod(int(total), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
