"""Metric datums: namespace, name, dimensions, timestamp, value, unit."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipetrail.model.clock import iso_from_ms
from pipetrail.model.errors import ValidationError

JOBS_NAMESPACE = "Pipetrail/Jobs"
UNITS = frozenset({
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
    "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
    "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
    "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
    "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
})
MAX_DIMENSIONS = 30


@dataclass
class MetricDatum:
    namespace: str
    name: str
    timestamp: int
    value: float
    unit: str = "None"
    dimensions: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None

    def validate(self) -> None:
        if not self.namespace or not self.name:
            raise ValidationError("a metric needs a namespace and a name")
        if self.unit not in UNITS:
            raise ValidationError(f"unknown unit {self.unit!r}")
        if len(self.dimensions) > MAX_DIMENSIONS:
            raise ValidationError(f"at most {MAX_DIMENSIONS} dimensions")
        if not math.isfinite(self.value):
            raise ValidationError(f"metric {self.name} has a non-finite value {self.value}")

    @property
    def dimensions_key(self) -> str:
        """Canonical text of the dimensions (sorted JSON), as stored."""
        return orjson.dumps(self.dimensions, option=orjson.OPT_SORT_KEYS).decode()

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "metricName": self.name,
            "dimensions": [{"name": k, "value": v} for k, v in sorted(self.dimensions.items())],
            "timestamp": iso_from_ms(self.timestamp),
            "value": self.value,
            "unit": self.unit,
        }
