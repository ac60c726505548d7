"""Aggregate functions of ``stats``: one accumulator per group and aggregate."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipetrail.logs.query.values import as_number, as_text, group_key, sort_key
from pipetrail.logs.syntax import QueryLimitError


@dataclass(frozen=True)
class AggregateSpec:
    name: str
    min_args: int
    max_args: int
    allows_star: bool = False


AGGREGATES: dict[str, AggregateSpec] = {spec.name: spec for spec in [
    AggregateSpec("count", 0, 1, allows_star=True),
    AggregateSpec("count_distinct", 1, 1),
    AggregateSpec("sum", 1, 1),
    AggregateSpec("avg", 1, 1),
    AggregateSpec("min", 1, 1),
    AggregateSpec("max", 1, 1),
    AggregateSpec("stddev", 1, 1),
    AggregateSpec("pct", 2, 2),
    AggregateSpec("earliest", 1, 1),
    AggregateSpec("latest", 1, 1),
    AggregateSpec("sortsfirst", 1, 1),
    AggregateSpec("sortslast", 1, 1),
]}


class ValueBudget:
    """Caps how many values ``pct`` and ``count_distinct`` keep across a whole query."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self) -> None:
        self.used += 1
        if self.used > self.limit:
            raise QueryLimitError(
                f"pct and count_distinct may keep at most {self.limit} values per query; "
                "narrow the time range or the groups")


class Accumulator:
    def add(self, value: Any, timestamp: int | None) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError


class _Count(Accumulator):
    def __init__(self, star: bool) -> None:
        self.star = star
        self.count = 0

    def add(self, value: Any, timestamp: int | None) -> None:
        if self.star or value is not None:
            self.count += 1

    def result(self) -> Any:
        return self.count


class _Sum(Accumulator):
    def __init__(self) -> None:
        self.total: float | int = 0
        self.count = 0
        self.squares = 0.0

    def add(self, value: Any, timestamp: int | None) -> None:
        number = as_number(value)
        if number is None or not math.isfinite(number):
            return
        self.total += number
        self.squares += float(number) * float(number)
        self.count += 1


class _SumResult(_Sum):
    def result(self) -> Any:
        return self.total if self.count else None


class _Avg(_Sum):
    def result(self) -> Any:
        return self.total / self.count if self.count else None


class _Stddev(_Sum):
    def result(self) -> Any:
        if not self.count:
            return None
        if self.count == 1:
            return 0.0
        mean = self.total / self.count
        variance = max(0.0, (self.squares - self.count * mean * mean) / (self.count - 1))
        return math.sqrt(variance)


class _Extreme(Accumulator):
    def __init__(self, largest: bool) -> None:
        self.largest = largest
        self.number: int | float | None = None
        self.text: str | None = None

    def add(self, value: Any, timestamp: int | None) -> None:
        if value is None:
            return
        number = as_number(value)
        if number is not None:
            if self.number is None or (number > self.number if self.largest
                                       else number < self.number):
                self.number = number
            return
        text = as_text(value)
        if text is not None and (self.text is None or (text > self.text if self.largest
                                                       else text < self.text)):
            self.text = text

    def result(self) -> Any:
        return self.number if self.number is not None else self.text


class _Sorts(Accumulator):
    def __init__(self, last: bool) -> None:
        self.last = last
        self.best: Any = None
        self.key: Any = None

    def add(self, value: Any, timestamp: int | None) -> None:
        if value is None:
            return
        key = sort_key(value, descending=self.last)
        if self.key is None or key < self.key:
            self.best, self.key = value, key

    def result(self) -> Any:
        return self.best


class _AtTime(Accumulator):
    def __init__(self, latest: bool) -> None:
        self.latest = latest
        self.value: Any = None
        self.time: int | None = None

    def add(self, value: Any, timestamp: int | None) -> None:
        if value is None or timestamp is None:
            return
        if self.time is None or (timestamp >= self.time if self.latest
                                 else timestamp < self.time):
            self.value, self.time = value, timestamp

    def result(self) -> Any:
        return self.value


class _Distinct(Accumulator):
    def __init__(self, budget: ValueBudget) -> None:
        self.budget = budget
        self.seen: set[Any] = set()

    def add(self, value: Any, timestamp: int | None) -> None:
        if value is None:
            return
        key = group_key(value)
        if key not in self.seen:
            self.budget.take()
            self.seen.add(key)

    def result(self) -> Any:
        return len(self.seen)


class _Percentile(Accumulator):
    def __init__(self, percent: float, budget: ValueBudget) -> None:
        self.percent = percent
        self.budget = budget
        self.values: list[float] = []

    def add(self, value: Any, timestamp: int | None) -> None:
        number = as_number(value)
        if number is None or not math.isfinite(number):
            return
        self.budget.take()
        self.values.append(float(number))

    def result(self) -> Any:
        if not self.values:
            return None
        ordered = sorted(self.values)
        rank = math.ceil(self.percent / 100 * len(ordered))
        return ordered[min(len(ordered), max(rank, 1)) - 1]


def make_accumulator(name: str, *, star: bool, percent: float | None,
                     budget: ValueBudget) -> Accumulator:
    factories: dict[str, Callable[[], Accumulator]] = {
        "count": lambda: _Count(star),
        "count_distinct": lambda: _Distinct(budget),
        "sum": _SumResult,
        "avg": _Avg,
        "stddev": _Stddev,
        "min": lambda: _Extreme(largest=False),
        "max": lambda: _Extreme(largest=True),
        "pct": lambda: _Percentile(percent or 0.0, budget),
        "earliest": lambda: _AtTime(latest=False),
        "latest": lambda: _AtTime(latest=True),
        "sortsfirst": lambda: _Sorts(last=False),
        "sortslast": lambda: _Sorts(last=True),
    }
    return factories[name]()
