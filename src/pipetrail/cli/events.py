"""`pipetrail events` verbs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipetrail.cli.output import emit_json, format_option
from pipetrail.model.errors import ValidationError


def _read_argument(value: str, what: str) -> str:
    """``value`` itself, or the text of the file named after ``@`` (``@-`` is stdin)."""
    if not value.startswith("@"):
        return value
    name = value[1:]
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read the {what} file {name!r}: {exc}") from None


@click.group("events")
def events() -> None:
    """Event patterns and rules (EventBridge semantics)."""


@events.command("test-pattern")
@click.option("--pattern", "pattern_arg", required=True, metavar="JSON|@FILE",
              help="The event pattern, as JSON text or @file (@- reads stdin).")
@click.option("--event", "event_arg", required=True, metavar="JSON|@FILE",
              help="The event, as JSON text or @file (@- reads stdin).")
@click.option("--no-envelope-check", is_flag=True,
              help="Accept any JSON object as the event; by default it must carry the "
                   "envelope fields id, account, source, time, region, resources and "
                   "detail-type.")
@format_option
def test_pattern(pattern_arg: str, event_arg: str, no_envelope_check: bool, fmt: str) -> None:
    """Print whether EVENT matches PATTERN: true or false.

    Exits 0 either way; 2 when the pattern or the event is invalid.
    """
    from pipetrail.events import compile_pattern, parse_event
    from pipetrail.events.envelope import check_envelope

    if pattern_arg == "@-" and event_arg == "@-":
        raise ValidationError("only one of --pattern and --event can be read from stdin")
    pattern = compile_pattern(_read_argument(pattern_arg, "pattern"))
    event = parse_event(_read_argument(event_arg, "event"))
    if not no_envelope_check:
        try:
            check_envelope(event.root)
        except ValidationError as exc:
            raise ValidationError(
                f"{exc} (pass --no-envelope-check to test any JSON object)") from None
    result = pattern.matches(event)
    if fmt == "json":
        emit_json({"result": result})
    else:
        click.echo("true" if result else "false")


COMMANDS: list[click.Command] = [events]
