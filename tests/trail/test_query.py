"""``trail query``: SQL over the archive's log files and the store's undelivered
events, each event once, read-only and locked down."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest

from pipetrail.access.authorizer import PolicyAuthorizer
from pipetrail.access.evaluate import PolicySet
from pipetrail.access.policy import parse_policy
from pipetrail.actions.context import ActionContext, Caller
from pipetrail.actions.trail_archive import query_events
from pipetrail.model.errors import AccessDeniedError
from pipetrail.model.identity import Identity
from pipetrail.store.store import AuditQuery
from pipetrail.trail.query import QueryError, QueryLimitError, run_query
from tests.trail.timeline import Timeline, data_event


def test_events_come_from_the_archive_and_the_store_each_once(timeline: Timeline) -> None:
    delivered = timeline.days_ago(25, days=3)
    timeline.deliver()
    fresh = timeline.days_ago(4, days=1, user="bob")
    result = run_query(timeline.store, timeline.archive,
                       "SELECT count(*), count(DISTINCT eventid), sum(rows) FROM events")
    assert result.rows == [(29, 29, 290)]
    assert result.statistics["archiveFilesRead"] == 3  # 25 events, 10 per file
    assert result.statistics["storeEventsRead"] == 4
    ids = run_query(timeline.store, timeline.archive, "SELECT eventid FROM events", max_rows=100)
    assert {r[0] for r in ids.rows} == {e.event_id for e in delivered + fresh}


def test_a_missing_log_file_is_read_from_the_store(timeline: Timeline) -> None:
    timeline.days_ago(25, days=3)
    timeline.deliver()
    timeline.archive.delete(timeline.log_keys()[1])
    result = run_query(timeline.store, timeline.archive,
                       "SELECT count(*), count(DISTINCT eventid) FROM events")
    assert result.rows == [(25, 25)]
    assert result.statistics["archiveFilesRead"] == 2
    assert result.statistics["storeEventsRead"] == 10
    assert "is missing" in result.warnings[0]


def test_columns_are_lowercase_cloudtrail_fields_with_types(timeline: Timeline) -> None:
    when = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    event = data_event(when, user="carol", dataset="s3://lake/claims", rows=7,
                       error_code="AccessDenied", error_message="no")
    timeline.record([event])
    timeline.deliver()
    result = run_query(timeline.store, timeline.archive, "SELECT * FROM events")
    row = result.records()[0]
    typed = dict(zip(result.columns, result.rows[0], strict=True))
    assert typed["eventtime"] == dt.datetime(2026, 1, 1)
    assert typed["readonly"] is True and typed["rows"] == 7
    assert row["eventid"] == event.event_id and row["eventtime"] == "2026-01-01T00:00:00Z"
    assert row["eventsource"] == "data.pipetrail" and row["eventname"] == "ReadDataset"
    assert row["eventcategory"] == "Data" and row["eventtype"] == "DataAccess"
    assert row["username"] == "carol" and row["principalid"] == "id-carol"
    assert row["useridentity"]["userName"] == "carol"
    assert row["dataset"] == "s3://lake/claims" and row["operation"] == "read"
    assert row["bytes"] == 700 and row["columns"] == ["id", "name"]
    assert row["jobrunid"] == "jr_" + "0" * 64
    assert row["errorcode"] == "AccessDenied" and row["errormessage"] == "no"
    assert row["requestparameters"] == {"path": "s3://lake/claims"}
    assert row["resources"] == [{"type": "Pipetrail::Jobs::JobRun",
                                 "ARN": "arn:pipetrail:jobs:local:job/x"}]
    arns = run_query(timeline.store, timeline.archive,
                     "SELECT r.arn FROM (SELECT unnest(resources) r FROM events)")
    assert arns.rows == [("arn:pipetrail:jobs:local:job/x",)]


@pytest.mark.parametrize("where", [
    "eventtime >= TIMESTAMP '{a}' AND eventtime < TIMESTAMP '{b}'",
    "eventtime BETWEEN '{a}' AND '{b}' AND dataset = 's3://lake/patients'",
    "TIMESTAMP '{a}' <= e.eventtime AND '{b}' > e.eventtime",
    "eventtime > now() - INTERVAL 2 DAY",
    "eventtime = TIMESTAMP '{a}'",
])
def test_a_time_window_in_the_statement_reads_fewer_files_and_gives_the_same_rows(
        timeline: Timeline, where: str) -> None:
    events = timeline.days_ago(10, days=4, step_ms=3_600_000)  # 4 days ago, hourly
    events += timeline.days_ago(10, days=1, step_ms=3_600_000)  # 1 day ago, hourly
    timeline.deliver()
    times = sorted(e.event_time_ms for e in events)
    a, b = (dt.datetime.fromtimestamp(t // 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
            for t in (times[12], times[15]))
    condition = where.format(a=a, b=b)
    pushed = run_query(timeline.store, timeline.archive,
                       f"SELECT eventid FROM events e WHERE {condition} ORDER BY eventid",
                       max_rows=100)
    whole = run_query(timeline.store, timeline.archive,
                      f"SELECT eventid FROM (SELECT * FROM events) e WHERE {condition} "
                      "ORDER BY eventid", max_rows=100)
    assert pushed.rows == whole.rows and pushed.rows
    assert whole.statistics["archiveFilesRead"] == 2
    assert pushed.statistics["archiveFilesRead"] == 1
    assert pushed.statistics["startTime"] is not None


def test_start_and_end_limit_the_events(timeline: Timeline) -> None:
    events = timeline.days_ago(20, days=2, step_ms=3_600_000)
    timeline.deliver()
    start, end = events[5].event_time_ms, events[9].event_time_ms
    result = run_query(timeline.store, timeline.archive, "SELECT count(*) FROM events",
                       start=start, end=end)
    assert result.rows == [(4,)]


@pytest.mark.parametrize("statement, message", [
    ("COPY (SELECT 1) TO '{dir}/out.csv'", "not COPY"),
    ("ATTACH '{dir}/other.db'", "not ATTACH"),
    ("INSTALL httpfs", "not INSTALL"),
    ("LOAD httpfs", "not LOAD"),
    ("CREATE TABLE t AS SELECT 1", "not CREATE"),
    ("DROP TABLE events", "not DROP"),
    ("DELETE FROM events", "not DELETE"),
    ("SET enable_external_access = true", "not SET"),
    ("PRAGMA version", "not PRAGMA"),
    ("SELECT 1; SELECT 2", "exactly one SELECT"),
    ("SELEC 1", "syntax error"),
    ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
    ("SELECT * FROM read_text('/etc/hostname')", "disabled by configuration"),
    ("SELECT * FROM glob('{dir}/*')", "disabled by configuration"),
    ("SELECT * FROM read_json('{archive}/**/*.json.gz')", "disabled by configuration"),
    ("SELECT * FROM read_parquet('https://example.com/x.parquet')", "disabled by configuration"),
    ("SELECT * FROM nosuch", "nosuch"),
])
def test_anything_but_one_select_over_events_is_refused(
        timeline: Timeline, tmp_path: Path, statement: str, message: str) -> None:
    timeline.days_ago(3, days=1)
    timeline.deliver()
    text = statement.format(dir=tmp_path, archive=timeline.settings.home / "archive")
    with pytest.raises(QueryError, match=message):
        run_query(timeline.store, timeline.archive, text)
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.db").exists()


def test_rows_are_capped(timeline: Timeline) -> None:
    timeline.days_ago(12, days=1)
    result = run_query(timeline.store, timeline.archive, "SELECT eventid FROM events", max_rows=5)
    assert len(result.rows) == 5 and result.truncated
    whole = run_query(timeline.store, timeline.archive, "SELECT eventid FROM events", max_rows=12)
    assert len(whole.rows) == 12 and not whole.truncated


def test_a_query_over_its_time_limit_is_stopped(timeline: Timeline) -> None:
    with pytest.raises(QueryLimitError, match="time limit"):
        run_query(timeline.store, timeline.archive,
                  "SELECT count(*) FROM range(100000) a, range(100000) b WHERE a.range <> b.range",
                  time_limit=0.5)


def test_the_query_is_authorised_and_recorded(timeline: Timeline, ctx: ActionContext) -> None:
    timeline.days_ago(3, days=1)
    result = query_events(ctx, "SELECT count(*) FROM events", archive=timeline.archive)
    assert result.rows == [(3,)]
    recorded = ctx.store.lookup_audit_events(AuditQuery(event_name="QueryEvents"))[0]
    assert recorded["requestParameters"]["queryStatement"] == "SELECT count(*) FROM events"
    assert recorded["resources"] == [{"type": "Pipetrail::Trail::Trail",
                                      "ARN": "arn:pipetrail:trail:local:trail/default"}]
    with pytest.raises(QueryError):
        query_events(ctx, "DROP TABLE events", archive=timeline.archive)
    failed = ctx.store.lookup_audit_events(AuditQuery(event_name="QueryEvents"))[0]
    assert failed["errorCode"] == "InvalidQueryStatementException"


def test_a_caller_without_permission_is_refused(timeline: Timeline, ctx: ActionContext) -> None:
    policy = parse_policy('{"Statement": {"Effect": "Allow", "Action": "trail:LookupEvents", '
                          '"Resource": "*"}}')
    mallory = ActionContext(ctx.store, ctx.settings,
                            Caller(Identity("User", "mallory", "mallory", "local")),
                            authorizer=PolicyAuthorizer(PolicySet([policy])))
    with pytest.raises(AccessDeniedError, match="trail:QueryEvents"):
        query_events(mallory, "SELECT count(*) FROM events", archive=timeline.archive)
    denied = ctx.store.lookup_audit_events(AuditQuery(user="mallory"))[0]
    assert (denied["eventName"], denied["errorCode"]) == ("QueryEvents", "AccessDenied")


def test_json_values_in_results_are_json(timeline: Timeline) -> None:
    timeline.days_ago(1, days=1)
    result = run_query(timeline.store, timeline.archive,
                       "SELECT requestparameters, useridentity->>'userName' AS u FROM events")
    assert orjson.loads(orjson.dumps(result.to_record()))["rows"] == [
        {"requestparameters": {"path": "s3://lake/patients"}, "u": "alice"}]


def test_a_working_folder_with_a_quote_in_its_name_works(timeline: Timeline, tmp_path: Path
                                                         ) -> None:
    timeline.days_ago(3, days=1)
    timeline.deliver()
    result = run_query(timeline.store, timeline.archive, "SELECT count(*) FROM events",
                       workdir=tmp_path / "it's here")
    assert result.rows == [(3,)]
    assert list((tmp_path / "it's here").iterdir()) == []  # the query's folder is gone


@pytest.mark.parametrize("statement", [
    "SELECT username, dataset, sum(rows), max(eventtime) FROM events GROUP BY ALL ORDER BY ALL",
    "SELECT a.eventid, b.useragent FROM events a JOIN events b USING (eventid) ORDER BY 1",
    "SELECT [r.type FOR r IN resources], principalid FROM events e ORDER BY e.eventid",
    "SELECT count(*) FROM events WHERE accesskeyid IS NULL AND operation = 'read'",
])
def test_loading_only_the_named_columns_gives_the_same_rows(timeline: Timeline, statement: str
                                                           ) -> None:
    timeline.days_ago(6, days=2, user="ann")
    timeline.days_ago(4, days=1, user="bo", dataset="s3://lake/other")
    timeline.deliver()
    narrow = run_query(timeline.store, timeline.archive, statement, max_rows=100)
    whole = run_query(timeline.store, timeline.archive,
                      statement.replace("FROM events", "FROM (SELECT * FROM events)"),
                      max_rows=100)
    assert narrow.rows == whole.rows and narrow.rows
