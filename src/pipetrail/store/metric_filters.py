"""Metric filters of log groups: a filter pattern and its metric transformation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update

from pipetrail.model.errors import NotFoundError
from pipetrail.store import schema as t
from pipetrail.store.base import MAX_PAGE, StoreBase


@dataclass
class StoredMetricFilter:
    group: str
    name: str
    pattern: str
    transformation: dict[str, Any]  # metricName, metricNamespace, metricValue, …
    created_on: int


class MetricFiltersStore(StoreBase):
    def put_metric_filter(self, item: StoredMetricFilter) -> bool:
        """Create or replace a filter (as PutMetricFilter). True when it was created.
        The group must exist."""
        c = t.metric_filters.c
        values = {"pattern": item.pattern,
                  "transformation": orjson.dumps(item.transformation).decode()}
        with self._write() as conn:
            if conn.execute(select(t.log_groups.c.name)
                            .where(t.log_groups.c.name == item.group)).first() is None:
                raise NotFoundError(f"no log group named {item.group!r}")
            where = (c.group_name == item.group, c.filter_name == item.name)
            if conn.execute(select(c.filter_name).where(*where)).first() is not None:
                conn.execute(update(t.metric_filters).where(*where).values(**values))
                return False
            conn.execute(insert(t.metric_filters).values(
                group_name=item.group, filter_name=item.name, created_on=item.created_on,
                **values))
            return True

    def describe_metric_filters(self, group: str | None = None, prefix: str | None = None,
                                groups: Sequence[str] | None = None,
                                limit: int = MAX_PAGE) -> list[StoredMetricFilter]:
        c = t.metric_filters.c
        query = select(t.metric_filters).order_by(c.group_name, c.filter_name)
        if group is not None:
            query = query.where(c.group_name == group)
        if groups is not None:
            query = query.where(c.group_name.in_(list(groups)))
        if prefix:
            query = query.where(c.filter_name >= prefix, c.filter_name < prefix + "\uffff")
        with self._read() as conn:
            rows = conn.execute(query.limit(min(limit, MAX_PAGE))).all()
        return [StoredMetricFilter(r.group_name, r.filter_name, r.pattern,
                                   orjson.loads(r.transformation), r.created_on) for r in rows]

    def delete_metric_filter(self, group: str, name: str) -> None:
        c = t.metric_filters.c
        with self._write() as conn:
            result = conn.execute(delete(t.metric_filters).where(
                c.group_name == group, c.filter_name == name))
        if not result.rowcount:
            raise NotFoundError(f"no metric filter named {name!r} in log group {group!r}")
