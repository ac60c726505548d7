"""Metric filters: a filter pattern plus a metric transformation (CloudWatch semantics).

Each log event the pattern matches contributes the metric value (a number, or a number
read from the event with ``$.path`` / ``$field``); each event it does not match
contributes the default value, when one is set. Dimensions (at most 3) are read from the
event the same way; a default value cannot be combined with dimensions. An event whose
value or dimensions cannot be read (missing, not a number) contributes nothing.

:func:`metric_data` gives one datum per contributing event; :func:`aggregate_by_minute`
sums them per minute and dimension set, which is what CloudWatch Logs publishes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipetrail.logs.filter_pattern import (
    FilterPattern,
    ValueSelector,
    compile_pattern,
    parse_value_selector,
)
from pipetrail.logs.filter_pattern.values import parse_number
from pipetrail.model.errors import ValidationError
from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import UNITS, MetricDatum

MAX_DIMENSIONS = 3
MAX_FILTER_NAME = 512
MAX_METRIC_NAME = 255
MINUTE_MS = 60_000


@dataclass(frozen=True)
class MetricFilter:
    """A metric filter definition, as ``PutMetricFilter`` takes it."""

    name: str
    pattern: str
    namespace: str
    metric_name: str
    value: str = "1"
    default_value: float | None = None
    unit: str = "None"
    dimensions: Mapping[str, str] = field(default_factory=dict)

    def transformation(self) -> dict[str, Any]:
        """The metric transformation as CloudWatch writes it (``metricTransformations``
        item): how it is stored and shown."""
        data: dict[str, Any] = {"metricName": self.metric_name,
                                "metricNamespace": self.namespace,
                                "metricValue": self.value, "unit": self.unit}
        if self.default_value is not None:
            data["defaultValue"] = self.default_value
        if self.dimensions:
            data["dimensions"] = dict(self.dimensions)
        return data

    @classmethod
    def from_transformation(cls, name: str, pattern: str,
                            transformation: Mapping[str, Any]) -> MetricFilter:
        """The filter named ``name`` from a stored or given transformation."""
        default = transformation.get("defaultValue")
        return cls(name=name, pattern=pattern,
                   namespace=str(transformation.get("metricNamespace", "")),
                   metric_name=str(transformation.get("metricName", "")),
                   value=str(transformation.get("metricValue", "1")),
                   default_value=None if default is None else float(default),
                   unit=str(transformation.get("unit", "None")),
                   dimensions=dict(transformation.get("dimensions") or {}))

    def compile(self) -> CompiledMetricFilter:
        """Check the definition and compile it; bad parts raise ``ValidationError``."""
        _check_name("filter name", self.name, MAX_FILTER_NAME, forbidden=":*")
        _check_name("metric namespace", self.namespace, MAX_METRIC_NAME, forbidden=":*$")
        _check_name("metric name", self.metric_name, MAX_METRIC_NAME, forbidden=":*$")
        pattern = compile_pattern(self.pattern)
        static = parse_number(self.value.strip())
        selector: ValueSelector | None = None
        if static is None:
            if not self.value.startswith("$"):
                raise ValidationError(
                    f"metric value {self.value!r} must be a number or a selector such as "
                    "$.latency (JSON) or $bytes (space-delimited field)")
            selector = parse_value_selector(self.value)
        elif not math.isfinite(static):
            raise ValidationError(f"metric value {self.value!r} is not a finite number")
        if self.unit not in UNITS:
            raise ValidationError(f"unknown unit {self.unit!r}; use one of {sorted(UNITS)}")
        if self.default_value is not None:
            if not math.isfinite(self.default_value):
                raise ValidationError("the default value must be a finite number")
            if self.dimensions:
                raise ValidationError("a metric filter with dimensions cannot have a default "
                                      "value")
        if len(self.dimensions) > MAX_DIMENSIONS:
            raise ValidationError(f"a metric filter has at most {MAX_DIMENSIONS} dimensions, "
                                  f"not {len(self.dimensions)}")
        dimensions: dict[str, ValueSelector] = {}
        for dim_name, dim_selector in self.dimensions.items():
            _check_name("dimension name", dim_name, MAX_METRIC_NAME, forbidden="")
            if not dim_selector.startswith("$"):
                raise ValidationError(f"dimension {dim_name!r} must be a selector such as "
                                      f"$.field or $field, not {dim_selector!r}")
            dimensions[dim_name] = parse_value_selector(dim_selector)
        return CompiledMetricFilter(self, pattern, static, selector, dimensions)


@dataclass(frozen=True)
class CompiledMetricFilter:
    definition: MetricFilter
    pattern: FilterPattern
    static_value: float | None
    value_selector: ValueSelector | None
    dimension_selectors: Mapping[str, ValueSelector]

    def datum_for(self, event: LogEvent) -> MetricDatum | None:
        """The datum one event contributes, or None."""
        spec = self.definition
        match = self.pattern.match(event.message)
        if match is None:
            if spec.default_value is None:
                return None
            return self._datum(event.timestamp, spec.default_value, {})
        if self.static_value is not None:
            value = self.static_value
        else:
            found = match.value(self.value_selector) if self.value_selector else None
            number = parse_number(found.strip()) if isinstance(found, str) else found
            if number is None or not math.isfinite(number):
                return None
            value = number
        dimensions: dict[str, str] = {}
        for dim_name, selector in self.dimension_selectors.items():
            text = match.text(selector)
            if text is None or text == "":
                return None
            dimensions[dim_name] = text
        return self._datum(event.timestamp, value, dimensions)

    def _datum(self, timestamp: int, value: float, dimensions: dict[str, str]) -> MetricDatum:
        spec = self.definition
        return MetricDatum(namespace=spec.namespace, name=spec.metric_name, timestamp=timestamp,
                           value=value, unit=spec.unit, dimensions=dimensions)


def metric_data(metric_filter: MetricFilter | CompiledMetricFilter,
                events: Iterable[LogEvent]) -> list[MetricDatum]:
    """One datum per event that contributes to the metric, in event order."""
    compiled = (metric_filter.compile() if isinstance(metric_filter, MetricFilter)
                else metric_filter)
    datums: list[MetricDatum] = []
    for event in events:
        datum = compiled.datum_for(event)
        if datum is not None:
            datums.append(datum)
    return datums


def aggregate_by_minute(datums: Iterable[MetricDatum]) -> list[MetricDatum]:
    """Sum datums per metric, unit, dimension set and minute (timestamp = minute start)."""
    sums: dict[tuple[str, str, str, str, int], MetricDatum] = {}
    for datum in datums:
        minute = datum.timestamp - datum.timestamp % MINUTE_MS
        key = (datum.namespace, datum.name, datum.unit, datum.dimensions_key, minute)
        total = sums.get(key)
        if total is None:
            sums[key] = MetricDatum(namespace=datum.namespace, name=datum.name,
                                    timestamp=minute, value=datum.value, unit=datum.unit,
                                    dimensions=dict(datum.dimensions), run_id=datum.run_id)
        else:
            total.value += datum.value
    return list(sums.values())


def _check_name(what: str, value: str, limit: int, *, forbidden: str) -> None:
    if not value:
        raise ValidationError(f"the {what} is empty")
    if len(value) > limit:
        raise ValidationError(f"the {what} is longer than {limit} characters")
    for char in forbidden:
        if char in value:
            raise ValidationError(f"the {what} {value!r} may not contain {char!r}")
