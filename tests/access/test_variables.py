"""Policy variables: in Resource and in String, ARN and Bool conditions; defaults; escapes."""

from __future__ import annotations

import pytest

from pipetrail.access import AccessRequest, evaluate, parse_policy
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity

from .builders import NOW, decide, holds, policy, statement

HOME = "arn:pipetrail:data:local:dataset/home/${pipetrail:username}/*"
USER = "pipetrail:username"


@pytest.mark.parametrize(("resource", "context", "expected"), [
    ("arn:pipetrail:data:local:dataset/home/ana/sales.csv", {USER: "ana"}, "allowed"),
    ("arn:pipetrail:data:local:dataset/home/bo/sales.csv", {USER: "ana"}, "implicitDeny"),
    # a variable with no value: the resource matches nothing
    ("arn:pipetrail:data:local:dataset/home/ana/sales.csv", {}, "implicitDeny"),
    # a variable's value is literal text, not a wildcard
    ("arn:pipetrail:data:local:dataset/home/ana/x", {USER: "*"}, "implicitDeny"),
    ("arn:pipetrail:data:local:dataset/home/*/x", {USER: "*"}, "allowed"),
    # a multivalued key cannot fill a variable
    ("arn:pipetrail:data:local:dataset/home/ana/x", {USER: ["ana", "bo"]}, "implicitDeny"),
    # key names ignore case
    ("arn:pipetrail:data:local:dataset/home/ana/x", {"PIPETRAIL:USERNAME": "ana"}, "allowed"),
])
def test_variable_in_resource(resource: str, context: dict[str, str | list[str]],
                              expected: str) -> None:
    doc = policy(statement(Action="data:ReadDataset", Resource=HOME))
    assert decide(doc, "data:ReadDataset", resource, context) == expected


def test_variable_in_not_resource_with_no_value_excludes_nothing() -> None:
    doc = policy(statement(Effect="Deny", Action="*", NotResource=HOME),
                 statement(Action="*"))
    other = "arn:pipetrail:data:local:dataset/home/ana/x"
    assert decide(doc, "data:ReadDataset", other, {USER: "ana"}) == "allowed"
    assert decide(doc, "data:ReadDataset", other, {USER: "bo"}) == "explicitDeny"
    assert decide(doc, "data:ReadDataset", other, {}) == "explicitDeny"


def test_principal_supplies_username_and_userid() -> None:
    doc = parse_policy(policy(
        statement(Action="jobs:*", Resource="arn:pipetrail:jobs:local:job/${pipetrail:username}-*",
                  Condition={"StringEquals": {"pipetrail:userid": "1001",
                                              "pipetrail:PrincipalType": "User"}})))
    ana = Identity(type="User", principal_id="1001", user_name="ana")
    mine = AccessRequest("jobs:StartJobRun", "arn:pipetrail:jobs:local:job/ana-etl", principal=ana)
    theirs = AccessRequest("jobs:StartJobRun", "arn:pipetrail:jobs:local:job/bo-etl",
                           principal=ana)
    assert evaluate([doc], mine, now=NOW).allowed
    assert not evaluate([doc], theirs, now=NOW).allowed


def test_context_may_not_contradict_the_principal() -> None:
    doc = parse_policy(policy(statement()))
    ana = Identity(type="User", principal_id="1001", user_name="ana")
    with pytest.raises(ValidationError, match="principal gives 'ana'"):
        evaluate([doc], AccessRequest("jobs:GetJob", context={USER: "bo"}, principal=ana))
    same = AccessRequest("jobs:GetJob", context={"PIPETRAIL:Username": "ana"}, principal=ana)
    assert evaluate([doc], same).allowed


@pytest.mark.parametrize(("condition", "context", "expected"), [
    ({"StringLike": {"logs:prefix": ["", "home/", "home/${pipetrail:username}/*"]}},
     {USER: "ana", "logs:prefix": "home/ana/x"}, True),
    ({"StringLike": {"logs:prefix": ["", "home/", "home/${pipetrail:username}/*"]}},
     {USER: "ana", "logs:prefix": "home/bo/x"}, False),
    # a value whose variable has no value matches nothing ...
    ({"StringEquals": {"pipetrail:ResourceTag/team": "${pipetrail:PrincipalTag/team}"}},
     {"pipetrail:ResourceTag/team": ""}, False),
    # ... so a negated operator holds
    ({"StringNotEquals": {"pipetrail:ResourceTag/team": "${pipetrail:PrincipalTag/team}"}},
     {"pipetrail:ResourceTag/team": "red"}, True),
    ({"StringEquals": {"pipetrail:ResourceTag/team": "${pipetrail:PrincipalTag/team}"}},
     {"pipetrail:ResourceTag/team": "red", "pipetrail:PrincipalTag/team": "red"}, True),
    # the default value, with the documented syntax
    ({"StringEquals": {"data:owner": "${pipetrail:userid, 'anonymous'}"}},
     {"data:owner": "anonymous"}, True),
    ({"StringEquals": {"data:owner": "${pipetrail:userid, 'anonymous'}"}},
     {"data:owner": "anonymous", "pipetrail:userid": "AID1"}, False),
    ({"StringEquals": {"data:owner": "${pipetrail:userid,'anonymous'}"}},
     {"data:owner": "anonymous"}, True),
    ({"StringEquals": {"data:owner": "x-${pipetrail:userid, ''}"}}, {"data:owner": "x-"}, True),
    ({"StringEquals": {"data:owner": "${pipetrail:userid, 'a}b'}"}}, {"data:owner": "a}b"}, True),
    # escapes: ${*}, ${?}, ${$} are those characters, never wildcards
    ({"StringLike": {"data:name": "report${*}"}}, {"data:name": "report*"}, True),
    ({"StringLike": {"data:name": "report${*}"}}, {"data:name": "report-1"}, False),
    ({"StringLike": {"data:name": "what${?}"}}, {"data:name": "what?"}, True),
    ({"StringLike": {"data:name": "what${?}"}}, {"data:name": "whats"}, False),
    ({"StringEquals": {"data:name": "${$}{x}"}}, {"data:name": "${x}"}, True),
    ({"StringEquals": {"data:name": "cost $5"}}, {"data:name": "cost $5"}, True),
    # ARN and Bool operators take variables
    ({"ArnLike": {"pipetrail:SourceArn": "arn:pipetrail:jobs:local:job/${pipetrail:username}"}},
     {"pipetrail:SourceArn": "arn:pipetrail:jobs:local:job/ana", USER: "ana"}, True),
    ({"ArnEquals": {"pipetrail:SourceArn": "${pipetrail:PrincipalArn}"}},
     {"pipetrail:SourceArn": "arn:pipetrail:iam::local:user/ana",
      "pipetrail:PrincipalArn": "arn:pipetrail:iam::local:user/ana"}, True),
    ({"Bool": {"pipetrail:SecureTransport": "${data:RequireTls}"}},
     {"pipetrail:SecureTransport": "true", "data:RequireTls": "TRUE"}, True),
    ({"Bool": {"pipetrail:SecureTransport": "${data:RequireTls}"}},
     {"pipetrail:SecureTransport": "true"}, False),
    # time and address keys are variables too
    ({"StringEquals": {"data:stamp": "${pipetrail:CurrentTime}"}},
     {"data:stamp": "2026-11-25T12:00:00Z"}, True),
    ({"StringLike": {"data:origin": "${pipetrail:SourceIp}*"}},
     {"data:origin": "10.0.0.1:5000", "pipetrail:SourceIp": "10.0.0.1"}, True),
])
def test_variable_in_condition(condition: dict[str, object], context: dict[str, str],
                               expected: bool) -> None:
    assert holds(condition, context) is expected


def test_variables_need_version_2012() -> None:
    """Without Version 2012-10-17, ``${…}`` is literal text (and ``*`` still a wildcard)."""
    literal = {"StringEquals": {"data:name": "${pipetrail:username}"}}
    assert holds(literal, {"data:name": "${pipetrail:username}", USER: "ana"}, version=None)
    assert not holds(literal, {"data:name": "ana", USER: "ana"}, version=None)
    assert holds(literal, {"data:name": "ana", USER: "ana"}, version="2012-10-17")
    assert holds(literal, {"data:name": "${pipetrail:username}"}, version="2008-10-17")
    escaped = {"StringLike": {"data:name": "a${*}"}}
    assert holds(escaped, {"data:name": "a${xyz}"}, version="2008-10-17")
    unclosed = policy(statement(Condition={"StringEquals": {"data:name": "${oops"}}),
                      version="2008-10-17")
    assert decide(unclosed, context={"data:name": "${oops"}) == "allowed"


def test_epoch_time_is_filled_from_the_clock() -> None:
    assert holds({"NumericEquals": {"pipetrail:EpochTime": str(int(NOW.timestamp()))}})
    assert holds({"DateEquals": {"pipetrail:CurrentTime": "2026-11-25T12:00:00Z"}})
    assert not holds({"DateEquals": {"pipetrail:CurrentTime": "2026-11-25T12:00:00Z"}},
                     {"pipetrail:CurrentTime": "2020-01-01T00:00:00Z"})
