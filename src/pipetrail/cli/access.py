"""`pipetrail access` verbs: try IAM-style policies against a request."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipetrail.access import AccessRequest, evaluate, missing_context_keys, parse_policy
from pipetrail.access.policy import Policy
from pipetrail.cli.output import emit, format_option
from pipetrail.model.errors import ValidationError


@click.group("access")
def access() -> None:
    """Access control: IAM-style policies and their evaluation."""


@access.command("simulate")
@click.option("--policy", "policy_args", multiple=True, required=True, metavar="@FILE|JSON",
              help="An identity policy: @FILE reads a file (@- standard input), anything "
                   "else is the policy's JSON text. Repeat for several policies.")
@click.option("--action", required=True, metavar="SERVICE:ACTION",
              help="The action requested, e.g. jobs:GetJobRun.")
@click.option("--resource", default="*", show_default=True, metavar="ARN",
              help="The resource, e.g. arn:pipetrail:jobs:local:job/nightly.")
@click.option("--context", "context_args", multiple=True, metavar="KEY=VALUE",
              help="A condition key of the request, e.g. pipetrail:SourceIp=10.0.0.7. "
                   "Repeat a key to give it several values.")
@format_option
def simulate(policy_args: tuple[str, ...], action: str, resource: str,
             context_args: tuple[str, ...], fmt: str) -> None:
    """Decide a request under the given policies: allowed, explicitDeny or implicitDeny.

    \b
    Example:
      pipetrail access simulate --policy @readonly.json --action jobs:GetJobRun \\
          --resource arn:pipetrail:jobs:local:job/nightly/run/jr_1 \\
          --context pipetrail:username=ana
    """
    policies = [_load(arg, n) for n, arg in enumerate(policy_args)]
    request = AccessRequest(action, resource, _context(context_args))
    result = evaluate(policies, request)
    missing = missing_context_keys(policies, request)
    matched = [
        {**match.to_record(), "source": policies[match.policy_index].source}
        for match in result.statements
    ]
    data = {"decision": str(result.decision), "action": action, "resource": resource,
            "matchedStatements": matched, "missingContextKeys": missing}
    if fmt == "table":
        rows = [{"decision": data["decision"], "policy": m["source"],
                 "statement": m["statementIndex"], "sid": m["sid"], "effect": m["effect"]}
                for m in matched] or [{"decision": data["decision"]}]
        emit(data, fmt, rows=rows,
             columns=("decision", "policy", "statement", "sid", "effect"))
        if missing:
            click.echo("note: the request has no value for " + ", ".join(missing)
                       + " (read by the policies' conditions or variables)", err=True)
    else:
        emit(data, fmt)


def _load(arg: str, position: int) -> Policy:
    if arg.startswith("@"):
        name = arg[1:]
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"cannot read policy file {name!r}: {exc}") from None
        return parse_policy(text, source=name if name != "-" else "<stdin>")
    return parse_policy(arg, source=f"#{position + 1}")


def _context(args: tuple[str, ...]) -> dict[str, str | list[str]]:
    values: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{arg!r} is not KEY=VALUE", param_hint="--context")
        lower = key.lower()
        names.setdefault(lower, key)
        values.setdefault(lower, []).append(value)
    return {names[k]: (v[0] if len(v) == 1 else v) for k, v in values.items()}


COMMANDS: list[click.Command] = [access]
