"""The ingest pipeline's built-in steps, alone and together."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.actions.extensions import ingest_pipeline
from pipetrail.config import Settings
from pipetrail.ingest.metric_filters import MetricFilterStep
from pipetrail.ingest.pipeline import IngestPipeline
from pipetrail.ingest.quiet import QuietStep
from pipetrail.ingest.redact import RedactStep
from pipetrail.logs.redaction import Redactor
from pipetrail.model.errors import ConfigError
from pipetrail.model.logs import ERROR_GROUP, MAX_MESSAGE_BYTES, OUTPUT_GROUP, LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.store import Store
from pipetrail.store.metric_filters import StoredMetricFilter


def event(message: str, partial: bool = False, stream: str = "jr_1",
          group: str = OUTPUT_GROUP) -> LogEvent:
    return LogEvent(group, stream, 1_000, message, partial=partial, run_id="jr_1")


def test_long_messages_are_split_after_the_steps_so_a_secret_is_never_cut() -> None:
    key = "AKIAIOSFODNN7EXAMPLE"
    message = "x" * (MAX_MESSAGE_BYTES - 10) + f" {key} " + "y" * 100
    plain, _ = IngestPipeline().process_logs([event(message)])
    assert len(plain) == 2 and key not in plain[0].message and key not in plain[1].message
    assert "".join(e.message for e in plain) == message  # split exactly there: leaks
    kept, _ = IngestPipeline([RedactStep(Redactor())]).process_logs([event(message)])
    joined = "".join(e.message for e in kept)
    assert key not in joined and "[REDACTED:aws-access-key-id]" in joined
    assert all(len(e.message.encode()) <= MAX_MESSAGE_BYTES for e in kept)


def test_pieces_of_a_long_line_pass_the_quiet_step_and_are_redacted_whole() -> None:
    pipeline = IngestPipeline([QuietStep(), RedactStep(Redactor())])
    head = "z" * (MAX_MESSAGE_BYTES * 2) + " password=hun"
    tail = "ter2 [Stage 0:> (0 + 2) / 2]"  # looks like noise, but ends the line above
    kept, _ = pipeline.process_logs([event(head, partial=True), event(tail)])
    joined = "".join(e.message for e in kept)
    assert joined == "z" * (MAX_MESSAGE_BYTES * 2) + " password=[REDACTED:password] [Stage 0:> " \
                     "(0 + 2) / 2]"
    noise, _ = pipeline.process_logs([event("[Stage 0:> (0 + 2) / 2]")])
    assert noise == []


def test_the_quiet_step_drops_noise_and_trims_progress_bars() -> None:
    step = QuietStep()
    emitted: list[MetricDatum] = []
    assert step(event('Setting default log level to "WARN".'), emitted.append) is None
    trimmed = step(event("[Stage 0:>   (0 + 2) / 2]udf print 2"), emitted.append)
    assert trimmed is not None and trimmed.message == "udf print 2"
    kept = event("INFO job started")
    assert step(kept, emitted.append) is kept


def test_metric_filters_are_loaded_at_start_and_refreshed(store: Store) -> None:
    now = [0.0]
    step = MetricFilterStep(store, refresh_seconds=5, clock=lambda: now[0])
    datums: list[MetricDatum] = []
    step(event("ERROR one"), datums.append)
    assert datums == []
    store.put_metric_filter(StoredMetricFilter(
        OUTPUT_GROUP, "errors", "ERROR",
        {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1",
         "defaultValue": 0, "unit": "Count"}, 1))
    store.put_metric_filter(StoredMetricFilter(
        OUTPUT_GROUP, "latency", "{ $.latency > 0 }",
        {"metricName": "Latency", "metricNamespace": "App", "metricValue": "$.latency",
         "unit": "Milliseconds", "dimensions": {"Step": "$.step"}}, 1))
    step(event("ERROR two"), datums.append)
    assert datums == []  # not reloaded yet
    now[0] = 5.0
    for message in ("ERROR three", "INFO fine", '{"latency": 12.5, "step": "load"}'):
        assert step(event(message), datums.append) is not None
    step(event("ERROR elsewhere", group=ERROR_GROUP), datums.append)
    assert [(d.name, d.value, d.unit, d.dimensions, d.run_id) for d in datums] == [
        ("Errors", 1.0, "Count", {}, "jr_1"), ("Errors", 0.0, "Count", {}, "jr_1"),
        ("Errors", 0.0, "Count", {}, "jr_1"),
        ("Latency", 12.5, "Milliseconds", {"Step": "load"}, "jr_1")]
    assert step.filter_count == 2


def test_a_filter_whose_regex_times_out_skips_the_event(store: Store) -> None:
    store.put_metric_filter(StoredMetricFilter(
        OUTPUT_GROUP, "slow", "%^[ab]*[ab]*[ab]*[ab]*[ab]*[ab]*[bc]{2}%",
        {"metricName": "Slow", "metricNamespace": "App", "metricValue": "1"}, 1))
    store.put_metric_filter(StoredMetricFilter(
        OUTPUT_GROUP, "any", "",
        {"metricName": "Lines", "metricNamespace": "App", "metricValue": "1"}, 1))
    step = MetricFilterStep(store)
    datums: list[MetricDatum] = []
    kept = step(event("a" * 3000), datums.append)
    assert kept is not None and [d.name for d in datums] == ["Lines"]


def test_the_default_pipeline_redacts_before_metric_filters_see_the_line(
        ctx: ActionContext, store: Store) -> None:
    store.put_metric_filter(StoredMetricFilter(
        OUTPUT_GROUP, "by-user", "[verb, user, ...]",
        {"metricName": "Logins", "metricNamespace": "App", "metricValue": "1",
         "dimensions": {"User": "$user"}}, 1))
    pipeline = ingest_pipeline(ctx)
    kept, datums = pipeline.process_logs([event("login password=hunter2 ok")])
    assert kept[0].message == "login password=[REDACTED:password] ok"
    assert datums[0].dimensions == {"User": "password=[REDACTED:password]"}


def test_the_configuration_chooses_the_steps(tmp_path: Path, store: Store) -> None:
    patterns = tmp_path / "patterns.txt"
    patterns.write_text("# comment\n\ncust-\\d{8}\n")
    settings = Settings.from_env({"PIPETRAIL_HOME": str(tmp_path),
                                  "PIPETRAIL_LOG_FILTER": "standard",
                                  "PIPETRAIL_REDACT_PATTERNS": "alpha-\\d+\n  \n#x\n",
                                  "PIPETRAIL_REDACT_FILE": str(patterns)})
    assert settings.redact_patterns == ("alpha-\\d+", "cust-\\d{8}")
    ctx = ActionContext.local(store, settings)
    pipeline = ingest_pipeline(ctx)
    assert [type(step) for step in pipeline.log_steps] == [QuietStep, RedactStep,
                                                           MetricFilterStep]
    kept, _ = pipeline.process_logs([event('Setting default log level to "WARN".'),
                                     event("ids alpha-42 cust-12345678")])
    assert [e.message for e in kept] == ["ids [REDACTED:custom] [REDACTED:custom]"]
    default = ingest_pipeline(ActionContext.local(store, Settings(home=tmp_path)))
    assert [type(step) for step in default.log_steps] == [RedactStep, MetricFilterStep]


@pytest.mark.parametrize("environ, message", [
    ({"PIPETRAIL_LOG_FILTER": "loud"}, "PIPETRAIL_LOG_FILTER must be one of none, standard"),
    ({"PIPETRAIL_REDACT_FILE": "/nonexistent/patterns"}, "cannot read PIPETRAIL_REDACT_FILE"),
])
def test_bad_log_settings_are_configuration_errors(environ: dict[str, str],
                                                   message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)
