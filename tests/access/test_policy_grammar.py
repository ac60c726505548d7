"""The policy grammar: what is accepted, and the error for what is not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipetrail.access import Effect, parse_policy
from pipetrail.access.policy import MAX_POLICY_CHARS
from pipetrail.model.errors import ValidationError

from .builders import policy, statement

ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def test_full_policy_reads() -> None:
    text = json.dumps({
        "Version": "2012-10-17",
        "Id": "team-data",
        "Statement": [
            {"Sid": "ReadRuns", "Effect": "Allow",
             "Action": ["jobs:GetJobRun", "jobs:GetJobRuns"],
             "Resource": ["arn:pipetrail:jobs:local:job/*"],
             "Condition": {"IpAddress": {"pipetrail:SourceIp": ["10.0.0.0/8"]}}},
            {"Effect": "Deny", "NotAction": "logs:Get*", "NotResource": "*"},
        ],
    })
    parsed = parse_policy(text)
    assert parsed.version == "2012-10-17"
    assert parsed.id == "team-data"
    assert [s.sid for s in parsed.statements] == ["ReadRuns", None]
    assert [s.effect for s in parsed.statements] == [Effect.ALLOW, Effect.DENY]
    assert parsed.statements[1].action.negated and parsed.statements[1].resource.negated
    assert parsed.statements[0].context_keys == ("pipetrail:SourceIp",)


def test_version_defaults_to_2008() -> None:
    assert parse_policy({"Statement": ALLOW_ALL}).version == "2008-10-17"
    assert not parse_policy({"Statement": ALLOW_ALL}).variables
    assert parse_policy({"Version": "2012-10-17", "Statement": ALLOW_ALL}).variables


def test_json_values_in_conditions() -> None:
    parse_policy(policy(statement(Condition={
        "NumericLessThan": {"logs:limit": 10.5},
        "Bool": {"pipetrail:SecureTransport": True},
        "Null": {"pipetrail:TokenIssueTime": [True, False]},
        "NumericEquals": {"logs:limit2": [1, "2", 3e3]},
    })))


def test_whitespace_does_not_count_towards_the_size_limit() -> None:
    padded = " " * 50_000 + json.dumps(policy(statement(Sid="A" * 100)), indent=8)
    assert len(padded) > MAX_POLICY_CHARS
    parse_policy(padded)


# (document or text, fragment the message must hold)
INVALID: list[tuple[str, Any, str]] = [
    ("not an object", ["Statement"], "policy: a policy must be a JSON object, not a list"),
    ("unknown element", {"Version": "2012-10-17", "Statment": []},
     "unknown element 'Statment' in a policy; did you mean 'Statement'?"),
    ("unknown element, no close name", {"Statement": ALLOW_ALL, "Owner": "x"},
     "unknown element 'Owner' in a policy; expected one of Version, Id, Statement"),
    ("no statement", {"Version": "2012-10-17"}, "a policy needs a Statement"),
    ("empty statement list", {"Statement": []}, "Statement: must hold at least one statement"),
    ("statement not an object", {"Statement": ["Allow"]},
     "Statement[0]: a statement must be a JSON object, not a string"),
    ("bad version", {"Version": "2012-10-18", "Statement": ALLOW_ALL},
     "Version: '2012-10-18' is not a policy language version"),
    ("version as a date number", {"Version": 2012, "Statement": ALLOW_ALL},
     "Version: 2012 is not a policy language version"),
    ("Id not a string", {"Id": 5, "Statement": ALLOW_ALL}, "Id: must be a string, not a number"),
    ("unknown statement element", policy(statement(Effects="Allow")),
     "Statement[0]: unknown element 'Effects' in a statement; did you mean 'Effect'?"),
    ("Principal", policy(statement(Principal="*")),
     "Statement[0]: Principal cannot appear in an identity policy"),
    ("NotPrincipal", policy(statement(NotPrincipal={"AWS": "x"})),
     "NotPrincipal cannot appear in an identity policy"),
    ("bad effect", policy(statement(Effect="allow")),
     "Statement[0].Effect: must be \"Allow\" or \"Deny\", not 'allow'"),
    ("no effect", {"Statement": {"Action": "*", "Resource": "*"}},
     "Statement: a statement needs an Effect"),
    ("bad sid", policy(statement(Sid="read-runs")), "Statement[0].Sid: 'read-runs' is not a"),
    ("sid not a string", policy(statement(Sid=1)), "Statement[0].Sid: 1 is not a statement id"),
    ("duplicate sid", policy(statement(Sid="A"), statement(Sid="A")),
     "Statement[1].Sid: 'A' is already the Sid of Statement[0]"),
    ("no action", {"Statement": {"Effect": "Allow", "Resource": "*"}},
     "a statement needs Action or NotAction"),
    ("action and not action", {"Statement": {**ALLOW_ALL, "NotAction": "jobs:*"}},
     "a statement has Action or NotAction, not both"),
    ("no resource", {"Statement": {"Effect": "Allow", "Action": "*"}},
     "a statement needs Resource or NotResource"),
    ("resource and not resource", {"Statement": {**ALLOW_ALL, "NotResource": "*"}},
     "a statement has Resource or NotResource, not both"),
    ("action without service", policy(statement(Action="GetJobRun")),
     "'GetJobRun' is not an action"),
    ("action with wildcard service", policy(statement(Action="job*:GetJobRun")),
     "the service prefix of an action cannot hold wildcards"),
    ("empty action list", policy(statement(Action=[])),
     "Statement[0].Action: must name at least one entry"),
    ("action not a string", policy(statement(Action=["jobs:Get", 7])),
     "Statement[0].Action[1]: must be a string, not a number"),
    ("action an object", policy(statement(Action={"jobs": "Get"})),
     "Statement[0].Action: must be a string or a list of strings, not an object"),
    ("resource not an ARN", policy(statement(Resource="job/nightly")),
     "'job/nightly' must be '*' or an ARN"),
    ("variable outside the resource part",
     policy(statement(Resource="arn:pipetrail:jobs:${pipetrail:username}:job/x")),
     "policy variables may stand only in the resource part"),
    ("unclosed variable", policy(statement(Resource="arn:pipetrail:jobs:local:job/${x:y")),
     "has no closing '}'"),
    ("empty variable", policy(statement(Resource="arn:pipetrail:jobs:local:job/${}")),
     "${} does not name a condition key"),
    ("variable default without quotes",
     policy(statement(Resource="arn:pipetrail:jobs:local:job/${pipetrail:username, x}")),
     "must be one string in single quotes"),
    ("condition not an object", policy(statement(Condition=["StringEquals"])),
     "Statement[0].Condition: Condition must be a JSON object, not a list"),
    ("unknown operator", policy(statement(Condition={"StringEqual": {"a:b": "c"}})),
     "unknown condition operator 'StringEqual'; did you mean 'StringEquals'?"),
    ("operator case", policy(statement(Condition={"stringequals": {"a:b": "c"}})),
     "operator names are case-sensitive: did you mean 'StringEquals'?"),
    ("unknown operator, nothing close", policy(statement(Condition={"Regex": {"a:b": "c"}})),
     "unknown condition operator 'Regex'"),
    ("bad set operator", policy(statement(Condition={"ForEveryValue:StringEquals": {"a:b": "c"}})),
     "unknown set operator 'ForEveryValue'"),
    ("NullIfExists", policy(statement(Condition={"NullIfExists": {"a:b": "true"}})),
     "Null cannot take IfExists"),
    ("set operator on Null", policy(statement(Condition={"ForAnyValue:Null": {"a:b": "true"}})),
     "Null cannot take a set operator"),
    ("bare IfExists", policy(statement(Condition={"IfExists": {"a:b": "c"}})),
     "unknown condition operator 'IfExists'"),
    ("empty operator block", policy(statement(Condition={"StringEquals": {}})),
     "must be a non-empty object of condition keys and values"),
    ("operator block not an object", policy(statement(Condition={"StringEquals": "a"})),
     "Statement[0].Condition.StringEquals: an operator's block must be a JSON object"),
    ("bad key", policy(statement(Condition={"StringEquals": {"username": "ana"}})),
     "'username' is not a condition key"),
    ("no values", policy(statement(Condition={"StringEquals": {"a:b": []}})),
     "Statement[0].Condition.StringEquals.a:b: needs at least one value"),
    ("object value", policy(statement(Condition={"StringEquals": {"a:b": {"c": "d"}}})),
     "condition values must be strings, numbers or booleans, not dict"),
    ("null value", policy(statement(Condition={"StringEquals": {"a:b": ["x", None]}})),
     "Statement[0].Condition.StringEquals.a:b[1]: condition values must be strings"),
    ("bad number", policy(statement(Condition={"NumericLessThan": {"a:b": "ten"}})),
     "NumericLessThan needs a number, not 'ten'"),
    ("number with a variable", policy(statement(Condition={
        "NumericLessThan": {"a:b": "${pipetrail:limit}"}})),
     "policy variables cannot be used with NumericLessThan"),
    ("infinite number", policy(statement(Condition={"NumericLessThan": {"a:b": 1e400}})),
     "NumericLessThan needs a number, not 'inf'"),
    ("bad date", policy(statement(Condition={"DateLessThan": {"a:b": "tomorrow"}})),
     "DateLessThan needs a date"),
    ("bad bool", policy(statement(Condition={"Bool": {"a:b": "yes"}})),
     "Bool takes true or false, not 'yes'"),
    ("bad base-64", policy(statement(Condition={"BinaryEquals": {"a:b": "not base64!"}})),
     "BinaryEquals needs base-64 text"),
    ("bad address", policy(statement(Condition={"IpAddress": {"a:b": "10.0.0.0/33"}})),
     "IpAddress needs an IP address or CIDR range"),
    ("bad arn", policy(statement(Condition={"ArnLike": {"a:b": "job/x"}})),
     "'job/x' is not an ARN"),
    ("bad null", policy(statement(Condition={"Null": {"a:b": "absent"}})),
     "Null takes true (the key is absent) or false (it is present), not 'absent'"),
    ("BinaryNotEquals does not exist", policy(statement(Condition={
        "BinaryNotEquals": {"a:b": "QQ=="}})), "unknown condition operator 'BinaryNotEquals'"),
    ("JSON syntax", '{"Statement": {"Effect": "Allow" "Action": "*"}}',
     "not valid JSON at line 1, column 34 (offset 33): Expecting ',' delimiter"),
    ("JSON syntax, second line", '{\n  "Statement": [,]\n}', "line 2, column 17"),
    ("duplicate key", '{"Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "*",'
     ' "Resource": "*"}}', "Statement: element 'Effect' appears more than once"),
    ("duplicate condition key", '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",'
     ' "Condition": {"StringEquals": {"a:b": "1", "a:b": "2"}}}}',
     "Statement.Condition.StringEquals: element 'a:b' appears more than once"),
    ("NaN", '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", '
     '"Condition": {"NumericEquals": {"a:b": NaN}}}}', "NaN is not a JSON value"),
    ("too deep", "[" * 10_000, "nested too deeply"),
    ("too large", json.dumps(policy(statement(Sid="A" * MAX_POLICY_CHARS))),
     "the most allowed is 10240"),
    ("far too large", " " * 200_000, "the most read is 131072"),
    ("empty text", "", "not valid JSON at line 1, column 1"),
]


@pytest.mark.parametrize(("document", "message"),
                         [pytest.param(d, m, id=name) for name, d, m in INVALID])
def test_invalid_policy(document: Any, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_policy(document)
    assert message in str(caught.value)


def test_source_names_the_policy() -> None:
    with pytest.raises(ValidationError, match=r"^policy team\.json: Statement: a statement needs"):
        parse_policy('{"Statement": {"Action": "*", "Resource": "*"}}', source="team.json")
