"""Event rules, targets, the durable delivery queue with its dead letters, and cursors.

A delivery is one event for one target. It waits in ``event_deliveries`` as ``pending``
until a deliverer *claims* it (a lease: owner and expiry, taken atomically, so two
deliverers never send it at once), then is deleted once delivered, rescheduled after a
failure, or kept as ``dead`` (a dead letter) when retries are exhausted. A deliverer that
dies mid-delivery leaves its lease behind; the delivery is claimable again once the lease
expires, or at once when the owner is known to be dead (:meth:`release_leases`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from pipetrail.model.errors import NotFoundError
from pipetrail.store import schema as t
from pipetrail.store.base import MAX_PAGE, StoreBase

PENDING = "pending"
DEAD = "dead"


@dataclass
class StoredRule:
    name: str
    pattern: str
    state: str
    description: str
    created_on: int
    updated_on: int
    targets: list[str] = field(default_factory=list)


@dataclass
class StoredTarget:
    name: str
    kind: str
    config: str  # JSON text, without the secret
    secret: str | None
    created_on: int
    updated_on: int


@dataclass
class NewDelivery:
    id: str
    event_id: str
    origin: str
    target_name: str
    event: str  # JSON text
    queued_on: int


@dataclass
class StoredDelivery:
    id: str
    event_id: str
    origin: str
    target_name: str
    event: str
    state: str
    attempts: int
    queued_on: int
    next_attempt: int
    lease_owner: str | None
    lease_until: int | None
    error_code: str | None
    error_message: str | None
    dead_on: int | None


class EventsStore(StoreBase):
    # -- rules ----------------------------------------------------------------------------

    def put_rule(self, rule: StoredRule, targets: Sequence[str] | None) -> bool:
        """Create or replace a rule (keeping its creation time); with ``targets``, its
        targets become exactly those (they must exist). True when it was created."""
        c = t.event_rules.c
        with self._write() as conn:
            if targets is not None:
                self._check_targets(conn, targets)
            existing = conn.execute(select(c.created_on).where(c.name == rule.name)).first()
            values = {"pattern": rule.pattern, "state": rule.state,
                      "description": rule.description, "updated_on": rule.updated_on}
            if existing is None:
                conn.execute(insert(t.event_rules).values(
                    name=rule.name, created_on=rule.created_on, **values))
            else:
                conn.execute(update(t.event_rules).where(c.name == rule.name).values(**values))
            if targets is not None:
                links = t.event_rule_targets
                conn.execute(delete(links).where(links.c.rule_name == rule.name))
                if targets:
                    conn.execute(insert(links), [{"rule_name": rule.name, "target_name": n}
                                                 for n in dict.fromkeys(targets)])
            return existing is None

    def _check_targets(self, conn: Connection, names: Sequence[str]) -> None:
        c = t.event_targets.c
        found = set(conn.execute(select(c.name).where(c.name.in_(list(names)))).scalars())
        missing = [n for n in names if n not in found]
        if missing:
            raise NotFoundError(f"no target named {', '.join(repr(n) for n in missing)}; "
                                "create it first with put-target")

    def get_rule(self, name: str) -> StoredRule:
        rules = self.list_rules(names=[name])
        if not rules:
            raise NotFoundError(f"no rule named {name!r}")
        return rules[0]

    def list_rules(self, names: Sequence[str] | None = None, prefix: str | None = None,
                   target: str | None = None, limit: int = MAX_PAGE) -> list[StoredRule]:
        c = t.event_rules.c
        links = t.event_rule_targets.c
        query = select(t.event_rules).order_by(c.name)
        if names is not None:
            query = query.where(c.name.in_(list(names)))
        if prefix:
            query = query.where(c.name >= prefix, c.name < prefix + "\uffff")
        if target is not None:
            query = query.where(c.name.in_(
                select(links.rule_name).where(links.target_name == target)))
        with self._read() as conn:
            rows = conn.execute(query.limit(min(limit, MAX_PAGE))).all()
            found = [r.name for r in rows]
            linked: dict[str, list[str]] = {}
            if found:
                for rule_name, target_name in conn.execute(
                        select(links.rule_name, links.target_name)
                        .where(links.rule_name.in_(found))
                        .order_by(links.rule_name, links.target_name)):
                    linked.setdefault(rule_name, []).append(target_name)
        return [StoredRule(r.name, r.pattern, r.state, r.description, r.created_on,
                           r.updated_on, linked.get(r.name, [])) for r in rows]

    def delete_rule(self, name: str) -> None:
        with self._write() as conn:
            result = conn.execute(delete(t.event_rules).where(t.event_rules.c.name == name))
            if not result.rowcount:
                raise NotFoundError(f"no rule named {name!r}")
            links = t.event_rule_targets
            conn.execute(delete(links).where(links.c.rule_name == name))

    def add_rule_targets(self, rule: str, names: Sequence[str]) -> int:
        """Link targets to a rule; returns how many links are new."""
        links = t.event_rule_targets
        with self._write() as conn:
            self._require_rule(conn, rule)
            self._check_targets(conn, names)
            have = set(conn.execute(select(links.c.target_name)
                                    .where(links.c.rule_name == rule)).scalars())
            new = [n for n in dict.fromkeys(names) if n not in have]
            if new:
                conn.execute(insert(links), [{"rule_name": rule, "target_name": n}
                                             for n in new])
            return len(new)

    def remove_rule_targets(self, rule: str, names: Sequence[str]) -> int:
        links = t.event_rule_targets
        with self._write() as conn:
            self._require_rule(conn, rule)
            result = conn.execute(delete(links).where(links.c.rule_name == rule,
                                                      links.c.target_name.in_(list(names))))
            return int(result.rowcount or 0)

    def _require_rule(self, conn: Connection, name: str) -> None:
        c = t.event_rules.c
        if conn.execute(select(c.name).where(c.name == name)).first() is None:
            raise NotFoundError(f"no rule named {name!r}")

    # -- targets --------------------------------------------------------------------------

    def put_target(self, target: StoredTarget) -> bool:
        """Create or replace a target; True when it was created."""
        c = t.event_targets.c
        with self._write() as conn:
            existing = conn.execute(select(c.name).where(c.name == target.name)).first()
            values = {"kind": target.kind, "config": target.config, "secret": target.secret,
                      "updated_on": target.updated_on}
            if existing is None:
                conn.execute(insert(t.event_targets).values(
                    name=target.name, created_on=target.created_on, **values))
            else:
                conn.execute(update(t.event_targets).where(c.name == target.name)
                             .values(**values))
            return existing is None

    def get_target(self, name: str) -> StoredTarget:
        targets = self.list_targets(names=[name])
        if not targets:
            raise NotFoundError(f"no target named {name!r}")
        return targets[0]

    def list_targets(self, names: Sequence[str] | None = None,
                     limit: int = MAX_PAGE) -> list[StoredTarget]:
        c = t.event_targets.c
        query = select(t.event_targets).order_by(c.name)
        if names is not None:
            query = query.where(c.name.in_(list(names)))
        with self._read() as conn:
            rows = conn.execute(query.limit(min(limit, MAX_PAGE))).all()
        return [StoredTarget(r.name, r.kind, r.config, r.secret, r.created_on, r.updated_on)
                for r in rows]

    def delete_target(self, name: str) -> list[str]:
        """Delete a target unless rules name it; returns the rules that do (then nothing
        is deleted)."""
        links = t.event_rule_targets.c
        with self._write() as conn:
            users = list(conn.execute(select(links.rule_name).where(links.target_name == name)
                                      .order_by(links.rule_name)).scalars())
            if users:
                return users
            result = conn.execute(delete(t.event_targets).where(t.event_targets.c.name == name))
            if not result.rowcount:
                raise NotFoundError(f"no target named {name!r}")
            return []

    # -- the delivery queue ---------------------------------------------------------------

    def enqueue_deliveries(self, deliveries: Sequence[NewDelivery]) -> None:
        """Queue deliveries, due at once; an id already in the queue is skipped."""
        if not deliveries:
            return
        rows = [{"id": d.id, "event_id": d.event_id, "origin": d.origin,
                 "target_name": d.target_name, "event": d.event, "state": PENDING,
                 "attempts": 0, "queued_on": d.queued_on, "next_attempt": d.queued_on}
                for d in deliveries]
        with self._write() as conn:
            conn.execute(self._insert_ignore(t.event_deliveries), rows)

    def claim_deliveries(self, owner: str, now: int, lease_ms: int, limit: int,
                         ids: Sequence[str] | None = None) -> list[StoredDelivery]:
        """Take the lease of up to ``limit`` pending deliveries that are due and not
        leased (of ``ids`` only, when given), counting an attempt for each."""
        c = t.event_deliveries.c
        query = (select(t.event_deliveries)
                 .where(c.state == PENDING, c.next_attempt <= now,
                        or_(c.lease_until.is_(None), c.lease_until < now))
                 .order_by(c.next_attempt, c.id).limit(limit))
        if ids is not None:
            if not ids:
                return []
            query = query.where(c.id.in_(list(ids)))
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with self._write() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return []
            conn.execute(update(t.event_deliveries)
                         .where(c.id.in_([r.id for r in rows]))
                         .values(lease_owner=owner, lease_until=now + lease_ms,
                                 attempts=c.attempts + 1))
        claimed = [_delivery(r) for r in rows]
        for d in claimed:
            d.attempts += 1
            d.lease_owner, d.lease_until = owner, now + lease_ms
        return claimed

    def complete_delivery(self, delivery_id: str) -> None:
        """The delivery arrived: it leaves the queue."""
        with self._write() as conn:
            conn.execute(delete(t.event_deliveries).where(t.event_deliveries.c.id == delivery_id))

    def retry_delivery(self, delivery_id: str, owner: str, next_attempt: int, code: str,
                       message: str) -> bool:
        """Give back the lease and schedule the next attempt (False if the lease was lost)."""
        c = t.event_deliveries.c
        with self._write() as conn:
            result = conn.execute(
                update(t.event_deliveries)
                .where(c.id == delivery_id, c.lease_owner == owner, c.state == PENDING)
                .values(next_attempt=next_attempt, lease_owner=None, lease_until=None,
                        error_code=code, error_message=message))
            return bool(result.rowcount)

    def dead_letter(self, delivery_id: str, owner: str | None, now: int, code: str,
                    message: str) -> bool:
        """Keep the delivery as a dead letter (False if the lease was lost)."""
        c = t.event_deliveries.c
        condition = [c.id == delivery_id, c.state == PENDING]
        if owner is not None:
            condition.append(c.lease_owner == owner)
        with self._write() as conn:
            result = conn.execute(
                update(t.event_deliveries).where(*condition)
                .values(state=DEAD, dead_on=now, lease_owner=None, lease_until=None,
                        error_code=code, error_message=message))
            return bool(result.rowcount)

    def delivery_states(self, ids: Sequence[str]) -> dict[str, StoredDelivery]:
        """The deliveries among ``ids`` still in the queue (pending or dead)."""
        if not ids:
            return {}
        c = t.event_deliveries.c
        with self._read() as conn:
            rows = conn.execute(select(t.event_deliveries).where(c.id.in_(list(ids)))).all()
        return {r.id: _delivery(r) for r in rows}

    def next_due(self, ids: Sequence[str] | None = None) -> int | None:
        """When the earliest pending delivery (of ``ids``) is due, or None."""
        c = t.event_deliveries.c
        query = select(func.min(func.coalesce(c.lease_until, c.next_attempt))).where(
            c.state == PENDING)
        if ids is not None:
            if not ids:
                return None
            query = query.where(c.id.in_(list(ids)))
        with self._read() as conn:
            value = conn.execute(query).scalar()
        return int(value) if value is not None else None

    def list_deliveries(self, state: str, ids: Sequence[str] | None = None,
                        limit: int = 100) -> list[StoredDelivery]:
        c = t.event_deliveries.c
        order = c.dead_on.desc() if state == DEAD else c.next_attempt
        query = select(t.event_deliveries).where(c.state == state).order_by(order, c.id)
        if ids is not None:
            query = query.where(c.id.in_(list(ids)))
        with self._read() as conn:
            rows = conn.execute(query.limit(min(limit, MAX_PAGE))).all()
        return [_delivery(r) for r in rows]

    def redrive(self, ids: Sequence[str] | None, now: int) -> list[str]:
        """Put dead letters (those of ``ids``, or all) back in the queue as new, due now;
        returns their ids."""
        c = t.event_deliveries.c
        condition = [c.state == DEAD]
        if ids is not None:
            condition.append(c.id.in_(list(ids)))
        with self._write() as conn:
            found = list(conn.execute(select(c.id).where(*condition)).scalars())
            if found:
                conn.execute(update(t.event_deliveries).where(c.id.in_(found)).values(
                    state=PENDING, attempts=0, queued_on=now, next_attempt=now,
                    dead_on=None, lease_owner=None, lease_until=None))
        return found

    def lease_owners(self, prefix: str, now: int) -> list[str]:
        """Owners (starting with ``prefix``) holding leases that have not expired."""
        c = t.event_deliveries.c
        with self._read() as conn:
            return list(conn.execute(
                select(c.lease_owner).distinct()
                .where(c.state == PENDING, c.lease_owner.is_not(None),
                       c.lease_until >= now,
                       c.lease_owner >= prefix, c.lease_owner < prefix + "\uffff")
            ).scalars())

    def release_leases(self, owner: str) -> int:
        """Make the deliveries leased by ``owner`` claimable at once."""
        c = t.event_deliveries.c
        with self._write() as conn:
            result = conn.execute(update(t.event_deliveries)
                                  .where(c.lease_owner == owner, c.state == PENDING)
                                  .values(lease_owner=None, lease_until=None))
            return int(result.rowcount or 0)

    # -- cursors over other tables ----------------------------------------------------------

    def get_cursor(self, name: str) -> int | None:
        c = t.event_cursors.c
        with self._read() as conn:
            value = conn.execute(select(c.position).where(c.name == name)).scalar()
        return int(value) if value is not None else None

    def init_cursor(self, name: str, position: int, now: int) -> bool:
        """Create the cursor at ``position`` unless it exists; True when created."""
        with self._write() as conn:
            result = conn.execute(self._insert_ignore(t.event_cursors).values(
                name=name, position=position, updated_on=now).returning(t.event_cursors.c.name))
            return result.first() is not None

    def delete_cursor(self, name: str) -> None:
        with self._write() as conn:
            conn.execute(delete(t.event_cursors).where(t.event_cursors.c.name == name))

    def advance_cursor(self, name: str, expected: int, position: int, now: int,
                       deliveries: Sequence[NewDelivery] = ()) -> bool:
        """Move the cursor from ``expected`` to ``position`` and queue ``deliveries``, in
        one transaction; False (and nothing queued) if another reader moved it first."""
        c = t.event_cursors.c
        with self._write() as conn:
            result = conn.execute(update(t.event_cursors)
                                  .where(c.name == name, c.position == expected)
                                  .values(position=position, updated_on=now))
            if not result.rowcount:
                return False
            if deliveries:
                conn.execute(self._insert_ignore(t.event_deliveries), [
                    {"id": d.id, "event_id": d.event_id, "origin": d.origin,
                     "target_name": d.target_name, "event": d.event, "state": PENDING,
                     "attempts": 0, "queued_on": d.queued_on, "next_attempt": d.queued_on}
                    for d in deliveries])
            return True

    def audit_events_after(self, seq: int, limit: int) -> list[tuple[int, str]]:
        """Stored audit events with a sequence number above ``seq``: (seq, record JSON)."""
        c = t.audit_events.c
        with self._read() as conn:
            rows = conn.execute(select(c.seq, c.body).where(c.seq > seq)
                                .order_by(c.seq).limit(min(limit, MAX_PAGE))).all()
        return [(int(r.seq), str(r.body)) for r in rows]

    def last_audit_seq(self) -> int:
        with self._read() as conn:
            value = conn.execute(select(func.max(t.audit_events.c.seq))).scalar()
        return int(value) if value is not None else 0


def _delivery(row: Any) -> StoredDelivery:
    return StoredDelivery(
        id=row.id, event_id=row.event_id, origin=row.origin, target_name=row.target_name,
        event=row.event, state=row.state, attempts=row.attempts, queued_on=row.queued_on,
        next_attempt=row.next_attempt, lease_owner=row.lease_owner,
        lease_until=row.lease_until, error_code=row.error_code,
        error_message=row.error_message, dead_on=row.dead_on,
    )


__all__ = ["DEAD", "PENDING", "EventsStore", "NewDelivery", "StoredDelivery", "StoredRule",
           "StoredTarget"]
