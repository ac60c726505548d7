"""``pipetrail alarms``: metric and composite alarms with CloudWatch semantics."""

from __future__ import annotations

import time
from typing import Any

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.options import json_value, pairs, time_option
from pipetrail.cli.output import emit, format_option


@click.group("alarms")
def alarms() -> None:
    """Metric and composite alarms (CloudWatch semantics)."""


@alarms.command("put")
@click.option("--name", help="Alarm name.")
@click.option("--namespace", help="Metric namespace, e.g. Pipetrail/Jobs.")
@click.option("--metric-name", help="Metric name, e.g. process.memory.rss.")
@click.option("--dimension", "dimensions", multiple=True, metavar="KEY=VALUE",
              help="A dimension (repeat); the metric's dimensions must match exactly.")
@click.option("--statistic", help="SampleCount, Average, Sum, Minimum, Maximum, or p99 …")
@click.option("--period", type=int, help="Seconds: 1, 5, 10, 20, 30 or a multiple of 60.")
@click.option("--evaluation-periods", type=int, help="N: periods evaluated.")
@click.option("--datapoints-to-alarm", type=int, help="M of N (default N).")
@click.option("--threshold", type=float)
@click.option("--comparison-operator",
              help="GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, "
                   "LessThanOrEqualToThreshold, or a band operator.")
@click.option("--band-width", type=float, help="Anomaly band width (band operators).")
@click.option("--treat-missing-data",
              type=click.Choice(["missing", "ignore", "breaching", "notBreaching"]))
@click.option("--alarm-action", "alarm_actions", multiple=True, help="Action on ALARM.")
@click.option("--ok-action", "ok_actions", multiple=True, help="Action on OK.")
@click.option("--description", default=None)
@click.option("--json", "definition", metavar="JSON_OR_@FILE",
              help="The whole definition in CloudWatch's PutMetricAlarm JSON (fields given "
                   "as options override it).")
@pass_app
def put(app: App, name: str | None, namespace: str | None, metric_name: str | None,
        dimensions: tuple[str, ...], statistic: str | None, period: int | None,
        evaluation_periods: int | None, datapoints_to_alarm: int | None,
        threshold: float | None, comparison_operator: str | None, band_width: float | None,
        treat_missing_data: str | None, alarm_actions: tuple[str, ...],
        ok_actions: tuple[str, ...], description: str | None, definition: str | None) -> None:
    """Create or update a metric alarm (PutMetricAlarm)."""
    from pipetrail.actions.alarms import put_metric_alarm

    data: dict[str, Any] = dict(json_value(definition, "--json")) if definition else {}
    options: dict[str, Any] = {
        "AlarmName": name, "Namespace": namespace, "MetricName": metric_name,
        "Statistic": statistic if statistic and not statistic.startswith(("p", "t", "w"))
        else None,
        "ExtendedStatistic": statistic if statistic and statistic.startswith(("p", "t", "w"))
        else None,
        "Period": period, "EvaluationPeriods": evaluation_periods,
        "DatapointsToAlarm": datapoints_to_alarm, "Threshold": threshold,
        "ComparisonOperator": comparison_operator, "TreatMissingData": treat_missing_data,
        "AlarmDescription": description,
        "AlarmActions": list(alarm_actions) or None, "OKActions": list(ok_actions) or None,
    }
    if dimensions:
        options["Dimensions"] = [{"Name": k, "Value": v} for k, v in pairs(dimensions).items()]
    data.update({k: v for k, v in options.items() if v is not None})
    if band_width is not None:
        data["BandWidth"] = band_width
    alarm = put_metric_alarm(app.context(), _band_shape(data))
    click.echo(f"alarm {alarm.name} saved")


def _band_shape(data: dict[str, Any]) -> dict[str, Any]:
    """Options for a band alarm in CloudWatch's Metrics/ThresholdMetricId shape."""
    width = data.pop("BandWidth", None)
    operator = str(data.get("ComparisonOperator", ""))
    if "Metrics" in data or not operator.startswith(("LessThanLowerOr", "LessThanLower",
                                                     "GreaterThanUpper")):
        return data
    stat = data.pop("Statistic", None) or data.pop("ExtendedStatistic", None)
    metric = {"Namespace": data.pop("Namespace", None), "MetricName": data.pop("MetricName", None),
              "Dimensions": data.pop("Dimensions", [])}
    period = data.pop("Period", None)
    data["Metrics"] = [
        {"Id": "m1", "MetricStat": {"Metric": metric, "Period": period, "Stat": stat},
         "ReturnData": True},
        {"Id": "ad1", "Expression": f"ANOMALY_DETECTION_BAND(m1, {width or 2})",
         "ReturnData": True},
    ]
    data["ThresholdMetricId"] = "ad1"
    data.pop("Threshold", None)
    return data


@alarms.command("put-composite")
@click.option("--name", required=True)
@click.option("--rule", required=True, help='e.g. ALARM("a") AND NOT OK("b")')
@click.option("--alarm-action", "alarm_actions", multiple=True)
@click.option("--ok-action", "ok_actions", multiple=True)
@click.option("--description", default="")
@pass_app
def put_composite(app: App, name: str, rule: str, alarm_actions: tuple[str, ...],
                  ok_actions: tuple[str, ...], description: str) -> None:
    """Create or update a composite alarm (PutCompositeAlarm)."""
    from pipetrail.actions.alarms import put_composite_alarm

    alarm = put_composite_alarm(app.context(), {
        "AlarmName": name, "AlarmRule": rule, "AlarmDescription": description,
        "AlarmActions": list(alarm_actions), "OKActions": list(ok_actions)})
    click.echo(f"composite alarm {alarm.name} saved")


@alarms.command("describe")
@click.option("--name", "names", multiple=True, help="Only these alarms (repeat).")
@click.option("--prefix", help="Only alarms whose name starts with this.")
@click.option("--state", type=click.Choice(["OK", "ALARM", "INSUFFICIENT_DATA"]))
@click.option("--type", "kind", type=click.Choice(["metric", "composite"]))
@format_option
@pass_app
def describe(app: App, names: tuple[str, ...], prefix: str | None, state: str | None,
             kind: str | None, fmt: str) -> None:
    """Alarms and their current state (DescribeAlarms)."""
    from pipetrail.actions.alarms import describe_alarms

    found = describe_alarms(app.context(), names, prefix, state, kind)
    rows = [{"name": a["AlarmName"], "type": a["AlarmType"], "state": a.get("StateValue"),
             "metric": a.get("MetricName") or a.get("AlarmRule") or "(band)",
             "reason": a.get("StateReason")} for a in found]
    emit(found, fmt, rows=rows, columns=("name", "type", "state", "metric", "reason"))


@alarms.command("history")
@click.option("--name", help="One alarm.")
@click.option("--type", "item_type",
              type=click.Choice(["StateUpdate", "ConfigurationUpdate", "Action"]))
@click.option("--start", help="ISO 8601, epoch, or relative (15m, 2h, 7d).")
@click.option("--end", help="ISO 8601, epoch, or relative.")
@click.option("--limit", type=int, default=100, show_default=True)
@format_option
@pass_app
def history(app: App, name: str | None, item_type: str | None, start: str | None,
            end: str | None, limit: int, fmt: str) -> None:
    """State changes and configuration updates, newest first (DescribeAlarmHistory)."""
    from pipetrail.actions.alarms import describe_alarm_history

    items = describe_alarm_history(app.context(), name, item_type, time_option(start),
                                   time_option(end), limit)
    emit(items, fmt, columns=("Timestamp", "AlarmName", "HistoryItemType", "HistorySummary"))


@alarms.command("delete")
@click.argument("names", nargs=-1, required=True)
@pass_app
def delete(app: App, names: tuple[str, ...]) -> None:
    """Delete alarms (DeleteAlarms)."""
    from pipetrail.actions.alarms import delete_alarms

    click.echo(f"deleted {delete_alarms(app.context(), names)} alarm(s)")


@alarms.command("set-state")
@click.argument("name")
@click.option("--state", required=True, type=click.Choice(["OK", "ALARM", "INSUFFICIENT_DATA"]))
@click.option("--reason", required=True)
@pass_app
def set_state(app: App, name: str, state: str, reason: str) -> None:
    """Set an alarm's state until its next evaluation, e.g. to test its actions."""
    from pipetrail.actions.alarms import set_alarm_state
    from pipetrail.actions.extensions import alarm_listeners

    ctx = app.context()
    change = set_alarm_state(ctx, name, state, reason, alarm_listeners(ctx))
    click.echo(change.summary if change else f"alarm {name} is already {state}")


@alarms.command("evaluate")
@click.option("--follow", is_flag=True, help="Keep evaluating until interrupted.")
@click.option("--interval", type=float, default=1.0, show_default=True,
              help="Seconds between evaluations with --follow.")
@pass_app
def evaluate(app: App, follow: bool, interval: float) -> None:
    """Evaluate every alarm now (and keep doing so with --follow), printing changes."""
    from pipetrail.actions.alarms import evaluate_alarms
    from pipetrail.actions.extensions import alarm_listeners

    ctx = app.context()
    listeners = alarm_listeners(ctx)
    while True:
        for change in evaluate_alarms(ctx, listeners):
            click.echo(f"{change.alarm_name}: {change.summary}: {change.new.reason}")
        if not follow:
            return
        time.sleep(max(0.1, interval))


COMMANDS: list[click.Command] = [alarms]
