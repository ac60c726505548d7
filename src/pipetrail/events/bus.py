"""The event bus: an event is matched against the stored rules, and every target of every
matching rule gets a delivery in the durable queue.

A target gets one delivery per event even when several rules (or a rule and an alarm
action) lead to it; the delivery id is derived from the event id and the target name,
so publishing the same event again queues nothing new.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from pipetrail.events.envelope import EventEnvelope
from pipetrail.events.event import parse_event
from pipetrail.events.rules import Rule
from pipetrail.events.ruleset import RuleSet
from pipetrail.model.arn import rule_arn
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ValidationError
from pipetrail.store.events import NewDelivery, StoredRule

if TYPE_CHECKING:
    from pipetrail.store import Store

DELIVERY_NAMESPACE = uuid.UUID("5d1f0c62-8a38-4f57-9d43-6f1b0f6b2c11")


def delivery_id(event_id: str, target: str) -> str:
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{event_id}\n{target}"))


def rule_from_stored(stored: StoredRule) -> Rule:
    return Rule(name=stored.name, pattern_text=stored.pattern, state=stored.state,
                description=stored.description, targets=list(stored.targets))


@dataclass
class _Routing:
    """The enabled rules, compiled: all of them, those taking trail events, and those
    also taking read-only trail events."""

    rules: dict[str, Rule]
    everything: RuleSet
    trail: RuleSet
    read_only_trail: RuleSet

    @classmethod
    def build(cls, stored: Sequence[StoredRule]) -> _Routing:
        rules: dict[str, Rule] = {}
        for item in stored:
            rule = rule_from_stored(item)
            if not rule.enabled:
                continue
            try:
                rule.pattern  # noqa: B018 - a pattern that no longer compiles is skipped
            except ValidationError:
                continue
            rules[rule.name] = rule
        return cls(
            rules,
            RuleSet({n: r.pattern for n, r in rules.items()}),
            RuleSet({n: r.pattern for n, r in rules.items() if r.receives_trail}),
            RuleSet({n: r.pattern for n, r in rules.items() if r.receives_read_only_trail}),
        )


class Bus:
    """Publishes events to the rules stored in ``store``."""

    def __init__(self, store: Store, workspace: str) -> None:
        self.store = store
        self.workspace = workspace
        self._key: tuple[Any, ...] | None = None
        self._routing: _Routing | None = None

    def routing(self) -> _Routing:
        """The current rules (re-read from the store; recompiled only when they change)."""
        stored = self.store.list_rules()
        key = tuple((r.name, r.updated_on, r.state, tuple(r.targets)) for r in stored)
        if self._routing is None or key != self._key:
            self._routing = _Routing.build(stored)
            self._key = key
        return self._routing

    def targets_for(self, event: Mapping[str, Any], ruleset: RuleSet | None = None,
                    routing: _Routing | None = None) -> dict[str, str]:
        """Target name -> the ARN of the (first) rule sending the event there."""
        routing = routing or self.routing()
        rules = routing.everything if ruleset is None else ruleset
        found: dict[str, str] = {}
        if not len(rules):
            return found
        for name in rules.matching(parse_event(event)):
            for target in routing.rules[name].targets:
                found.setdefault(target, rule_arn(self.workspace, name))
        return found

    def deliveries(self, event: EventEnvelope | Mapping[str, Any], targets: Mapping[str, str],
                   now: int | None = None) -> list[NewDelivery]:
        data = event.to_json() if isinstance(event, EventEnvelope) else dict(event)
        text = orjson.dumps(data).decode()
        queued = now_ms() if now is None else now
        event_id = str(data["id"])
        return [NewDelivery(id=delivery_id(event_id, target), event_id=event_id, origin=origin,
                            target_name=target, event=text, queued_on=queued)
                for target, origin in targets.items()]

    def publish(self, event: EventEnvelope | Mapping[str, Any],
                direct: Mapping[str, str] | None = None) -> list[str]:
        """Queue ``event`` for the targets of the rules it matches, and for the
        ``direct`` targets (name -> origin ARN, e.g. an alarm's). Returns the ids of
        the deliveries."""
        data = event.to_json() if isinstance(event, EventEnvelope) else dict(event)
        targets = self.targets_for(data)
        for target, origin in (direct or {}).items():
            targets.setdefault(target, origin)
        deliveries = self.deliveries(data, targets)
        self.store.enqueue_deliveries(deliveries)
        return [d.id for d in deliveries]
