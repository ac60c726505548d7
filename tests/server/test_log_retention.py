"""The server's leader applies log-group retention on a schedule, as
``pipetrail logs expire`` does, every PIPETRAIL_RETENTION_INTERVAL seconds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipetrail.actions import log_groups
from pipetrail.actions.background import (
    ApplyLogRetention,
    retention_interval,
    service_context,
)
from pipetrail.actions.context import ActionContext
from pipetrail.actions.extensions import background_evaluators
from pipetrail.config import Settings
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ConfigError
from pipetrail.model.log_groups import DAY_MS
from pipetrail.model.logs import ERROR_GROUP, OUTPUT_GROUP, LogEvent
from pipetrail.store import Store, open_store
from pipetrail.store.store import AuditQuery
from tests.conftest import Cli
from tests.servers import ThreadedServer, free_port


def old_and_new_events(store: Store) -> None:
    now = now_ms()
    store.append_log_events([LogEvent(OUTPUT_GROUP, "jr_old", now - 40 * DAY_MS, "old"),
                             LogEvent(OUTPUT_GROUP, "jr_new", now - DAY_MS, "new"),
                             LogEvent(ERROR_GROUP, "jr_old", now - 40 * DAY_MS, "kept")])


def test_the_evaluator_expires_events_as_the_server(ctx: ActionContext, store: Store,
                                                    settings: Settings) -> None:
    old_and_new_events(store)
    log_groups.put_retention_policy(ctx, OUTPUT_GROUP, 30)
    ApplyLogRetention().evaluate(service_context(store, settings))
    assert [s.name for s in store.describe_log_streams(OUTPUT_GROUP)] == ["jr_new"]
    assert store.count_log_events(ERROR_GROUP, "jr_old") == 1  # no policy: kept
    [record] = store.lookup_audit_events(AuditQuery(event_name="ExpireLogEvents", limit=5))
    assert record["userIdentity"]["type"] == "Service"
    assert record["userIdentity"]["userName"] == "pipetrail-server"
    assert record["responseElements"]["deletedEvents"] == 1


def test_the_leader_of_a_running_server_applies_retention(
        ctx: ActionContext, store: Store, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPETRAIL_RETENTION_INTERVAL", "60")  # the first pass is at once
    old_and_new_events(store)
    log_groups.put_retention_policy(ctx, OUTPUT_GROUP, 30)
    server = ThreadedServer(settings, store).start()
    try:
        deadline = time.monotonic() + 15
        while store.count_log_events(OUTPUT_GROUP, "jr_old"):
            assert time.monotonic() < deadline, "the leader did not apply retention"
            time.sleep(0.05)
    finally:
        server.stop()
    assert store.count_log_events(OUTPUT_GROUP, "jr_new") == 1
    [record] = store.lookup_audit_events(AuditQuery(event_name="ExpireLogEvents", limit=5))
    assert record["userIdentity"]["userName"] == "pipetrail-server"


def evaluator_names(ctx: ActionContext) -> dict[str, float]:
    return {e.name: e.interval for e in background_evaluators(ctx)}


def test_the_interval_is_configured_and_retention_can_be_switched_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path / "home")
    store = open_store(settings)
    ctx = service_context(store, settings)
    monkeypatch.delenv("PIPETRAIL_RETENTION_INTERVAL", raising=False)
    assert evaluator_names(ctx)["apply-log-retention"] == 600
    monkeypatch.setenv("PIPETRAIL_RETENTION_INTERVAL", "3600")
    assert evaluator_names(ctx)["apply-log-retention"] == 3600
    monkeypatch.setenv("PIPETRAIL_RETENTION_INTERVAL", "0")
    assert "apply-log-retention" not in evaluator_names(ctx)
    assert "evaluate-alarms" in evaluator_names(ctx)
    store.close()


@pytest.mark.parametrize("text", ["10", "90000", "-60", "ten", "nan"])
def test_a_bad_interval_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="PIPETRAIL_RETENTION_INTERVAL"):
        retention_interval({"PIPETRAIL_RETENTION_INTERVAL": text})


def test_the_server_does_not_start_with_a_bad_interval(tmp_path: Path) -> None:
    cli = Cli(Settings(home=tmp_path / "home"), tmp_path)
    result = cli("server", "--port", str(free_port()),
                 env={"PIPETRAIL_RETENTION_INTERVAL": "5"}, timeout=60)
    assert result.returncode == 3
    assert "PIPETRAIL_RETENTION_INTERVAL must be 0 (off) or between 60 and 86400" in \
        result.stderr
