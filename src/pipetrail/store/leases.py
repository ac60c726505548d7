"""Leases: one holder at a time for a named cluster-wide duty, for a limited time.

A holder renews its lease before it expires; when the holder dies, the lease expires
and another process takes it. Each change of holder starts a new ``term`` (a number
that only grows), which a holder can use to tell its own writes from an old holder's.
Times are the servers' clocks (ms): keep them synchronised (NTP) well within the
lease's duration.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update

from pipetrail.model.clock import now_ms
from pipetrail.store import schema as t
from pipetrail.store.base import StoreBase


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    term: int
    expires_on: int
    acquired_on: int


def holder_name() -> str:
    """A name for this process as a lease holder: ``host:pid:nonce``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_gone(holder: str) -> bool:
    """Whether ``holder`` (a :func:`holder_name`) was a process of this host that no
    longer runs (killed while holding its lease)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class LeaseStore(StoreBase):
    def acquire_lease(self, name: str, holder: str, duration_ms: int,
                      now: int | None = None) -> Lease | None:
        """Take or renew the lease ``name`` for ``holder``; None when another holds it."""
        current = now_ms() if now is None else now
        expires = current + duration_ms
        c = t.leases.c
        with self._write() as conn:
            created = conn.execute(self._insert_ignore(t.leases).values(
                name=name, holder=holder, term=1, expires_on=expires, acquired_on=current,
            ).returning(c.term)).first()
            if created is None:
                query = select(t.leases).where(c.name == name)
                if self.dialect == "postgresql":
                    query = query.with_for_update()
                row = conn.execute(query).one()
                if row.holder == holder and row.expires_on > current:
                    conn.execute(update(t.leases).where(c.name == name)
                                 .values(expires_on=expires))
                    return Lease(name, holder, row.term, expires, row.acquired_on)
                if row.expires_on > current:
                    return None
                term = row.term + 1
                conn.execute(update(t.leases).where(c.name == name).values(
                    holder=holder, term=term, expires_on=expires, acquired_on=current))
                return Lease(name, holder, term, expires, current)
        return Lease(name, holder, 1, expires, current)

    def take_lease(self, name: str, holder: str, duration_ms: int) -> Lease | None:
        """:meth:`acquire_lease`, also taking over at once a lease whose holder was a
        process of this host that is gone (rather than waiting for it to expire)."""
        lease = self.acquire_lease(name, holder, duration_ms)
        if lease is not None:
            return lease
        current = self.get_lease(name)
        if current is None or not holder_gone(current.holder):
            return None
        self.release_lease(name, current.holder)
        return self.acquire_lease(name, holder, duration_ms)

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up at once (a clean shutdown), if ``holder`` has it."""
        c = t.leases.c
        with self._write() as conn:
            conn.execute(update(t.leases).where(c.name == name, c.holder == holder)
                         .values(expires_on=0))

    def get_lease(self, name: str) -> Lease | None:
        with self._read() as conn:
            row = conn.execute(select(t.leases).where(t.leases.c.name == name)).first()
        if row is None:
            return None
        return Lease(row.name, row.holder, row.term, row.expires_on, row.acquired_on)
