"""Prometheus text exposition of the latest value of each metric series."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from pipetrail.model.metrics import MetricDatum

_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def metric_name(namespace: str, name: str) -> str:
    """``Pipetrail/Jobs`` + ``process.memory.rss`` → ``pipetrail_jobs_process_memory_rss``."""
    text = _INVALID.sub("_", f"{namespace}_{name}").strip("_").lower()
    text = re.sub(r"_+", "_", text)
    return text if not text[:1].isdigit() else f"_{text}"


def label_name(name: str) -> str:
    text = _INVALID.sub("_", name)
    return text if text and not text[:1].isdigit() else f"_{text}"


class _Latest(Collector):
    def __init__(self, datums: Sequence[MetricDatum]) -> None:
        self._datums = datums

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families: dict[str, tuple[list[str], list[tuple[list[str], float, int]]]] = {}
        for datum in self._datums:
            name = metric_name(datum.namespace, datum.name)
            labels = sorted(label_name(k) for k in datum.dimensions)
            values = [datum.dimensions[k] for k in sorted(datum.dimensions,
                                                          key=label_name)]
            family = families.setdefault(name, (labels, []))
            if family[0] != labels:
                continue  # one family, one label set: other shapes are left out
            family[1].append((values, datum.value, datum.timestamp))
        for name, (labels, samples) in sorted(families.items()):
            gauge = GaugeMetricFamily(name, f"latest {name}", labels=labels)
            for values, value, ts in samples:
                gauge.add_metric(values, value, timestamp=ts / 1000)
            yield gauge


def exposition(datums: Iterable[MetricDatum]) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Latest(list(datums)))
    return generate_latest(registry).decode()
