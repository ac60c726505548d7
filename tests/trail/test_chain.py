"""The store's hash chain: numbering, hashes, duplicates, shards, concurrent writers,
and the migration that chains events stored before it."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipetrail.config import Settings
from pipetrail.model.chain import GENESIS
from pipetrail.store import Store, open_store
from pipetrail.store.migrate import upgrade
from tests.trail.builders import Trail, events


def chain_of(store: Store, shard: str = "main") -> list[tuple[int, str, str]]:
    return [(r.seq, r.body, r.event_hash) for r in store.chain_rows(shard)]


def test_events_are_numbered_and_each_hash_covers_the_one_before(trail: Trail) -> None:
    trail.add(5)
    trail.add(3)
    rows = chain_of(trail.store)
    assert [seq for seq, _, _ in rows] == list(range(1, 9))
    previous = GENESIS
    for _, body, event_hash in rows:
        assert event_hash == hashlib.sha256(bytes.fromhex(previous) + body.encode()).hexdigest()
        previous = event_hash
    head = trail.store.chain_heads()[0]
    assert (head.shard, head.last_seq, head.last_hash) == ("main", 8, previous)


def test_a_duplicate_event_takes_no_number(trail: Trail) -> None:
    made = trail.add(3)
    assert trail.store.append_audit_events([made[1], *events(1), made[1]]) == 1
    assert [seq for seq, _, _ in chain_of(trail.store)] == [1, 2, 3, 4]
    assert trail.validate() == []


def test_shards_have_their_own_chains(settings: Settings) -> None:
    one = open_store(settings.with_overrides(trail_shard="one"))
    two = open_store(settings.with_overrides(trail_shard="two"))
    try:
        one.append_audit_events(events(3))
        two.append_audit_events(events(2))
        one.append_audit_events(events(1))
        assert [r[0] for r in chain_of(one, "one")] == [1, 2, 3, 4]
        assert [r[0] for r in chain_of(one, "two")] == [1, 2]
        assert {h.shard: h.last_seq for h in one.chain_heads()} == {"one": 4, "two": 2}
    finally:
        one.close()
        two.close()


def _write(settings: Settings, batches: int) -> None:
    store = open_store(settings)
    for _ in range(batches):
        store.append_audit_events(events(20))
    store.close()


def test_concurrent_writers_keep_one_unbroken_chain(settings: Settings, trail: Trail) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write, args=(settings, 10)) for _ in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    rows = chain_of(trail.store)
    assert [r[0] for r in rows] == list(range(1, 601))
    assert trail.validate() == []


def test_the_migration_chains_events_stored_before_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_home()
    engine = sa.create_engine(f"sqlite:///{settings.sqlite_path}")
    with engine.connect() as conn:
        upgrade(conn, "0005")
    with engine.begin() as conn:
        for i, event in enumerate(events(4)):
            conn.execute(sa.text(
                "INSERT INTO audit_events (event_id, event_time, event_source, event_name, "
                "event_category, read_only, principal, body) VALUES (:id, :t, 's', 'n', "
                "'Management', 0, 'alice', :body)"),
                {"id": event.event_id, "t": i, "body": event.validate().decode()})
    engine.dispose()
    store = open_store(settings)
    try:
        assert [r.seq for r in store.chain_rows("main")] == [1, 2, 3, 4]
        store.append_audit_events(events(1))
        from tests.trail.builders import make_trail

        assert make_trail(store, settings.home).validate() == []
    finally:
        store.close()


@pytest.mark.parametrize("bad", ["", "a b", "x" * 65, "../up"])
def test_bad_shard_names_are_refused(bad: str) -> None:
    from pipetrail.model.errors import ConfigError

    with pytest.raises(ConfigError, match="PIPETRAIL_TRAIL_SHARD"):
        Settings.from_env({"PIPETRAIL_TRAIL_SHARD": bad} if bad else
                          {"PIPETRAIL_TRAIL_SHARD": " "})
