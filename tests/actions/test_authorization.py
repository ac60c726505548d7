"""Actions are authorised before their body runs, through the context's authorizer."""

from __future__ import annotations

import pytest

from pipetrail.access import PolicySet, parse_policy
from pipetrail.access.authorizer import PolicyAuthorizer
from pipetrail.actions import access, jobs, trail
from pipetrail.actions.context import ActionContext, Caller
from pipetrail.model.errors import AccessDeniedError, NotFoundError
from pipetrail.model.identity import Identity
from pipetrail.store.store import AuditQuery

ANA = Identity(type="User", principal_id="PTU1", user_name="ana")


def as_ana(ctx: ActionContext, *statements: dict) -> ActionContext:
    policy = parse_policy({"Version": "2012-10-17", "Statement": list(statements)})
    return ActionContext(ctx.store, ctx.settings, Caller(ANA, source_ip="10.1.2.3"),
                         authorizer=PolicyAuthorizer(PolicySet([policy])))


def allow(action: str, resource: str = "*", **condition: dict) -> dict:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def newest(ctx: ActionContext) -> dict:
    return ctx.store.lookup_audit_events(AuditQuery(limit=1))[0]


def test_a_denied_action_does_not_run_and_is_recorded(ctx: ActionContext) -> None:
    ana = as_ana(ctx, allow("access:Get*"))
    with pytest.raises(AccessDeniedError, match="access:PutPolicy on resource: "
                                                "arn:pipetrail:iam:local:policy/p1"):
        access.put_policy(ana, "p1", '{"Statement": {"Effect": "Allow", "Action": "*", '
                                     '"Resource": "*"}}')
    with pytest.raises(NotFoundError):
        ctx.store.get_policy("p1")
    record = newest(ctx)
    assert (record["eventName"], record["errorCode"]) == ("PutPolicy", "AccessDenied")
    assert record["userIdentity"]["userName"] == "ana"
    assert record["sourceIPAddress"] == "10.1.2.3"


def test_an_action_naming_no_resource_is_decided_for_star(ctx: ActionContext) -> None:
    narrow = as_ana(ctx, allow("jobs:GetJobs", "arn:pipetrail:jobs:local:job/*"))
    with pytest.raises(AccessDeniedError, match="on resource: \\*"):
        jobs.get_jobs(narrow)
    assert jobs.get_jobs(as_ana(ctx, allow("jobs:GetJobs"))) == []


def test_a_resource_that_cannot_be_looked_up_is_decided_for_star(ctx: ActionContext) -> None:
    own = as_ana(ctx, allow("jobs:GetJobRun", "arn:pipetrail:jobs:local:job/ana-*"))
    with pytest.raises(AccessDeniedError):
        jobs.get_job_run(own, "jr_nosuchrun")  # ana may not learn that it does not exist
    everywhere = as_ana(ctx, allow("jobs:GetJobRun"))
    with pytest.raises(NotFoundError):
        jobs.get_job_run(everywhere, "jr_nosuchrun")
    assert newest(ctx)["errorCode"] == "EntityNotFoundException"


def test_conditions_see_the_request_and_the_action_keys(ctx: ActionContext) -> None:
    access.create_principal(ctx, "bob")
    for name in ("read-jobs", "admin-all"):
        access.put_policy(ctx, name, '{"Statement": {"Effect": "Allow", "Action": "*", '
                                     '"Resource": "*"}}')
    delegate = as_ana(ctx, allow("access:AttachPolicy", "*", ArnLike={
        "access:PolicyArn": "arn:pipetrail:iam:local:policy/read-*"}))
    assert access.attach_policy(delegate, "bob", "read-jobs") is True
    with pytest.raises(AccessDeniedError):
        access.attach_policy(delegate, "bob", "admin-all")
    office = as_ana(ctx, allow("trail:LookupEvents", "*",
                               IpAddress={"pipetrail:SourceIp": "10.0.0.0/8"}))
    assert trail.lookup_events(office, AuditQuery(limit=1))
    away = ActionContext(ctx.store, ctx.settings, Caller(ANA, source_ip="192.0.2.1"),
                         authorizer=office.authorizer)
    with pytest.raises(AccessDeniedError):
        trail.lookup_events(away, AuditQuery(limit=1))


def test_without_an_authorizer_everything_is_allowed(ctx: ActionContext) -> None:
    assert ctx.authorizer is None  # embedded mode, no local-user policies
    assert access.list_principals(ctx) == []
