"""Audit events on the bus, for the rules that ask for them.

Every API call, data access and service event is in the trail; putting all of them on
the bus would cost a rule match for each. So, as CloudTrail does with EventBridge, the
trail is offered only to rules that opt in — a rule whose pattern names the source
``pipetrail.trail`` exactly — and read-only management events (``Get…``, ``List…``,
``Describe…``, ``LookupEvents`` …) only to rules in state
``ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS``. With no such rule, nothing is read.

The :class:`TrailFollower` reads the trail in order from a cursor kept in the store,
starting where it stood when the first opting-in rule appeared, and moves the cursor in
the same transaction that queues the deliveries, so each audit event is published once
however many delivery loops run. It is part of the delivery loop
(``pipetrail events deliver``, the server).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from pipetrail.events.bus import Bus
from pipetrail.events.envelope import EventEnvelope
from pipetrail.events.rules import TRAIL_SOURCE
from pipetrail.model.clock import now_ms
from pipetrail.store.events import NewDelivery

if TYPE_CHECKING:
    from pipetrail.store import Store

CURSOR = "trail"
BATCH = 500
GAP_WAIT_SECONDS = 5.0
"""How long a missing sequence number is waited for (a transaction on PostgreSQL that
has taken it but not committed yet) before the follower moves past it."""
TRAIL_NAMESPACE = uuid.UUID("0b8e6a55-52f1-4b8c-8b9c-0d0c6f2f6f1e")

DETAIL_TYPES = {
    "ApiCall": "Pipetrail API Call via Trail",
    "ServiceEvent": "Pipetrail Service Event via Trail",
    "DataAccess": "Pipetrail Data Access via Trail",
    "Insight": "Pipetrail Insight via Trail",
}


def trail_event(record: Mapping[str, Any], workspace: str) -> EventEnvelope:
    """The bus event of one CloudTrail-shaped audit record; ``detail`` is the record."""
    event_id = str(record.get("eventID"))
    try:
        when = datetime.fromisoformat(str(record.get("eventTime")).replace("Z", "+00:00"))
        time_ms = int(when.timestamp() * 1000)
    except ValueError:
        time_ms = now_ms()
    resources = tuple(str(r["ARN"]) for r in record.get("resources") or []
                      if isinstance(r, Mapping) and isinstance(r.get("ARN"), str))
    kind = DETAIL_TYPES.get(str(record.get("eventType")), "Pipetrail API Call via Trail")
    return EventEnvelope(source=TRAIL_SOURCE, detail_type=kind, detail=dict(record),
                         account=str(record.get("recipientAccountId") or workspace),
                         resources=resources, time_ms=time_ms,
                         id=str(uuid.uuid5(TRAIL_NAMESPACE, event_id)))


def is_read_only_management(record: Mapping[str, Any]) -> bool:
    return bool(record.get("readOnly")) and record.get("eventCategory",
                                                       "Management") == "Management"


class TrailFollower:
    def __init__(self, store: Store, workspace: str, bus: Bus | None = None,
                 batch: int = BATCH, gap_wait: float = GAP_WAIT_SECONDS) -> None:
        self.store = store
        self.workspace = workspace
        self.bus = bus or Bus(store, workspace)
        self.batch = batch
        self.gap_wait = gap_wait
        self._gap_seen: dict[int, float] = {}

    def poll(self) -> int:
        """Publish the audit events stored since the last poll; returns how many
        deliveries were queued."""
        routing = self.bus.routing()
        if not len(routing.trail):
            if self.store.get_cursor(CURSOR) is not None:
                self.store.delete_cursor(CURSOR)
            return 0
        position = self.store.get_cursor(CURSOR)
        if position is None:
            self.store.init_cursor(CURSOR, self.store.last_audit_seq(), now_ms())
            return 0
        rows = self.store.audit_events_after(position, self.batch)
        taken: list[str] = []
        end = position
        for seq, body in rows:
            if seq != end + 1 and not self._gap_expired(end + 1):
                break
            taken.append(body)
            end = seq
        if end == position:
            return 0
        now = now_ms()
        deliveries: list[NewDelivery] = []
        for body in taken:
            record = orjson.loads(body)
            ruleset = (routing.read_only_trail if is_read_only_management(record)
                       else routing.trail)
            if not len(ruleset):
                continue
            event = trail_event(record, self.workspace).to_json()
            targets = self.bus.targets_for(event, ruleset, routing)
            deliveries.extend(self.bus.deliveries(event, targets, now))
        if self.store.advance_cursor(CURSOR, position, end, now, deliveries):
            self._gap_seen = {s: t for s, t in self._gap_seen.items() if s > end}
            return len(deliveries)
        return 0

    def _gap_expired(self, seq: int) -> bool:
        first = self._gap_seen.setdefault(seq, time.monotonic())
        return time.monotonic() - first >= self.gap_wait
