"""Validation after retention: what retention expired, as recorded and as the digests
signed it, is accepted; tampering is still caught."""

from __future__ import annotations

from sqlalchemy import update

from pipetrail.model.clock import now_ms
from pipetrail.store import schema as t
from pipetrail.trail import retention
from pipetrail.trail.validate import Report, validate
from tests.trail.timeline import DAY, WORKSPACE, Timeline


def check(timeline: Timeline, **options: object) -> Report:
    return validate(timeline.store, timeline.archive, WORKSPACE, **options)  # type: ignore[arg-type]


def expire(timeline: Timeline, days: int = 30) -> retention.RetentionOutcome:
    plan = retention.plan_retention(timeline.store, days, [], now_ms())
    return retention.apply_retention(timeline.store, timeline.archive, plan, now_ms())


def messages(report: Report) -> list[str]:
    return [f"{p.kind} {p.name}: {p.message}" for p in report.problems]


def aged_trail(timeline: Timeline) -> None:
    """30 events 100 days old (3 files), 20 a day old (2 files), 5 undelivered."""
    timeline.days_ago(30, days=100)
    timeline.days_ago(20, days=1)
    timeline.deliver()
    timeline.days_ago(5, days=0.5)


def set_body(timeline: Timeline, seq: int, body: str) -> None:
    with timeline.store.engine.begin() as conn:
        conn.execute(update(t.audit_events).where(t.audit_events.c.shard_seq == seq)
                     .values(body=body))


def test_the_trail_is_valid_after_retention(timeline: Timeline) -> None:
    aged_trail(timeline)
    assert check(timeline).valid
    outcome = expire(timeline)
    assert len(outcome.files) == 3 and outcome.events == 30
    report = check(timeline)
    assert report.valid, messages(report)
    assert report.log_files == 5 and report.log_files_expired == 3
    assert report.to_record()["logFiles"]["expired"] == 3
    assert check(timeline, deep=True).valid
    window = check(timeline, start=now_ms() - 2 * DAY, end=now_ms())
    assert window.valid, messages(window)


def test_the_trail_is_valid_when_every_delivered_event_expired(timeline: Timeline) -> None:
    timeline.days_ago(25, days=100)
    timeline.deliver()
    expire(timeline)
    assert timeline.store.count_audit_events() == 0
    report = check(timeline)
    assert report.valid, messages(report)
    timeline.days_ago(3, days=0)  # the chain goes on from the expired events' signed hash
    timeline.deliver()
    assert check(timeline, deep=True).valid


def test_a_changed_event_after_the_expired_ones_is_caught(timeline: Timeline) -> None:
    aged_trail(timeline)
    expire(timeline)
    set_body(timeline, 31, '{"eventID":"forged"}')
    assert any("#31" in m and "hash does not match" in m for m in messages(check(timeline)))


def test_an_event_deleted_next_to_the_expired_ones_is_caught(timeline: Timeline) -> None:
    aged_trail(timeline)
    expire(timeline)
    with timeline.store.engine.begin() as conn:
        conn.execute(t.audit_events.delete().where(t.audit_events.c.shard_seq == 31))
    assert any("event 31 is missing" in m for m in messages(check(timeline)))


def test_a_deleted_log_file_that_did_not_expire_is_caught(timeline: Timeline) -> None:
    aged_trail(timeline)
    expire(timeline)
    young = timeline.store.live_trail_log_files()[0].log_key
    timeline.archive.delete(young)
    assert any(young in m and "not found" in m for m in messages(check(timeline)))


def test_a_forged_expiry_of_a_young_file_is_caught(timeline: Timeline) -> None:
    aged_trail(timeline)
    young = timeline.store.live_trail_log_files()[-1]
    # Someone records a young file as expired, with a cutoff after its events, and
    # deletes it with its events.
    timeline.store.expire_trail_files([young], now_ms(), now_ms())
    timeline.archive.delete(young.log_key)
    problems = messages(check(timeline))
    assert any(young.log_key in m and "not old enough" in m for m in problems)
    assert any("missing (deleted)" in m for m in problems)


def test_an_expiry_record_that_disagrees_with_its_digest_is_caught(timeline: Timeline) -> None:
    aged_trail(timeline)
    expire(timeline)
    x = t.trail_expired_files.c
    with timeline.store.engine.begin() as conn:
        conn.execute(update(t.trail_expired_files).where(x.first_seq == 11)
                     .values(last_hash="0" * 64))
    assert any("another hash than its digest signed" in m for m in messages(check(timeline)))


def test_an_expiry_record_no_digest_lists_is_caught(timeline: Timeline) -> None:
    aged_trail(timeline)
    expire(timeline)
    with timeline.store.engine.begin() as conn:
        conn.execute(t.trail_expired_files.insert().values(
            log_key="PipetrailLogs/local/CloudTrail/local/2020/01/01/made-up.json.gz",
            shard="main", first_seq=900, last_seq=910, oldest_event=0, newest_event=0,
            last_hash="0" * 64, cutoff=1, expired_on=2 * DAY, archive_deleted=True))
    assert any("made-up" in m and "no digest lists it" in m for m in messages(check(timeline)))


def test_a_changed_digest_is_still_caught_after_retention(timeline: Timeline) -> None:
    aged_trail(timeline)
    expire(timeline)
    digest = timeline.store.trail_digests()[0].digest_key
    timeline.archive.put(digest, timeline.archive.get(digest)[:-5] + b"xxxxx",
                      timeline.archive.metadata(digest))
    assert not check(timeline).valid
