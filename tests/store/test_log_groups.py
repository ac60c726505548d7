"""Log groups, streams, retention, expiry, metric filters and the change signal, on
SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import insert

from pipetrail.config import Settings
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.model.log_groups import DAY_MS
from pipetrail.model.logs import ERROR_GROUP, INSIGHTS_GROUP, OUTPUT_GROUP, LogEvent
from pipetrail.store import Store
from pipetrail.store import schema as t
from pipetrail.store.engine import make_engine
from pipetrail.store.metric_filters import StoredMetricFilter
from pipetrail.store.migrate import ensure_schema, upgrade

DAY = DAY_MS
NOW = 1_800_000_000_000


def test_the_run_groups_exist_from_the_start(store: Store) -> None:
    groups = store.describe_log_groups()
    assert [g.name for g in groups] == sorted([OUTPUT_GROUP, ERROR_GROUP, INSIGHTS_GROUP])
    assert all(g.retention_days is None and g.stored_events == 0 for g in groups)


def test_events_create_their_group_and_stream_with_counts(store: Store) -> None:
    store.append_log_events([LogEvent("/app/etl", "jr_1", 2000, "héllo"),
                             LogEvent("/app/etl", "jr_1", 1000, "x"),
                             LogEvent("/app/etl", "jr_2", 5000, "yz")])
    store.append_log_events([LogEvent("/app/etl", "jr_1", 3000, "€")])
    group = store.get_log_group("/app/etl")
    assert (group.stored_events, group.stored_bytes) == (4, 6 + 1 + 2 + 3)
    streams = {s.name: s for s in store.describe_log_streams("/app/etl")}
    assert set(streams) == {"jr_1", "jr_2"}
    one = streams["jr_1"]
    assert (one.first_event, one.last_event, one.stored_events, one.stored_bytes) == (
        1000, 3000, 3, 6 + 1 + 3)
    assert one.last_ingestion is not None and one.created_on <= one.last_ingestion


def test_streams_order_prefix_and_limit(store: Store) -> None:
    store.append_log_events([LogEvent("/g", f"s{i}", ts, "m")
                             for i, ts in enumerate([30, 10, 20])])
    names = [s.name for s in store.describe_log_streams("/g")]
    assert names == ["s0", "s1", "s2"]
    by_time = [s.name for s in store.describe_log_streams("/g", order_by="lastEvent",
                                                          descending=True)]
    assert by_time == ["s0", "s2", "s1"]
    assert [s.name for s in store.describe_log_streams("/g", prefix="s1")] == ["s1"]
    assert len(store.describe_log_streams("/g", limit=2)) == 2
    with pytest.raises(NotFoundError):
        store.describe_log_streams("/nope")


def test_groups_are_created_and_their_retention_set(store: Store) -> None:
    store.create_log_group("/app/a", NOW, 30)
    with pytest.raises(ValidationError, match="already exists"):
        store.create_log_group("/app/a", NOW)
    assert store.get_log_group("/app/a").retention_days == 30
    store.set_retention("/app/a", None)
    assert store.get_log_group("/app/a").retention_days is None
    with pytest.raises(NotFoundError):
        store.set_retention("/app/none", 7)
    assert [g.name for g in store.describe_log_groups(prefix="/app/")] == ["/app/a"]


def test_expiry_deletes_old_events_and_empty_streams(store: Store) -> None:
    old, spanning, new = NOW - 10 * DAY, NOW - 8 * DAY, NOW - DAY
    store.append_log_events([
        LogEvent("/g", "gone", old, "a"), LogEvent("/g", "gone", old + 1, "bb"),
        LogEvent("/g", "half", old, "ccc"), LogEvent("/g", "half", spanning, "dddd"),
        LogEvent("/g", "half", new, "e"), LogEvent("/g", "kept", new, "f"),
        LogEvent("/other", "s", old, "never expires"),
    ])
    store.set_retention("/g", 7)
    expired = store.expire_log_events(NOW)
    assert [(e.group, e.deleted_events, e.deleted_streams) for e in expired] == [("/g", 4, 1)]
    assert expired[0].cutoff == NOW - 7 * DAY
    streams = {s.name: s for s in store.describe_log_streams("/g")}
    assert set(streams) == {"half", "kept"}
    half = streams["half"]
    assert (half.first_event, half.last_event, half.stored_events, half.stored_bytes) == (
        new, new, 1, 1)
    assert [e.message for e in store.get_log_events("/g", "half")] == ["e"]
    assert store.count_log_events("/other", "s") == 1
    assert store.expire_log_events(NOW)[0].deleted_events == 0


def test_expiry_in_batches_and_of_one_group(store: Store, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setattr("pipetrail.store.log_groups.EXPIRE_BATCH", 7)
    store.append_log_events([LogEvent("/a", "s", NOW - 30 * DAY + i, "x") for i in range(20)])
    store.append_log_events([LogEvent("/b", "s", NOW - 30 * DAY, "x")])
    store.set_retention("/a", 1)
    store.set_retention("/b", 1)
    expired = store.expire_log_events(NOW, group="/a")
    assert [(e.group, e.deleted_events) for e in expired] == [("/a", 20)]
    assert store.count_log_events("/b", "s") == 1


def test_metric_filters_are_put_replaced_listed_and_deleted(store: Store) -> None:
    item = StoredMetricFilter(OUTPUT_GROUP, "errors", "ERROR",
                              {"metricName": "Errors", "metricNamespace": "App",
                               "metricValue": "1"}, NOW)
    assert store.put_metric_filter(item) is True
    item.pattern = "?ERROR ?FATAL"
    assert store.put_metric_filter(item) is False
    store.put_metric_filter(StoredMetricFilter(ERROR_GROUP, "warnings", "WARN",
                                               {"metricName": "Warnings"}, NOW))
    found = store.describe_metric_filters(group=OUTPUT_GROUP)
    assert [(f.name, f.pattern) for f in found] == [("errors", "?ERROR ?FATAL")]
    assert found[0].transformation["metricNamespace"] == "App"
    assert len(store.describe_metric_filters()) == 2
    assert store.describe_metric_filters(group=ERROR_GROUP, prefix="warn")[0].name == "warnings"
    assert store.get_log_group(OUTPUT_GROUP).metric_filter_count == 1
    store.delete_metric_filter(OUTPUT_GROUP, "errors")
    with pytest.raises(NotFoundError):
        store.delete_metric_filter(OUTPUT_GROUP, "errors")
    with pytest.raises(NotFoundError, match="no log group"):
        store.put_metric_filter(StoredMetricFilter("/none", "x", "", {}, NOW))


def test_reading_backwards_before_an_event(store: Store) -> None:
    store.append_log_events([LogEvent("/g", "s", i, str(i)) for i in range(10)])
    ids = [e.event_id for e in store.get_log_events("/g", "s")]
    page = store.read_streams([("/g", "s")], before_id=ids[6], limit=3, newest=True)
    assert [e.message for e in page] == ["3", "4", "5"]


def test_the_watcher_wakes_when_events_are_stored(store: Store) -> None:
    with store.watch_log_events() as watcher:
        assert watcher.wait(0.05) is False

        def write() -> None:
            time.sleep(0.2)
            store.append_log_events([LogEvent("/g", "s", 1, "new")])

        writer = threading.Thread(target=write)
        started = time.monotonic()
        writer.start()
        assert watcher.wait(5) is True
        assert 0.15 < time.monotonic() - started < 4
        writer.join()


def test_the_migration_makes_groups_and_streams_of_stored_events(settings: Settings) -> None:
    engine = make_engine(settings.effective_database_url)
    if settings.database_url is None:
        settings.ensure_home()
    with engine.connect() as conn:
        upgrade(conn, "0003")
        conn.execute(insert(t.log_events), [
            {"group_name": "/old", "stream_name": "s", "timestamp": ts, "ingestion_time": 7,
             "message": message} for ts, message in ((5, "é"), (9, "ab"))])
        conn.commit()
    ensure_schema(engine)
    migrated = Store(engine)
    try:
        stream = migrated.describe_log_streams("/old")[0]
        assert (stream.first_event, stream.last_event, stream.stored_events,
                stream.stored_bytes, stream.created_on) == (5, 9, 2, 4, 7)
        assert {g.name for g in migrated.describe_log_groups()} == {
            "/old", OUTPUT_GROUP, ERROR_GROUP, INSIGHTS_GROUP}
    finally:
        migrated.close()
