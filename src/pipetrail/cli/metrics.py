"""``pipetrail metrics``: metric datapoints."""

from __future__ import annotations

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit, format_option


@click.group("metrics")
def metrics() -> None:
    """Metrics of job runs."""


@metrics.command("get")
@click.option("--run", "run_id", required=True, metavar="RUN_ID", help="The job run.")
@click.option("--name", required=True, metavar="NAME",
              help="Metric name, e.g. process.memory.rss or process.cpu.percent.")
@format_option
@pass_app
def get_metric(app: App, run_id: str, name: str, fmt: str) -> None:
    """Print the datapoints of one metric of a run."""
    from pipetrail.actions.metrics import get_run_metric_data

    datums = [d.to_json() for d in get_run_metric_data(app.context(), run_id, name)]
    emit(datums, fmt, columns=("timestamp", "value", "unit"))


COMMANDS: list[click.Command] = [metrics]
