"""Metric filter actions: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter.

A stored filter applies to events as they are ingested (see
:mod:`pipetrail.ingest.metric_filters`), from the next run on, or within
``REFRESH_SECONDS`` for runs already going.
"""

from __future__ import annotations

from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.actions.log_groups import group_resource
from pipetrail.logs.metric_filter import MetricFilter
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ValidationError
from pipetrail.model.log_groups import check_group_name
from pipetrail.store.metric_filters import StoredMetricFilter

SOURCE = "logs"
MAX_FILTERS_PER_GROUP = 100
MAX_REGEX_FILTERS_PER_GROUP = 5


def filter_json(item: StoredMetricFilter) -> dict[str, Any]:
    """A filter as DescribeMetricFilters shows it."""
    return {"filterName": item.name, "logGroupName": item.group,
            "filterPattern": item.pattern, "creationTime": item.created_on,
            "metricTransformations": [item.transformation]}


def uses_regex(pattern: str) -> bool:
    """True when a filter pattern holds a ``%regex%`` (outside quoted text)."""
    quoted = False
    escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "%" and not quoted:
            return True
    return False


def put_metric_filter(ctx: ActionContext, group: str, metric_filter: MetricFilter) -> bool:
    """PutMetricFilter: create or replace a group's filter. True when it was created."""
    params = {"logGroupName": group, "filterName": metric_filter.name,
              "filterPattern": metric_filter.pattern,
              "metricTransformations": [metric_filter.transformation()]}
    with ctx.call(SOURCE, "PutMetricFilter", read_only=False, params=params) as call:
        call.resources = [group_resource(ctx, group)]
        check_group_name(group)
        metric_filter.compile()
        ctx.store.get_log_group(group)
        others = [f for f in ctx.store.describe_metric_filters(group=group)
                  if f.name != metric_filter.name]
        if len(others) >= MAX_FILTERS_PER_GROUP:
            raise ValidationError(f"log group {group!r} already has "
                                  f"{MAX_FILTERS_PER_GROUP} metric filters")
        if uses_regex(metric_filter.pattern) and sum(
                uses_regex(f.pattern) for f in others) >= MAX_REGEX_FILTERS_PER_GROUP:
            raise ValidationError(f"log group {group!r} already has "
                                  f"{MAX_REGEX_FILTERS_PER_GROUP} metric filters with a "
                                  "regular expression")
        created = ctx.store.put_metric_filter(StoredMetricFilter(
            group=group, name=metric_filter.name, pattern=metric_filter.pattern,
            transformation=metric_filter.transformation(), created_on=now_ms()))
        call.response = {"filterName": metric_filter.name, "created": created}
        return created


def describe_metric_filters(ctx: ActionContext, group: str | None = None,
                            prefix: str | None = None, metric_name: str | None = None,
                            namespace: str | None = None) -> list[StoredMetricFilter]:
    """DescribeMetricFilters: of one group (``prefix`` on the filter name) or all, or
    those that publish one metric (``metric_name`` with ``namespace``)."""
    params = {"logGroupName": group, "filterNamePrefix": prefix, "metricName": metric_name,
              "metricNamespace": namespace}
    with ctx.call(SOURCE, "DescribeMetricFilters", read_only=True, params=params) as call:
        if prefix and group is None:
            raise ValidationError("a filter name prefix needs a log group")
        if (metric_name is None) != (namespace is None):
            raise ValidationError("give the metric name and namespace together")
        if group is not None:
            call.resources = [group_resource(ctx, group)]
        found = ctx.store.describe_metric_filters(group=group, prefix=prefix)
        if metric_name is not None:
            found = [f for f in found if f.transformation.get("metricName") == metric_name
                     and f.transformation.get("metricNamespace") == namespace]
        return found


def delete_metric_filter(ctx: ActionContext, group: str, name: str) -> None:
    """DeleteMetricFilter."""
    params = {"logGroupName": group, "filterName": name}
    with ctx.call(SOURCE, "DeleteMetricFilter", read_only=False, params=params) as call:
        call.resources = [group_resource(ctx, group)]
        ctx.store.delete_metric_filter(group, name)
        call.response = {"filterName": name, "deleted": True}
