"""Delivery: CloudTrail log files and signed, chained digests in a CloudTrail-like
layout; empty periods; redoing a delivery cut short; one deliverer at a time."""

from __future__ import annotations

import gzip
import json
import re

from pipetrail.model.clock import now_ms
from pipetrail.trail import files
from pipetrail.trail.delivery import Deliverer
from pipetrail.trail.signing import Signer, load_public_key, signed_text, verify
from tests.trail.builders import Trail

LOG_NAME = re.compile(r"PipetrailLogs/local/CloudTrail/local/\d{4}/\d\d/\d\d/"
                      r"local_CloudTrail_local_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz")
DIGEST_NAME = re.compile(r"PipetrailLogs/local/CloudTrail-Digest/local/\d{4}/\d\d/\d\d/"
                         r"local_CloudTrail-Digest_local_main_local_\d{8}T\d{6}Z_\d{10}\.json\.gz")


def read_digest(trail: Trail, key: str) -> dict:
    return json.loads(gzip.decompress(trail.archive.get(key)))


def test_log_files_are_cloudtrail_files_listed_by_a_signed_digest(trail: Trail) -> None:
    made = trail.add(25)
    [done] = trail.deliverer.deliver()
    assert done.events == 25 and len(done.log_keys) == 3
    assert all(LOG_NAME.fullmatch(k) for k in done.log_keys)
    assert DIGEST_NAME.fullmatch(done.digest_key)
    records = [r for k in done.log_keys
               for r in json.loads(gzip.decompress(trail.archive.get(k)))["Records"]]
    assert [r["eventID"] for r in records] == [e.event_id for e in made]
    assert records[0]["eventVersion"] and records[0]["userIdentity"]["userName"] == "alice"
    digest = read_digest(trail, done.digest_key)
    assert digest["previousDigestSignature"] is None and digest["previousDigestHashValue"] is None
    assert [f["s3Object"] for f in digest["logFiles"]] == done.log_keys
    assert [f["eventCount"] for f in digest["logFiles"]] == [10, 10, 5]
    for entry in digest["logFiles"]:
        content = gzip.decompress(trail.archive.get(entry["s3Object"]))
        assert entry["hashValue"] == files.sha256_hex(content)
    # The signature, kept outside the file as CloudTrail keeps it, verifies.
    metadata = trail.archive.metadata(done.digest_key)
    assert metadata["signature-algorithm"] == "Ed25519"
    public = load_public_key(Signer.load_or_create(trail.key_path).public_pem)
    raw = gzip.decompress(trail.archive.get(done.digest_key))
    text = signed_text(digest["digestEndTime"], "local", done.digest_key,
                       files.sha256_hex(raw), None)
    assert verify(public, text, metadata["signature"])
    assert not verify(public, text.replace(b"local/", b"moved/", 1), metadata["signature"])


def test_every_delivery_makes_a_digest_chained_to_the_previous(trail: Trail) -> None:
    trail.add(3)
    first = trail.deliverer.deliver()[0]
    empty = trail.deliverer.deliver()[0]
    assert empty.events == 0 and empty.log_keys == []
    trail.add(2)
    third = trail.deliverer.deliver()[0]
    d1, d2, d3 = (read_digest(trail, d.digest_key) for d in (first, empty, third))
    assert d2["logFiles"] == [] and d2["newestEventTime"] is None
    raw1 = gzip.decompress(trail.archive.get(first.digest_key))
    assert d2["previousDigestHashValue"] == files.sha256_hex(raw1)
    assert d2["previousDigestSignature"] == trail.archive.metadata(first.digest_key)["signature"]
    assert d3["previousDigestS3Object"] == empty.digest_key
    assert d3["logFiles"][0]["firstSequence"] == 4
    assert (d1["digestSequence"], d2["digestSequence"], d3["digestSequence"]) == (1, 2, 3)
    assert d2["digestStartTime"] == d1["digestEndTime"]
    assert trail.validate() == []


def test_a_delivery_cut_short_is_redone_with_the_same_files(trail: Trail) -> None:
    trail.add(15)
    state = trail.store.trail_delivery_state("main")
    plan = trail.deliverer._plan("main", state)
    assert trail.store.plan_trail_delivery("main", state.digest_count, plan)
    # The process dies after writing the first log file only.
    first = plan["files"][0]
    rows = list(trail.store.chain_rows("main", first["first"], first["last"]))
    trail.archive.put(first["key"], files.compress(
        files.log_file_bytes([r.body.encode() for r in rows])))
    problems = trail.validate()
    assert problems == [], "files of an unfinished delivery are not tampering"
    trail.add(4)  # more events arrive meanwhile
    other = Deliverer(trail.store, trail.archive, Signer.load_or_create(trail.key_path), "local",
                      file_events=10)
    [redone] = other.deliver()
    assert redone.redone and redone.digest_key == plan["digestKey"]
    assert redone.log_keys == [f["key"] for f in plan["files"]]
    [after] = other.deliver()
    assert after.events == 4
    ids = [r["eventID"] for k in trail.archive.list("PipetrailLogs/local/CloudTrail/")
           for r in json.loads(gzip.decompress(trail.archive.get(k)))["Records"]]
    assert len(ids) == len(set(ids)) == 19
    assert trail.validate() == []


def test_one_deliverer_at_a_time(trail: Trail) -> None:
    trail.add(3)
    holder = "someone-else"
    assert trail.store.acquire_lease("trail-delivery:main", holder, 60_000) is not None
    assert trail.deliverer.deliver() == []
    trail.store.release_lease("trail-delivery:main", holder)
    assert [d.events for d in trail.deliverer.deliver()] == [3]


def test_digest_times_only_move_forward(trail: Trail) -> None:
    fixed = now_ms()
    deliverer = Deliverer(trail.store, trail.archive, Signer.load_or_create(trail.key_path),
                          "local", clock=lambda: fixed)
    one, two = deliverer.deliver()[0], deliverer.deliver()[0]
    assert one.digest_key != two.digest_key
    assert read_digest(trail, two.digest_key)["digestEndTime"] > \
        read_digest(trail, one.digest_key)["digestEndTime"]


def test_a_large_backlog_is_delivered_in_bounded_rounds(trail: Trail) -> None:
    trail.add(30)
    small = Deliverer(trail.store, trail.archive, Signer.load_or_create(trail.key_path), "local",
                      file_events=10, max_events=20)
    assert [d.events for d in small.deliver()] == [20]
    assert [d.events for d in small.deliver()] == [10]
    assert trail.validate() == []
