"""Recording audit events into the store."""

from __future__ import annotations

from collections.abc import Sequence

from pipetrail.model.audit import AuditEvent
from pipetrail.store import Store


def record(store: Store, event: AuditEvent) -> None:
    """Record one event (validated; refused with a clear error when invalid)."""
    store.append_audit_events([event])


def record_many(store: Store, events: Sequence[AuditEvent]) -> int:
    """Record a batch in one transaction; returns how many were new (ids deduplicate)."""
    return store.append_audit_events(events)
