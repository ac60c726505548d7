"""Property: every single change to a delivered trail is detected.

A trail with several deliveries (and events not delivered yet) is built once; each
example copies it, makes one random change — a changed byte, a deletion, an insertion
or a reordering, in an archive file or its signature, or in the store's events — and
``validate`` (the default, not ``--deep``) must report a problem.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipetrail.config import Settings
from pipetrail.store import open_store
from pipetrail.trail import files
from pipetrail.trail.archive import LocalArchive
from pipetrail.trail.validate import validate
from tests.trail.builders import make_trail

EXAMPLES = 1000


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("base") / "home"
    store = open_store(Settings(home=home))
    trail = make_trail(store, home, file_events=7)
    for n in (20, 0, 9, 3):
        trail.add(n)
        trail.deliverer.deliver()
    trail.add(5)
    assert trail.validate() == []
    store.close()
    yield home


def archive_keys(archive: LocalArchive) -> list[str]:
    return list(archive.list("PipetrailLogs/"))


def mutate_archive(archive: LocalArchive, data: st.DataObject) -> str:
    keys = archive_keys(archive)
    key = data.draw(st.sampled_from(keys))
    kind = data.draw(st.sampled_from(
        ["byte", "delete", "insert-bytes", "insert-file", "swap-files", "swap-records",
         "truncate", "signature"]))
    raw = archive.get(key)
    metadata = archive.metadata(key)
    if kind == "byte":
        at = data.draw(st.integers(0, len(raw) - 1))
        flip = data.draw(st.integers(1, 255))
        archive.put(key, raw[:at] + bytes([raw[at] ^ flip]) + raw[at + 1:], metadata)
    elif kind == "delete":
        archive.delete(key)
    elif kind == "insert-bytes":
        at = data.draw(st.integers(0, len(raw)))
        extra = data.draw(st.binary(min_size=1, max_size=8))
        archive.put(key, raw[:at] + extra + raw[at:], metadata)
    elif kind == "insert-file":
        archive.put(key.replace(".json.gz", "_copy.json.gz"), raw, metadata)
    elif kind == "swap-files":
        other = data.draw(st.sampled_from([k for k in keys if k != key]))
        other_raw, other_meta = archive.get(other), archive.metadata(other)
        if other_raw == raw:
            archive.delete(other)
        else:
            archive.put(key, other_raw, other_meta)
            archive.put(other, raw, metadata)
    elif kind == "truncate":
        archive.put(key, raw[:data.draw(st.integers(0, len(raw) - 1))], metadata)
    elif kind == "swap-records" and "/CloudTrail/" in key:
        bodies = files.split_records(files.decompress(raw))
        if len(bodies) < 2:
            archive.delete(key)
        else:
            i = data.draw(st.integers(0, len(bodies) - 2))
            bodies[i], bodies[i + 1] = bodies[i + 1], bodies[i]
            archive.put(key, files.compress(files.log_file_bytes(bodies)), metadata)
    else:  # a changed signature or algorithm (digests), or a signature added (log files)
        name = data.draw(st.sampled_from(["signature", "signature-algorithm"]))
        value = metadata.get(name, "")
        at = data.draw(st.integers(0, max(0, len(value) - 1)))
        changed = value[:at] + ("0" if value[at:at + 1] != "0" else "1") + value[at + 1:]
        archive.put(key, raw, {**metadata, name: changed})
        if "/CloudTrail/" in key:  # log files carry no signature: delete instead
            archive.delete(key)
    return f"{kind} {key}"


def mutate_store(db: Path, data: st.DataObject) -> str:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT seq, shard_seq, body, event_hash FROM audit_events "
                            "ORDER BY shard_seq").fetchall()
        seq, number, body, event_hash = data.draw(st.sampled_from(rows))
        kind = data.draw(st.sampled_from(
            ["body-byte", "hash-byte", "delete", "insert", "swap", "renumber"]))
        if kind == "body-byte":
            at = data.draw(st.integers(0, len(body) - 1))
            char = data.draw(st.characters(min_codepoint=32, max_codepoint=126)
                             .filter(lambda c: c != body[at]))
            conn.execute("UPDATE audit_events SET body = ? WHERE seq = ?",
                         (body[:at] + char + body[at + 1:], seq))
        elif kind == "hash-byte":
            at = data.draw(st.integers(0, 63))
            char = "0" if event_hash[at] != "0" else "1"
            conn.execute("UPDATE audit_events SET event_hash = ? WHERE seq = ?",
                         (event_hash[:at] + char + event_hash[at + 1:], seq))
        elif kind == "delete":
            conn.execute("DELETE FROM audit_events WHERE seq = ?", (seq,))
        elif kind == "insert":
            top = max(r[1] for r in rows)
            conn.execute(
                "INSERT INTO audit_events (event_id, event_time, event_source, event_name, "
                "event_category, read_only, principal, body, shard, shard_seq, event_hash) "
                "SELECT 'forged-' || event_id, event_time, event_source, event_name, "
                "event_category, read_only, principal, body, shard, ?, event_hash "
                "FROM audit_events WHERE seq = ?", (top + 1, seq))
        elif kind == "swap":
            other = data.draw(st.sampled_from([r for r in rows if r[1] != number]))
            conn.execute("UPDATE audit_events SET shard_seq = -1 WHERE seq = ?", (seq,))
            conn.execute("UPDATE audit_events SET shard_seq = ? WHERE seq = ?",
                         (number, other[0]))
            conn.execute("UPDATE audit_events SET shard_seq = ? WHERE seq = ?",
                         (other[1], seq))
        else:  # the event moved to the end of the chain
            conn.execute("UPDATE audit_events SET shard_seq = ? WHERE seq = ?",
                         (max(r[1] for r in rows) + 1, seq))
        conn.commit()
        return f"{kind} store #{number}"
    finally:
        conn.close()


@given(data=st.data())
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_every_single_change_is_detected(base: Path, tmp_path: Path,
                                         data: st.DataObject) -> None:
    home = tmp_path / f"copy-{data.draw(st.integers(0, 10**12))}"
    shutil.copytree(base, home)
    archive = LocalArchive(home / "archive")
    if data.draw(st.booleans()):
        change = mutate_archive(archive, data)
    else:
        change = mutate_store(home / "pipetrail.db", data)
    store = open_store(Settings(home=home))
    try:
        report = validate(store, archive, "local")
    finally:
        store.close()
        shutil.rmtree(home)
    assert not report.valid, f"not detected: {change}"
