"""Rendering of read verbs: ``--format table`` (default, for people) or ``json``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click
import orjson

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "json")
OFF_TERMINAL_WIDTH = 160


def format_option(func: F) -> F:
    """Add ``--format table|json`` to a read verb."""
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
        help="Output as a table for people or JSON (camelCase keys) for programs.",
    )(func)


def emit_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def emit_table(rows: Sequence[dict[str, Any]], columns: Sequence[str],
               title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    # Off a terminal (pipes, CI logs) Rich would assume 80 columns; allow wide rows.
    width = None if sys.stdout.isatty() else OFF_TERMINAL_WIDTH
    Console(soft_wrap=False, width=width).print(table)


def emit(data: Any, fmt: str, *, rows: Sequence[dict[str, Any]] | None = None,
         columns: Sequence[str] = (), title: str | None = None) -> None:
    """JSON of ``data``, or a table of ``rows`` (``data`` itself when it is a list)."""
    if fmt == "json":
        emit_json(data)
        return
    table_rows = rows if rows is not None else data
    if not table_rows:
        click.echo("(none)")
        return
    emit_table(table_rows, columns or list(table_rows[0].keys()), title)


def human_value(value: float, unit: str) -> str:
    """A metric value for people: ``545.2 MiB``, ``50.4%``, ``5.299 s``, ``1,234``."""
    if unit == "Bytes":
        size = float(value)
        for suffix in ("B", "KiB", "MiB", "GiB", "TiB"):
            if abs(size) < 1024 or suffix == "TiB":
                return f"{size:.0f} {suffix}" if suffix == "B" else f"{size:.1f} {suffix}"
            size /= 1024
    if unit == "Percent":
        return f"{value:.1f}%"
    if unit == "Seconds":
        return f"{value:.3f} s"
    if unit == "Milliseconds":
        return f"{value:,.0f} ms"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4g}"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)
