"""``ForAllValues:`` and ``ForAnyValue:``, from IAM's multivalued-context-key examples."""

from __future__ import annotations

from typing import Any

import pytest

from .builders import decide, holds, policy, statement

ATTRS = "data:requestedColumns"
TAG_KEYS = "pipetrail:TagKeys"

CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # ForAllValues:StringLike over the allowed attributes PostDateTime, Message, Tags
    ("all: every value listed",
     {"ForAllValues:StringLike": {ATTRS: ["PostDateTime", "Message", "Tags"]}},
     {ATTRS: ["PostDateTime", "Message"]}, True),
    ("all: one value not listed",
     {"ForAllValues:StringLike": {ATTRS: ["PostDateTime", "Message", "Tags"]}},
     {ATTRS: ["PostDateTime", "UserName"]}, False),
    ("all: key absent is true",
     {"ForAllValues:StringLike": {ATTRS: ["PostDateTime", "Message", "Tags"]}}, {}, True),
    ("all: empty list is true",
     {"ForAllValues:StringEquals": {ATTRS: ["PostDateTime"]}}, {ATTRS: []}, True),
    ("all: empty string is an empty set",
     {"ForAllValues:StringEquals": {ATTRS: ["PostDateTime"]}}, {ATTRS: ""}, True),
    ("all: single value", {"ForAllValues:StringEquals": {ATTRS: ["a", "b"]}}, {ATTRS: "b"},
     True),
    # ForAnyValue:StringLike over the forbidden attributes ID, PostDateTime (a Deny)
    ("any: one value forbidden", {"ForAnyValue:StringLike": {ATTRS: ["ID", "PostDateTime"]}},
     {ATTRS: ["UserName", "Message", "PostDateTime"]}, True),
    ("any: none forbidden", {"ForAnyValue:StringLike": {ATTRS: ["ID", "PostDateTime"]}},
     {ATTRS: ["UserName"]}, False),
    ("any: key absent is false", {"ForAnyValue:StringLike": {ATTRS: ["ID"]}}, {}, False),
    ("any: empty list is false", {"ForAnyValue:StringLike": {ATTRS: ["*"]}}, {ATTRS: []},
     False),
    ("any: empty string is false", {"ForAnyValue:StringLike": {ATTRS: ["*"]}}, {ATTRS: ""},
     False),
    # ForAllValues:StringNotLike key1* (deny unless every tag key starts with key1)
    ("all not like: key1:legal", {"ForAllValues:StringNotLike": {TAG_KEYS: "key1*"}},
     {TAG_KEYS: ["key1:legal"]}, False),
    ("all not like: key1:hr, key1:personnel", {"ForAllValues:StringNotLike": {TAG_KEYS: "key1*"}},
     {TAG_KEYS: ["key1:hr", "key1:personnel"]}, False),
    ("all not like: key2:audit", {"ForAllValues:StringNotLike": {TAG_KEYS: "key1*"}},
     {TAG_KEYS: ["key2:audit"]}, True),
    ("all not like: absent", {"ForAllValues:StringNotLike": {TAG_KEYS: "key1*"}}, {}, True),
    ("all not like: mixed", {"ForAllValues:StringNotLike": {TAG_KEYS: "key1*"}},
     {TAG_KEYS: ["key1:legal", "key2:audit"]}, False),
    ("all not equals, several values is NOR per value",
     {"ForAllValues:StringNotEquals": {TAG_KEYS: ["a", "b"]}}, {TAG_KEYS: ["c", "d"]}, True),
    ("all not equals, one value listed",
     {"ForAllValues:StringNotEquals": {TAG_KEYS: ["a", "b"]}}, {TAG_KEYS: ["c", "b"]}, False),
    ("any not equals: one value unlisted",
     {"ForAnyValue:StringNotEquals": {TAG_KEYS: ["a", "b"]}}, {TAG_KEYS: ["a", "z"]}, True),
    ("any not equals: all listed",
     {"ForAnyValue:StringNotEquals": {TAG_KEYS: ["a", "b"]}}, {TAG_KEYS: ["a", "b"]}, False),
    ("any not equals: absent", {"ForAnyValue:StringNotEquals": {TAG_KEYS: ["a"]}}, {}, False),
    # IfExists with set operators
    ("any if exists: absent", {"ForAnyValue:StringEqualsIfExists": {TAG_KEYS: "a"}}, {}, True),
    ("any if exists: present", {"ForAnyValue:StringEqualsIfExists": {TAG_KEYS: "a"}},
     {TAG_KEYS: ["b"]}, False),
    ("all not like if exists: present",
     {"ForAllValues:StringNotLikeIfExists": {TAG_KEYS: "iam*"}}, {TAG_KEYS: ["jobs", "logs"]},
     True),
    # set operators with other operator families
    ("any numeric", {"ForAnyValue:NumericGreaterThan": {"jobs:Workers": "10"}},
     {"jobs:Workers": ["2", "20"]}, True),
    ("all numeric", {"ForAllValues:NumericGreaterThan": {"jobs:Workers": "10"}},
     {"jobs:Workers": ["2", "20"]}, False),
    ("all ip", {"ForAllValues:IpAddress": {"pipetrail:ForwardedFor": "10.0.0.0/8"}},
     {"pipetrail:ForwardedFor": ["10.0.0.1", "10.2.0.1"]}, True),
    ("any arn", {"ForAnyValue:ArnLike": {"pipetrail:CalledVia": "arn:pipetrail:events:*"}},
     {"pipetrail:CalledVia": ["arn:pipetrail:jobs:local:job/x", "arn:pipetrail:events:l:r/y"]},
     True),
    ("all date", {"ForAllValues:DateLessThan": {"data:Modified": "2026-01-01"}},
     {"data:Modified": ["2025-01-01", "2025-12-31T23:59:59Z"]}, True),
    ("any bool", {"ForAnyValue:Bool": {"data:Flags": "true"}}, {"data:Flags": ["false", "true"]},
     True),
]


@pytest.mark.parametrize(("condition", "context", "expected"),
                         [pytest.param(c, ctx, want, id=name) for name, c, ctx, want in CASES])
def test_set_operator(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert holds(condition, context) is expected


def test_for_all_values_with_allow_admits_a_request_without_the_key() -> None:
    """The documented pitfall: ForAllValues under an Allow passes when the key is absent."""
    doc = policy(statement(Action="jobs:TagJob",
                           Condition={"ForAllValues:StringEquals": {TAG_KEYS: ["team"]}}))
    assert decide(doc, "jobs:TagJob", context={}) == "allowed"
    guarded = policy(statement(Action="jobs:TagJob",
                               Condition={"ForAllValues:StringEquals": {TAG_KEYS: ["team"]},
                                          "Null": {TAG_KEYS: "false"}}))
    assert decide(guarded, "jobs:TagJob", context={}) == "implicitDeny"
    assert decide(guarded, "jobs:TagJob", context={TAG_KEYS: ["team"]}) == "allowed"


def test_for_any_value_deny_from_the_documentation() -> None:
    doc = policy(
        statement(Sid="AllowPut", Action="data:PutItem"),
        statement(Sid="DenyColumns", Effect="Deny", Action="data:PutItem",
                  Condition={"ForAnyValue:StringLike": {ATTRS: ["ID", "PostDateTime"]}}),
    )
    assert decide(doc, "data:PutItem",
                  context={ATTRS: ["UserName", "Message", "PostDateTime"]}) == "explicitDeny"
    assert decide(doc, "data:PutItem", context={ATTRS: ["UserName"]}) == "allowed"
