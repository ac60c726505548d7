"""``pipetrail logs`` verbs for metric filters.

``LOGS_SUBCOMMANDS`` are attached to the ``logs`` group (see ``cli/main.py``).
"""

from __future__ import annotations

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit, format_option
from pipetrail.model.clock import iso_from_ms
from pipetrail.model.errors import ValidationError


def _dimensions(values: tuple[str, ...]) -> dict[str, str]:
    dimensions: dict[str, str] = {}
    for value in values:
        name, sep, selector = value.partition("=")
        if not sep or not name or not selector:
            raise ValidationError(f"--dimension {value!r}: write NAME=SELECTOR, "
                                  "e.g. Host=$.host or Status=$status")
        if name in dimensions:
            raise ValidationError(f"dimension {name!r} is given twice")
        dimensions[name] = selector
    return dimensions


@click.command("put-metric-filter")
@click.argument("group")
@click.option("--name", "-n", "filter_name", required=True, help="Filter name (1-512 "
              "characters, no ':' or '*'); an existing filter of that name is replaced.")
@click.option("--pattern", "-p", required=True, metavar="PATTERN",
              help="Filter pattern (CloudWatch Logs syntax); '' matches every event.")
@click.option("--metric-name", required=True, help="Name of the metric to publish.")
@click.option("--namespace", required=True, help="Namespace of the metric.")
@click.option("--value", default="1", show_default=True,
              help="Value per matching event: a number, or $.path (JSON) / $field "
                   "(space-delimited) read from the event.")
@click.option("--default-value", type=float, default=None,
              help="Value for each event the pattern does not match (not with dimensions).")
@click.option("--unit", default="None", show_default=True, help="CloudWatch unit, e.g. Count.")
@click.option("--dimension", "dimension_values", multiple=True, metavar="NAME=SELECTOR",
              help="A dimension read from the event (at most 3), e.g. Status=$status.")
@pass_app
def put_metric_filter(app: App, group: str, filter_name: str, pattern: str, metric_name: str,
                      namespace: str, value: str, default_value: float | None, unit: str,
                      dimension_values: tuple[str, ...]) -> None:
    """Create or replace a metric filter on GROUP.

    From then on, every event stored in GROUP that PATTERN matches adds a datum of the
    metric (VALUE, or DEFAULT for events that do not match). Runs already going pick
    the filter up within 10 seconds.
    """
    from pipetrail.actions.metric_filters import put_metric_filter as put
    from pipetrail.logs.metric_filter import MetricFilter

    metric_filter = MetricFilter(name=filter_name, pattern=pattern, namespace=namespace,
                                 metric_name=metric_name, value=value,
                                 default_value=default_value, unit=unit,
                                 dimensions=_dimensions(dimension_values))
    created = put(app.context(), group, metric_filter)
    click.echo(f"{'created' if created else 'replaced'} metric filter {filter_name} on {group}")


@click.command("describe-metric-filters")
@click.argument("group", required=False)
@click.option("--prefix", default=None, help="Only filters whose name starts with this "
                                             "(needs GROUP).")
@click.option("--metric-name", default=None, help="Only filters publishing this metric "
                                                  "(with --namespace).")
@click.option("--namespace", default=None, help="The namespace of --metric-name.")
@format_option
@pass_app
def describe_metric_filters(app: App, group: str | None, prefix: str | None,
                            metric_name: str | None, namespace: str | None, fmt: str) -> None:
    """List the metric filters of GROUP, or of every group."""
    from pipetrail.actions.metric_filters import describe_metric_filters as describe
    from pipetrail.actions.metric_filters import filter_json

    found = describe(app.context(), group, prefix, metric_name, namespace)
    rows = [{"group": f.group, "filter": f.name, "pattern": f.pattern,
             "metric": f"{f.transformation.get('metricNamespace')}/"
                       f"{f.transformation.get('metricName')}",
             "value": f.transformation.get("metricValue"),
             "default": f.transformation.get("defaultValue"),
             "created": iso_from_ms(f.created_on)} for f in found]
    emit([filter_json(f) for f in found], fmt, rows=rows,
         columns=("group", "filter", "pattern", "metric", "value", "default", "created"))


@click.command("delete-metric-filter")
@click.argument("group")
@click.option("--name", "-n", "filter_name", required=True, help="The filter to delete.")
@pass_app
def delete_metric_filter(app: App, group: str, filter_name: str) -> None:
    """Delete metric filter --name of GROUP (metric data already published stays)."""
    from pipetrail.actions.metric_filters import delete_metric_filter as delete

    delete(app.context(), group, filter_name)
    click.echo(f"deleted metric filter {filter_name} from {group}")


LOGS_SUBCOMMANDS: list[click.Command] = [put_metric_filter, describe_metric_filters,
                                         delete_metric_filter]
