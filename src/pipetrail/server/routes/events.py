"""The event bus: rules (PutRule, DescribeRule, ListRules, DeleteRule), their targets
(PutTargets, RemoveTargets, ListTargetsByRule), targets (PutTarget, DescribeTarget,
ListTargets, DeleteTarget), PutEvents, TestEventPattern, and dead letters
(ListDeadLetters, RedriveDeadLetters).

Deliveries queued here (PutEvents, a redrive) are made by the server's leader within a
second; ``"deliver": true`` attempts them within the request instead (for at most
``PIPETRAIL_NOTIFY_TIMEOUT`` seconds) and answers with the attempts.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pipetrail.actions import events
from pipetrail.events.rules import MAX_DESCRIPTION, MAX_NAME, MAX_PATTERN_CHARS
from pipetrail.model.audit import MAX_EVENT_BYTES
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX

router = APIRouter(prefix=f"{PREFIX}/events", tags=["events"], responses=ERRORS)

Name = Annotated[str, Path(min_length=1, max_length=MAX_NAME,
                           description="letters, digits, '.', '-' and '_'")]
NameText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME)]
Names = Annotated[list[NameText], Field(min_length=1, max_length=20)]
Json = str | dict[str, Any]
Limit = Annotated[int, Query(ge=1, le=events.MAX_LIST)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PutRuleBody(Body):
    eventPattern: Json = Field(
        description=f"the event pattern: a JSON object or its text (at most "
                    f"{MAX_PATTERN_CHARS} characters)",
        examples=[{"source": ["pipetrail.jobs"], "detail": {"state": ["FAILED"]}}])
    state: Literal["ENABLED", "DISABLED", "ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS"] = Field(
        default="ENABLED", description="ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS also offers "
                                       "the rule read-only trail events")
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] = ""
    targets: Annotated[list[NameText] | None, Field(
        max_length=20, description="given, the rule's targets become exactly these "
                                   "(at most 5); omitted, they are kept")] = None


class TargetsBody(Body):
    targets: Names


class RetryPolicy(Body):
    MaximumRetryAttempts: int | None = Field(default=None, ge=0, le=10_000)
    MaximumEventAgeInSeconds: int | None = Field(default=None, ge=0, le=10_000_000)


Line = Annotated[str, StringConstraints(max_length=4096)]


class PutTargetBody(Body):
    """A target's settings, by type: webhook (``url``, ``headers``, ``secret``), slack
    (``url``), email (``to``, ``subjectPrefix``), command (``command``)."""

    type: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        examples=["webhook"], description="webhook, slack, email or command")
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    headers: Annotated[dict[Line, Line] | None, Field(max_length=20)] = None
    to: Annotated[list[Annotated[str, StringConstraints(max_length=320)]] | None,
                  Field(max_length=50)] = None
    subjectPrefix: Annotated[str, StringConstraints(max_length=100)] | None = None
    command: Line | Annotated[list[Line], Field(max_length=100)] | None = Field(
        default=None, description="a program and its arguments: a list, or one line split "
                                  "as a shell would (no shell runs it)")
    timeoutSeconds: float | None = Field(default=None, gt=0, le=60)
    retryPolicy: RetryPolicy | None = None
    secret: Annotated[str, StringConstraints(max_length=1024)] | None = Field(
        default=None, description="a webhook's signing secret (at least 16 characters); "
                                  "default: the one it has, or a new one, answered once")


class Entry(Body):
    """One PutEvents entry, as EventBridge's; an entry that is not valid is refused on its
    own (``failedEntryCount``)."""

    Source: Annotated[str, StringConstraints(max_length=1024)] | None = None
    DetailType: Annotated[str, StringConstraints(max_length=1024)] | None = None
    Detail: Json | None = None
    Resources: Annotated[list[Line] | None, Field(max_length=100)] = None
    Time: str | int | float | None = None
    EventBusName: Annotated[str, StringConstraints(max_length=1600)] | None = None


class PutEventsBody(Body):
    entries: Annotated[list[Entry], Field(min_length=1, max_length=events.MAX_ENTRIES)]
    deliver: bool = Field(default=False, description="attempt the deliveries within the "
                                                     "request; default: the leader does")


class TestPatternBody(Body):
    eventPattern: Json
    event: Json = Field(description=f"the event: a JSON object or its text (at most "
                                    f"{MAX_EVENT_BYTES} bytes)")
    envelopeCheck: bool = Field(default=True,
                                description="the event must carry EventBridge's envelope "
                                            "fields (id, account, source, time, region, "
                                            "resources, detail-type)")


class RedriveBody(Body):
    ids: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None,
                   Field(min_length=1, max_length=events.MAX_LIST)] = None
    all: bool = Field(default=False, description="redrive every dead letter")
    deliver: bool = Field(default=False, description="attempt them within the request")

    @model_validator(mode="after")
    def one_choice(self) -> RedriveBody:
        if (self.ids is None) == (not self.all):
            raise ValueError("give the dead letters' ids, or all: true (not both)")
        return self


def _text(value: Json) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# -- rules ------------------------------------------------------------------------------


@router.get("/rules", summary="ListRules: rules by name")
def list_rules(
    ctx: Ctx,
    name_prefix: Annotated[str | None, Query(alias="namePrefix", min_length=1,
                                             max_length=MAX_NAME)] = None,
    target_name: Annotated[str | None, Query(alias="targetName", min_length=1,
                                             max_length=MAX_NAME)] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    return {"rules": events.list_rules(ctx, name_prefix, target_name, limit)}


@router.put("/rules/{name}", summary="PutRule: create or replace a rule")
def put_rule(ctx: Ctx, name: Name, body: PutRuleBody) -> dict[str, Any]:
    rule = events.put_rule(ctx, name, _text(body.eventPattern), body.state, body.description,
                           body.targets)
    return {"rule": rule}


@router.get("/rules/{name}", summary="DescribeRule: one rule")
def describe_rule(ctx: Ctx, name: Name) -> dict[str, Any]:
    return {"rule": events.describe_rule(ctx, name)}


@router.delete("/rules/{name}",
               summary="DeleteRule: a rule (its targets stay; queued deliveries go out)")
def delete_rule(ctx: Ctx, name: Name) -> dict[str, Any]:
    events.delete_rule(ctx, name)
    return {"name": name, "deleted": True}


@router.get("/rules/{name}/targets", summary="ListTargetsByRule: the targets of a rule")
def list_targets_by_rule(ctx: Ctx, name: Name) -> dict[str, Any]:
    return {"targets": events.list_targets_by_rule(ctx, name)}


@router.post("/rules/{name}/targets", summary="PutTargets: add targets to a rule")
def put_targets(ctx: Ctx, name: Name, body: TargetsBody) -> dict[str, Any]:
    return {"rule": events.put_targets(ctx, name, body.targets)}


@router.delete("/rules/{name}/targets",
               summary="RemoveTargets: remove targets from a rule (the targets stay)")
def remove_targets(
    ctx: Ctx, name: Name,
    target: Annotated[list[NameText], Query(min_length=1, max_length=20,
                                            description="a target to remove (repeat)")],
) -> dict[str, Any]:
    return {"rule": events.remove_targets(ctx, name, target)}


# -- targets ----------------------------------------------------------------------------


@router.get("/targets", summary="ListTargets: targets by name (never their secrets)")
def list_targets(ctx: Ctx) -> dict[str, Any]:
    return {"targets": events.list_targets(ctx)}


def command_targets_allowed() -> bool:
    """Whether callers may create command targets over HTTP (off unless the operator sets
    ``PIPETRAIL_SERVER_COMMAND_TARGETS=1``: they run programs on the server's host)."""
    return os.environ.get("PIPETRAIL_SERVER_COMMAND_TARGETS", "").strip() in {"1", "true"}


@router.put("/targets/{name}", summary="PutTarget: create or replace a target")
def put_target(ctx: Ctx, name: Name, body: PutTargetBody) -> dict[str, Any]:
    config = body.model_dump(exclude_none=True, exclude={"type", "secret"})
    target, generated = events.put_target(ctx, name, body.type, config, body.secret,
                                          allow_command=command_targets_allowed())
    answer: dict[str, Any] = {"target": target}
    if generated:
        answer["generatedSecret"] = generated
    return answer


@router.get("/targets/{name}", summary="DescribeTarget: one target with the rules "
                                       "sending to it")
def describe_target(ctx: Ctx, name: Name) -> dict[str, Any]:
    return {"target": events.describe_target(ctx, name)}


@router.delete("/targets/{name}", summary="DeleteTarget: a target no rule sends to")
def delete_target(ctx: Ctx, name: Name) -> dict[str, Any]:
    events.delete_target(ctx, name)
    return {"name": name, "deleted": True}


# -- publishing -------------------------------------------------------------------------


@router.post("", summary="PutEvents: publish custom events to the bus")
def put_events(ctx: Ctx, body: PutEventsBody) -> dict[str, Any]:
    entries = [entry.model_dump(exclude_none=True) for entry in body.entries]
    return events.put_events(ctx, entries, deliver=body.deliver)


@router.post("/test-pattern", summary="TestEventPattern: whether an event matches a pattern")
def try_pattern(ctx: Ctx, body: TestPatternBody) -> dict[str, Any]:
    result = events.match_event_pattern(ctx, _text(body.eventPattern), _text(body.event),
                                        body.envelopeCheck)
    return {"result": result}


# -- dead letters -----------------------------------------------------------------------


@router.get("/dead-letters", summary="ListDeadLetters: deliveries that gave up, newest first")
def list_dead_letters(ctx: Ctx, limit: Limit = 100) -> dict[str, Any]:
    return {"deadLetters": events.list_dead_letters(ctx, limit)}


@router.post("/dead-letters/redrive",
             summary="RedriveDeadLetters: queue dead letters again as new deliveries")
def redrive(ctx: Ctx, body: RedriveBody) -> dict[str, Any]:
    return events.redrive_dead_letters(ctx, body.ids, deliver=body.deliver)
