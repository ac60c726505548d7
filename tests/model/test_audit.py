from __future__ import annotations

import orjson
import pytest

from pipetrail.model.audit import MAX_EVENT_BYTES, AuditEvent, Resource
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity

ALICE = Identity(type="LocalUser", principal_id="1000", user_name="alice")

CLOUDTRAIL_FIELDS = {
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
    "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID",
    "eventID", "readOnly", "resources", "eventType", "managementEvent",
    "recipientAccountId", "eventCategory",
}


def test_record_has_the_cloudtrail_fields() -> None:
    event = AuditEvent(event_source="jobs.pipetrail", event_name="GetJobRun", identity=ALICE,
                       read_only=True, resources=[Resource("Pipetrail::Jobs::JobRun", "arn:x")])
    record = orjson.loads(event.validate())
    assert set(record) >= CLOUDTRAIL_FIELDS
    assert record["eventCategory"] == "Management"
    assert record["userIdentity"]["userName"] == "alice"
    assert record["userIdentity"]["arn"] == "arn:pipetrail:iam:local:user/alice"
    assert record["eventTime"].endswith("Z") and len(record["eventTime"]) == 20
    assert record["resources"] == [{"type": "Pipetrail::Jobs::JobRun", "ARN": "arn:x"}]
    assert "errorCode" not in record


def test_error_and_data_fields() -> None:
    event = AuditEvent(event_source="data.pipetrail", event_name="ReadDataset", identity=ALICE,
                       event_type="DataAccess", dataset="file:///d/orders.csv",
                       operation="read", rows=10, bytes=200, columns=["a", "b"],
                       error_code="AccessDenied", error_message="no")
    record = event.to_record()
    assert record["eventCategory"] == "Data"
    assert record["managementEvent"] is False
    assert record["columns"] == ["a", "b"] and record["rows"] == 10
    assert record["errorCode"] == "AccessDenied"


def test_an_event_over_256_kib_is_refused() -> None:
    event = AuditEvent(event_source="jobs.pipetrail", event_name="X", identity=ALICE,
                       request_parameters={"blob": "x" * MAX_EVENT_BYTES})
    with pytest.raises(ValidationError, match="256 KiB"):
        event.validate()


@pytest.mark.parametrize("changes, message", [
    ({"event_type": "Nope"}, "eventType"),
    ({"event_name": ""}, "eventName"),
    ({"dataset": "s3://b/k", "operation": "copy"}, "operation"),
    ({"dataset": "s3://b/k", "operation": "read", "rows": -1}, "rows"),
])
def test_invalid_fields_are_named(changes: dict[str, object], message: str) -> None:
    event = AuditEvent(event_source="jobs.pipetrail", event_name="X", identity=ALICE)
    for key, value in changes.items():
        setattr(event, key, value)
    with pytest.raises(ValidationError, match=message):
        event.validate()
