"""Batches are stored whole and once, however often they are delivered."""

from __future__ import annotations

import pytest

from pipetrail.model.audit import AuditEvent
from pipetrail.model.batches import RecordBatch
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity
from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.model.runs import Job, JobRun, RunState
from pipetrail.store import Store
from pipetrail.store.store import AuditQuery

BOT = Identity(type="ServiceAccount", principal_id="PTS1", user_name="bot")


def batch(batch_id: str, n: int = 3, **extra: object) -> RecordBatch:
    logs = [LogEvent("/pipetrail/jobs/output", "jr_run0001", 1000 + i, f"{batch_id} {i}")
            for i in range(n)]
    return RecordBatch(batch_id=batch_id, logs=logs, **extra)  # type: ignore[arg-type]


def test_a_batch_delivered_again_is_skipped(store: Store) -> None:
    assert store.ingest_batches([batch("a"), batch("b")]) == ["a", "b"]
    assert store.ingest_batches([batch("b"), batch("c"), batch("a")]) == ["c"]
    assert store.count_log_events("/pipetrail/jobs/output", "jr_run0001") == 9
    assert store.count_ingest_batches() == 3


def test_a_batch_with_a_bad_record_stores_nothing(store: Store) -> None:
    bad = MetricDatum("Pipetrail/Jobs", "x", 1, float("nan"))
    with pytest.raises(ValidationError, match="non-finite"):
        store.ingest_batches([batch("good"), batch("bad", metrics=[bad])])
    assert store.count_ingest_batches() == 0
    assert store.count_log_events("/pipetrail/jobs/output", "jr_run0001") == 0
    huge = AuditEvent("data.pipetrail", "ReadDataset", BOT, event_type="DataAccess",
                      dataset="s3://x", operation="read", additional={"x": "y" * 300_000})
    with pytest.raises(ValidationError, match="256 KiB"):
        store.ingest_batches([batch("also-good"), batch("huge", events=[huge])])
    assert store.count_ingest_batches() == 0


def test_runs_are_created_then_merged(store: Store) -> None:
    start = JobRun("jr_run0001", "nightly", RunState.RUNNING, started_on=2000, principal="bot")
    job = Job("nightly", created_on=2000)
    assert store.ingest_batches([batch("s", runs=[start], jobs=[job])]) == ["s"]
    done = JobRun("jr_run0001", "nightly", RunState.SUCCEEDED, started_on=2500,
                  completed_on=9000, exit_code=0, details={"b": 2})
    late = JobRun("jr_run0001", "nightly", RunState.RUNNING, started_on=1500,
                  details={"a": 1})
    store.ingest_batches([batch("d", runs=[done]), batch("l", runs=[late])])
    run = store.get_run("jr_run0001")
    assert run.state is RunState.SUCCEEDED and run.exit_code == 0
    assert (run.started_on, run.completed_on) == (1500, 9000)
    assert run.details == {"a": 1, "b": 2} and run.principal == "bot"
    assert store.get_job("nightly").created_on == 2000


def test_events_in_batches_are_deduplicated_by_id_too(store: Store) -> None:
    event = AuditEvent("data.pipetrail", "ReadDataset", BOT, event_type="DataAccess",
                       dataset="s3://x", operation="read", event_id="e-1")
    store.ingest_batches([batch("one", n=0, events=[event])])
    store.ingest_batches([batch("two", n=0, events=[event])])
    assert len(store.lookup_audit_events(AuditQuery(dataset="s3://x"))) == 1


def test_old_batch_ids_are_forgotten(store: Store) -> None:
    store.ingest_batches([batch("x")])
    assert store.prune_ingest_batches(older_than=0) == 0
    assert store.prune_ingest_batches(older_than=2**62) == 1
    assert store.count_ingest_batches() == 0


def test_text_the_store_cannot_hold_is_invalid_input(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite stores NUL characters")
    with pytest.raises(ValidationError, match="the store refused a value"):
        store.ingest_batches([RecordBatch("n", logs=[
            LogEvent("/g", "jr_run0001\x00", 1, "m")])])
