"""Evaluation order, NotAction/NotResource, and wildcards in Action and Resource."""

from __future__ import annotations

import pytest

from pipetrail.access import AccessRequest, Decision, PolicySet, evaluate, parse_policy
from pipetrail.access.evaluate import missing_context_keys
from pipetrail.model.errors import ValidationError

from .builders import JOB, NOW, RUN, decide, policy, run, statement

READ_ONLY = policy(statement(Sid="Read", Action=["jobs:Get*", "jobs:List*"]))
DENY_RUNS = policy(statement(Sid="NoRuns", Effect="Deny", Action="jobs:*",
                             Resource="arn:pipetrail:jobs:*:job/*/run/*"))


def test_no_policies_is_an_implicit_deny() -> None:
    result = run([], "jobs:GetJobRun")
    assert result.decision is Decision.IMPLICIT_DENY
    assert result.statements == ()


def test_allow_beats_the_implicit_deny() -> None:
    result = run([READ_ONLY], "jobs:GetJobRun")
    assert result.decision is Decision.ALLOWED
    assert [(m.policy_index, m.statement_index, m.sid) for m in result.statements] == [
        (0, 0, "Read")]
    assert result.allowed


def test_explicit_deny_beats_allow_in_another_policy() -> None:
    result = run([READ_ONLY, DENY_RUNS], "jobs:GetJobRun", RUN)
    assert result.decision is Decision.EXPLICIT_DENY
    assert [(m.policy_index, m.sid) for m in result.statements] == [(1, "NoRuns")]
    assert not result.allowed
    # the deny names runs only: the job itself stays readable
    assert run([READ_ONLY, DENY_RUNS], "jobs:GetJob", JOB).decision is Decision.ALLOWED


def test_explicit_deny_beats_allow_in_the_same_policy_whatever_the_order() -> None:
    deny_first = policy(statement(Sid="D", Effect="Deny", Action="jobs:GetJobRun"),
                        statement(Sid="A", Action="jobs:*"))
    allow_first = policy(statement(Sid="A", Action="jobs:*"),
                         statement(Sid="D", Effect="Deny", Action="jobs:GetJobRun"))
    assert decide(deny_first) == decide(allow_first) == "explicitDeny"


def test_every_deciding_statement_is_listed() -> None:
    doc = policy(statement(Sid="A1", Action="jobs:Get*"),
                 statement(Sid="A2", Action="jobs:GetJobRun"),
                 statement(Sid="Other", Action="logs:*"))
    result = run([doc, READ_ONLY])
    assert [(m.policy_index, m.statement_index, m.sid) for m in result.statements] == [
        (0, 0, "A1"), (0, 1, "A2"), (1, 0, "Read")]
    assert result.to_record() == {"decision": "allowed", "matchedStatements": [
        {"policyIndex": 0, "statementIndex": 0, "sid": "A1", "effect": "Allow"},
        {"policyIndex": 0, "statementIndex": 1, "sid": "A2", "effect": "Allow"},
        {"policyIndex": 1, "statementIndex": 0, "sid": "Read", "effect": "Allow"}]}


def test_a_deny_whose_condition_fails_does_not_deny() -> None:
    doc = policy(statement(Sid="A"),
                 statement(Sid="D", Effect="Deny",
                           Condition={"Bool": {"pipetrail:SecureTransport": "false"}}))
    assert decide(doc, context={"pipetrail:SecureTransport": "true"}) == "allowed"
    assert decide(doc, context={"pipetrail:SecureTransport": "false"}) == "explicitDeny"
    # key absent: Bool does not match, so the Deny does not apply
    assert decide(doc, context={}) == "allowed"


def test_deny_with_negated_operator_applies_when_the_key_is_missing() -> None:
    """As documented: a Deny with StringNotEqualsIfExists still denies without the key."""
    doc = policy(statement(Sid="A"),
                 statement(Sid="D", Effect="Deny", Condition={
                     "StringNotEqualsIfExists": {"pipetrail:PrincipalTag/team": "data"}}))
    assert decide(doc, context={}) == "explicitDeny"
    assert decide(doc, context={"pipetrail:PrincipalTag/team": "data"}) == "allowed"
    assert decide(doc, context={"pipetrail:PrincipalTag/team": "web"}) == "explicitDeny"


def test_single_statement_object() -> None:
    doc = {"Version": "2012-10-17",
           "Statement": {"Sid": "One", "Effect": "Allow", "Action": "jobs:GetJobRun",
                         "Resource": RUN}}
    result = run([doc])
    assert result.allowed
    assert result.statements[0].statement_index == 0


# --- NotAction and NotResource ------------------------------------------------------

NOT_ACTION_ALLOW = policy(statement(Sid="AllButIam", NotAction="iam:*"))
NOT_ACTION_DENY = policy(statement(Sid="All"),
                         statement(Sid="OnlyReads", Effect="Deny",
                                   NotAction=["jobs:Get*", "jobs:List*", "logs:Get*"]))
NOT_RESOURCE_DENY = policy(
    statement(Sid="All"),
    statement(Sid="OutsidePublic", Effect="Deny", Action="data:*",
              NotResource=["arn:pipetrail:data:local:dataset/public/*"]),
)


@pytest.mark.parametrize(("doc", "action", "resource", "expected"), [
    (NOT_ACTION_ALLOW, "jobs:StartJobRun", RUN, "allowed"),
    (NOT_ACTION_ALLOW, "iam:CreateUser", "*", "implicitDeny"),
    (NOT_ACTION_ALLOW, "IAM:createuser", "*", "implicitDeny"),
    (NOT_ACTION_DENY, "jobs:GetJobRun", RUN, "allowed"),
    (NOT_ACTION_DENY, "logs:GetLogEvents", RUN, "allowed"),
    (NOT_ACTION_DENY, "jobs:StartJobRun", RUN, "explicitDeny"),
    (NOT_RESOURCE_DENY, "data:ReadDataset", "arn:pipetrail:data:local:dataset/public/a.csv",
     "allowed"),
    (NOT_RESOURCE_DENY, "data:ReadDataset", "arn:pipetrail:data:local:dataset/patients",
     "explicitDeny"),
    (NOT_RESOURCE_DENY, "jobs:GetJobRun", RUN, "allowed"),
    (policy(statement(Action="jobs:*", NotResource=JOB)), "jobs:GetJob", JOB, "implicitDeny"),
    (policy(statement(Action="jobs:*", NotResource=JOB)), "jobs:GetJob", RUN, "allowed"),
])
def test_not_action_and_not_resource(doc: dict[str, object], action: str, resource: str,
                                     expected: str) -> None:
    assert decide(doc, action, resource) == expected


# --- wildcards ------------------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("jobs:GetJobRun", "jobs:GetJobRun", True),
    ("jobs:GetJobRun", "JOBS:getjobrun", True),  # action names ignore case
    ("Jobs:getJOBrun", "jobs:GetJobRun", True),
    ("jobs:Get*", "jobs:GetJobRuns", True),
    ("jobs:Get*", "jobs:BatchGetJobs", False),
    ("jobs:*Job*", "jobs:BatchGetJobs", True),
    ("jobs:GetJob?", "jobs:GetJobs", True),
    ("jobs:GetJob?", "jobs:GetJob", False),
    ("jobs:*", "logs:GetLogEvents", False),
    ("*", "trail:LookupEvents", True),
    ("trail:LookupEvents", "trail:LookupEventsX", False),
])
def test_action_wildcards(pattern: str, action: str, expected: bool) -> None:
    doc = policy(statement(Action=pattern))
    assert (decide(doc, action) == "allowed") is expected


@pytest.mark.parametrize(("pattern", "resource", "expected"), [
    (JOB, JOB, True),
    (JOB, JOB.upper(), False),  # resources are case-sensitive
    ("arn:pipetrail:jobs:local:job/Nightly", JOB, False),
    ("arn:pipetrail:jobs:local:job/*", RUN, True),  # * crosses '/'
    ("arn:pipetrail:jobs:local:job/nightly", RUN, False),
    ("arn:pipetrail:jobs:*:job/nightly", JOB, True),
    ("arn:pipetrail:jobs:loc??:job/nightly", JOB, True),
    ("arn:pipetrail:jobs:loc?:job/nightly", JOB, False),
    ("arn:pipetrail:*:local:job/nightly", JOB, True),
    ("arn:pipetrail:jobs:*", RUN, True),  # a short pattern covers the rest of the ARN
    ("arn:pipetrail:*", "arn:pipetrail:logs:local:log-group:g:log-stream:s", True),
    ("arn:pipetrail:jobs:*:nightly", "arn:pipetrail:jobs:local:job:nightly", False),
    ("arn:pipetrail:logs:local:log-group:/pipetrail/jobs/*",
     "arn:pipetrail:logs:local:log-group:/pipetrail/jobs/output:log-stream:jr_1", True),
    ("arn:pipetrail:logs:local:log-group:*:log-stream:jr_?",
     "arn:pipetrail:logs:local:log-group:/pipetrail/jobs/error:log-stream:jr_1", True),
    ("arn:pipetrail:metrics:local:metric/Pipetrail/Jobs/*",
     "arn:pipetrail:metrics:local:metric/Pipetrail/Jobs/glue.driver.aggregate.bytesRead", True),
    ("arn:pipetrail:iam::local:user/*", "arn:pipetrail:iam::local:user/ana", True),
    ("*", "*", True),
    (JOB, "*", False),
])
def test_resource_wildcards(pattern: str, resource: str, expected: bool) -> None:
    doc = policy(statement(Resource=pattern))
    assert (decide(doc, "jobs:GetJob", resource) == "allowed") is expected


def test_compiled_policy_is_reused_across_requests() -> None:
    parsed = parse_policy(policy(statement(
        Action="data:ReadDataset",
        Resource="arn:pipetrail:data:local:dataset/home/${pipetrail:username}/*")))
    for user in ("ana", "bo", "cy"):
        mine = AccessRequest("data:ReadDataset", f"arn:pipetrail:data:local:dataset/home/{user}/f",
                             {"pipetrail:username": user})
        theirs = AccessRequest("data:ReadDataset", "arn:pipetrail:data:local:dataset/home/zz/f",
                               {"pipetrail:username": user})
        assert evaluate([parsed], mine, now=NOW).allowed
        assert not evaluate([parsed], theirs, now=NOW).allowed


@pytest.mark.parametrize("action", ["jobs", "jobs:*", "jobs:Get Job", "", ":Get", "jobs:Get:X"])
def test_request_action_must_be_a_name(action: str) -> None:
    with pytest.raises(ValidationError, match="request action"):
        evaluate([], AccessRequest(action))


@pytest.mark.parametrize("context", [
    {"username": "ana"},
    {"pipetrail:username": 5},
    {"pipetrail:username": ["a", 5]},
    {"pipetrail:username": "a", "PIPETRAIL:USERNAME": "b"},
])
def test_request_context_is_checked(context: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="request context"):
        evaluate([], AccessRequest("jobs:GetJob", context=context))  # type: ignore[arg-type]


def test_missing_context_keys_lists_what_conditions_read() -> None:
    doc = parse_policy(policy(
        statement(Action="jobs:Get*", Resource="arn:pipetrail:jobs:local:job/${pipetrail:username}",
                  Condition={"IpAddress": {"pipetrail:SourceIp": "10.0.0.0/8"},
                             "StringEquals": {"data:x": "${pipetrail:PrincipalTag/team}"}}),
        statement(Action="logs:*", Condition={"Bool": {"pipetrail:SecureTransport": "true"}}),
    ))
    request = AccessRequest("jobs:GetJob", JOB, {"pipetrail:SourceIp": "10.0.0.1"})
    assert missing_context_keys([doc], request, now=NOW) == [
        "data:x", "pipetrail:PrincipalTag/team", "pipetrail:username"]


def test_policy_set_decides_like_a_list_and_bounds_its_index() -> None:
    docs = [parse_policy(READ_ONLY), parse_policy(DENY_RUNS),
            parse_policy(policy(statement(Sid="Logs", NotAction="jobs:*")))]
    kept = PolicySet(docs)
    kept.MAX_INDEXED_ACTIONS = 3
    cases = [("jobs:GetJobRun", RUN), ("jobs:GetJob", JOB), ("logs:GetLogEvents", "*"),
             ("jobs:StartJobRun", JOB), ("JOBS:GETJOB", JOB), ("trail:LookupEvents", "*")]
    for _ in range(2):
        for action, resource in cases:
            request = AccessRequest(action, resource)
            assert kept.evaluate(request, now=NOW) == evaluate(docs, request, now=NOW)
            assert evaluate(kept, request, now=NOW) == evaluate(docs, request, now=NOW)
    assert len(kept._by_action) <= 3
    assert str(kept.evaluate(AccessRequest("jobs:StartJobRun", JOB)).decision) == "implicitDeny"
    assert str(kept.evaluate(AccessRequest("logs:GetLogEvents")).decision) == "allowed"
