"""A long chain is checked by two processes: they find exactly what one process finds,
wherever the change is (either half, the event where they meet, after the head)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from pipetrail.trail.validate import validate
from tests.trail.builders import Trail


def execute(trail: Trail, sql: str) -> None:
    with trail.store.engine.begin() as conn:
        conn.execute(sa.text(sql))


def problems(trail: Trail, parallel_from: int) -> list[str]:
    report = validate(trail.store, trail.archive, "local", parallel_from=parallel_from)
    return sorted(f"{p.kind}\t{p.name}\t{p.message}" for p in report.problems)


CHANGES: dict[str, Callable[[Trail], None]] = {
    "nothing": lambda t: None,
    "changed-upper": lambda t: execute(t, "UPDATE audit_events SET body = replace(body, "
                                          "'alice', 'mallo') WHERE shard_seq = 31"),
    "changed-lower": lambda t: execute(t, "UPDATE audit_events SET body = replace(body, "
                                          "'alice', 'mallo') WHERE shard_seq = 3"),
    "deleted-after-middle": lambda t: execute(t, "DELETE FROM audit_events WHERE shard_seq = 21"),
    "deleted-before-middle": lambda t: execute(t, "DELETE FROM audit_events "
                                                  "WHERE shard_seq IN (18, 19)"),
    "hash-at-middle": lambda t: execute(t, "UPDATE audit_events SET event_hash = "
                                           "'00' || substr(event_hash, 3) WHERE shard_seq = 20"),
    "swapped-across": lambda t: [execute(t, sql) for sql in (
        "UPDATE audit_events SET shard_seq = -1 WHERE shard_seq = 5",
        "UPDATE audit_events SET shard_seq = 5 WHERE shard_seq = 35",
        "UPDATE audit_events SET shard_seq = 35 WHERE shard_seq = -1")],
    "deleted-newest": lambda t: execute(t, "DELETE FROM audit_events WHERE shard_seq > 38"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_two_processes_find_what_one_finds(trail: Trail, change: str) -> None:
    trail.add(25)
    trail.deliverer.deliver()
    trail.add(15)  # 40 events: the halves meet at event 20
    CHANGES[change](trail)
    serial = problems(trail, parallel_from=10**9)
    assert problems(trail, parallel_from=1) == serial
    assert (serial == []) == (change == "nothing")
