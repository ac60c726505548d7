"""The audit event: a CloudTrail-shaped record of who did what to which resource."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from pipetrail.model.clock import cloudtrail_time, now_ms
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity

EVENT_VERSION = "1.11"
MAX_EVENT_BYTES = 256 * 1024
EVENT_TYPES = ("ApiCall", "DataAccess", "ServiceEvent", "Insight")
EVENT_CATEGORIES = ("Management", "Data", "Insight")
DATA_OPERATIONS = ("read", "write", "delete")

EventType = Literal["ApiCall", "DataAccess", "ServiceEvent", "Insight"]


@dataclass(frozen=True)
class Resource:
    """One resource an event touched: ``{"type": ..., "ARN": ...}``."""

    type: str
    arn: str

    def to_record(self) -> dict[str, str]:
        return {"type": self.type, "ARN": self.arn}


@dataclass
class AuditEvent:
    """One audit event. ``to_record`` gives the CloudTrail-shaped JSON object."""

    event_source: str
    event_name: str
    identity: Identity
    event_type: EventType = "ApiCall"
    read_only: bool = False
    request_parameters: dict[str, Any] | None = None
    response_elements: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    resources: list[Resource] = field(default_factory=list)
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    event_time_ms: int = field(default_factory=now_ms)
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Data events: what CloudTrail lacks.
    dataset: str | None = None
    operation: str | None = None
    rows: int | None = None
    bytes: int | None = None
    columns: list[str] | None = None
    run_id: str | None = None
    additional: dict[str, Any] | None = None

    @property
    def event_category(self) -> str:
        if self.event_type == "DataAccess":
            return "Data"
        if self.event_type == "Insight":
            return "Insight"
        return "Management"

    @property
    def workspace(self) -> str:
        return self.identity.workspace

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": self.identity.to_record(),
            "eventTime": cloudtrail_time(self.event_time_ms),
            "eventSource": self.event_source,
            "eventName": self.event_name,
            "awsRegion": "local",
            "sourceIPAddress": self.source_ip,
            "userAgent": self.user_agent[:1024],
            "requestParameters": self.request_parameters,
            "responseElements": self.response_elements,
            "requestID": self.request_id,
            "eventID": self.event_id,
            "readOnly": self.read_only,
            "resources": [r.to_record() for r in self.resources],
            "eventType": self.event_type,
            "managementEvent": self.event_category == "Management",
            "recipientAccountId": self.workspace,
            "eventCategory": self.event_category,
        }
        if self.error_code is not None:
            record["errorCode"] = self.error_code[:1024]
            record["errorMessage"] = (self.error_message or "")[:1024]
        if self.dataset is not None:
            record["dataset"] = self.dataset
            record["operation"] = self.operation
            record["rows"] = self.rows
            record["bytes"] = self.bytes
            record["columns"] = self.columns
        if self.run_id is not None:
            record["jobRunId"] = self.run_id
        if self.additional:
            record["additionalEventData"] = self.additional
        return record

    def validate(self) -> builtins.bytes:
        """Check the event and return its canonical JSON; raise ValidationError if bad."""
        if self.event_type not in EVENT_TYPES:
            raise ValidationError(f"eventType must be one of {', '.join(EVENT_TYPES)}")
        if not self.event_source or not self.event_name:
            raise ValidationError("eventSource and eventName are required")
        if self.dataset is not None and self.operation not in DATA_OPERATIONS:
            raise ValidationError(
                f"operation must be one of {', '.join(DATA_OPERATIONS)} for a data event"
            )
        for name in ("rows", "bytes"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValidationError(f"{name} must be a non-negative integer")
        try:
            body = orjson.dumps(self.to_record(), option=orjson.OPT_SORT_KEYS)
        except TypeError as exc:  # an integer beyond 64 bits, an object JSON cannot hold
            raise ValidationError(f"audit event {self.event_id} holds a value that is not "
                                  f"JSON: {exc}") from None
        if len(body) > MAX_EVENT_BYTES:
            raise ValidationError(
                f"audit event {self.event_id} is {len(body)} bytes; the limit is "
                f"{MAX_EVENT_BYTES} bytes (256 KiB)"
            )
        return body
