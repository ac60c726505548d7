"""Log groups and log streams: names, retention, and what DescribeLogGroups/Streams show.

A log group holds streams and carries the retention policy and the metric filters; a
stream is the sequence of events from one source (one per run and kind of output).
Names and retention values follow CloudWatch Logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipetrail.model.errors import ValidationError

# CloudWatch Logs' allowed retention periods, in days. No policy means never expire.
RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)
DAY_MS = 86_400_000
MAX_NAME = 512
_GROUP_NAME = re.compile(r"[.\-_/#A-Za-z0-9]+")


def check_group_name(name: str) -> str:
    """A log group name: 1-512 of ``A-Z a-z 0-9 . - _ / #``."""
    if not 1 <= len(name) <= MAX_NAME:
        raise ValidationError(f"a log group name is 1-{MAX_NAME} characters, not {len(name)}")
    if not _GROUP_NAME.fullmatch(name):
        bad = next(c for c in name if not _GROUP_NAME.fullmatch(c))
        raise ValidationError(
            f"log group name {name!r} may only hold letters, digits and . - _ / #, "
            f"not {bad!r}")
    return name


def check_stream_name(name: str) -> str:
    """A log stream name: 1-512 characters, neither ``:`` nor ``*``."""
    if not 1 <= len(name) <= MAX_NAME:
        raise ValidationError(f"a log stream name is 1-{MAX_NAME} characters, not {len(name)}")
    for char in ":*":
        if char in name:
            raise ValidationError(f"log stream name {name!r} may not contain {char!r}")
    return name


def check_retention(days: int) -> int:
    """One of CloudWatch's retention periods (:data:`RETENTION_DAYS`)."""
    if days not in RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in RETENTION_DAYS)
        raise ValidationError(f"retention must be one of {allowed} days, not {days}")
    return days


def expiry_cutoff(retention_days: int, now: int) -> int:
    """Events with a timestamp before this (epoch ms) have expired."""
    return now - retention_days * DAY_MS


@dataclass
class LogGroup:
    name: str
    created_on: int
    retention_days: int | None = None
    stored_events: int = 0
    stored_bytes: int = 0
    metric_filter_count: int = 0

    def to_json(self, arn: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "logGroupName": self.name,
            "creationTime": self.created_on,
            "retentionInDays": self.retention_days,
            "metricFilterCount": self.metric_filter_count,
            "storedEvents": self.stored_events,
            "storedBytes": self.stored_bytes,
        }
        if arn is not None:
            data["arn"] = arn
        return data


@dataclass
class LogStream:
    group: str
    name: str
    created_on: int
    first_event: int | None = None
    last_event: int | None = None
    last_ingestion: int | None = None
    stored_events: int = 0
    stored_bytes: int = 0

    def to_json(self, arn: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "logGroupName": self.group,
            "logStreamName": self.name,
            "creationTime": self.created_on,
            "firstEventTimestamp": self.first_event,
            "lastEventTimestamp": self.last_event,
            "lastIngestionTime": self.last_ingestion,
            "storedEvents": self.stored_events,
            "storedBytes": self.stored_bytes,
        }
        if arn is not None:
            data["arn"] = arn
        return data


@dataclass
class ExpiredEvents:
    """What one expiry pass removed from one group."""

    group: str
    retention_days: int
    cutoff: int
    deleted_events: int
    deleted_streams: int

    def to_json(self) -> dict[str, Any]:
        return {"logGroupName": self.group, "retentionInDays": self.retention_days,
                "cutoffTime": self.cutoff, "deletedEvents": self.deleted_events,
                "deletedStreams": self.deleted_streams}
