"""Property tests: the parser fails only with ValidationError; matching laws hold."""

from __future__ import annotations

import contextlib
import json
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipetrail.access import AccessRequest, evaluate, parse_policy
from pipetrail.access.conditions import OPERATORS, parse_conditions
from pipetrail.access.context import RequestContext
from pipetrail.access.variables import parse_template, static
from pipetrail.access.wildcards import arn_regex, compiled, string_regex
from pipetrail.model.errors import ValidationError

from .builders import NOW

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# --- the parser never fails with anything but ValidationError --------------------------

json_leaves = (st.none() | st.booleans() | st.integers() | st.floats()
               | st.text(max_size=20))
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)

OPERATOR_NAMES = [*OPERATORS, "StringLikeIfExists", "ForAllValues:StringEquals",
                  "ForAnyValue:StringNotLikeIfExists", "NullIfExists", "ForAnyValue:Null",
                  "stringequals", "Foo:StringEquals", "IfExists", ":", ""]
KEYS = ["pipetrail:username", "pipetrail:SourceIp", "pipetrail:CurrentTime", "data:x",
        "username", "", "a:", ":b", "pipetrail:Tag/a b"]
VALUES = ["ana", "", "*", "a*b?", "10", "-1.5", "1e3", "2026-01-01", "2026-01-01T00:00:00Z",
          "1700000000", "true", "FALSE", "10.0.0.0/8", "::1", "2001:db8::/32", "QQ==",
          "arn:pipetrail:jobs:*:job/*", "arn:pipetrail:jobs:local:job/${pipetrail:username}",
          "${pipetrail:username}", "${pipetrail:username, 'x'}", "${", "${}", "${*}", "${a:b, x}",
          "${$}{", "x${?}y", "arn:", "nan", "inf"]
RESOURCES = ["*", "arn:pipetrail:jobs:local:job/*", "arn:pipetrail:jobs:*",
             "arn:pipetrail:jobs:local:job/${pipetrail:username}/*",
             "arn:pipetrail:${pipetrail:username}:x:y", "arn:pipetrail:logs:local:log-group:*",
             "arn:x${*}", "job/x", "", "arn:${", "arn:pipetrail:jobs:local:job/${a:b, 'c'}"]
ACTIONS = ["*", "jobs:*", "jobs:Get*", "JOBS:getjobrun", "logs:GetLogEvents", "trail:Lookup?vents",
           "jobs", "job*:Get", "jobs:Get Job", ""]

value_lists = st.one_of(
    st.sampled_from(VALUES),
    st.lists(st.sampled_from(VALUES), max_size=3),
    json_leaves,
    st.lists(json_leaves, max_size=2),
)
conditions = st.dictionaries(
    st.sampled_from(OPERATOR_NAMES) | st.text(max_size=10),
    st.dictionaries(st.sampled_from(KEYS), value_lists, max_size=3) | json_values,
    max_size=3,
)
statements = st.fixed_dictionaries(
    {},
    optional={
        "Sid": st.sampled_from(["A", "B", "a-b", ""]) | json_leaves,
        "Effect": st.sampled_from(["Allow", "Deny", "allow"]) | json_leaves,
        "Action": st.sampled_from(ACTIONS) | st.lists(st.sampled_from(ACTIONS), max_size=3),
        "NotAction": st.sampled_from(ACTIONS) | st.lists(st.sampled_from(ACTIONS), max_size=3),
        "Resource": st.sampled_from(RESOURCES) | st.lists(st.sampled_from(RESOURCES), max_size=3),
        "NotResource": st.sampled_from(RESOURCES),
        "Condition": conditions | json_values,
        "Principal": json_values,
    },
)
policies = st.fixed_dictionaries(
    {"Statement": statements | st.lists(statements, max_size=3) | json_values},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17", "2012"]),
              "Id": json_leaves},
)
requests = st.builds(
    AccessRequest,
    action=st.sampled_from(["jobs:GetJobRun", "logs:GetLogEvents", "iam:CreateUser"]),
    resource=st.sampled_from(["*", "arn:pipetrail:jobs:local:job/ana/run/1",
                              "arn:pipetrail:logs:local:log-group:g:log-stream:s"]),
    context=st.dictionaries(st.sampled_from([*KEYS[:4], "pipetrail:PrincipalArn"]),
                            st.sampled_from(VALUES) | st.lists(st.sampled_from(VALUES),
                                                               max_size=3),
                            max_size=4),
)


# Mostly valid policies, to reach evaluation: operators with values of their type.
FAMILY_VALUES = {
    "String": ["ana", "", "a*", "${pipetrail:username}", "${data:x, 'd'}", "x${*}"],
    "Numeric": ["1", "10.5", "-3", "1e3"],
    "Date": ["2026-01-01", "2026-11-25T12:00:00Z", "1700000000"],
    "Bool": ["true", "false", "${data:x}"],
    "Binary": ["QQ==", ""],
    "Ip": ["10.0.0.0/8", "::1", "2001:db8::/32"],
    "NotIp": ["10.0.0.0/8"],
    "Arn": ["arn:pipetrail:jobs:*:job/*", "arn:pipetrail:*", "${pipetrail:PrincipalArn}"],
    "Null": ["true", "false"],
}


@st.composite
def valid_operators(draw: st.DrawFn) -> tuple[str, list[str]]:
    base = draw(st.sampled_from(sorted(OPERATORS)))
    family = next(f for f in ("NotIp", *FAMILY_VALUES) if base.startswith(f))
    values = draw(st.lists(st.sampled_from(FAMILY_VALUES[family]), min_size=1, max_size=3))
    if base == "Null":
        return base, values
    prefix = draw(st.sampled_from(["", "ForAllValues:", "ForAnyValue:"]))
    suffix = draw(st.sampled_from(["", "IfExists"]))
    return prefix + base + suffix, values


valid_conditions = st.lists(
    st.tuples(valid_operators(), st.sampled_from([*KEYS[:4], "data:X", "data:x"])), max_size=3,
).map(lambda pairs: {op: {key: values} for (op, values), key in pairs})
GOOD_ACTIONS = ["*", "jobs:*", "jobs:Get*", "JOBS:getjobrun", "logs:GetLogEvents"]
GOOD_RESOURCES = [*RESOURCES[:4], RESOURCES[5], RESOURCES[10]]
valid_statements = st.builds(
    lambda effect, action, resource, condition: {
        "Effect": effect, action[0]: action[1], resource[0]: resource[1], "Condition": condition},
    st.sampled_from(["Allow", "Deny"]),
    st.tuples(st.sampled_from(["Action", "NotAction"]),
              st.lists(st.sampled_from(GOOD_ACTIONS), min_size=1, max_size=2)),
    st.tuples(st.sampled_from(["Resource", "NotResource"]),
              st.lists(st.sampled_from(GOOD_RESOURCES), min_size=1, max_size=2)),
    valid_conditions,
)
valid_policies = st.builds(
    lambda version, statements: {"Version": version, "Statement": statements},
    st.sampled_from(["2012-10-17", "2008-10-17"]),
    st.lists(valid_statements, min_size=1, max_size=3),
)


@FUZZ
@given(st.lists(valid_policies, min_size=1, max_size=2), requests)
def test_valid_policies_evaluate(docs: list[dict[str, Any]], request: AccessRequest) -> None:
    parsed = []
    for doc in docs:
        try:
            parsed.append(parse_policy(doc))
        except ValidationError as exc:
            # only 2008-10-17 rejects these: ${...} is then literal text in typed values
            assert doc["Version"] == "2008-10-17", exc
    result = evaluate(parsed, request, now=NOW)
    if result.statements:
        effects = {m.effect for m in result.statements}
        assert len(effects) == 1
        assert (str(result.decision) == "explicitDeny") is ("Deny" in effects)
    else:
        assert str(result.decision) == "implicitDeny"

@FUZZ
@given(st.text(max_size=300))
def test_any_text_reads_or_fails_cleanly(text: str) -> None:
    with contextlib.suppress(ValidationError):
        parse_policy(text)


@FUZZ
@given(json_values)
def test_any_json_value_reads_or_fails_cleanly(value: Any) -> None:
    with contextlib.suppress(ValidationError):
        parse_policy(value)


@FUZZ
@given(policies, requests)
def test_near_valid_policies_read_and_evaluate_or_fail_cleanly(doc: dict[str, Any],
                                                                request: AccessRequest) -> None:
    try:
        parsed = parse_policy(doc)
    except ValidationError:
        return
    try:
        text = json.dumps(doc)
    except ValueError:
        text = None
    if text is not None and "NaN" not in text and "Infinity" not in text:
        try:
            reread = parse_policy(text)
        except ValidationError as exc:  # only the size limit applies to text alone
            assert "characters" in str(exc)
        else:
            assert [s.sid for s in reread.statements] == [s.sid for s in parsed.statements]
    result = evaluate([parsed], request, now=NOW)
    assert str(result.decision) in ("allowed", "explicitDeny", "implicitDeny")


# --- matching laws ---------------------------------------------------------------------

@cache
def _glob(pattern: str, text: str) -> bool:
    """A reference matcher for ``*`` and ``?`` written as plain recursion."""
    if not pattern:
        return not text
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        return _glob(rest, text) or (bool(text) and _glob(pattern, text[1:]))
    if not text:
        return False
    return (head == "?" or head == text[0]) and _glob(rest, text[1:])


def _arn_glob(pattern: str, value: str) -> bool:
    """Reference ARN matching: component by component, the last taking the rest."""
    parts = pattern.split(":", 4)
    values = value.split(":", len(parts) - 1)
    return len(values) == len(parts) and all(map(_glob, parts, values))


patterns = st.text(alphabet="ab*?:/", max_size=10)
texts = st.text(alphabet="ab:/", max_size=10)


@FUZZ
@given(patterns, texts)
def test_string_wildcards_agree_with_the_reference(pattern: str, text: str) -> None:
    template = parse_template(pattern, variables=False, wildcards=True, where="test")
    regex = compiled(string_regex(static(template)))
    assert (regex.fullmatch(text) is not None) is _glob(pattern, text)


@FUZZ
@given(patterns, texts)
def test_arn_wildcards_agree_with_the_reference(pattern: str, text: str) -> None:
    template = parse_template(pattern, variables=False, wildcards=True, where="test")
    regex = compiled(arn_regex(static(template)))
    assert (regex.fullmatch(text) is not None) is _arn_glob(pattern, text)


NEGATIONS = {
    "StringEquals": "StringNotEquals",
    "StringEqualsIgnoreCase": "StringNotEqualsIgnoreCase",
    "StringLike": "StringNotLike",
    "NumericEquals": "NumericNotEquals",
    "DateEquals": "DateNotEquals",
    "IpAddress": "NotIpAddress",
    "ArnLike": "ArnNotLike",
    "ArnEquals": "ArnNotEquals",
}
TYPED_VALUES = {
    "String": st.text(alphabet="aAb*?", max_size=4),
    "Numeric": st.sampled_from(["0", "1", "1.0", "-1", "2", "x"]),
    "Date": st.sampled_from(["2026-01-01", "2026-01-01T00:00:00Z", "1767225600", "2025-12-31",
                             "soon"]),
    "Ip": st.sampled_from(["10.0.0.1", "10.0.0.0/8", "10.1.0.0/16", "::1", "::/0", "x"]),
    "Arn": st.sampled_from(["arn:pipetrail:jobs:a:job/x", "arn:pipetrail:jobs:*:job/*",
                            "arn:pipetrail:*", "arn:pipetrail:jobs:a:job/?", "job"]),
}


def _family(operator: str) -> str:
    for prefix in TYPED_VALUES:
        if operator.startswith(prefix):
            return prefix
    return "Ip"


@st.composite
def negation_cases(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    operator = draw(st.sampled_from(sorted(NEGATIONS)))
    values = TYPED_VALUES[_family(operator)]
    policy_values = draw(st.lists(values, min_size=1, max_size=3))
    request_values = draw(st.lists(values, min_size=1, max_size=3))
    return operator, policy_values, request_values


def _holds(operator: str, policy_values: list[str], request: list[str] | None) -> bool | None:
    try:
        (condition,) = parse_conditions({operator: {"data:k": policy_values}}, variables=True,
                                        where="Condition")
    except ValidationError:
        return None
    context = RequestContext.from_mapping({} if request is None else {"data:k": request})
    return condition.holds(context)


@FUZZ
@given(negation_cases())
def test_negated_operator_is_the_exact_opposite(case: tuple[str, list[str], list[str]]) -> None:
    operator, policy_values, request_values = case
    positive = _holds(operator, policy_values, request_values)
    if positive is None:  # the drawn policy values were not valid for the operator
        return
    assert _holds(NEGATIONS[operator], policy_values, request_values) is (not positive)
    assert _holds(NEGATIONS[operator], policy_values, None) is True
    assert _holds(operator, policy_values, None) is False


@FUZZ
@given(negation_cases())
def test_for_all_values_is_not_for_any_value_of_the_negation(
        case: tuple[str, list[str], list[str]]) -> None:
    operator, policy_values, request_values = case
    every = _holds(f"ForAllValues:{operator}", policy_values, request_values)
    if every is None:
        return
    some_not = _holds(f"ForAnyValue:{NEGATIONS[operator]}", policy_values, request_values)
    assert every is (not some_not)
    if request_values[:1] == [""]:
        return  # a lone empty string is an empty set to the set operators, as IAM documents
    single = _holds(operator, policy_values, request_values[:1])
    assert _holds(f"ForAnyValue:{operator}", policy_values, request_values[:1]) is single
    assert _holds(f"ForAllValues:{operator}", policy_values, request_values[:1]) is single
