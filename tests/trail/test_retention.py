"""Retention of the trail and legal holds: what expires, what is kept, and that the
deletion is itself recorded."""

from __future__ import annotations

import pytest

from pipetrail.actions.background import service_context
from pipetrail.actions.context import ActionContext
from pipetrail.actions.trail_archive import (
    ApplyTrailRetention,
    apply_trail_retention,
    get_retention,
    list_legal_holds,
    put_legal_hold,
    put_retention,
    release_legal_hold,
)
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ConflictError, NotFoundError, ValidationError
from pipetrail.store.store import AuditQuery
from pipetrail.trail import retention
from tests.trail.timeline import DAY, Timeline


def old_and_new(timeline: Timeline) -> tuple[list[str], list[str]]:
    """20 events 100 days old and 20 a day old, delivered in 4 files; returns the
    keys of the old files and of the new ones."""
    timeline.days_ago(20, days=100)
    timeline.days_ago(20, days=1)
    timeline.deliver()
    keys = timeline.log_keys()
    return keys[:2], keys[2:]


def count(timeline: Timeline) -> int:
    return timeline.store.count_audit_events()


def test_the_period_is_set_and_shown(ctx: ActionContext) -> None:
    assert get_retention(ctx)["retentionDays"] is None
    put_retention(ctx, 30)
    assert get_retention(ctx)["retentionDays"] == 30
    put_retention(ctx, None)
    assert get_retention(ctx)["retentionDays"] is None
    with pytest.raises(ValidationError, match="between 1 and 36500"):
        put_retention(ctx, 0)
    with pytest.raises(NotFoundError, match="one trail, 'default'"):
        put_retention(ctx, 30, trail="other")
    recorded = ctx.store.lookup_audit_events(AuditQuery(event_name="PutRetention", limit=5))
    assert [e.get("errorCode") for e in recorded][:2] == ["EntityNotFoundException",
                                                         "ValidationException"]


def test_files_older_than_the_period_expire_with_their_events(
        timeline: Timeline, ctx: ActionContext) -> None:
    old, new = old_and_new(timeline)
    timeline.days_ago(3, days=200)  # old, but not delivered yet: kept
    put_retention(ctx, 30)
    before = count(timeline)
    outcome = apply_trail_retention(ctx, archive=timeline.archive)
    assert [f.log_key for f in outcome.files] == old and outcome.events == 20
    assert not any(timeline.archive.exists(k) for k in old)
    assert all(timeline.archive.exists(k) for k in new)
    assert count(timeline) == before - 20 + 1  # +1: the ApplyRetention event
    recorded = ctx.store.lookup_audit_events(AuditQuery(event_name="ApplyRetention"))[0]
    response = recorded["responseElements"]
    assert response["logFilesDeleted"] == 2 and response["eventsDeleted"] == 20
    assert response["eventRanges"] == [{"shard": "main", "firstSequence": 1,
                                        "lastSequence": 20}]
    assert response["oldestEventTime"] < response["newestEventTime"] < response["cutoffTime"]
    again = apply_trail_retention(ctx, archive=timeline.archive)
    assert again.files == [] and again.events == 0


def test_a_dry_run_deletes_nothing(timeline: Timeline, ctx: ActionContext) -> None:
    old, _ = old_and_new(timeline)
    put_retention(ctx, 30)
    before = count(timeline)
    outcome = apply_trail_retention(ctx, dry_run=True, archive=timeline.archive)
    assert [f.log_key for f in outcome.files] == old and outcome.events == 20
    assert all(timeline.archive.exists(k) for k in old)
    assert count(timeline) == before + 1
    assert outcome.to_record(keys=True)["logFiles"] == old


def test_no_period_means_nothing_expires(timeline: Timeline, ctx: ActionContext) -> None:
    old, _ = old_and_new(timeline)
    outcome = apply_trail_retention(ctx, archive=timeline.archive)
    assert outcome.files == [] and all(timeline.archive.exists(k) for k in old)


def test_a_time_window_hold_keeps_its_files_until_released(
        timeline: Timeline, ctx: ActionContext) -> None:
    old, _ = old_and_new(timeline)
    put_retention(ctx, 30)
    hold_start = now_ms() - 100 * DAY + 15 * 60_000  # in the second old file
    put_legal_hold(ctx, "case-42", start=hold_start, end=hold_start + 60_000,
                   reason="litigation")
    assert [h["name"] for h in list_legal_holds(ctx)] == ["case-42"]
    outcome = apply_trail_retention(ctx, archive=timeline.archive)
    assert [f.log_key for f in outcome.files] == old[:1]
    assert timeline.archive.exists(old[1]) and len(outcome.plan.held) == 1
    with pytest.raises(ConflictError, match="already exists"):
        put_legal_hold(ctx, "case-42")
    release_legal_hold(ctx, "case-42")
    with pytest.raises(NotFoundError):
        release_legal_hold(ctx, "case-42")
    outcome = apply_trail_retention(ctx, archive=timeline.archive)
    assert [f.log_key for f in outcome.files] == old[1:]


def test_a_resource_hold_keeps_the_files_holding_its_events(
        timeline: Timeline, ctx: ActionContext) -> None:
    timeline.days_ago(10, days=100)
    timeline.days_ago(1, days=99, dataset="s3://lake/evidence")  # file 2 with 9 others
    timeline.days_ago(9, days=98)
    timeline.deliver()
    keys = timeline.log_keys()
    put_retention(ctx, 30)
    put_legal_hold(ctx, "evidence", resource="s3://lake/evidence")
    put_legal_hold(ctx, "elsewhere", resource="s3://lake/evidence", end=now_ms() - int(99.5 * DAY))
    outcome = apply_trail_retention(ctx, archive=timeline.archive)
    assert [f.log_key for f in outcome.files] == [keys[0]]
    assert timeline.archive.exists(keys[1])
    held = timeline.store.lookup_audit_events(AuditQuery(dataset="s3://lake/evidence"))
    assert len(held) == 1


def test_bad_holds_are_refused(ctx: ActionContext) -> None:
    with pytest.raises(ValidationError, match="name"):
        put_legal_hold(ctx, "no spaces")
    with pytest.raises(ValidationError, match="start time must be before"):
        put_legal_hold(ctx, "h", start=2, end=1)
    with pytest.raises(ValidationError, match="reason"):
        put_legal_hold(ctx, "h", reason="x" * 2000)
    assert list_legal_holds(ctx) == []


def test_an_expiry_cut_short_is_finished_by_the_next(timeline: Timeline, ctx: ActionContext
                                                     ) -> None:
    old, _ = old_and_new(timeline)
    files = timeline.store.live_trail_log_files(before=now_ms() - 30 * DAY)
    timeline.store.expire_trail_files(files, now_ms() - 30 * DAY, now_ms())  # then "crashed"
    assert all(timeline.archive.exists(k) for k in old)
    assert [f.log_key for f in timeline.store.expired_trail_files(archive_pending=True)] == old
    put_retention(ctx, 30)
    apply_trail_retention(ctx, archive=timeline.archive)
    assert not any(timeline.archive.exists(k) for k in old)
    assert timeline.store.expired_trail_files(archive_pending=True) == []


def test_the_server_applies_retention_when_there_is_a_period(
        timeline: Timeline, ctx: ActionContext) -> None:
    old, _ = old_and_new(timeline)
    server = service_context(ctx.store, ctx.settings)
    evaluator = ApplyTrailRetention()
    assert evaluator.interval == 86_400
    evaluator.evaluate(server)
    assert timeline.store.lookup_audit_events(AuditQuery(event_name="ApplyRetention")) == []
    put_retention(ctx, 30)
    evaluator.evaluate(server)
    assert not any(timeline.archive.exists(k) for k in old)
    recorded = timeline.store.lookup_audit_events(AuditQuery(event_name="ApplyRetention"))
    assert recorded[0]["userIdentity"]["userName"] == "pipetrail-server"


def test_event_ranges_join_consecutive_files() -> None:
    from pipetrail.store.trail import LogFileRow

    rows = [LogFileRow(f"k{i}", "main", 1 + 10 * i, 10 + 10 * i, "d", 0, 0) for i in range(3)]
    rows.append(LogFileRow("k9", "main", 91, 100, "d", 0, 0))
    assert retention.event_ranges(rows) == [
        {"shard": "main", "firstSequence": 1, "lastSequence": 30},
        {"shard": "main", "firstSequence": 91, "lastSequence": 100}]
