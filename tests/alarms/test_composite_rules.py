"""Composite alarm rules: parsing, errors, limits, evaluation, and the composite's state."""

from __future__ import annotations

import contextlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipetrail.alarms.composite import (
    And,
    AtLeast,
    CompositeAlarm,
    Const,
    Node,
    Not,
    Or,
    StateIs,
    evaluate_composite,
    parse_rule,
    reference_name,
    referenced_by,
)
from pipetrail.alarms.state import AlarmState, StateValue
from pipetrail.model.clock import parse_time
from pipetrail.model.errors import NotFoundError, ValidationError

A, OK_, INS = StateValue.ALARM, StateValue.OK, StateValue.INSUFFICIENT_DATA
T = parse_time("2026-11-25T12:00:00Z")


# -- the examples of the AWS documentation -----------------------------------------------

DOC_EXAMPLES = [
    ("ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)",
     {"CPUUtilizationTooHigh": A, "DiskReadOpsTooHigh": A}, True),
    ("ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)",
     {"CPUUtilizationTooHigh": A, "DiskReadOpsTooHigh": OK_}, False),
    ("ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)",
     {"CPUUtilizationTooHigh": A, "DeploymentInProgress": OK_}, True),
    ("ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)",
     {"CPUUtilizationTooHigh": A, "DeploymentInProgress": A}, False),
    ("(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) AND OK(NetworkOutTooHigh)",
     {"CPUUtilizationTooHigh": OK_, "DiskReadOpsTooHigh": A, "NetworkOutTooHigh": OK_}, True),
    ("(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) AND OK(NetworkOutTooHigh)",
     {"CPUUtilizationTooHigh": A, "DiskReadOpsTooHigh": A, "NetworkOutTooHigh": INS}, False),
    ("AT_LEAST(2, ALARM, (WebServer1CPU, WebServer2CPU, WebServer3CPU, WebServer4CPU))",
     {"WebServer1CPU": A, "WebServer2CPU": OK_, "WebServer3CPU": A, "WebServer4CPU": OK_}, True),
    ("AT_LEAST(2, ALARM, (WebServer1CPU, WebServer2CPU, WebServer3CPU, WebServer4CPU))",
     {"WebServer1CPU": A, "WebServer2CPU": OK_, "WebServer3CPU": INS, "WebServer4CPU": OK_}, False),
    ("AT_LEAST(50%, OK, (DatabaseConnection1, DatabaseConnection2, DatabaseConnection3, "
     "DatabaseConnection4))",
     {"DatabaseConnection1": OK_, "DatabaseConnection2": OK_, "DatabaseConnection3": A,
      "DatabaseConnection4": INS}, True),
    ("AT_LEAST(50%, OK, (DatabaseConnection1, DatabaseConnection2, DatabaseConnection3, "
     "DatabaseConnection4))",
     {"DatabaseConnection1": OK_, "DatabaseConnection2": A, "DatabaseConnection3": A,
      "DatabaseConnection4": INS}, False),
    ("AT_LEAST(2, ALARM, (AZ1Health, AZ2Health, AZ3Health)) AND NOT ALARM(MaintenanceWindow)",
     {"AZ1Health": A, "AZ2Health": A, "AZ3Health": OK_, "MaintenanceWindow": OK_}, True),
    ("AT_LEAST(2, ALARM, (AZ1Health, AZ2Health, AZ3Health)) AND NOT ALARM(MaintenanceWindow)",
     {"AZ1Health": A, "AZ2Health": A, "AZ3Health": OK_, "MaintenanceWindow": A}, False),
    ('ALARM("arn:pipetrail:alarms:ws:alarm/cpu") OR INSUFFICIENT_DATA("disk")',
     {"cpu": OK_, "disk": INS}, True),
    ("TRUE", {}, True),
    ("FALSE OR NOT TRUE", {}, False),
]


@pytest.mark.parametrize(("text", "states", "expected"), DOC_EXAMPLES)
def test_rules_from_the_documentation(
    text: str, states: dict[str, StateValue], expected: bool
) -> None:
    assert parse_rule(text).evaluate(states) is expected


def test_not_binds_tighter_than_and_tighter_than_or() -> None:
    assert parse_rule("TRUE OR TRUE AND FALSE").evaluate({}) is True
    assert parse_rule("(TRUE OR TRUE) AND FALSE").evaluate({}) is False
    assert parse_rule("NOT FALSE AND FALSE").evaluate({}) is False
    assert parse_rule("NOT (FALSE AND FALSE)").evaluate({}) is True


def test_parsed_tree() -> None:
    rule = parse_rule('ALARM(a) AND NOT OK( "b c" ) OR AT_LEAST(1, NOT INSUFFICIENT_DATA, (a,d))')
    assert rule.root == Or((
        And((StateIs(A, "a"), Not(StateIs(OK_, "b c")))),
        AtLeast(1, None, True, INS, ("a", "d")),
    ))
    assert rule.references == ["a", "b c", "d"]


def test_quoted_names_and_escapes() -> None:
    rule = parse_rule(r'ALARM("say \"hi\"") OR OK("back\\slash") OR OK("odd\q") OR OK(x-1.y:z/2)')
    assert rule.references == ['say "hi"', "back\\slash", "odd\\q", "x-1.y:z/2"]


def test_at_least_percentage_may_be_quoted_and_fractional() -> None:
    rule = parse_rule('AT_LEAST("50%", ALARM, (a, b, c))')
    assert not rule.evaluate({"a": A, "b": OK_, "c": OK_})
    assert rule.evaluate({"a": A, "b": A, "c": OK_})
    third = parse_rule("AT_LEAST(33.4%, ALARM, (a, b, c))")
    assert not third.evaluate({"a": A, "b": OK_, "c": OK_})  # 1 of 3 is 33.3 %
    assert parse_rule("AT_LEAST(100%, NOT ALARM, (a, b))").evaluate({"a": OK_, "b": INS})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the alarm rule is empty"),
        ("   ", "the alarm rule is empty"),
        ("ALARM(a) and ALARM(b)", "operators are upper case: write AND at position 9"),
        ("alarm(a)", "keywords are upper case: write ALARM at position 0"),
        ("ALARM(a", "expected ')' to close ALARM( at position 7 at the end"),
        ("ALARM()", "expected an alarm name or ARN at position 6"),
        ('ALARM("")', "expected an alarm name or ARN at position 6"),
        ("ALARM(a b)", "put it in double quotes"),
        ('ALARM(a"b)', "cannot hold a double quote"),
        ('ALARM("abc', "unterminated quoted alarm name at position 6"),
        ("ALARM a", "expected '(' after ALARM at position 6 near 'a'"),
        ("FOO(a)", "unknown function 'FOO'"),
        ("ALARM(a) ALARM(b)", "expected AND, OR or the end of the rule at position 9"),
        ("ALARM(a) AND", "expected a condition such as ALARM(name), TRUE or ( at position 12"),
        ("AND ALARM(a)", "expected a condition before AND at position 0"),
        ("NOT", "expected a condition"),
        ("(ALARM(a)", "expected ')' to close the '(' at position 0"),
        ("ALARM(a))", "expected AND, OR or the end of the rule at position 8"),
        ("AT_LEAST(5, ALARM, (a, b))", "AT_LEAST(5, ...) names only 2 alarms"),
        ("AT_LEAST(0, ALARM, (a))", "count must be at least 1"),
        ("AT_LEAST(0%, ALARM, (a))", "above 0% and at most 100%"),
        ("AT_LEAST(150%, ALARM, (a))", "above 0% and at most 100%"),
        ("AT_LEAST(1.5, ALARM, (a))", "whole number"),
        ("AT_LEAST(x, ALARM, (a))", "needs a count or a percentage"),
        ("AT_LEAST(1, MAYBE, (a))", "expected ALARM, OK or INSUFFICIENT_DATA"),
        ("AT_LEAST(1, ALARM, a)", "'(' to open the AT_LEAST alarm list"),
        ("AT_LEAST(1, ALARM, (a,))", "expected an alarm name or ARN"),
        ("AT_LEAST(1, ALARM, (a, b, a))", "AT_LEAST names 'a' more than once at position 0"),
        ("ALARM(bad\x01name)", "control character"),
        ("ALARM(" + "n" * 256 + ")", "at most 255"),
        ("(" * 101 + "TRUE" + ")" * 101, "nested more than 100 deep"),
        ("NOT " * 101 + "TRUE", "nested more than 100 deep"),
    ],
)
def test_errors_name_the_problem_and_the_position(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_rule(text)
    assert message in str(caught.value)


def test_limits() -> None:
    with pytest.raises(ValidationError, match="at most 10240"):
        parse_rule("TRUE OR " * 1280 + "TRUE")  # 10244 characters
    hundred = " OR ".join(f"ALARM(a{i})" for i in range(100))
    assert len(parse_rule(hundred).references) == 100
    with pytest.raises(ValidationError, match="names 101 alarms; at most 100"):
        parse_rule(hundred + " OR ALARM(z)")
    repeated = " OR ".join("ALARM(a)" for _ in range(500))
    assert parse_rule(repeated).references == ["a"]
    with pytest.raises(ValidationError, match="more than 500 elements"):
        parse_rule(repeated + " OR TRUE")


def test_missing_alarms_are_named() -> None:
    rule = parse_rule("ALARM(a) OR ALARM(b) OR OK(c)")
    with pytest.raises(NotFoundError, match="do not exist: b, c"):
        rule.evaluate({"a": A})


def test_references_resolve_by_arn_or_name() -> None:
    assert reference_name("arn:pipetrail:alarms:ws:alarm/cpu") == "cpu"
    assert reference_name("arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu") == "cpu"
    assert reference_name("cpu") == "cpu"
    rule = parse_rule("ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu)")
    assert rule.evaluate({"cpu": "ALARM"})
    with pytest.raises(ValidationError, match="unknown alarm state"):
        rule.evaluate({"cpu": "RED"})


# -- the composite alarm -----------------------------------------------------------------


def child(value: StateValue, at: str) -> AlarmState:
    return AlarmState(value, "", None, parse_time(at), parse_time(at))


def test_composite_state_follows_the_rule() -> None:
    composite = CompositeAlarm(name="service-health",
                               rule="ALARM(cpu) AND NOT ALARM(deploy)", alarm_actions=["page"])
    composite.validate()
    initial = AlarmState.initial(T)
    states = {"cpu": child(OK_, "2026-11-25T11:00:00Z"),
              "deploy": child(OK_, "2026-11-25T10:00:00Z")}
    first = evaluate_composite(composite, states, initial, T)
    assert first.value is StateValue.OK  # INSUFFICIENT_DATA only until the first evaluation
    assert first.change is not None and first.change.alarm_type == "CompositeAlarm"
    states["cpu"] = child(A, "2026-11-25T12:05:10Z")
    second = evaluate_composite(composite, states, first.state, T + 600_000, workspace="ws")
    assert second.value is StateValue.ALARM
    assert second.reason == (
        "arn:pipetrail:alarms:ws:alarm/cpu transitioned to ALARM at "
        "Wednesday 25 November, 2026 12:05:10 UTC"
    )
    assert second.reason_data == {"triggeringAlarms": [
        {"arn": "arn:pipetrail:alarms:ws:alarm/cpu",
         "state": {"value": "ALARM", "timestamp": "2026-11-25T12:05:10.000+0000"}},
        {"arn": "arn:pipetrail:alarms:ws:alarm/deploy",
         "state": {"value": "OK", "timestamp": "2026-11-25T10:00:00.000+0000"}},
    ]}
    assert composite.actions_for(second.value) == ["page"]
    # children that do not decide the outcome are not listed
    states["other"] = child(A, "2026-11-25T12:06:00Z")
    composite.rule = "ALARM(cpu) OR ALARM(other) OR ALARM(deploy)"
    third = evaluate_composite(composite, states, second.state, T + 700_000)
    assert third.value is StateValue.ALARM and third.change is None
    assert [t["arn"] for t in third.reason_data["triggeringAlarms"]] == ["other", "cpu"]  # type: ignore[index]
    assert third.reason.startswith("other transitioned to ALARM at ")


def test_composite_of_constants() -> None:
    composite = CompositeAlarm(name="always", rule="TRUE")
    result = evaluate_composite(composite, {}, AlarmState.initial(T), T)
    assert result.value is StateValue.ALARM
    assert result.reason_data == {"triggeringAlarms": []}


def test_composite_validation() -> None:
    with pytest.raises(ValidationError, match="names the alarm itself"):
        CompositeAlarm(name="loop", rule="ALARM(loop) OR TRUE").validate()
    with pytest.raises(ValidationError, match="names the alarm itself"):
        CompositeAlarm(name="loop", rule="ALARM(arn:pipetrail:alarms:w:alarm/loop)").validate()
    with pytest.raises(ValidationError, match="AlarmName is required"):
        CompositeAlarm(name="", rule="TRUE").validate()
    with pytest.raises(ValidationError, match="OKActions: at most 5"):
        CompositeAlarm(name="c", rule="TRUE", ok_actions=["x"] * 6).validate()
    with pytest.raises(ValidationError, match="alarm rule"):
        CompositeAlarm(name="c", rule="ALARM(").validate()


def test_composite_json_round_trip() -> None:
    composite = CompositeAlarm(
        name="service-health", rule='ALARM("cpu") OR ALARM(disk)', description="d",
        ok_actions=["o"],
        state=AlarmState(A, "cpu transitioned to ALARM at ...", {"triggeringAlarms": []}, T, T),
        configuration_updated=T,
    )
    data = composite.to_json(workspace="ws")
    assert data["AlarmRule"] == 'ALARM("cpu") OR ALARM(disk)'
    assert data["AlarmArn"] == "arn:pipetrail:alarms:ws:alarm/service-health"
    assert data["StateReasonData"] == '{"triggeringAlarms":[]}'
    assert CompositeAlarm.from_json(orjson.loads(orjson.dumps(data))) == composite


def test_children_referenced_by_composites() -> None:
    composites = [CompositeAlarm(name="c1", rule="ALARM(a) OR OK(b)"),
                  CompositeAlarm(name="c2", rule="ALARM(arn:pipetrail:alarms:w:alarm/b)")]
    assert referenced_by(composites, "b") == ["c1", "c2"]
    assert referenced_by(composites, "a") == ["c1"]
    assert referenced_by(composites, "z") == []


# -- fuzzing -----------------------------------------------------------------------------

RULE_ALPHABET = st.sampled_from(
    ["ALARM", "OK", "INSUFFICIENT_DATA", "AT_LEAST", "TRUE", "FALSE", "AND", "OR", "NOT",
     "(", ")", ",", '"', "\\", " ", "%", "50", "1", "a", "arn:x:alarm:b", "\x00", "é", "²",
     "and", "-", ".", "\n"]
)


@given(st.lists(RULE_ALPHABET, max_size=30).map("".join))
def test_parser_raises_only_validation_errors_on_rule_like_text(text: str) -> None:
    try:
        rule = parse_rule(text)
    except ValidationError:
        return
    assert parse_rule(rule.render()).root == rule.root


@given(st.text(max_size=200))
def test_parser_raises_only_validation_errors_on_any_text(text: str) -> None:
    with contextlib.suppress(ValidationError):
        parse_rule(text)


NAMES = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\x7f"),
    min_size=1, max_size=12,
)
STATES = st.sampled_from(list(StateValue))


def trees() -> st.SearchStrategy[Node]:
    leaves: st.SearchStrategy[Node] = st.one_of(
        st.builds(Const, st.booleans()),
        st.builds(StateIs, STATES, NAMES),
        st.builds(lambda n, neg, s, refs: AtLeast(min(n, len(refs)), None, neg, s, tuple(refs)),
                  st.integers(1, 3), st.booleans(), STATES, st.lists(NAMES, min_size=1, max_size=3,
                                                                    unique=True)),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(Not, inner),
            st.builds(lambda ops: And(tuple(ops)), st.lists(inner, min_size=2, max_size=3)),
            st.builds(lambda ops: Or(tuple(ops)), st.lists(inner, min_size=2, max_size=3)),
        ),
        max_leaves=8,
    )


@given(trees())
def test_rendered_rules_parse_back_to_the_same_tree(tree: Node) -> None:
    assert parse_rule(tree.render()).root == tree
