"""Invalid patterns and events are refused with a ValidationError naming what is wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipetrail.events import RuleSet, compile_pattern, parse_event
from pipetrail.events.pattern import MAX_COMBINATIONS, MAX_NESTING
from pipetrail.model.errors import NotFoundError, ValidationError

INVALID: list[tuple[str, str, str]] = [
    # (id, pattern text, text the message must contain)
    ("not an object", "[]", "must be a JSON object, not an array"),
    ("string", '"x"', "must be a JSON object"),
    ("empty", "{}", "empty object"),
    ("empty nested", '{"detail": {}}', "at detail: an empty object"),
    ("scalar field", '{"a": "x"}', "at a: must be an object or an array of match values"),
    ("operator without array", '{"a": {"prefix": "x"}}', "operators go inside an array"),
    ("empty values", '{"a": []}', "at a: the array of match values is empty"),
    ("array value", '{"a": [["x"]]}', "at a[0]: a match value must be"),
    ("empty operator", '{"a": [{}]}', "exactly one operator"),
    ("two operators", '{"a": [{"prefix": "x", "suffix": "y"}]}',
     'found "prefix", "suffix"'),
    ("unknown operator", '{"a": [{"prefx": "x"}]}', 'at a[0]: unknown operator "prefx"'),
    ("prefix number", '{"a": [{"prefix": 5}]}', "at a[0].prefix: must be a string"),
    ("prefix null", '{"a": [{"prefix": null}]}', "at a[0].prefix"),
    ("prefix object", '{"a": [{"prefix": {"foo": "x"}}]}',
     '{"equals-ignore-case": string}'),
    ("prefix ignore case number", '{"a": [{"prefix": {"equals-ignore-case": 5}}]}',
     "at a[0].prefix.equals-ignore-case: must be a string"),
    ("suffix list", '{"a": [{"suffix": ["x"]}]}', "at a[0].suffix"),
    ("equals-ignore-case list", '{"a": [{"equals-ignore-case": ["x"]}]}',
     "at a[0].equals-ignore-case: must be a string"),
    ("exists string", '{"a": [{"exists": "true"}]}',
     "at a[0].exists: must be true or false"),
    ("cidr without length", '{"a": [{"cidr": "10.0.0.0"}]}', "needs a prefix length"),
    ("cidr bad length", '{"a": [{"cidr": "10.0.0.0/33"}]}', "at a[0].cidr"),
    ("cidr bad address", '{"a": [{"cidr": "10.0.0/8"}]}', "not an IPv4 or IPv6 network"),
    ("cidr number", '{"a": [{"cidr": 10}]}', "at a[0].cidr: must be a string"),
    ("wildcard consecutive", '{"a": [{"wildcard": "a**b"}]}',
     "consecutive wildcard characters at position 2"),
    ("wildcard bad escape", '{"a": [{"wildcard": "a\\\\xb"}]}', "invalid escape '\\x'"),
    ("wildcard trailing backslash", '{"a": [{"wildcard": "ab\\\\"}]}',
     "backslash at position 2 ends the pattern"),
    ("wildcard number", '{"a": [{"wildcard": 1}]}', "at a[0].wildcard: must be a string"),
    ("numeric not a list", '{"a": [{"numeric": 5}]}', "at a[0].numeric: expects"),
    ("numeric too short", '{"a": [{"numeric": [">"]}]}', "of 1 elements"),
    ("numeric three", '{"a": [{"numeric": [">", 1, "<"]}]}', "of 3 elements"),
    ("numeric unknown op", '{"a": [{"numeric": ["!=", 1]}]}', 'unknown comparison "!="'),
    ("numeric string value", '{"a": [{"numeric": [">", "5"]}]}',
     'the value after ">" must be a number, not "5"'),
    ("numeric bool value", '{"a": [{"numeric": [">", true]}]}', "must be a number, not true"),
    ("numeric two lower", '{"a": [{"numeric": [">", 5, ">", 6]}]}',
     'the second comparison must be "<" or "<="'),
    ("numeric upper first", '{"a": [{"numeric": ["<", 5, ">", 1]}]}',
     "an upper bound comes after the lower bound"),
    ("numeric equals with more", '{"a": [{"numeric": ["=", 1, "<", 5]}]}',
     '"=" takes exactly one number'),
    ("numeric empty range", '{"a": [{"numeric": [">", 5, "<", 5]}]}',
     "the lower bound 5 must be less than the upper bound 5"),
    ("numeric out of range", '{"a": [{"numeric": [">", 6e9]}]}',
     "6e9 is outside the supported range"),
    ("numeric upper out of range", '{"a": [{"numeric": [">", 1, "<", -6e9]}]}',
     "-6e9 is outside"),
    ("anything-but true", '{"a": [{"anything-but": true}]}', "at a[0].anything-but"),
    ("anything-but null", '{"a": [{"anything-but": null}]}', "not null"),
    ("anything-but empty list", '{"a": [{"anything-but": []}]}', "the list is empty"),
    ("anything-but mixed list", '{"a": [{"anything-but": ["a", 1]}]}',
     "only strings or only numbers"),
    ("anything-but bool list", '{"a": [{"anything-but": [true]}]}',
     "only strings or only numbers"),
    ("anything-but number out of range", '{"a": [{"anything-but": 6e9}]}', "outside"),
    ("anything-but list number out of range", '{"a": [{"anything-but": [1, 6e9]}]}',
     "at a[0].anything-but[1]"),
    ("anything-but empty prefix", '{"a": [{"anything-but": {"prefix": ""}}]}',
     "at a[0].anything-but.prefix: cannot be empty"),
    ("anything-but empty suffix", '{"a": [{"anything-but": {"suffix": ""}}]}',
     "cannot be empty"),
    ("anything-but prefix list", '{"a": [{"anything-but": {"prefix": ["a", "b"]}}]}',
     "takes a single string, not a list"),
    ("anything-but numeric", '{"a": [{"anything-but": {"numeric": [">", 1]}}]}',
     'found "numeric"'),
    ("anything-but two keys", '{"a": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}',
     "exactly one of"),
    ("anything-but wildcard", '{"a": [{"anything-but": {"wildcard": "a**"}}]}',
     "consecutive wildcard"),
    ("anything-but ignore case number",
     '{"a": [{"anything-but": {"equals-ignore-case": 1}}]}', "must be a string"),
    ("or object", '{"$or": {"a": ["x"]}}', 'at $or: "$or" must be an array'),
    ("or one element", '{"$or": [{"a": ["x"]}]}', "needs at least two objects, found 1"),
    ("or non-object", '{"$or": [{"a": ["x"]}, ["b"]]}', "at $or[1]: every element"),
    ("or empty element", '{"$or": [{"a": ["x"]}, {}]}', "at $or[1]: an empty object"),
    ("operator name inside or", '{"$or": [{"prefix": ["x"]}, {"b": ["y"]}]}',
     '"prefix" is an operator name'),
    ("numeric name inside or", '{"d": {"$or": [{"a": {">": [1]}}, {"b": ["y"]}]}}',
     'at d.$or[0].a.>: ">" is an operator name'),
    ("bad json", '{"a": [1,]}', "not valid JSON: Expecting value at line 1, column 10 (offset 9)"),
    ("nan", '{"a": [NaN]}', "not valid JSON"),
    ("infinity", '{"a": [{"numeric": [">", Infinity]}]}', "not valid JSON"),
    ("trailing text", '{"a": ["x"]} x', "Extra data"),
]


@pytest.mark.parametrize(("text", "message"),
                         [pytest.param(t, m, id=i) for i, t, m in INVALID])
def test_invalid_patterns_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        compile_pattern(text)
    assert message in str(caught.value)
    assert str(caught.value).startswith(("invalid event pattern", "an event pattern",
                                         "event pattern"))


def test_or_combinations_are_limited() -> None:
    forty = [{"a": [i]} for i in range(40)]
    pattern = {"$or": forty, "b": {"$or": forty}}
    with pytest.raises(ValidationError, match=f"more than {MAX_COMBINATIONS} combinations"):
        compile_pattern(pattern)
    assert len(compile_pattern({"$or": forty, "b": {"$or": forty[:25]}}).branches) == 1000


def test_nesting_is_limited() -> None:
    pattern: dict[str, Any] = {"leaf": ["x"]}
    for _ in range(MAX_NESTING + 1):
        pattern = {"n": pattern}
    with pytest.raises(ValidationError, match="nested more than"):
        compile_pattern(json.dumps(pattern))
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ValidationError, match="nested too deeply"):
        compile_pattern('{"a": ' + deep + "}")


def test_python_patterns_must_be_json() -> None:
    with pytest.raises(ValidationError, match="non-string key"):
        compile_pattern({1: ["x"]})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="holds a set"):
        compile_pattern({"a": [{"x"}]})
    with pytest.raises(ValidationError, match="not a JSON number"):
        compile_pattern({"a": [float("nan")]})


def test_repeated_keys_keep_the_last_value() -> None:
    pattern = compile_pattern('{"a": ["x"], "a": ["y"]}')
    assert pattern.matches('{"a": "y"}')
    assert not pattern.matches('{"a": "x"}')


def test_branches_and_fields_are_reported() -> None:
    pattern = compile_pattern(
        '{"source": ["s"], "$or": [{"a": ["1"]}, {"b": {"c": ["2"]}, "d": ["3"]}]}')
    assert len(pattern.branches) == 2
    assert pattern.fields == ["a", "b.c", "d", "source"]


@pytest.mark.parametrize(("text", "message"), [
    ("[1]", "an event must be a JSON object, not an array"),
    ('"x"', "an event must be a JSON object"),
    ("{", "event is not valid JSON"),
    (b"\xff\xfe{", "event is not valid JSON"),
])
def test_invalid_events_are_refused(text: str | bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_event(text)
    with pytest.raises(ValidationError):
        compile_pattern('{"a": ["x"]}').matches(text)


def test_rule_set_names() -> None:
    rules = RuleSet()
    with pytest.raises(ValidationError, match="non-empty name"):
        rules.add("", {"a": ["x"]})
    with pytest.raises(ValidationError, match="invalid event pattern at a"):
        rules.add("bad", {"a": "x"})
    assert "bad" not in rules
    rules.add("r", {"a": ["x"]})
    assert rules.names() == ["r"] and len(rules) == 1
    assert rules.get("r").matches({"a": "x"})
    with pytest.raises(NotFoundError):
        rules.remove("nope")
    with pytest.raises(NotFoundError):
        rules.get("nope")


def test_huge_numbers() -> None:
    with pytest.raises(ValidationError, match="integer too large"):
        compile_pattern({"a": [10**5000]})
    digits = "9" * 5000
    pattern = compile_pattern('{"a": [' + digits + "]}")
    assert pattern.matches('{"a": ' + digits + "}")
    assert not compile_pattern('{"a": [{"numeric": [">", 0]}]}').matches('{"a": ' + digits + "}")
