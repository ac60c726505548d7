"""Policy and request builders shared by the access tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pipetrail.access import AccessRequest, EvaluationResult, evaluate, parse_policy

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
JOB = "arn:pipetrail:jobs:local:job/nightly"
RUN = "arn:pipetrail:jobs:local:job/nightly/run/jr_1"


def statement(**fields: Any) -> dict[str, Any]:
    """An Allow statement on every action and resource, with ``fields`` laid over it."""
    body: dict[str, Any] = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    if "NotAction" in fields:
        del body["Action"]
    if "NotResource" in fields:
        del body["Resource"]
    body.update(fields)
    return body


def policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        doc["Version"] = version
    return doc


def run(policies: Sequence[Mapping[str, Any]], action: str = "jobs:GetJobRun",
        resource: str = RUN, context: Mapping[str, str | list[str]] | None = None
        ) -> EvaluationResult:
    parsed = [parse_policy(dict(p)) for p in policies]
    return evaluate(parsed, AccessRequest(action, resource, dict(context or {})), now=NOW)


def decide(doc: Mapping[str, Any], action: str = "jobs:GetJobRun", resource: str = RUN,
           context: Mapping[str, str | list[str]] | None = None) -> str:
    """The decision word for one policy and one request."""
    return str(run([doc], action, resource, context).decision)


def holds(condition: Mapping[str, Any], context: Mapping[str, str | list[str]] | None = None,
          version: str | None = "2012-10-17") -> bool:
    """Whether an Allow statement with only ``condition`` applies to the request."""
    result = decide(policy(statement(Condition=dict(condition)), version=version),
                    context=context)
    return result == "allowed"
