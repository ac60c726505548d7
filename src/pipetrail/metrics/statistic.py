"""One statistic: the CloudWatch name grammar and how its value is computed from raw values.

Names (case-sensitive, as CloudWatch spells them):

* standard: ``SampleCount``, ``Sum``, ``Average``, ``Minimum``, ``Maximum``;
* percentile: ``p99``, ``p99.9``, ``p0`` … ``p100`` (up to 10 decimal places);
* trimmed mean ``tm90`` / ``TM(10%:90%)`` / ``TM(150:1000)``, interquartile mean ``IQM``,
  winsorized mean ``wm90`` / ``WM(10%:90%)``, trimmed count ``tc90`` / ``TC(…)``, trimmed
  sum ``ts90`` / ``TS(…)``, percentile rank ``PR(:300)`` / ``PR(100:2000)``.

In the bracketed forms either bound may be left out (``TM(10%:)``, ``PR(:300)``); both
bounds are percentages (``%``) or both are values. Value bounds exclude the lower bound
and include the upper one. The short forms (``tm90``) give the upper percentage bound.

How values are computed from the ``n`` raw values of a period, sorted ascending:

* ``pX`` is the nearest-rank percentile: the smallest value such that at least X % of the
  values are less than or equal to it (index ``ceil(X/100 * n)``, 1-based; ``p0`` is the
  minimum). It is always a value that was observed.
* Percentage-bounded trims (``TM``, ``TC``, ``TS``, ``WM``) see the sorted values as ``n``
  equal slices of the rank axis [0, 1]; a value counts with the fraction of its slice that
  lies inside [low %, high %]. So ``TC`` can be fractional, as CloudWatch documents, and
  ``IQM`` of four values is the mean of the middle two.
* ``WM`` keeps the inside values and gives the trimmed-off mass the value at the edge it
  was cut from: the lowest value kept (at least partly) for the low side, the highest for
  the high side. So ``WM(10%:90%)`` of 1..10 replaces 1 by 2 and 10 by 9.
* ``PR(a:b)`` is ``100 * (count of a < v <= b) / n``.

A statistic with nothing to average (for example a ``TM`` range that holds no values)
has no value for that period.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipetrail.model.errors import ValidationError

STANDARD_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
MAX_DECIMALS = 10


class Kind(enum.StrEnum):
    SAMPLE_COUNT = "SampleCount"
    AVERAGE = "Average"
    SUM = "Sum"
    MINIMUM = "Minimum"
    MAXIMUM = "Maximum"
    PERCENTILE = "p"
    TRIMMED_MEAN = "TM"
    WINSORIZED_MEAN = "WM"
    TRIMMED_COUNT = "TC"
    TRIMMED_SUM = "TS"
    PERCENTILE_RANK = "PR"


_SHORT = {"tm": Kind.TRIMMED_MEAN, "wm": Kind.WINSORIZED_MEAN, "tc": Kind.TRIMMED_COUNT,
          "ts": Kind.TRIMMED_SUM}
_NUMBER = r"\d+(?:\.\d+)?"
_PERCENTILE_RE = re.compile(rf"p({_NUMBER})")
_SHORT_RE = re.compile(rf"(tm|wm|tc|ts)({_NUMBER})")
_RANGE_RE = re.compile(r"(TM|WM|TC|TS|PR)\((.*)\)")
_BOUND_RE = re.compile(rf"(-?{_NUMBER})(%?)")


@dataclass(frozen=True)
class Statistic:
    """A parsed statistic name. ``low``/``high`` are fractions for percentage bounds."""

    name: str
    kind: Kind
    low: float | None = None
    high: float | None = None
    percent: bool = True

    @property
    def standard(self) -> bool:
        return self.name in STANDARD_STATISTICS

    @property
    def percentile(self) -> float | None:
        """The percentile as a fraction (0.99 for ``p99``), for percentile statistics."""
        return self.high if self.kind is Kind.PERCENTILE else None

    def compute(self, ordered: Sequence[float]) -> float | None:
        """The statistic of ``ordered`` (raw values sorted ascending), or None if undefined."""
        n = len(ordered)
        if n == 0:
            return None
        kind = self.kind
        if kind is Kind.SAMPLE_COUNT:
            return float(n)
        if kind is Kind.SUM:
            return math.fsum(ordered)
        if kind is Kind.AVERAGE:
            return math.fsum(ordered) / n
        if kind is Kind.MINIMUM:
            return ordered[0]
        if kind is Kind.MAXIMUM:
            return ordered[-1]
        if kind is Kind.PERCENTILE:
            return nearest_rank(ordered, self.high or 0.0)
        if kind is Kind.PERCENTILE_RANK:
            inside = sum(1 for v in ordered if _inside_values(v, self.low, self.high))
            return 100.0 * inside / n
        if not self.percent:
            chosen = [v for v in ordered if _inside_values(v, self.low, self.high)]
            return _finish(kind, float(len(chosen)), math.fsum(chosen))
        low = 0.0 if self.low is None else self.low
        high = 1.0 if self.high is None else self.high
        count, total = _rank_window(ordered, low, high)
        if kind is Kind.WINSORIZED_MEAN:
            total += low * n * ordered[min(math.floor(round(low * n, 9)), n - 1)]
            total += (1.0 - high) * n * nearest_rank(ordered, high)
            return total / n
        return _finish(kind, count, total)


def nearest_rank(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values; ``fraction`` in [0, 1]."""
    if fraction <= 0.0:
        return ordered[0]
    index = math.ceil(round(fraction * len(ordered), 9)) - 1
    return ordered[min(max(index, 0), len(ordered) - 1)]


def _inside_values(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value > low) and (high is None or value <= high)


def _rank_window(ordered: Sequence[float], low: float, high: float) -> tuple[float, float]:
    """Weighted count and sum of the values whose rank slices overlap [low, high]."""
    n = len(ordered)
    lo = round(low * n, 9)
    hi = round(high * n, 9)
    weights: list[float] = []
    parts: list[float] = []
    for i in range(max(math.floor(lo), 0), min(math.ceil(hi), n)):
        weight = min(i + 1, hi) - max(i, lo)
        if weight > 0:
            weights.append(weight)
            parts.append(weight * ordered[i])
    return math.fsum(weights), math.fsum(parts)


def _finish(kind: Kind, count: float, total: float) -> float | None:
    if kind is Kind.TRIMMED_COUNT:
        return count
    if kind is Kind.TRIMMED_SUM:
        return total
    return total / count if count > 0 else None


def parse_statistic(name: str) -> Statistic:
    """Parse a statistic name, raising ValidationError that says what is wrong."""
    if not isinstance(name, str) or not name:
        raise ValidationError("a statistic name is required")
    if name in STANDARD_STATISTICS:
        return Statistic(name, Kind(name))
    if name == "IQM":
        return Statistic(name, Kind.TRIMMED_MEAN, 0.25, 0.75)
    match = _PERCENTILE_RE.fullmatch(name)
    if match:
        value = _percentage(match.group(1), name)
        return Statistic(name, Kind.PERCENTILE, None, value)
    match = _SHORT_RE.fullmatch(name)
    if match:
        value = _percentage(match.group(2), name)
        if value == 0.0:
            raise ValidationError(f"statistic {name!r}: the upper bound must be above 0")
        return Statistic(name, _SHORT[match.group(1)], None, value)
    match = _RANGE_RE.fullmatch(name)
    if match:
        return _parse_range(name, Kind(match.group(1)), match.group(2))
    raise ValidationError(_unknown_message(name))


def _parse_range(name: str, kind: Kind, inner: str) -> Statistic:
    if inner.count(":") != 1:
        raise ValidationError(
            f"statistic {name!r}: write the bounds as (low:high), either one may be empty, "
            f"for example {kind.value}(10%:90%)"
        )
    low_text, high_text = (part.strip() for part in inner.split(":"))
    if not low_text and not high_text:
        raise ValidationError(f"statistic {name!r}: give at least one bound")
    bounds: list[tuple[float, bool] | None] = []
    for text in (low_text, high_text):
        if not text:
            bounds.append(None)
            continue
        match = _BOUND_RE.fullmatch(text)
        if not match:
            raise ValidationError(f"statistic {name!r}: {text!r} is not a number")
        is_percent = match.group(2) == "%"
        number = _percentage(match.group(1), name) if is_percent else float(match.group(1))
        bounds.append((number, is_percent))
    kinds = {b[1] for b in bounds if b is not None}
    if len(kinds) > 1:
        raise ValidationError(
            f"statistic {name!r}: both bounds must be percentages or both values, not a mix"
        )
    percent = kinds.pop()
    if kind is Kind.PERCENTILE_RANK and percent:
        raise ValidationError(f"statistic {name!r}: PR takes value bounds, not percentages")
    if kind is Kind.WINSORIZED_MEAN and not percent:
        raise ValidationError(f"statistic {name!r}: WM takes percentage bounds such as 10%")
    low = bounds[0][0] if bounds[0] is not None else None
    high = bounds[1][0] if bounds[1] is not None else None
    if low is not None and high is not None and low >= high:
        raise ValidationError(f"statistic {name!r}: the low bound must be below the high bound")
    return Statistic(name, kind, low, high, percent)


def _percentage(text: str, name: str) -> float:
    if "." in text and len(text.split(".", 1)[1]) > MAX_DECIMALS:
        raise ValidationError(
            f"statistic {name!r}: at most {MAX_DECIMALS} decimal places are allowed"
        )
    value = float(text)
    if not 0.0 <= value <= 100.0:
        raise ValidationError(f"statistic {name!r}: {text} is outside 0..100")
    return value / 100.0


def _unknown_message(name: str) -> str:
    lowered = name.lower()
    for standard in STANDARD_STATISTICS:
        if lowered == standard.lower():
            return (f"unknown statistic {name!r}: did you mean {standard!r}? "
                    "(names are case-sensitive)")
    if re.fullmatch(rf"P{_NUMBER}", name):
        return (f"unknown statistic {name!r}: percentiles are written with a lower-case p, "
                f"as {name.lower()!r}")
    return (
        f"unknown statistic {name!r}: use SampleCount, Average, Sum, Minimum, Maximum, "
        "a percentile such as p99, or tm/wm/tc/ts/TM()/WM()/TC()/TS()/PR()/IQM"
    )
