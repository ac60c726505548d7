"""Event bus actions (EventBridge names): PutRule, DescribeRule, ListRules, DeleteRule,
PutTargets, RemoveTargets, ListTargetsByRule, PutEvents, TestEventPattern; targets:
PutTarget, DescribeTarget, ListTargets, DeleteTarget; dead letters: ListDeadLetters,
RedriveDeadLetters. Delivery itself (:func:`delivery_loop`) is not an API call.

Each is decided for the rules and targets it names (``arn:pipetrail:events:<workspace>:
rule/<name>``, ``…:target/<name>``), PutEvents for the bus (``…:event-bus/default``), and
the listing calls for ``*``."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from pipetrail.actions.context import ActionContext
from pipetrail.events.delivery import Attempt, Deliverer
from pipetrail.events.envelope import EventEnvelope, check_envelope
from pipetrail.events.event import parse_event
from pipetrail.events.loop import DeliveryLoop
from pipetrail.events.notifier import Notifier
from pipetrail.events.pattern import compile_pattern
from pipetrail.events.rules import MAX_PATTERN_CHARS, Rule, check_name, check_targets
from pipetrail.events.settings import DeliverySettings
from pipetrail.events.targets import Target, get_kind
from pipetrail.events.targets.target import masked
from pipetrail.events.trail_events import CURSOR as TRAIL_CURSOR
from pipetrail.model.arn import event_bus_arn, rule_arn, target_arn
from pipetrail.model.audit import MAX_EVENT_BYTES, Resource
from pipetrail.model.clock import iso_from_ms, now_ms, parse_time
from pipetrail.model.errors import AccessDeniedError, PipetrailError, ValidationError
from pipetrail.store.events import DEAD, StoredDelivery, StoredRule, StoredTarget

SOURCE = "events"
TARGET_TYPE_KEY = "events:TargetType"
MAX_ENTRIES = 10
MAX_DETAIL_TYPE = 128
MAX_SOURCE = 256
MAX_RESOURCES = 20
RESERVED_SOURCES = ("aws.", "pipetrail.")
MAX_LIST = 1000
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
RECORDED_CHARS = 256


def _rule_resource(ctx: ActionContext, name: str) -> Resource:
    return Resource("Pipetrail::Events::Rule", rule_arn(ctx.workspace, name))


def _target_resource(ctx: ActionContext, name: str) -> Resource:
    return Resource("Pipetrail::Events::Target", target_arn(ctx.workspace, name))


def _rule(ctx: ActionContext, name: str) -> list[Resource]:
    """The rule a request names, checked (decided for ``*`` when the name is bad)."""
    return [_rule_resource(ctx, check_name(name, "rule"))]


def _targets(ctx: ActionContext, names: Sequence[str]) -> list[Resource]:
    return [_target_resource(ctx, check_name(n, "target")) for n in dict.fromkeys(names)]


def rule_json(ctx: ActionContext, stored: StoredRule) -> dict[str, Any]:
    return {
        "name": stored.name, "arn": rule_arn(ctx.workspace, stored.name),
        "eventPattern": stored.pattern, "state": stored.state,
        "description": stored.description, "targets": list(stored.targets),
        "createdOn": iso_from_ms(stored.created_on), "updatedOn": iso_from_ms(stored.updated_on),
    }


# -- rules ------------------------------------------------------------------------------


def put_rule(ctx: ActionContext, name: str, pattern: str, state: str = "ENABLED",
             description: str = "", targets: Sequence[str] | None = None) -> dict[str, Any]:
    """PutRule: create or replace a rule. With ``targets``, the rule's targets become
    exactly those; without, they are kept."""
    params = {"name": name, "eventPattern": pattern, "state": state,
              "description": description or None,
              "targets": list(targets) if targets is not None else None}
    with ctx.call(SOURCE, "PutRule", read_only=False, params=params,
                  resources=lambda: _rule(ctx, name)) as call:
        rule = Rule(name=name, pattern_text=pattern, state=state, description=description,
                    targets=list(targets or []))
        rule.validate()
        now = now_ms()
        created = ctx.store.put_rule(
            StoredRule(name, pattern, rule.state, description, now, now),
            rule.targets if targets is not None else None)
        if rule.receives_trail:
            # Trail events are offered from now on (not from the start of the trail).
            ctx.store.init_cursor(TRAIL_CURSOR, ctx.store.last_audit_seq(), now)
        result = rule_json(ctx, ctx.store.get_rule(name))
        call.response = {"ruleArn": result["arn"], "created": created}
        return result


def describe_rule(ctx: ActionContext, name: str) -> dict[str, Any]:
    with ctx.call(SOURCE, "DescribeRule", read_only=True, params={"name": name},
                  resources=lambda: _rule(ctx, name)):
        return rule_json(ctx, ctx.store.get_rule(name))


def list_rules(ctx: ActionContext, prefix: str | None = None, target: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
    """ListRules: by name; ``target`` keeps the rules sending to that target."""
    params = {"namePrefix": prefix, "targetName": target, "limit": limit}
    with ctx.call(SOURCE, "ListRules", read_only=True, params=params):
        if not 1 <= limit <= MAX_LIST:
            raise ValidationError(f"limit must be between 1 and {MAX_LIST}")
        return [rule_json(ctx, r) for r in ctx.store.list_rules(prefix=prefix, target=target,
                                                                limit=limit)]


def delete_rule(ctx: ActionContext, name: str) -> None:
    """DeleteRule: the rule and its links to targets (deliveries already queued stay)."""
    with ctx.call(SOURCE, "DeleteRule", read_only=False, params={"name": name},
                  resources=lambda: _rule(ctx, name)):
        ctx.store.delete_rule(name)


def put_targets(ctx: ActionContext, rule: str, targets: Sequence[str]) -> dict[str, Any]:
    """PutTargets: add targets to a rule (at most 5 per rule); decided for the rule and
    for each target."""
    params = {"rule": rule, "targets": list(targets)}

    def named() -> list[Resource]:
        if not targets:
            raise ValidationError("name at least one target")
        check_targets(targets)
        return [*_rule(ctx, rule), *_targets(ctx, targets)]

    with ctx.call(SOURCE, "PutTargets", read_only=False, params=params,
                  resources=named) as call:
        names = check_targets(targets)
        current = ctx.store.get_rule(rule).targets
        check_targets([*current, *names])
        added = ctx.store.add_rule_targets(rule, names)
        call.response = {"added": added}
        return rule_json(ctx, ctx.store.get_rule(rule))


def remove_targets(ctx: ActionContext, rule: str, targets: Sequence[str]) -> dict[str, Any]:
    """RemoveTargets: unlink targets from a rule (the targets themselves stay)."""
    params = {"rule": rule, "targets": list(targets)}
    with ctx.call(SOURCE, "RemoveTargets", read_only=False, params=params,
                  resources=lambda: _rule(ctx, rule)) as call:
        if not targets:
            raise ValidationError("name at least one target")
        removed = ctx.store.remove_rule_targets(rule, list(targets))
        call.response = {"removed": removed}
        return rule_json(ctx, ctx.store.get_rule(rule))


def list_targets_by_rule(ctx: ActionContext, rule: str) -> list[dict[str, Any]]:
    with ctx.call(SOURCE, "ListTargetsByRule", read_only=True, params={"rule": rule},
                  resources=lambda: _rule(ctx, rule)):
        names = ctx.store.get_rule(rule).targets
        return [_target(s).to_json(ctx.workspace)
                for s in ctx.store.list_targets(names=names)]


# -- targets ----------------------------------------------------------------------------


def _target(stored: StoredTarget) -> Target:
    return Target.from_stored(stored.name, stored.kind, stored.config, stored.secret)


def _safe_config(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """What of a target request may be recorded in the trail: no secret, no Slack URL,
    no header values."""
    return masked({k: v for k, v in config.items() if not (kind == "slack" and k == "url")})


def put_target(ctx: ActionContext, name: str, kind: str, config: Mapping[str, Any],
               secret: str | None = None, *, allow_command: bool = True
               ) -> tuple[dict[str, Any], str | None]:
    """PutTarget: create or replace a target. A webhook given no secret keeps the one it
    has, or gets a new one; returns the target and the new secret (shown once).

    Decided for the target with the condition key ``events:TargetType`` (the ``kind``), so
    that policies can keep principals from creating command targets, which run programs
    on the host that delivers. ``allow_command=False`` (the server, unless its operator
    set ``PIPETRAIL_SERVER_COMMAND_TARGETS=1``) refuses command targets outright."""
    params = {"name": name, "type": kind,
              "config": _safe_config(kind, config) if isinstance(config, Mapping) else None,
              "secretGiven": secret is not None or None}
    with ctx.call(SOURCE, "PutTarget", read_only=False, params=params,
                  resources=lambda: _targets(ctx, [name]),
                  condition_keys={TARGET_TYPE_KEY: kind}) as call:
        if kind == "command" and not allow_command:
            raise AccessDeniedError(
                "command targets run programs on the server's host: this server refuses "
                "them (its operator can allow them with PIPETRAIL_SERVER_COMMAND_TARGETS=1)")
        target_kind = get_kind(kind)
        generated = None
        if secret is None:
            existing = None
            with contextlib.suppress(PipetrailError):
                existing = ctx.store.get_target(name)
            if existing is not None and existing.kind == kind and existing.secret:
                secret = existing.secret
            else:
                generated = secret = target_kind.new_secret()
        target = Target.from_request(name, kind, config, secret)
        now = now_ms()
        created = ctx.store.put_target(StoredTarget(
            name, kind, target.config_json(), target.secret, now, now))
        call.response = {"targetArn": target_arn(ctx.workspace, name), "created": created}
        return target.to_json(ctx.workspace), generated


def describe_target(ctx: ActionContext, name: str) -> dict[str, Any]:
    with ctx.call(SOURCE, "DescribeTarget", read_only=True, params={"name": name},
                  resources=lambda: _targets(ctx, [name])):
        data = _target(ctx.store.get_target(name)).to_json(ctx.workspace)
        data["rules"] = [r.name for r in ctx.store.list_rules(target=name)]
        return data


def list_targets(ctx: ActionContext) -> list[dict[str, Any]]:
    with ctx.call(SOURCE, "ListTargets", read_only=True):
        return [_target(s).to_json(ctx.workspace) for s in ctx.store.list_targets()]


def delete_target(ctx: ActionContext, name: str) -> None:
    """DeleteTarget: refused while rules send to it."""
    with ctx.call(SOURCE, "DeleteTarget", read_only=False, params={"name": name},
                  resources=lambda: _targets(ctx, [name])):
        users = ctx.store.delete_target(name)
        if users:
            raise ValidationError(f"target {name!r} is used by rule(s) {', '.join(users)}; "
                                  "remove it from them first (remove-targets)")


# -- publishing -------------------------------------------------------------------------


def _entry_event(ctx: ActionContext, entry: Mapping[str, Any]) -> EventEnvelope:
    """One PutEvents entry (``Source``, ``DetailType``, ``Detail``, ``Resources``,
    ``Time``) as an event."""
    if not isinstance(entry, Mapping):
        raise ValidationError("an entry must be an object")
    extra = set(entry) - {"Source", "DetailType", "Detail", "Resources", "Time",
                          "EventBusName"}
    if extra:
        raise ValidationError(f"unknown entry field(s) {', '.join(sorted(extra))}")
    source = entry.get("Source")
    kind = entry.get("DetailType")
    if not isinstance(source, str) or not 1 <= len(source) <= MAX_SOURCE:
        raise ValidationError(f"Source: 1 to {MAX_SOURCE} characters required")
    if source.startswith(RESERVED_SOURCES):
        raise ValidationError(f"Source {source!r}: sources starting with 'aws.' or "
                              "'pipetrail.' are reserved")
    if not isinstance(kind, str) or not 1 <= len(kind) <= MAX_DETAIL_TYPE:
        raise ValidationError(f"DetailType: 1 to {MAX_DETAIL_TYPE} characters required")
    detail_text = entry.get("Detail", "{}")
    if isinstance(detail_text, Mapping):
        detail = dict(detail_text)
    elif isinstance(detail_text, str):
        try:
            detail = orjson.loads(detail_text)
        except orjson.JSONDecodeError as exc:
            raise ValidationError(f"Detail is not valid JSON: {exc}") from None
        if not isinstance(detail, dict):
            raise ValidationError("Detail must be a JSON object")
    else:
        raise ValidationError("Detail must be a JSON object (or its text)")
    resources = entry.get("Resources", [])
    if not isinstance(resources, list) or len(resources) > MAX_RESOURCES or not all(
            isinstance(r, str) and r for r in resources):
        raise ValidationError(f"Resources: a list of at most {MAX_RESOURCES} ARNs")
    when = entry.get("Time")
    time_ms = now_ms()
    if when is not None:
        time_ms = _entry_time(when)
    event = EventEnvelope(source=source, detail_type=kind, detail=detail,
                          account=ctx.workspace, resources=tuple(resources), time_ms=time_ms)
    try:
        size = len(orjson.dumps(event.to_json()))
    except TypeError as exc:  # an integer beyond 64 bits, a lone surrogate …
        raise ValidationError(f"Detail holds a value that is not JSON: {exc}") from None
    if size > MAX_EVENT_BYTES:
        raise ValidationError(f"the event is {size} bytes; at most {MAX_EVENT_BYTES}")
    return event


def _entry_time(when: object) -> int:
    """An entry's ``Time``: ISO 8601 text or epoch seconds, between 1970 and 9999."""
    if isinstance(when, bool) or not isinstance(when, str | int | float):
        raise ValidationError("Time must be an ISO 8601 time or epoch seconds")
    if isinstance(when, float) and not math.isfinite(when):
        raise ValidationError("Time must be a finite number of epoch seconds")
    time_ms = parse_time(str(int(when)) if isinstance(when, int | float) else when)
    if not 0 <= time_ms <= MAX_TIME_MS:
        raise ValidationError(f"Time {when!r} is not between 1970 and 9999")
    return time_ms


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    data: dict[str, Any] = {"deliveryId": attempt.delivery_id, "target": attempt.target,
                            "attempt": attempt.attempt, "outcome": attempt.outcome}
    if attempt.code:
        data.update(errorCode=attempt.code, errorMessage=attempt.message)
    if attempt.next_attempt is not None:
        data["nextAttempt"] = iso_from_ms(attempt.next_attempt)
    return data


def _latest_attempts(attempts: Sequence[Attempt]) -> list[Attempt]:
    latest: dict[str, Attempt] = {}
    for attempt in attempts:
        latest[attempt.delivery_id] = attempt
    return list(latest.values())


def put_events(ctx: ActionContext, entries: Sequence[Mapping[str, Any]],
               deliver: bool = True) -> dict[str, Any]:
    """PutEvents: publish custom events (1 to 10 entries). Each entry succeeds or fails
    on its own (``failedEntryCount``); every entry is checked before any is published.
    With ``deliver``, the deliveries are attempted at once, for at most
    PIPETRAIL_NOTIFY_TIMEOUT seconds; the rest stay queued. The trail records each
    entry's source, detail-type, time and resources and the size of its detail (not the
    detail itself)."""
    params = {"entries": [_entry_params(e) for e in entries[:MAX_ENTRIES + 1]]}
    bus = Resource("Pipetrail::Events::EventBus", event_bus_arn(ctx.workspace))
    with ctx.call(SOURCE, "PutEvents", read_only=False, params=params,
                  resources=[bus]) as call:
        if not 1 <= len(entries) <= MAX_ENTRIES:
            raise ValidationError(f"give 1 to {MAX_ENTRIES} entries")
        checked: list[EventEnvelope | ValidationError] = []
        for entry in entries:
            try:
                checked.append(_entry_event(ctx, entry))
            except ValidationError as exc:
                checked.append(exc)
        notifier = Notifier(ctx.store, ctx.workspace, background=True)
        results: list[dict[str, Any]] = []
        try:
            for event in checked:
                if isinstance(event, ValidationError):
                    results.append({"errorCode": event.code, "errorMessage": str(event)})
                    continue
                if deliver:
                    notifier.publish(event)
                else:
                    notifier.bus.publish(event)
                results.append({"eventId": event.id})
            if deliver:
                notifier.flush()
        finally:
            notifier.close()
        failed = sum(1 for r in results if "errorCode" in r)
        response = {"failedEntryCount": failed, "entries": results,
                    "deliveries": [attempt_json(a)
                                   for a in _latest_attempts(notifier.attempts)]}
        call.response = {"failedEntryCount": failed,
                         "eventIds": [r["eventId"] for r in results if "eventId" in r]}
        return response


def _entry_params(entry: object) -> dict[str, Any]:
    """What the trail records of a PutEvents entry: its fields cut to
    ``RECORDED_CHARS`` characters and the size of its detail, so that the record is JSON
    and stays well within an audit event's size whatever the entries hold."""
    if not isinstance(entry, Mapping):
        return {"invalid": type(entry).__name__}
    recorded: dict[str, Any] = {}
    for key in ("Source", "DetailType", "Time", "EventBusName"):
        if entry.get(key) is not None:
            recorded[key] = _cut(entry[key])
    resources = entry.get("Resources")
    if isinstance(resources, list):
        recorded["Resources"] = [_cut(r) for r in resources[:MAX_RESOURCES]]
    detail = entry.get("Detail")
    if isinstance(detail, str):
        recorded["detailBytes"] = len(detail.encode(errors="replace"))
    elif detail is not None:
        recorded["detailBytes"] = len(json.dumps(detail, default=repr).encode(
            errors="replace"))
    return recorded


def _cut(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:RECORDED_CHARS].encode(errors="replace").decode()


def match_event_pattern(ctx: ActionContext, pattern: str, event: str,
                       envelope_check: bool = True) -> bool:
    """TestEventPattern: whether ``event`` (JSON text) matches ``pattern``. With
    ``envelope_check``, the event must carry EventBridge's envelope fields (id, account,
    source, time, region, resources, detail-type). Recorded with the pattern and the
    size of the event, not its content."""
    size = len(event.encode(errors="replace"))
    params = {"eventPattern": pattern[:MAX_PATTERN_CHARS], "eventBytes": size,
              "envelopeCheck": envelope_check}
    with ctx.call(SOURCE, "TestEventPattern", read_only=True, params=params):
        if len(pattern) > MAX_PATTERN_CHARS:
            raise ValidationError(f"the event pattern is {len(pattern)} characters long; "
                                  f"at most {MAX_PATTERN_CHARS}")
        if size > MAX_EVENT_BYTES:
            raise ValidationError(f"the event is {size} bytes; at most {MAX_EVENT_BYTES}")
        compiled = compile_pattern(pattern)
        parsed = parse_event(event)
        if envelope_check:
            check_envelope(parsed.root)
        return compiled.matches(parsed)


# -- dead letters and delivery ------------------------------------------------------------


def dead_letter_json(delivery: StoredDelivery) -> dict[str, Any]:
    event = orjson.loads(delivery.event)
    return {
        "id": delivery.id, "eventId": delivery.event_id, "target": delivery.target_name,
        "origin": delivery.origin, "source": event.get("source"),
        "detailType": event.get("detail-type"), "attempts": delivery.attempts,
        "errorCode": delivery.error_code, "errorMessage": delivery.error_message,
        "queuedOn": iso_from_ms(delivery.queued_on),
        "deadOn": iso_from_ms(delivery.dead_on) if delivery.dead_on is not None else None,
        "event": event,
    }


def list_dead_letters(ctx: ActionContext, limit: int = 100) -> list[dict[str, Any]]:
    """ListDeadLetters: deliveries that gave up, newest first."""
    with ctx.call(SOURCE, "ListDeadLetters", read_only=True, params={"limit": limit}):
        if not 1 <= limit <= MAX_LIST:
            raise ValidationError(f"limit must be between 1 and {MAX_LIST}")
        return [dead_letter_json(d) for d in ctx.store.list_deliveries(DEAD, limit=limit)]


def redrive_dead_letters(ctx: ActionContext, ids: Sequence[str] | None,
                         deliver: bool = True) -> dict[str, Any]:
    """RedriveDeadLetters: put dead letters (``ids``, or all when None) back in the
    queue as new deliveries, and with ``deliver`` attempt them at once (within
    PIPETRAIL_NOTIFY_TIMEOUT seconds)."""
    params = {"ids": list(ids) if ids is not None else None, "all": ids is None or None}

    def named() -> list[Resource]:
        """The targets of the named dead letters; ``*`` for all of them."""
        if ids is None:
            return []
        if not ids:
            raise ValidationError("name at least one dead letter, or redrive all")
        found = ctx.store.list_deliveries(DEAD, ids=ids)
        missing = [i for i in ids if i not in {d.id for d in found}]
        if missing:
            raise ValidationError(f"no dead letter with id {', '.join(missing)}")
        return [_target_resource(ctx, t) for t in dict.fromkeys(d.target_name for d in found)]

    with ctx.call(SOURCE, "RedriveDeadLetters", read_only=False, params=params,
                  resources=named) as call:
        redriven = ctx.store.redrive(ids, now_ms())
        attempts: list[Attempt] = []
        if deliver and redriven:
            settings = DeliverySettings.lenient()
            notifier = Notifier(ctx.store, ctx.workspace, background=True, settings=settings,
                                deliverer=Deliverer(ctx.store, settings))
            notifier.adopt(redriven)
            try:
                notifier.flush()
            finally:
                notifier.close()
            attempts = _latest_attempts(notifier.attempts)
        call.response = {"redriven": len(redriven)}
        return {"redriven": redriven, "deliveries": [attempt_json(a) for a in attempts]}


def delivery_loop(ctx: ActionContext, poll_interval: float = 0.5) -> DeliveryLoop:
    """The delivery loop for ``pipetrail events deliver`` and the server (not an API
    call: not recorded per round)."""
    return DeliveryLoop(ctx.store, ctx.workspace, settings=DeliverySettings.from_env(),
                        poll_interval=poll_interval)

