"""The store's contract, run against SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from pipetrail.model.audit import AuditEvent, Resource
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.model.identity import Identity
from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.model.runs import Job, JobRun, RunState, new_run_id
from pipetrail.store import Store
from pipetrail.store.store import AuditQuery

BOB = Identity(type="LocalUser", principal_id="1001", user_name="bob")


def make_run(job: str = "daily", state: RunState = RunState.RUNNING, started: int = 0) -> JobRun:
    return JobRun(run_id=new_run_id(), job_name=job, state=state,
                  started_on=started or now_ms(), arguments=["--day", "1"],
                  details={"k": [1, 2]})


def test_begin_run_creates_job_script_and_run(store: Store) -> None:
    run = make_run()
    run.code_hash = "ab" * 32
    assert store.begin_run(Job("daily", now_ms()), b"print(1)", run) is True
    again = make_run()
    again.code_hash = "ab" * 32
    assert store.begin_run(Job("daily", now_ms()), b"print(1)", again) is False
    assert store.get_script("ab" * 32) == b"print(1)"
    got = store.get_run(run.run_id)
    assert got.arguments == ["--day", "1"] and got.details == {"k": [1, 2]}
    assert [j.name for j in store.list_jobs()] == ["daily"]


def test_run_lookup_by_prefix_and_errors(store: Store) -> None:
    run = make_run()
    store.create_run(run)
    assert store.get_run(run.run_id[:10]).run_id == run.run_id
    with pytest.raises(NotFoundError):
        store.get_run("jr_doesnotexist")
    other = make_run()
    other.run_id = run.run_id[:10] + "f" * 10
    store.create_run(other)
    with pytest.raises(ValidationError, match="several runs"):
        store.get_run(run.run_id[:10])


def test_update_and_list_runs(store: Store) -> None:
    first, second = make_run(started=1000), make_run(job="other", started=2000)
    for run in (first, second):
        store.create_run(run)
    first.state, first.exit_code, first.completed_on = RunState.FAILED, 3, 1500
    store.update_run(first)
    assert store.get_run(first.run_id).exit_code == 3
    assert [r.run_id for r in store.list_runs()] == [second.run_id, first.run_id]
    assert [r.run_id for r in store.list_runs(job_name="daily")] == [first.run_id]
    assert [r.run_id for r in store.list_runs(state="FAILED")] == [first.run_id]
    assert [r.run_id for r in store.active_runs()] == [second.run_id]
    missing = make_run()
    with pytest.raises(NotFoundError):
        store.update_run(missing)


def test_log_events_keep_write_order_per_stream(store: Store) -> None:
    events = [LogEvent("/g", "s1" if i % 2 else "s2", 5000 - i, f"line {i}") for i in range(50)]
    store.append_log_events(events)
    s1 = store.get_log_events("/g", "s1")
    assert [e.message for e in s1] == [f"line {i}" for i in range(1, 50, 2)]
    merged = store.read_streams([("/g", "s1"), ("/g", "s2")])
    assert [e.message for e in merged] == [f"line {i}" for i in range(50)]
    last = store.read_streams([("/g", "s1"), ("/g", "s2")], limit=3, newest=True)
    assert [e.message for e in last] == ["line 47", "line 48", "line 49"]
    after = store.read_streams([("/g", "s2")], after_id=last[0].event_id)
    assert [e.message for e in after] == ["line 48"]
    assert store.count_log_events("/g", "s1") == 25


def test_metrics_by_run_and_series(store: Store) -> None:
    dims = {"JobName": "daily", "JobRunId": "jr_1"}
    store.put_metric_data([
        MetricDatum("Pipetrail/Jobs", "cpu", 1000 + i, float(i), "Percent", dims, "jr_1")
        for i in range(5)
    ])
    assert [d.value for d in store.get_run_metrics("jr_1", "cpu")] == [0, 1, 2, 3, 4]
    series = store.get_metric_series("Pipetrail/Jobs", "cpu", dims, 1001, 1003)
    assert [d.value for d in series] == [1, 2]
    assert store.get_metric_series("Pipetrail/Jobs", "cpu", {"JobName": "x"}, 0, 10**13) == []
    with pytest.raises(ValidationError, match="unit"):
        store.put_metric_data([MetricDatum("N", "m", 1, 1.0, "Parsecs")])
    with pytest.raises(ValidationError, match="non-finite"):
        store.put_metric_data([MetricDatum("N", "m", 1, float("nan"))])


def _event(name: str, t: int, user: Identity = BOB, **kw: object) -> AuditEvent:
    return AuditEvent(event_source="jobs.pipetrail", event_name=name, identity=user,
                      event_time_ms=t, **kw)


def test_audit_events_are_idempotent_by_event_id(store: Store) -> None:
    event = _event("StartJobRun", 1000)
    assert store.append_audit_events([event]) == 1
    assert store.append_audit_events([event, _event("GetJobRun", 1001)]) == 1
    assert store.count_audit_events() == 2


def test_an_invalid_event_in_a_batch_stores_nothing(store: Store) -> None:
    bad = _event("X", 1, request_parameters={"big": "x" * 300_000})
    with pytest.raises(ValidationError):
        store.append_audit_events([_event("Fine", 1), bad])
    assert store.count_audit_events() == 0


def test_lookup_filters(store: Store) -> None:
    alice = Identity(type="LocalUser", principal_id="1000", user_name="alice")
    store.append_audit_events([
        _event("StartJobRun", 1000, resources=[Resource("R", "arn:run/1")]),
        _event("GetJobRun", 2000, user=alice, resources=[Resource("R", "arn:run/1")]),
        _event("GetJobRun", 3000, resources=[Resource("R", "arn:run/2")]),
        AuditEvent(event_source="data.pipetrail", event_name="ReadDataset", identity=alice,
                   event_type="DataAccess", dataset="s3://b/patients.csv", operation="read",
                   event_time_ms=4000),
    ])

    def names(**kw: object) -> list[str]:
        return [r["eventName"] for r in store.lookup_audit_events(AuditQuery(**kw))]

    assert names() == ["ReadDataset", "GetJobRun", "GetJobRun", "StartJobRun"]
    assert names(event_name="GetJobRun") == ["GetJobRun", "GetJobRun"]
    assert names(user="alice") == ["ReadDataset", "GetJobRun"]
    assert names(resource="arn:run/1") == ["GetJobRun", "StartJobRun"]
    assert names(resource="s3://b/patients.csv") == ["ReadDataset"]
    assert names(start=2000, end=3001) == ["GetJobRun", "GetJobRun"]
    assert names(user="alice", resource="arn:run/1") == ["GetJobRun"]
    assert names(category="Data") == ["ReadDataset"]
    assert names(limit=1) == ["ReadDataset"]


def test_concurrent_writers_lose_and_duplicate_nothing(store: Store) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for batch in range(20):
                store.append_log_events(
                    [LogEvent("/c", f"w{n}", batch, f"{n}-{batch}-{i}") for i in range(25)])
                store.append_audit_events([_event(f"W{n}", batch) for _ in range(5)])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for n in range(6):
        messages = [e.message for e in store.get_log_events("/c", f"w{n}", limit=10_000)]
        assert messages == [f"{n}-{b}-{i}" for b in range(20) for i in range(25)]
    assert store.count_audit_events() == 6 * 20 * 5
