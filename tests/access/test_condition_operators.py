"""Every condition operator, from the examples of IAM's condition-operator reference.

Each case: a ``Condition`` block, the request's context keys, and whether the
condition holds. ``aws:`` keys of the documentation become ``pipetrail:`` keys.
"""

from __future__ import annotations

from typing import Any

import pytest

from .builders import holds

TAG = "pipetrail:PrincipalTag/job-category"
PREFIX = "logs:prefix"

Case = tuple[str, dict[str, Any], dict[str, Any], bool]

STRING: list[Case] = [
    # StringEquals on a principal tag (doc: the job-category tag must be iamuser-admin)
    ("equals", {"StringEquals": {TAG: "iamuser-admin"}}, {TAG: "iamuser-admin"}, True),
    ("equals other value", {"StringEquals": {TAG: "iamuser-admin"}}, {TAG: "dev"}, False),
    ("equals is case-sensitive", {"StringEquals": {TAG: "iamuser-admin"}},
     {TAG: "IAMUser-Admin"}, False),
    ("equals, key absent", {"StringEquals": {TAG: "iamuser-admin"}}, {}, False),
    ("equals takes no wildcards", {"StringEquals": {TAG: "iamuser-*"}},
     {TAG: "iamuser-admin"}, False),
    ("equals a literal star", {"StringEquals": {TAG: "a*"}}, {TAG: "a*"}, True),
    ("key names ignore case", {"StringEquals": {"PIPETRAIL:principaltag/JOB-category": "x"}},
     {TAG: "x"}, True),
    ("not equals", {"StringNotEquals": {TAG: "iamuser-admin"}}, {TAG: "dev"}, True),
    ("not equals same", {"StringNotEquals": {TAG: "iamuser-admin"}},
     {TAG: "iamuser-admin"}, False),
    ("not equals, key absent", {"StringNotEquals": {TAG: "iamuser-admin"}}, {}, True),
    ("equals ignore case", {"StringEqualsIgnoreCase": {TAG: "IAMuser-Admin"}},
     {TAG: "iamuser-admin"}, True),
    ("equals ignore case differs", {"StringEqualsIgnoreCase": {TAG: "admin"}},
     {TAG: "admins"}, False),
    ("not equals ignore case", {"StringNotEqualsIgnoreCase": {TAG: "ADMIN"}},
     {TAG: "admin"}, False),
    ("not equals ignore case other", {"StringNotEqualsIgnoreCase": {TAG: "ADMIN"}},
     {TAG: "dev"}, True),
    # StringLike with the home-directory prefixes of the documentation
    ("like empty prefix", {"StringLike": {PREFIX: ["", "home/", "home/ana/"]}},
     {PREFIX: ""}, True),
    ("like home/", {"StringLike": {PREFIX: ["", "home/", "home/ana/"]}},
     {PREFIX: "home/"}, True),
    ("like other home", {"StringLike": {PREFIX: ["", "home/", "home/ana/"]}},
     {PREFIX: "home/bo/"}, False),
    ("like star", {"StringLike": {PREFIX: "home/*"}}, {PREFIX: "home/a/b/c"}, True),
    ("like question mark", {"StringLike": {PREFIX: "t?.micro"}}, {PREFIX: "t2.micro"}, True),
    ("like question mark is one char", {"StringLike": {PREFIX: "t?.micro"}},
     {PREFIX: "t22.micro"}, False),
    ("like is case-sensitive", {"StringLike": {PREFIX: "Home/*"}}, {PREFIX: "home/x"}, False),
    ("like needs whole match", {"StringLike": {PREFIX: "home"}}, {PREFIX: "home/x"}, False),
    ("like star crosses colons", {"StringLike": {PREFIX: "a*"}}, {PREFIX: "a:b:c"}, True),
    ("like star matches newlines", {"StringLike": {PREFIX: "a*"}}, {PREFIX: "a\nb"}, True),
    ("not like", {"StringNotLike": {PREFIX: "home/*"}}, {PREFIX: "tmp/x"}, True),
    ("not like matching", {"StringNotLike": {PREFIX: "home/*"}}, {PREFIX: "home/x"}, False),
    ("not like, key absent", {"StringNotLike": {PREFIX: "home/*"}}, {}, True),
    ("like, key absent", {"StringLike": {PREFIX: "*"}}, {}, False),
]

NUMERIC: list[Case] = [
    # NumericLessThanEquals: list up to 10 objects at a time
    ("le 10", {"NumericLessThanEquals": {"logs:limit": "10"}}, {"logs:limit": "10"}, True),
    ("le 9", {"NumericLessThanEquals": {"logs:limit": "10"}}, {"logs:limit": "9"}, True),
    ("le 11", {"NumericLessThanEquals": {"logs:limit": "10"}}, {"logs:limit": "11"}, False),
    ("le absent", {"NumericLessThanEquals": {"logs:limit": "10"}}, {}, False),
    ("lt", {"NumericLessThan": {"logs:limit": 10}}, {"logs:limit": "10"}, False),
    ("lt decimal", {"NumericLessThan": {"logs:limit": 10}}, {"logs:limit": "9.5"}, True),
    ("gt", {"NumericGreaterThan": {"logs:limit": "10"}}, {"logs:limit": "10.01"}, True),
    ("gt equal", {"NumericGreaterThan": {"logs:limit": "10"}}, {"logs:limit": "10"}, False),
    ("ge", {"NumericGreaterThanEquals": {"logs:limit": "10"}}, {"logs:limit": "10.0"}, True),
    ("equals decimal forms", {"NumericEquals": {"logs:limit": "10"}},
     {"logs:limit": "10.000"}, True),
    ("equals negative", {"NumericEquals": {"logs:limit": -3}}, {"logs:limit": "-3"}, True),
    ("equals, one of", {"NumericEquals": {"logs:limit": [1, 2, 3]}}, {"logs:limit": "2"}, True),
    ("not equals", {"NumericNotEquals": {"logs:limit": [1, 2]}}, {"logs:limit": "3"}, True),
    ("not equals is NOR", {"NumericNotEquals": {"logs:limit": [1, 2]}},
     {"logs:limit": "2"}, False),
    ("not a number in the request", {"NumericLessThan": {"logs:limit": "10"}},
     {"logs:limit": "ten"}, False),
    ("not a number, negated", {"NumericNotEquals": {"logs:limit": "10"}},
     {"logs:limit": "ten"}, True),
]

DATE: list[Case] = [
    # DateGreaterThan on the token issue time (doc: credentials issued in 2020 or later)
    ("after", {"DateGreaterThan": {"pipetrail:TokenIssueTime": "2020-01-01T00:00:01Z"}},
     {"pipetrail:TokenIssueTime": "2020-06-01T00:00:00Z"}, True),
    ("before", {"DateGreaterThan": {"pipetrail:TokenIssueTime": "2020-01-01T00:00:01Z"}},
     {"pipetrail:TokenIssueTime": "2019-12-31T23:59:59Z"}, False),
    ("absent", {"DateGreaterThan": {"pipetrail:TokenIssueTime": "2020-01-01T00:00:01Z"}},
     {}, False),
    ("epoch against ISO", {"DateLessThan": {"pipetrail:CurrentTime": "2030-01-01T00:00:00Z"}},
     {"pipetrail:CurrentTime": "1700000000"}, True),
    ("ISO against epoch", {"DateGreaterThanEquals": {"pipetrail:EpochTime": "1700000000"}},
     {"pipetrail:EpochTime": "2023-11-14T22:13:20Z"}, True),
    ("offsets", {"DateEquals": {"pipetrail:CurrentTime": "2026-01-01T01:00:00+01:00"}},
     {"pipetrail:CurrentTime": "2026-01-01T00:00:00Z"}, True),
    ("date only is midnight UTC", {"DateEquals": {"pipetrail:CurrentTime": "2026-01-01"}},
     {"pipetrail:CurrentTime": "2026-01-01T00:00:00Z"}, True),
    ("year-month", {"DateLessThan": {"pipetrail:CurrentTime": "2026-02"}},
     {"pipetrail:CurrentTime": "2026-01-31T23:59:59Z"}, True),
    ("fractions of a second", {"DateLessThan": {"pipetrail:CurrentTime": "2026-01-01T00:00:00.5Z"}},
     {"pipetrail:CurrentTime": "2026-01-01T00:00:00.25Z"}, True),
    ("le equal", {"DateLessThanEquals": {"pipetrail:CurrentTime": "2026-01-01T00:00:00Z"}},
     {"pipetrail:CurrentTime": "2026-01-01T00:00:00Z"}, True),
    ("not equals", {"DateNotEquals": {"pipetrail:CurrentTime": "2026-01-01"}},
     {"pipetrail:CurrentTime": "2026-01-02"}, True),
    ("not a date in the request", {"DateLessThan": {"pipetrail:CurrentTime": "2026-01-01"}},
     {"pipetrail:CurrentTime": "yesterday"}, False),
]

BOOL: list[Case] = [
    # Bool: deny unless over TLS (here as an Allow to test the condition alone)
    ("false", {"Bool": {"pipetrail:SecureTransport": "false"}},
     {"pipetrail:SecureTransport": "false"}, True),
    ("true vs false", {"Bool": {"pipetrail:SecureTransport": "false"}},
     {"pipetrail:SecureTransport": "true"}, False),
    ("JSON boolean", {"Bool": {"pipetrail:MultiFactorAuthPresent": True}},
     {"pipetrail:MultiFactorAuthPresent": "true"}, True),
    ("case of the words", {"Bool": {"pipetrail:SecureTransport": "TRUE"}},
     {"pipetrail:SecureTransport": "True"}, True),
    ("not a boolean in the request", {"Bool": {"pipetrail:SecureTransport": "true"}},
     {"pipetrail:SecureTransport": "yes"}, False),
    ("absent", {"Bool": {"pipetrail:SecureTransport": "false"}}, {}, False),
    ("if exists, absent", {"BoolIfExists": {"pipetrail:MultiFactorAuthPresent": "false"}},
     {}, True),
]

BINARY: list[Case] = [
    ("same bytes", {"BinaryEquals": {"data:checksum": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}},
     {"data:checksum": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}, True),
    ("other bytes", {"BinaryEquals": {"data:checksum": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}},
     {"data:checksum": "T3RoZXI="}, False),
    ("not base-64 in the request", {"BinaryEquals": {"data:checksum": "T3RoZXI="}},
     {"data:checksum": "***"}, False),
    ("absent", {"BinaryEquals": {"data:checksum": "T3RoZXI="}}, {}, False),
]

IP: list[Case] = [
    # IpAddress 203.0.113.0/24, and mixed IPv4 and IPv6 ranges
    ("in range", {"IpAddress": {"pipetrail:SourceIp": "203.0.113.0/24"}},
     {"pipetrail:SourceIp": "203.0.113.77"}, True),
    ("out of range", {"IpAddress": {"pipetrail:SourceIp": "203.0.113.0/24"}},
     {"pipetrail:SourceIp": "203.0.114.1"}, False),
    ("bare address is /32", {"IpAddress": {"pipetrail:SourceIp": "203.0.113.5"}},
     {"pipetrail:SourceIp": "203.0.113.5"}, True),
    ("bare address, neighbour", {"IpAddress": {"pipetrail:SourceIp": "203.0.113.5"}},
     {"pipetrail:SourceIp": "203.0.113.6"}, False),
    ("IPv6 range", {"IpAddress": {"pipetrail:SourceIp": ["203.0.113.0/24",
                                                          "2001:DB8:1234:5678::/64"]}},
     {"pipetrail:SourceIp": "2001:db8:1234:5678::1"}, True),
    ("IPv6 outside", {"IpAddress": {"pipetrail:SourceIp": ["203.0.113.0/24",
                                                           "2001:DB8:1234:5678::/64"]}},
     {"pipetrail:SourceIp": "2001:db8:1234:5679::1"}, False),
    ("IPv4 never in an IPv6 range", {"IpAddress": {"pipetrail:SourceIp": "::/0"}},
     {"pipetrail:SourceIp": "10.0.0.1"}, False),
    ("not an address in the request", {"IpAddress": {"pipetrail:SourceIp": "0.0.0.0/0"}},
     {"pipetrail:SourceIp": "localhost"}, False),
    ("not ip", {"NotIpAddress": {"pipetrail:SourceIp": "203.0.113.0/24"}},
     {"pipetrail:SourceIp": "198.51.100.1"}, True),
    ("not ip, inside", {"NotIpAddress": {"pipetrail:SourceIp": "203.0.113.0/24"}},
     {"pipetrail:SourceIp": "203.0.113.1"}, False),
    ("not ip, absent", {"NotIpAddress": {"pipetrail:SourceIp": "203.0.113.0/24"}}, {}, True),
]

DOC_ARN_PATTERN = "arn:aws:someservice:*:111122223333:finance/*"
DOC_ARN_VALUE = ("arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:"
                 "finance/document.txt")
SOURCE = "pipetrail:SourceArn"

ARN: list[Case] = [
    # The documentation's example: StringLike matches where ArnLike does not.
    ("doc: StringLike crosses components", {"StringLike": {SOURCE: DOC_ARN_PATTERN}},
     {SOURCE: DOC_ARN_VALUE}, True),
    ("doc: ArnLike keeps components", {"ArnLike": {SOURCE: DOC_ARN_PATTERN}},
     {SOURCE: DOC_ARN_VALUE}, False),
    ("equals", {"ArnEquals": {SOURCE: "arn:pipetrail:jobs:local:job/nightly"}},
     {SOURCE: "arn:pipetrail:jobs:local:job/nightly"}, True),
    ("equals takes wildcards like ArnLike", {"ArnEquals": {SOURCE: "arn:pipetrail:jobs:*:job/*"}},
     {SOURCE: "arn:pipetrail:jobs:local:job/nightly"}, True),
    ("like, workspace star stops at a colon",
     {"ArnLike": {SOURCE: "arn:pipetrail:jobs:*:nightly"}},
     {SOURCE: "arn:pipetrail:jobs:local:job:nightly"}, False),
    ("like, resource star crosses colons",
     {"ArnLike": {SOURCE: "arn:pipetrail:logs:local:log-group:*"}},
     {SOURCE: "arn:pipetrail:logs:local:log-group:/pipetrail/jobs/output:log-stream:jr_1"}, True),
    ("like is case-sensitive", {"ArnLike": {SOURCE: "arn:pipetrail:jobs:local:job/Nightly"}},
     {SOURCE: "arn:pipetrail:jobs:local:job/nightly"}, False),
    ("like, short pattern covers the rest", {"ArnLike": {SOURCE: "arn:pipetrail:jobs:*"}},
     {SOURCE: "arn:pipetrail:jobs:local:job/nightly"}, True),
    ("like, question mark", {"ArnLike": {SOURCE: "arn:pipetrail:jobs:loca?:job/*"}},
     {SOURCE: "arn:pipetrail:jobs:local:job/x"}, True),
    ("not like", {"ArnNotLike": {SOURCE: "arn:pipetrail:jobs:*:job/prod-*"}},
     {SOURCE: "arn:pipetrail:jobs:local:job/dev-1"}, True),
    ("not like, matching", {"ArnNotLike": {SOURCE: "arn:pipetrail:jobs:*:job/prod-*"}},
     {SOURCE: "arn:pipetrail:jobs:local:job/prod-1"}, False),
    ("not equals, absent", {"ArnNotEquals": {SOURCE: "arn:pipetrail:jobs:*:job/x"}}, {}, True),
    ("like, absent", {"ArnLike": {SOURCE: "arn:*"}}, {}, False),
]

NULL: list[Case] = [
    # Null true: the user must not be using temporary credentials (key absent)
    ("true, absent", {"Null": {"pipetrail:TokenIssueTime": "true"}}, {}, True),
    ("true, present", {"Null": {"pipetrail:TokenIssueTime": "true"}},
     {"pipetrail:TokenIssueTime": "2026-01-01T00:00:00Z"}, False),
    ("false, present", {"Null": {"pipetrail:TokenIssueTime": "false"}},
     {"pipetrail:TokenIssueTime": "2026-01-01T00:00:00Z"}, True),
    ("false, absent", {"Null": {"pipetrail:TokenIssueTime": False}}, {}, False),
    ("empty list is absent", {"Null": {"pipetrail:TagKeys": "true"}},
     {"pipetrail:TagKeys": []}, True),
    ("empty string is present", {"Null": {"pipetrail:TagKeys": "false"}},
     {"pipetrail:TagKeys": ""}, True),
]

IF_EXISTS: list[Case] = [
    # StringLikeIfExists on the instance type: only checked where the key exists
    ("absent", {"StringLikeIfExists": {"jobs:WorkerType": ["t1.*", "t2.*", "m3.*"]}}, {}, True),
    ("present, matching", {"StringLikeIfExists": {"jobs:WorkerType": ["t1.*", "t2.*", "m3.*"]}},
     {"jobs:WorkerType": "t2.micro"}, True),
    ("present, other", {"StringLikeIfExists": {"jobs:WorkerType": ["t1.*", "t2.*", "m3.*"]}},
     {"jobs:WorkerType": "m5.large"}, False),
    ("without IfExists, absent", {"StringLike": {"jobs:WorkerType": ["t1.*", "t2.*"]}}, {},
     False),
    ("negated IfExists, absent", {"StringNotEqualsIfExists": {TAG: "admin"}}, {}, True),
    ("negated IfExists, present", {"StringNotEqualsIfExists": {TAG: "admin"}},
     {TAG: "admin"}, False),
    ("numeric IfExists", {"NumericLessThanIfExists": {"logs:limit": "5"}}, {}, True),
    ("date IfExists", {"DateLessThanIfExists": {"pipetrail:TokenIssueTime": "2020-01-01"}},
     {"pipetrail:TokenIssueTime": "2021-01-01"}, False),
    ("ip IfExists", {"IpAddressIfExists": {"pipetrail:SourceIp": "10.0.0.0/8"}}, {}, True),
    ("arn IfExists", {"ArnLikeIfExists": {SOURCE: "arn:pipetrail:jobs:*"}},
     {SOURCE: "arn:pipetrail:logs:local:x"}, False),
    ("binary IfExists", {"BinaryEqualsIfExists": {"data:checksum": "T3RoZXI="}}, {}, True),
]

LOGIC: list[Case] = [
    # values of one key: OR; negated operator: NOR; keys and operators: AND
    ("values OR", {"StringEquals": {TAG: ["audit", "security"]}}, {TAG: "security"}, True),
    ("negated values NOR, one matches", {"StringNotEquals": {TAG: ["audit", "security"]}},
     {TAG: "security"}, False),
    ("negated values NOR, none matches", {"StringNotEquals": {TAG: ["audit", "security"]}},
     {TAG: "dev"}, True),
    ("keys AND, both", {"StringEquals": {TAG: "a", "pipetrail:PrincipalTag/team": "t"}},
     {TAG: "a", "pipetrail:PrincipalTag/team": "t"}, True),
    ("keys AND, one", {"StringEquals": {TAG: "a", "pipetrail:PrincipalTag/team": "t"}},
     {TAG: "a", "pipetrail:PrincipalTag/team": "u"}, False),
    ("operators AND, both",
     {"StringEquals": {TAG: "a"}, "IpAddress": {"pipetrail:SourceIp": "10.0.0.0/8"}},
     {TAG: "a", "pipetrail:SourceIp": "10.1.1.1"}, True),
    ("operators AND, one",
     {"StringEquals": {TAG: "a"}, "IpAddress": {"pipetrail:SourceIp": "10.0.0.0/8"}},
     {TAG: "a", "pipetrail:SourceIp": "11.1.1.1"}, False),
    ("same key under two operators",
     {"StringLike": {TAG: "a*"}, "StringNotEquals": {TAG: "ab"}}, {TAG: "ac"}, True),
    ("same key under two operators, excluded",
     {"StringLike": {TAG: "a*"}, "StringNotEquals": {TAG: "ab"}}, {TAG: "ab"}, False),
    ("empty Condition holds", {}, {}, True),
    ("multivalued key, plain operator: any value",
     {"StringEquals": {"pipetrail:TagKeys": "env"}}, {"pipetrail:TagKeys": ["team", "env"]},
     True),
    ("multivalued key, negated plain operator: no value",
     {"StringNotEquals": {"pipetrail:TagKeys": "env"}}, {"pipetrail:TagKeys": ["team", "env"]},
     False),
]

ALL = {"string": STRING, "numeric": NUMERIC, "date": DATE, "bool": BOOL, "binary": BINARY,
       "ip": IP, "arn": ARN, "null": NULL, "ifexists": IF_EXISTS, "logic": LOGIC}


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [pytest.param(c, ctx, want, id=f"{family}: {name}")
     for family, cases in ALL.items() for name, c, ctx, want in cases],
)
def test_condition(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert holds(condition, context) is expected


def test_every_operator_has_a_case() -> None:
    from pipetrail.access.conditions import OPERATORS

    used = set()
    for cases in ALL.values():
        for _, condition, _, _ in cases:
            for operator in condition:
                name = operator.split(":")[-1]
                used.add(name.removesuffix("IfExists") if name != "IfExists" else name)
    assert set(OPERATORS) <= used, sorted(set(OPERATORS) - used)
