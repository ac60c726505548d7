"""The text forms CloudWatch uses in state reasons: numbers, datapoint times, phrases."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal


def java_double(value: float) -> str:
    """A number as Java's ``Double.toString`` writes it (``50.0``, ``1.0E-5``, ``2.5E7``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(float(value))
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(float(value))).as_tuple()
    assert isinstance(exponent, int)
    shown = "".join(str(d) for d in digits).rstrip("0") or "0"
    power = len(digits) - 1 + exponent
    mantissa = shown[0] + "." + (shown[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


def datapoint_time(ms: int) -> str:
    """``23/04/24 20:44:00``: how reasons date a datapoint (day/month/year, UTC)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%d/%m/%y %H:%M:%S")


def composite_time(ms: int) -> str:
    """``Friday 17 July, 2020 10:05:10 UTC``: how composite reasons date a transition."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return f"{dt:%A} {dt.day} {dt:%B, %Y %H:%M:%S} UTC"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def was_were(count: int) -> str:
    return "was" if count == 1 else "were"
