"""`pipetrail access` verbs: principals, policies, API tokens, and trying policies.

Management verbs run as actions against the store (embedded mode: the local user,
allowed unless a ``LocalUser`` principal of that name has policies), which is how the
first administrator and its token are created.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from pipetrail.access import AccessRequest, evaluate, missing_context_keys, parse_policy
from pipetrail.access.policy import Policy
from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit, emit_json, format_option
from pipetrail.model.errors import ValidationError

PRINCIPAL_TYPES = {"user": "User", "service-account": "ServiceAccount", "role": "Role",
                   "local-user": "LocalUser"}
PRINCIPAL_COLUMNS = ("principalName", "principalType", "principalId", "createdOn",
                     "description")
TOKEN_COLUMNS = ("tokenId", "status", "createdOn", "expiresOn", "revokedOn", "description")


@click.group("access")
def access() -> None:
    """Access control: IAM-style policies and their evaluation."""


@access.command("simulate")
@click.option("--policy", "policy_args", multiple=True, metavar="@FILE|JSON",
              help="An identity policy: @FILE reads a file (@- standard input), anything "
                   "else is the policy's JSON text. Repeat for several policies.")
@click.option("--principal", "principal_name", metavar="NAME",
              help="Instead of --policy: the policies attached to this stored principal.")
@click.option("--action", required=True, metavar="SERVICE:ACTION",
              help="The action requested, e.g. jobs:GetJobRun.")
@click.option("--resource", default="*", show_default=True, metavar="ARN",
              help="The resource, e.g. arn:pipetrail:jobs:local:job/nightly.")
@click.option("--context", "context_args", multiple=True, metavar="KEY=VALUE",
              help="A condition key of the request, e.g. pipetrail:SourceIp=10.0.0.7. "
                   "Repeat a key to give it several values.")
@format_option
@click.pass_context
def simulate(click_ctx: click.Context, policy_args: tuple[str, ...], principal_name: str | None,
             action: str, resource: str, context_args: tuple[str, ...], fmt: str) -> None:
    """Decide a request under the given policies: allowed, explicitDeny or implicitDeny.

    \b
    Example:
      pipetrail access simulate --policy @readonly.json --action jobs:GetJobRun \\
          --resource arn:pipetrail:jobs:local:job/nightly/run/jr_1 \\
          --context pipetrail:username=ana
    """
    if bool(policy_args) == bool(principal_name):
        raise click.UsageError("give --policy (one or more) or --principal, not both")
    if principal_name:
        from pipetrail.actions.access import simulate_principal_policy

        app = click_ctx.find_object(App)
        assert app is not None
        data = simulate_principal_policy(app.context(), principal_name, action, resource,
                                         _context(context_args))
        matched = data["matchedStatements"]
        missing = data["missingContextKeys"]
    else:
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


def _read_text(arg: str, what: str) -> str:
    """``@FILE`` (``@-``: standard input) or the text itself."""
    if not arg.startswith("@"):
        return arg
    name = arg[1:]
    try:
        return sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {what} file {name!r}: {exc}") from None


_DURATION = re.compile(r"(\d+)\s*([smhd]?)\Z")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds from ``3600``, ``90m``, ``12h`` or ``30d``."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValidationError(
            f"cannot read duration {text!r}: use seconds or a number with s, m, h or d "
            "(90d, 12h)")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def _tags(args: tuple[str, ...]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{arg!r} is not KEY=VALUE", param_hint="--tag")
        tags[key] = value
    return tags


def _principal_row(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data.get(k) for k in PRINCIPAL_COLUMNS}


@access.command("create-principal")
@click.argument("name")
@click.option("--type", "kind", type=click.Choice(list(PRINCIPAL_TYPES)), default="user",
              show_default=True, help="user (a person), service-account (a program), "
              "role (assumed by others), local-user (an OS user in embedded mode).")
@click.option("--description", metavar="TEXT")
@click.option("--tag", "tag_args", multiple=True, metavar="KEY=VALUE",
              help="A tag, readable in policies as pipetrail:PrincipalTag/KEY. Repeatable.")
@format_option
@pass_app
def create_principal_cmd(app: App, name: str, kind: str, description: str | None,
                         tag_args: tuple[str, ...], fmt: str) -> None:
    """Create a principal: a user, service account, role or local user."""
    from pipetrail.actions.access import create_principal

    ctx = app.context()
    principal = create_principal(ctx, name, PRINCIPAL_TYPES[kind], description,
                                 _tags(tag_args))
    data = principal.to_json(ctx.workspace)
    emit(data, fmt, rows=[_principal_row(data)], columns=PRINCIPAL_COLUMNS)


@access.command("list-principals")
@format_option
@pass_app
def list_principals_cmd(app: App, fmt: str) -> None:
    """List principals by name."""
    from pipetrail.actions.access import list_principals

    ctx = app.context()
    found = [p.to_json(ctx.workspace) for p in list_principals(ctx)]
    emit(found, fmt, rows=[_principal_row(p) for p in found], columns=PRINCIPAL_COLUMNS)


@access.command("get-principal")
@click.argument("name")
@format_option
@pass_app
def get_principal_cmd(app: App, name: str, fmt: str) -> None:
    """Show a principal with its attached policies and its tokens."""
    from pipetrail.actions.access import get_principal

    data = get_principal(app.context(), name)
    if fmt == "json":
        emit_json(data)
        return
    fields = [{"field": k, "value": v} for k, v in data.items() if k != "tokens"]
    emit(fields, fmt, columns=("field", "value"))
    if data["tokens"]:
        emit(data["tokens"], fmt, columns=TOKEN_COLUMNS)


@access.command("delete-principal")
@click.argument("name")
@pass_app
def delete_principal_cmd(app: App, name: str) -> None:
    """Delete a principal, its policy attachments and its tokens."""
    from pipetrail.actions.access import delete_principal

    delete_principal(app.context(), name)
    click.echo(f"deleted {name}")


@access.command("put-policy")
@click.argument("name")
@click.option("--policy", "policy_arg", required=True, metavar="@FILE|JSON",
              help="The policy document: @FILE (@- standard input) or its JSON text.")
@click.option("--description", metavar="TEXT")
@pass_app
def put_policy_cmd(app: App, name: str, policy_arg: str, description: str | None) -> None:
    """Create or replace a stored policy (checked first; attached principals get the
    new version at once)."""
    from pipetrail.actions.access import put_policy

    created = put_policy(app.context(), name, _read_text(policy_arg, "policy"), description)
    click.echo(f"{'created' if created else 'updated'} policy {name}")


@access.command("list-policies")
@format_option
@pass_app
def list_policies_cmd(app: App, fmt: str) -> None:
    """List stored policies."""
    from pipetrail.actions.access import list_policies

    ctx = app.context()
    found = [p.to_json(ctx.workspace, document=False) for p in list_policies(ctx)]
    emit(found, fmt, columns=("policyName", "updatedOn", "description"))


@access.command("get-policy")
@click.argument("name")
@format_option
@pass_app
def get_policy_cmd(app: App, name: str, fmt: str) -> None:
    """Print a stored policy (table: its document as stored)."""
    from pipetrail.actions.access import get_policy

    ctx = app.context()
    policy = get_policy(ctx, name)
    if fmt == "json":
        emit_json(policy.to_json(ctx.workspace))
        return
    click.echo(policy.document)


@access.command("delete-policy")
@click.argument("name")
@pass_app
def delete_policy_cmd(app: App, name: str) -> None:
    """Delete a stored policy that is attached to no principal."""
    from pipetrail.actions.access import delete_policy

    delete_policy(app.context(), name)
    click.echo(f"deleted policy {name}")


@access.command("attach-policy")
@click.argument("principal")
@click.argument("policy")
@pass_app
def attach_policy_cmd(app: App, principal: str, policy: str) -> None:
    """Attach a stored policy to a principal."""
    from pipetrail.actions.access import attach_policy

    attached = attach_policy(app.context(), principal, policy)
    click.echo(f"attached {policy} to {principal}" if attached
               else f"{policy} was already attached to {principal}")


@access.command("detach-policy")
@click.argument("principal")
@click.argument("policy")
@pass_app
def detach_policy_cmd(app: App, principal: str, policy: str) -> None:
    """Detach a policy from a principal."""
    from pipetrail.actions.access import detach_policy

    detach_policy(app.context(), principal, policy)
    click.echo(f"detached {policy} from {principal}")


def _emit_new_token(data: dict[str, Any], text: str, fmt: str) -> None:
    if fmt == "json":
        emit_json({**data, "token": text})
        return
    click.echo(text)
    click.echo(f"token {data['tokenId']} expires on {data['expiresOn']}; it is shown only "
               "now: keep it secret", err=True)


@access.command("create-token")
@click.argument("principal")
@click.option("--expires-in", default="90d", show_default=True, metavar="DURATION",
              help="Lifetime: seconds, or with s, m, h, d (at most 366d).")
@click.option("--description", metavar="TEXT")
@format_option
@pass_app
def create_token_cmd(app: App, principal: str, expires_in: str, description: str | None,
                     fmt: str) -> None:
    """Create an API token for a user or service account and print it (only now).

    The token goes in PIPETRAIL_TOKEN (remote runs) or an Authorization: Bearer header.
    """
    from pipetrail.actions.access import create_token

    new = create_token(app.context(), principal, parse_duration(expires_in), description)
    _emit_new_token(new.token.to_json(new.token.created_on), new.text, fmt)


@access.command("list-tokens")
@click.argument("principal")
@format_option
@pass_app
def list_tokens_cmd(app: App, principal: str, fmt: str) -> None:
    """List a principal's tokens (ids and states; secrets are never stored)."""
    from pipetrail.actions.access import list_tokens
    from pipetrail.model.clock import now_ms

    now = now_ms()
    emit([t.to_json(now) for t in list_tokens(app.context(), principal)], fmt,
         columns=TOKEN_COLUMNS)


@access.command("revoke-token")
@click.argument("token_id")
@pass_app
def revoke_token_cmd(app: App, token_id: str) -> None:
    """Revoke a token: it stops working at once, on every server."""
    from pipetrail.actions.access import revoke_token

    revoke_token(app.context(), token_id)
    click.echo(f"revoked {token_id}")


@access.command("assume-role")
@click.argument("role")
@click.option("--duration", default="1h", show_default=True, metavar="DURATION",
              help="Lifetime of the session token: seconds, or with s, m, h (at most 12h).")
@format_option
@pass_app
def assume_role_cmd(app: App, role: str, duration: str, fmt: str) -> None:
    """Get a session token that acts with a role's policies."""
    from pipetrail.actions.access import assume_role

    new = assume_role(app.context(), role, parse_duration(duration))
    _emit_new_token(new.token.to_json(new.token.created_on), new.text, fmt)


COMMANDS: list[click.Command] = [access]
