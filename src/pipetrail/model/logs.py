"""Log events and the log groups job runs write to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipetrail.model.clock import iso_from_ms

OUTPUT_GROUP = "/pipetrail/jobs/output"
ERROR_GROUP = "/pipetrail/jobs/error"
INSIGHTS_GROUP = "/pipetrail/jobs/insights"
# Largest message one log event holds (CloudWatch's limit); longer lines are split.
MAX_MESSAGE_BYTES = 256 * 1024 - 26


@dataclass(slots=True)
class LogEvent:
    """One log event. ``partial`` and ``run_id`` travel with an event on its way to the
    store and are not stored: ``partial`` marks a piece of a line that goes on in the next
    event of the same stream (a line too long to hold in memory at once), ``run_id`` the
    job run that wrote it."""

    group: str
    stream: str
    timestamp: int
    message: str
    ingestion_time: int | None = None
    event_id: int | None = None
    partial: bool = False
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "logGroupName": self.group,
            "logStreamName": self.stream,
            "timestamp": self.timestamp,
            "time": iso_from_ms(self.timestamp),
            "ingestionTime": self.ingestion_time,
            "message": self.message,
            "eventId": self.event_id,
        }


def split_message(message: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """Split a message into pieces of at most ``limit`` UTF-8 bytes, never mid-character."""
    data = message.encode("utf-8")
    if len(data) <= limit:
        return [message]
    pieces: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces
