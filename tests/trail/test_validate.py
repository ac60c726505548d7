"""Validation names every kind of tampering: in the archive (a changed, deleted,
inserted or moved file, a bad signature) and in the store (a changed, deleted,
inserted or reordered event), and finds nothing wrong with an untouched trail."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from pipetrail.trail import files
from tests.trail.builders import Trail


@pytest.fixture
def delivered(trail: Trail) -> Trail:
    trail.add(25)
    trail.deliverer.deliver()
    trail.add(12)
    trail.deliverer.deliver()
    trail.add(4)  # stored, not delivered yet
    assert trail.validate() == []
    return trail


def log_keys(trail: Trail) -> list[str]:
    return list(trail.archive.list("PipetrailLogs/local/CloudTrail/"))


def digest_keys(trail: Trail) -> list[str]:
    return list(trail.archive.list("PipetrailLogs/local/CloudTrail-Digest/"))


def execute(trail: Trail, sql: str, **params: object) -> None:
    with trail.store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def rewrite_log(trail: Trail, change: Callable[[list[dict]], list[dict]]) -> str:
    key = log_keys(trail)[1]
    records = json.loads(gzip.decompress(trail.archive.get(key)))["Records"]
    trail.archive.put(key, gzip.compress(json.dumps({"Records": change(records)}).encode()))
    return key


def one(problems: list[str], *needles: str) -> None:
    assert problems, "the tampering went unnoticed"
    text = "\n".join(problems)
    for needle in needles:
        assert needle in text, text


def test_a_changed_log_file(delivered: Trail) -> None:
    key = rewrite_log(delivered, lambda r: [{**r[0], "eventName": "Nothing"}, *r[1:]])
    one(delivered.validate(deep=False), key, "hash value doesn't match")


def test_a_log_file_whose_gzip_header_changed(delivered: Trail) -> None:
    key = log_keys(delivered)[0]
    raw = bytearray(delivered.archive.get(key))
    raw[4] ^= 0xFF  # the gzip MTIME field: the content is unchanged
    delivered.archive.put(key, bytes(raw))
    one(delivered.validate(deep=False), key, "hash value doesn't match")


def test_a_deleted_log_file(delivered: Trail) -> None:
    key = log_keys(delivered)[2]
    delivered.archive.delete(key)
    one(delivered.validate(deep=False), key, "INVALID: not found")


def test_an_inserted_log_file(delivered: Trail) -> None:
    key = log_keys(delivered)[0].replace(".json.gz", "X.json.gz")
    delivered.archive.put(key, files.compress(b'{"Records":[]}'))
    one(delivered.validate(deep=False), key, "no digest lists it")


def test_reordered_events_in_a_log_file(delivered: Trail) -> None:
    key = rewrite_log(delivered, lambda r: [r[1], r[0], *r[2:]])
    one(delivered.validate(), key, "INVALID")


def test_swapped_log_files(delivered: Trail) -> None:
    a, b = log_keys(delivered)[:2]
    data_a, data_b = delivered.archive.get(a), delivered.archive.get(b)
    delivered.archive.put(a, data_b)
    delivered.archive.put(b, data_a)
    one(delivered.validate(deep=False), a, b)


def test_a_changed_digest(delivered: Trail) -> None:
    key = digest_keys(delivered)[0]
    digest = json.loads(gzip.decompress(delivered.archive.get(key)))
    digest["logFiles"] = digest["logFiles"][1:]
    delivered.archive.put(key, gzip.compress(json.dumps(digest).encode()),
                          delivered.archive.metadata(key))
    one(delivered.validate(deep=False), key, "Digest file", "INVALID")


def test_a_deleted_digest(delivered: Trail) -> None:
    key = digest_keys(delivered)[1]
    delivered.archive.delete(key)
    one(delivered.validate(deep=False), key, "INVALID: not found")


def test_a_forged_signature(delivered: Trail) -> None:
    key = digest_keys(delivered)[0]
    metadata = delivered.archive.metadata(key)
    metadata["signature"] = "00" * 64
    delivered.archive.put(key, delivered.archive.get(key), metadata)
    one(delivered.validate(deep=False), key, "INVALID")


def test_a_digest_signed_by_an_unknown_key(delivered: Trail) -> None:
    execute(delivered, "DELETE FROM trail_public_keys")
    one(delivered.validate(deep=False), "public key not found for fingerprint")


def test_a_changed_event_in_the_store(delivered: Trail) -> None:
    execute(delivered, "UPDATE audit_events SET body = replace(body, 'alice', 'mallo') "
                       "WHERE shard_seq = 30")
    one(delivered.validate(deep=False), "#30", "hash does not match")


def test_a_changed_undelivered_event(delivered: Trail) -> None:
    execute(delivered, "UPDATE audit_events SET body = replace(body, 'alice', 'mallo') "
                       "WHERE shard_seq = 40")
    one(delivered.validate(deep=False), "#40", "hash does not match")


def test_a_changed_event_whose_hash_was_recomputed(delivered: Trail) -> None:
    # The forger rehashes the rest of the chain too: the digests' signed hashes differ.
    rows = list(delivered.store.chain_rows("main"))
    previous = rows[8].event_hash
    with delivered.store.engine.begin() as conn:
        for row in rows[9:]:
            body = row.body.replace("alice", "mallo") if row.seq == 10 else row.body
            previous = files.hashlib.sha256(bytes.fromhex(previous) + body.encode()).hexdigest()
            conn.execute(sa.text("UPDATE audit_events SET body = :b, event_hash = :h "
                                 "WHERE shard_seq = :s"), {"b": body, "h": previous, "s": row.seq})
        conn.execute(sa.text("UPDATE trail_shards SET last_hash = :h"), {"h": previous})
    one(delivered.validate(deep=False), "differs from the one signed")


def test_a_deleted_event(delivered: Trail) -> None:
    execute(delivered, "DELETE FROM audit_events WHERE shard_seq = 7")
    one(delivered.validate(deep=False), "event 7 is missing (deleted)")


def test_deleted_newest_events(delivered: Trail) -> None:
    execute(delivered, "DELETE FROM audit_events WHERE shard_seq > 38")
    one(delivered.validate(deep=False), "events 39 to 41 are missing")


def test_an_inserted_event(delivered: Trail) -> None:
    execute(delivered, "UPDATE audit_events SET shard_seq = shard_seq + 1000 "
                       "WHERE shard_seq > 20")
    execute(delivered, "UPDATE audit_events SET shard_seq = shard_seq - 999 "
                       "WHERE shard_seq > 1000")
    # Now numbers 22… hold the old 21…; put a forged event at 21.
    body = next(iter(delivered.store.chain_rows("main", 1, 1))).body
    execute(delivered, "INSERT INTO audit_events (event_id, event_time, event_source, "
                       "event_name, event_category, read_only, principal, body, shard, "
                       "shard_seq, event_hash) VALUES ('forged', 1, 's', 'n', 'Management', "
                       "false, 'x', :b, 'main', 21, :h)", b=body, h="0" * 64)
    one(delivered.validate(deep=False), "#21", "INVALID")


def test_reordered_events_in_the_store(delivered: Trail) -> None:
    execute(delivered, "UPDATE audit_events SET shard_seq = -1 WHERE shard_seq = 5")
    execute(delivered, "UPDATE audit_events SET shard_seq = 5 WHERE shard_seq = 6")
    execute(delivered, "UPDATE audit_events SET shard_seq = 6 WHERE shard_seq = -1")
    one(delivered.validate(deep=False), "#5", "#6")


def test_a_window_checks_only_its_digests_and_events(delivered: Trail) -> None:
    from pipetrail.trail.validate import validate

    digests = delivered.store.trail_digests()
    report = validate(delivered.store, delivered.archive, "local",
                      start=digests[1].digest_end, end=digests[1].digest_end)
    assert report.valid and report.digests == 1
    assert report.log_files == 2


def test_the_cli_prints_problems_and_exits_1(cli, delivered: Trail) -> None:  # type: ignore[no-untyped-def]
    result = cli("trail", "validate")
    assert result.returncode == 0, result.stderr
    assert "The trail is valid." in result.stdout
    key = log_keys(delivered)[0]
    delivered.archive.delete(key)
    result = cli("trail", "validate")
    assert result.returncode == 1
    assert f"Log file\tlocal/{key}\tINVALID: not found" in result.stdout
    assert "log files INVALID" in result.stdout
    result = cli("trail", "validate", "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["valid"] is False
    assert report["problems"][0]["name"] == f"local/{key}"
