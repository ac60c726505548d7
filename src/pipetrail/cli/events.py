"""`pipetrail events` verbs: patterns, rules, targets, publishing, delivery, dead letters."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit, emit_json, format_option
from pipetrail.model.errors import ValidationError

if TYPE_CHECKING:
    from pipetrail.events.delivery import Attempt


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



# -- rules ------------------------------------------------------------------------------

RULE_STATES = ["ENABLED", "DISABLED", "ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS"]
RULE_COLUMNS = ["name", "state", "targets", "eventPattern", "description"]


@events.command("put-rule")
@click.option("--name", required=True, help="Rule name: 1-64 letters, digits, '.', '-', '_'.")
@click.option("--pattern", "pattern_arg", required=True, metavar="JSON|@FILE",
              help="The event pattern, as JSON text or @file (@- reads stdin).")
@click.option("--target", "targets", multiple=True, metavar="NAME",
              help="A target to send matching events to (repeat, at most 5). Given, the "
                   "rule's targets become exactly these; omitted, they are kept.")
@click.option("--state", type=click.Choice(RULE_STATES), default="ENABLED",
              show_default=True,
              help="ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS also offers the rule read-only "
                   "trail events.")
@click.option("--description", default="", help="What the rule is for.")
@pass_app
def put_rule(app: App, name: str, pattern_arg: str, targets: tuple[str, ...], state: str,
             description: str) -> None:
    """Create or replace a rule (PutRule)."""
    from pipetrail.actions.events import put_rule as action

    rule = action(app.context(), name, _read_argument(pattern_arg, "pattern"), state,
                  description, list(targets) if targets else None)
    click.echo(f"rule {rule['name']} {rule['state']} -> "
               f"{', '.join(rule['targets']) or '(no targets)'}: {rule['arn']}")


@events.command("describe-rule")
@click.argument("name")
@format_option
@pass_app
def describe_rule(app: App, name: str, fmt: str) -> None:
    """One rule (DescribeRule)."""
    from pipetrail.actions.events import describe_rule as action

    rule = action(app.context(), name)
    if fmt == "json":
        emit_json(rule)
        return
    for key, value in rule.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        click.echo(f"{key}: {shown}")


@events.command("list-rules")
@click.option("--prefix", help="Only rules whose name starts with this.")
@click.option("--target", help="Only rules sending to this target.")
@click.option("--limit", type=int, default=100, show_default=True)
@format_option
@pass_app
def list_rules(app: App, prefix: str | None, target: str | None, limit: int, fmt: str) -> None:
    """Rules by name (ListRules)."""
    from pipetrail.actions.events import list_rules as action

    rules = action(app.context(), prefix, target, limit)
    emit(rules, fmt, rows=[{**r, "targets": ", ".join(r["targets"])} for r in rules],
         columns=RULE_COLUMNS)


@events.command("delete-rule")
@click.argument("name")
@pass_app
def delete_rule(app: App, name: str) -> None:
    """Delete a rule (DeleteRule); its targets stay, queued deliveries still go out."""
    from pipetrail.actions.events import delete_rule as action

    action(app.context(), name)
    click.echo(f"deleted rule {name}")


@events.command("put-targets")
@click.option("--rule", required=True)
@click.option("--target", "targets", multiple=True, required=True, metavar="NAME",
              help="A target to add (repeat).")
@pass_app
def put_targets(app: App, rule: str, targets: tuple[str, ...]) -> None:
    """Add targets to a rule (PutTargets)."""
    from pipetrail.actions.events import put_targets as action

    result = action(app.context(), rule, list(targets))
    click.echo(f"rule {rule} -> {', '.join(result['targets'])}")


@events.command("remove-targets")
@click.option("--rule", required=True)
@click.option("--target", "targets", multiple=True, required=True, metavar="NAME",
              help="A target to remove (repeat).")
@pass_app
def remove_targets(app: App, rule: str, targets: tuple[str, ...]) -> None:
    """Remove targets from a rule (RemoveTargets); the targets themselves stay."""
    from pipetrail.actions.events import remove_targets as action

    result = action(app.context(), rule, list(targets))
    click.echo(f"rule {rule} -> {', '.join(result['targets']) or '(no targets)'}")


@events.command("list-targets-by-rule")
@click.argument("rule")
@format_option
@pass_app
def list_targets_by_rule(app: App, rule: str, fmt: str) -> None:
    """The targets of a rule (ListTargetsByRule)."""
    from pipetrail.actions.events import list_targets_by_rule as action

    emit(action(app.context(), rule), fmt, columns=TARGET_COLUMNS)


# -- targets ----------------------------------------------------------------------------

TARGET_COLUMNS = ["name", "type", "description", "timeoutSeconds", "arn"]


@events.command("put-target")
@click.argument("name")
@click.option("--type", "kind", required=True,
              type=click.Choice(["webhook", "slack", "email", "command"]))
@click.option("--url", help="webhook: the URL to POST to; slack: the incoming webhook URL.")
@click.option("--secret", metavar="TEXT|@FILE",
              help="webhook: the signing secret (at least 16 characters; @- reads stdin). "
                   "Default: the one it has, or a new random one, printed once.")
@click.option("--header", "headers", multiple=True, metavar="'NAME: VALUE'",
              help="webhook: an extra request header (repeat).")
@click.option("--to", "recipients", multiple=True, metavar="ADDRESS",
              help="email: a recipient (repeat).")
@click.option("--subject-prefix", help="email: put before the subject (default [Pipetrail]).")
@click.option("--command", "command_line", metavar="'PROGRAM ARGS…'",
              help="command: the program and its arguments, split as a shell would (no "
                   "shell runs it); it gets the event as JSON on stdin.")
@click.option("--timeout", type=float, metavar="SECONDS",
              help="Longest attempt, up to 60 (default: webhook/slack 5, email 10, "
                   "command 30).")
@click.option("--max-retry-attempts", type=int, metavar="N",
              help="Retries after the first attempt, 0-185 (default 185).")
@click.option("--max-event-age", type=int, metavar="SECONDS",
              help="No retries once a delivery is this old, 60-86400 (default 86400).")
@format_option
@pass_app
def put_target(app: App, name: str, kind: str, url: str | None, secret: str | None,
               headers: tuple[str, ...], recipients: tuple[str, ...],
               subject_prefix: str | None, command_line: str | None, timeout: float | None,
               max_retry_attempts: int | None, max_event_age: int | None, fmt: str) -> None:
    """Create or replace a target NAME that rules and alarm actions can send events to
    (PutTarget)."""
    from pipetrail.actions.events import put_target as action

    config: dict[str, Any] = {}
    if url is not None:
        config["url"] = url
    if headers:
        config["headers"] = _headers(headers)
    if recipients:
        config["to"] = list(recipients)
    if subject_prefix is not None:
        config["subjectPrefix"] = subject_prefix
    if command_line is not None:
        config["command"] = command_line
    if timeout is not None:
        config["timeoutSeconds"] = timeout
    retry: dict[str, int] = {}
    if max_retry_attempts is not None:
        retry["MaximumRetryAttempts"] = max_retry_attempts
    if max_event_age is not None:
        retry["MaximumEventAgeInSeconds"] = max_event_age
    if retry:
        config["retryPolicy"] = retry
    secret_text = _read_argument(secret, "secret").strip() if secret is not None else None
    target, generated = action(app.context(), name, kind, config, secret_text)
    if fmt == "json":
        emit_json({**target, **({"generatedSecret": generated} if generated else {})})
        return
    click.echo(f"target {name} ({kind}: {target['description']}): {target['arn']}")
    if generated:
        click.echo(f"signing secret (shown once; keep it for verifying signatures): "
                   f"{generated}")


def _headers(items: tuple[str, ...]) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise ValidationError(f"--header takes 'NAME: VALUE', not {item!r}")
        result[key.strip()] = value.strip()
    return result


@events.command("describe-target")
@click.argument("name")
@format_option
@pass_app
def describe_target(app: App, name: str, fmt: str) -> None:
    """One target, with the rules sending to it (DescribeTarget); never its secret."""
    from pipetrail.actions.events import describe_target as action

    target = action(app.context(), name)
    if fmt == "json":
        emit_json(target)
        return
    for key, value in target.items():
        click.echo(f"{key}: {value}")


@events.command("list-targets")
@format_option
@pass_app
def list_targets(app: App, fmt: str) -> None:
    """Targets by name (ListTargets)."""
    from pipetrail.actions.events import list_targets as action

    emit(action(app.context()), fmt, columns=TARGET_COLUMNS)


@events.command("delete-target")
@click.argument("name")
@pass_app
def delete_target(app: App, name: str) -> None:
    """Delete a target (DeleteTarget); refused while a rule sends to it."""
    from pipetrail.actions.events import delete_target as action

    action(app.context(), name)
    click.echo(f"deleted target {name}")


# -- publishing and delivery ----------------------------------------------------------------


@events.command("put-events")
@click.option("--entries", "entries_arg", metavar="JSON|@FILE",
              help="A list of entries as for 'aws events put-events': Source, DetailType, "
                   "Detail (JSON text or object), Resources, Time.")
@click.option("--source", help="One event's source (not starting with aws. or pipetrail.).")
@click.option("--detail-type", help="One event's detail-type.")
@click.option("--detail", "detail_arg", metavar="JSON|@FILE", help="One event's detail object.")
@click.option("--resource", "resources", multiple=True, metavar="ARN",
              help="A resource of the event (repeat).")
@click.option("--no-deliver", is_flag=True,
              help="Only queue the deliveries; by default they are attempted at once, for "
                   "at most PIPETRAIL_NOTIFY_TIMEOUT seconds.")
@format_option
@pass_app
def put_events(app: App, entries_arg: str | None, source: str | None,
               detail_type: str | None, detail_arg: str | None, resources: tuple[str, ...],
               no_deliver: bool, fmt: str) -> None:
    """Publish custom events to the bus (PutEvents).

    Exits 0 when every entry was accepted, 2 when any was refused.
    """
    import orjson

    from pipetrail.actions.events import put_events as action

    entries: list[Any] = []
    if entries_arg is not None:
        try:
            parsed = orjson.loads(_read_argument(entries_arg, "entries"))
        except orjson.JSONDecodeError as exc:
            raise ValidationError(f"--entries is not valid JSON: {exc}") from None
        entries = parsed if isinstance(parsed, list) else [parsed]
    if source is not None or detail_type is not None or detail_arg is not None:
        entry: dict[str, Any] = {"Source": source, "DetailType": detail_type,
                                 "Detail": _read_argument(detail_arg or "{}", "detail")}
        if resources:
            entry["Resources"] = list(resources)
        entries.append(entry)
    if not entries:
        raise ValidationError("give --entries, or --source and --detail-type")
    result = action(app.context(), entries, deliver=not no_deliver)
    if fmt == "json":
        emit_json(result)
    else:
        for number, item in enumerate(result["entries"], 1):
            if "eventId" in item:
                click.echo(f"event {item['eventId']}")
            else:
                click.echo(f"error: entry {number} refused: {item['errorMessage']}", err=True)
        for attempt in result["deliveries"]:
            click.echo(_attempt_text(attempt))
    if result["failedEntryCount"]:
        sys.exit(2)


def _attempt_text(attempt: dict[str, Any]) -> str:
    text = f"{attempt['outcome']}: {attempt['target']} (attempt {attempt['attempt']})"
    if attempt.get("errorCode"):
        text += f": {attempt['errorCode']}: {attempt['errorMessage']}"
    if attempt.get("nextAttempt"):
        text += f"; next attempt at {attempt['nextAttempt']}"
    return text


@events.command("deliver")
@click.option("--follow", is_flag=True,
              help="Keep delivering until interrupted (Ctrl-C or SIGTERM).")
@click.option("--interval", type=float, default=0.5, show_default=True,
              help="Longest wait between rounds with --follow, in seconds.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print each attempt.")
@pass_app
def deliver(app: App, follow: bool, interval: float, quiet: bool) -> None:
    """Deliver queued events: every due delivery, whoever queued it, with retries and
    dead letters; also publishes trail events to the rules that asked for them. This is
    the loop the server runs."""
    from pipetrail.actions.events import attempt_json, delivery_loop

    if interval <= 0:
        raise ValidationError("--interval must be positive")
    loop = delivery_loop(app.context(), poll_interval=interval)

    def report(attempts: list[Attempt]) -> None:
        if not quiet:
            for attempt in attempts:
                click.echo(_attempt_text(attempt_json(attempt)))

    try:
        if not follow:
            report(loop.run_once())
            return
        stop = threading.Event()

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        loop.run(stop, on_attempts=report,
                 on_error=lambda exc: click.echo(f"pipetrail: {exc}", err=True))
    finally:
        loop.close()


DEAD_LETTER_COLUMNS = ["id", "target", "detailType", "attempts", "errorCode", "errorMessage",
                       "deadOn"]


@events.command("dead-letters")
@click.option("--redrive", "redrive_ids", multiple=True, metavar="ID",
              help="Put this dead letter back in the queue and try it at once (repeat).")
@click.option("--all", "redrive_all", is_flag=True, help="Redrive every dead letter.")
@click.option("--no-deliver", is_flag=True,
              help="With --redrive/--all: only queue them again.")
@click.option("--limit", type=int, default=100, show_default=True)
@format_option
@pass_app
def dead_letters(app: App, redrive_ids: tuple[str, ...], redrive_all: bool, no_deliver: bool,
                 limit: int, fmt: str) -> None:
    """List the deliveries that gave up (ListDeadLetters), or redrive them
    (RedriveDeadLetters)."""
    from pipetrail.actions.events import list_dead_letters, redrive_dead_letters

    ctx = app.context()
    if redrive_ids and redrive_all:
        raise ValidationError("give --redrive ID or --all, not both")
    if redrive_ids or redrive_all:
        result = redrive_dead_letters(ctx, list(redrive_ids) if redrive_ids else None,
                                      deliver=not no_deliver)
        if fmt == "json":
            emit_json(result)
            return
        click.echo(f"redriven: {len(result['redriven'])}")
        for attempt in result["deliveries"]:
            click.echo(_attempt_text(attempt))
        return
    letters = list_dead_letters(ctx, limit)
    if fmt == "json":
        emit_json(letters)
    else:
        emit(letters, fmt, columns=DEAD_LETTER_COLUMNS)


COMMANDS: list[click.Command] = [events]
