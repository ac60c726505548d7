"""Metric datums."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import insert, select

from pipetrail.model.metrics import MetricDatum
from pipetrail.store import schema as t
from pipetrail.store.base import StoreBase


def metric_rows(datums: Sequence[MetricDatum]) -> list[dict[str, Any]]:
    return [
        {"namespace": d.namespace, "name": d.name, "dimensions": d.dimensions_key,
         "run_id": d.run_id, "timestamp": d.timestamp, "value": d.value, "unit": d.unit}
        for d in datums
    ]


class MetricsStore(StoreBase):
    def latest_metric_values(self, since: int, limit: int = 100_000) -> list[MetricDatum]:
        """The newest datum of each series with datums at or after ``since``."""
        c = t.metric_data.c
        query = (select(t.metric_data).where(c.timestamp >= since)
                 .order_by(c.timestamp, c.id).limit(limit))
        latest: dict[tuple[str, str, str], MetricDatum] = {}
        with self._read() as conn:
            for row in conn.execute(query):
                datum = _datum_from_row(row)
                latest[_latest_key(datum)] = datum
        return list(latest.values())

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        if not datums:
            return
        for datum in datums:
            datum.validate()
        rows = metric_rows(datums)
        with self._write() as conn:
            conn.execute(insert(t.metric_data), rows)

    def get_run_metrics(self, run_id: str, name: str | None = None) -> list[MetricDatum]:
        c = t.metric_data.c
        query = select(t.metric_data).where(c.run_id == run_id)
        if name is not None:
            query = query.where(c.name == name)
        with self._read() as conn:
            rows = conn.execute(query.order_by(c.name, c.timestamp, c.id)).all()
        return [_datum_from_row(r) for r in rows]

    def get_metric_series(self, namespace: str, name: str, dimensions: dict[str, str] | None,
                          start: int, end: int) -> list[MetricDatum]:
        c = t.metric_data.c
        query = select(t.metric_data).where(
            c.namespace == namespace, c.name == name, c.timestamp >= start, c.timestamp < end)
        if dimensions is not None:
            key = orjson.dumps(dimensions, option=orjson.OPT_SORT_KEYS).decode()
            query = query.where(c.dimensions == key)
        with self._read() as conn:
            rows = conn.execute(query.order_by(c.timestamp, c.id)).all()
        return [_datum_from_row(r) for r in rows]


def _latest_key(datum: MetricDatum) -> tuple[str, str, str]:
    return (datum.namespace, datum.name, datum.dimensions_key)


def _datum_from_row(row: Any) -> MetricDatum:
    return MetricDatum(
        namespace=row.namespace, name=row.name, timestamp=row.timestamp, value=row.value,
        unit=row.unit, dimensions=orjson.loads(row.dimensions), run_id=row.run_id,
    )
