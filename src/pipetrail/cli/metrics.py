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


@metrics.command("put")
@click.option("--namespace", required=True)
@click.option("--name", required=True, metavar="NAME")
@click.option("--value", type=float, required=True)
@click.option("--unit", default="None", show_default=True)
@click.option("--dimension", "dimensions", multiple=True, metavar="KEY=VALUE")
@click.option("--timestamp", metavar="TIME", help="Default now.")
@pass_app
def put_metric(app: App, namespace: str, name: str, value: float, unit: str,
               dimensions: tuple[str, ...], timestamp: str | None) -> None:
    """Store one datum (PutMetricData)."""
    from pipetrail.actions.metrics import put_metric_data
    from pipetrail.cli.options import pairs, time_option
    from pipetrail.model.clock import now_ms
    from pipetrail.model.metrics import MetricDatum

    datum = MetricDatum(namespace=namespace, name=name, value=value, unit=unit,
                        dimensions=pairs(dimensions),
                        timestamp=time_option(timestamp) or now_ms())
    put_metric_data(app.context(), [datum])


@metrics.command("statistics")
@click.option("--namespace", required=True)
@click.option("--name", required=True, metavar="NAME")
@click.option("--dimension", "dimensions", multiple=True, metavar="KEY=VALUE",
              help="Dimensions; they must match the datums' exactly.")
@click.option("--start", required=True, metavar="TIME")
@click.option("--end", default="now", show_default=True, metavar="TIME")
@click.option("--period", type=int, required=True, metavar="SECONDS")
@click.option("--statistics", default="SampleCount,Average,Sum,Minimum,Maximum",
              show_default=True, help="Comma-separated; also pNN, pNN.N, tmNN, IQM …")
@click.option("--unit", default=None)
@format_option
@pass_app
def statistics(app: App, namespace: str, name: str, dimensions: tuple[str, ...], start: str,
               end: str, period: int, statistics: str, unit: str | None, fmt: str) -> None:
    """Per-period statistics of one metric (GetMetricStatistics)."""
    from pipetrail.actions.metrics import get_metric_statistics
    from pipetrail.cli.options import pairs, time_option

    names = [s.strip() for s in statistics.split(",") if s.strip()]
    points = get_metric_statistics(app.context(), namespace, name, pairs(dimensions),
                                   time_option(start) or 0, time_option(end) or 0, period,
                                   names, unit)
    data = [p.to_json() for p in points]
    rows = [{"timestamp": d["timestamp"], "sampleCount": d["sampleCount"], "unit": d["unit"],
             **d["statistics"]} for d in data]
    emit(data, fmt, rows=rows, columns=("timestamp", "sampleCount", *names, "unit"))


@metrics.command("prometheus")
@click.option("--window", type=int, default=300, show_default=True, metavar="SECONDS",
              help="Series with a datum in this many recent seconds.")
@pass_app
def prometheus(app: App, window: int) -> None:
    """Print the latest value of each series in Prometheus text format."""
    from pipetrail.actions.metrics import prometheus_text

    click.echo(prometheus_text(app.context(), window), nl=False)
