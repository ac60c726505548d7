"""Composite alarms: the AlarmRule language, its evaluation, and the composite's state.

Rule syntax (CloudWatch's):

* ``ALARM(name)``, ``OK(name)``, ``INSUFFICIENT_DATA(name)``: true when the named alarm is
  in that state. The name (or ARN) may be bare -- then it cannot hold spaces, round
  brackets, commas or double quotes -- or in double quotes, where ``\\"`` stands for a
  quote and ``\\\\`` for a backslash.
* ``TRUE``, ``FALSE``.
* ``AT_LEAST(M, STATE, (name1, name2, ...))``: true when at least M of the alarms (a whole
  number, or a percentage such as ``50%``) satisfy STATE, one of ``ALARM``, ``OK``,
  ``INSUFFICIENT_DATA``, ``NOT ALARM``, ``NOT OK``, ``NOT INSUFFICIENT_DATA``.
* ``NOT``, ``AND``, ``OR`` and parentheses. Keywords are upper case. Precedence, tightest
  first: ``NOT``, ``AND``, ``OR`` (CloudWatch does not document one; use parentheses
  when in doubt).

Limits: 10,240 characters; 100 distinct alarms; 500 elements (alarm references,
``TRUE``/``FALSE``, and each grouping parenthesis); nesting at most 100 deep.

A composite alarm is ALARM when its rule is true and OK when it is false. It is
INSUFFICIENT_DATA only from its creation until its first evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import orjson

from pipetrail.alarms.common import actions_for, head_json
from pipetrail.alarms.definition import MAX_DESCRIPTION, check_actions, check_alarm_name
from pipetrail.alarms.reason import composite_time
from pipetrail.alarms.state import (
    AlarmState,
    Evaluation,
    StateValue,
    conclude,
    parse_state_value,
    reason_time,
)
from pipetrail.model.arn import alarm_arn
from pipetrail.model.clock import parse_time
from pipetrail.model.errors import NotFoundError, ValidationError

MAX_RULE_LENGTH = 10_240
MAX_CHILDREN = 100
MAX_ELEMENTS = 500
MAX_DEPTH = 100
MAX_REFERENCE = 1600
ALARM_TYPE = "CompositeAlarm"
_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
_KEYWORDS = frozenset({*_STATES, "TRUE", "FALSE", "AND", "OR", "NOT", "AT_LEAST"})
_BARE_STOP = frozenset(' \t\r\n(),"')


# -- the rule tree -----------------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    value: bool

    def render(self) -> str:
        return "TRUE" if self.value else "FALSE"


@dataclass(frozen=True)
class StateIs:
    state: StateValue
    reference: str

    def render(self) -> str:
        return f"{self.state.value}({_quote(self.reference)})"


@dataclass(frozen=True)
class Not:
    operand: Node

    def render(self) -> str:
        return f"NOT {_wrap(self.operand, Not)}"


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]

    def render(self) -> str:
        return " AND ".join(_wrap(op, And) for op in self.operands)


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]

    def render(self) -> str:
        return " OR ".join(_wrap(op, Or) for op in self.operands)


@dataclass(frozen=True)
class AtLeast:
    """``AT_LEAST(count or percent%, [NOT] STATE, (refs))``."""

    count: int | None
    percent: Fraction | None
    negated: bool
    state: StateValue
    references: tuple[str, ...]

    def needed(self) -> Fraction:
        if self.count is not None:
            return Fraction(self.count)
        assert self.percent is not None
        return self.percent * len(self.references) / 100

    def render(self) -> str:
        amount = str(self.count) if self.count is not None else f"{_fraction_text(self.percent)}%"
        condition = ("NOT " if self.negated else "") + self.state.value
        refs = ", ".join(_quote(r) for r in self.references)
        return f"AT_LEAST({amount}, {condition}, ({refs}))"


Node = Const | StateIs | Not | And | Or | AtLeast
_BINDING = {Or: 0, And: 1, Not: 2}


def _wrap(node: Node, parent: type) -> str:
    text = node.render()
    if type(node) in _BINDING and _BINDING[type(node)] < _BINDING[parent]:
        return f"({text})"
    if type(node) is parent and parent is not Not:
        return f"({text})"
    return text


def _quote(reference: str) -> str:
    return '"' + reference.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fraction_text(value: Fraction | None) -> str:
    if value is None:
        return "0"
    if value.denominator == 1:
        return str(value.numerator)
    return format(float(value), "g")


@dataclass(frozen=True)
class Rule:
    """A parsed AlarmRule."""

    text: str
    root: Node

    @property
    def references(self) -> list[str]:
        """The alarms the rule names, in order of first appearance, without repeats."""
        seen: dict[str, None] = {}
        for ref in _refs(self.root):
            seen.setdefault(ref, None)
        return list(seen)

    def render(self) -> str:
        """The rule written back in canonical form (quoted names, minimal parentheses)."""
        return self.root.render()

    def evaluate(self, states: Mapping[str, AlarmState | StateValue | str]) -> bool:
        """Whether the rule holds for the given alarm states (by name or ARN)."""
        resolved = _resolve(self, states)
        return _explain(self.root, resolved)[0]


def _refs(node: Node) -> list[str]:
    if isinstance(node, StateIs):
        return [node.reference]
    if isinstance(node, AtLeast):
        return list(node.references)
    if isinstance(node, Not):
        return _refs(node.operand)
    if isinstance(node, And | Or):
        return [ref for op in node.operands for ref in _refs(op)]
    return []


# -- parsing ------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.elements = 0

    def fail(self, message: str, at: int | None = None) -> ValidationError:
        where = self.pos if at is None else at
        snippet = self.text[where:where + 20]
        shown = f" near {snippet!r}" if snippet else " at the end"
        return ValidationError(f"alarm rule: {message} at position {where}{shown}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek_word(self) -> str:
        self.skip_space()
        end = self.pos
        while end < len(self.text) and (self.text[end].isalnum() or self.text[end] == "_"):
            end += 1
        return self.text[self.pos:end]

    def take_word(self, word: str) -> bool:
        if self.peek_word() == word:
            self.pos += len(word)
            return True
        return False

    def expect(self, char: str, what: str) -> None:
        self.skip_space()
        if self.pos >= len(self.text) or self.text[self.pos] != char:
            raise self.fail(f"expected {what}")
        self.pos += 1

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the rule is nested more than {MAX_DEPTH} deep")

    def count(self, amount: int = 1) -> None:
        self.elements += amount
        if self.elements > MAX_ELEMENTS:
            raise self.fail(f"the rule has more than {MAX_ELEMENTS} elements")

    def parse(self) -> Node:
        node = self.parse_or()
        self.skip_space()
        if self.pos < len(self.text):
            word = self.peek_word()
            if word.upper() in {"AND", "OR", "NOT"} and word not in _KEYWORDS:
                raise self.fail(f"operators are upper case: write {word.upper()}")
            raise self.fail("expected AND, OR or the end of the rule")
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.take_word("OR"):
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_unary()]
        while self.take_word("AND"):
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_unary(self) -> Node:
        self.enter()
        try:
            if self.take_word("NOT"):
                return Not(self.parse_unary())
            return self.parse_primary()
        finally:
            self.depth -= 1

    def parse_primary(self) -> Node:
        self.skip_space()
        if self.pos >= len(self.text):
            raise self.fail("expected a condition such as ALARM(name), TRUE or (")
        start = self.pos
        if self.text[self.pos] == "(":
            self.pos += 1
            self.count(2)
            node = self.parse_or()
            self.expect(")", "')' to close the '(' at position " + str(start))
            return node
        word = self.peek_word()
        if word in ("TRUE", "FALSE"):
            self.pos += len(word)
            self.count()
            return Const(word == "TRUE")
        if word in _STATES:
            self.pos += len(word)
            self.expect("(", f"'(' after {word}")
            reference = self.parse_reference()
            self.skip_space()
            if self.pos < len(self.text) and self.text[self.pos] not in ")":
                raise self.fail(
                    "expected ')' after the alarm name; a name without quotes cannot hold "
                    "spaces, round brackets or commas: put it in double quotes"
                )
            self.expect(")", f"')' to close {word}(")
            self.count()
            return StateIs(StateValue(word), reference)
        if word == "AT_LEAST":
            self.pos += len(word)
            return self.parse_at_least(start)
        if word in ("AND", "OR"):
            raise self.fail(f"expected a condition before {word}")
        if word.upper() in _KEYWORDS:
            raise self.fail(f"keywords are upper case: write {word.upper()}")
        if word:
            raise self.fail(
                f"unknown function {word!r}: use ALARM, OK, INSUFFICIENT_DATA, AT_LEAST, "
                "TRUE or FALSE"
            )
        raise self.fail("expected a condition such as ALARM(name), TRUE or (")

    def parse_reference(self) -> str:
        self.skip_space()
        start = self.pos
        text = self.text
        if self.pos < len(text) and text[self.pos] == '"':
            self.pos += 1
            chars: list[str] = []
            while True:
                if self.pos >= len(text):
                    raise self.fail("unterminated quoted alarm name", start)
                char = text[self.pos]
                if char == '"':
                    self.pos += 1
                    break
                if char == "\\" and self.pos + 1 < len(text) and text[self.pos + 1] in '"\\':
                    chars.append(text[self.pos + 1])
                    self.pos += 2
                    continue
                chars.append(char)
                self.pos += 1
            reference = "".join(chars)
        else:
            while self.pos < len(text) and text[self.pos] not in _BARE_STOP:
                self.pos += 1
            reference = text[start:self.pos]
            if self.pos < len(text) and text[self.pos] == '"' and reference:
                raise self.fail("a bare alarm name cannot hold a double quote; quote the name")
        if not reference:
            raise self.fail("expected an alarm name or ARN", start)
        if len(reference) > MAX_REFERENCE:
            raise self.fail(f"alarm reference longer than {MAX_REFERENCE} characters", start)
        if not reference.startswith("arn:"):
            try:
                check_alarm_name(reference, "alarm name")
            except ValidationError as error:
                raise self.fail(str(error), start) from None
        return reference

    def parse_at_least(self, start: int) -> Node:
        self.expect("(", "'(' after AT_LEAST")
        self.skip_space()
        count: int | None = None
        percent: Fraction | None = None
        amount_at = self.pos
        quoted = self.pos < len(self.text) and self.text[self.pos] == '"'
        if quoted:
            self.pos += 1
        number_start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in "0123456789.":
            self.pos += 1
        number = self.text[number_start:self.pos]
        is_percent = self.pos < len(self.text) and self.text[self.pos] == "%"
        if is_percent:
            self.pos += 1
        if quoted:
            self.expect('"', "'\"' to close the quoted percentage")
        if not number or number.count(".") > 1 or number.startswith(".") or number.endswith("."):
            raise self.fail("AT_LEAST needs a count or a percentage such as 50%", amount_at)
        if is_percent:
            percent = Fraction(number)
            if not 0 < percent <= 100:
                raise self.fail("the AT_LEAST percentage must be above 0% and at most 100%",
                                amount_at)
        elif quoted or "." in number:
            raise self.fail("the AT_LEAST count must be a whole number (or add %)", amount_at)
        else:
            count = int(number)
            if count < 1:
                raise self.fail("the AT_LEAST count must be at least 1", amount_at)
        self.expect(",", "',' after the AT_LEAST amount")
        negated = self.take_word("NOT")
        word = self.peek_word()
        if word not in _STATES:
            raise self.fail("expected ALARM, OK or INSUFFICIENT_DATA (optionally after NOT)")
        self.pos += len(word)
        self.expect(",", "',' after the AT_LEAST state")
        self.expect("(", "'(' to open the AT_LEAST alarm list")
        references = [self.parse_reference()]
        self.skip_space()
        while self.pos < len(self.text) and self.text[self.pos] == ",":
            self.pos += 1
            references.append(self.parse_reference())
            self.skip_space()
        self.expect(")", "')' to close the AT_LEAST alarm list")
        repeated = sorted({r for r in references if references.count(r) > 1})
        if repeated:
            raise self.fail(f"AT_LEAST names {repeated[0]!r} more than once", start)
        self.expect(")", "')' to close AT_LEAST(")
        self.count(len(references))
        if count is not None and count > len(references):
            raise self.fail(
                f"AT_LEAST({count}, ...) names only {len(references)} alarms", start
            )
        return AtLeast(count, percent, negated, StateValue(word), tuple(references))


def parse_rule(text: str) -> Rule:
    """Parse and validate an AlarmRule; errors name the problem and its position."""
    if not isinstance(text, str):
        raise ValidationError("the alarm rule must be text")
    if not text.strip():
        raise ValidationError("the alarm rule is empty")
    if len(text) > MAX_RULE_LENGTH:
        raise ValidationError(
            f"the alarm rule is {len(text)} characters long; at most {MAX_RULE_LENGTH}"
        )
    parser = _Parser(text)
    rule = Rule(text, parser.parse())
    children = rule.references
    if len(children) > MAX_CHILDREN:
        raise ValidationError(
            f"the alarm rule names {len(children)} alarms; at most {MAX_CHILDREN}"
        )
    return rule


# -- evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Child:
    reference: str
    state: StateValue
    timestamp: int | None


def reference_name(reference: str) -> str:
    """The alarm name in a reference: the name itself, or the name at the end of an ARN."""
    if reference.startswith("arn:") and ":alarm/" in reference:
        return reference.split(":alarm/", 1)[1]
    if reference.startswith("arn:") and ":alarm:" in reference:
        return reference.split(":alarm:", 1)[1]
    return reference


def _resolve(
    rule: Rule, states: Mapping[str, AlarmState | StateValue | str]
) -> dict[str, _Child]:
    resolved: dict[str, _Child] = {}
    missing: list[str] = []
    for ref in rule.references:
        entry = states.get(ref)
        if entry is None:
            entry = states.get(reference_name(ref))
        if entry is None:
            missing.append(ref)
            continue
        if isinstance(entry, AlarmState):
            resolved[ref] = _Child(ref, entry.value, entry.timestamp)
        else:
            resolved[ref] = _Child(ref, parse_state_value(str(entry)), None)
    if missing:
        raise NotFoundError(
            "the alarm rule names alarms that do not exist: " + ", ".join(missing)
        )
    return resolved


def _satisfies(child: _Child, node: AtLeast) -> bool:
    return (child.state == node.state) != node.negated


def _explain(node: Node, children: Mapping[str, _Child]) -> tuple[bool, list[str]]:
    """The node's truth, and the alarms that decide it (those agreeing with the outcome)."""
    if isinstance(node, Const):
        return node.value, []
    if isinstance(node, StateIs):
        return children[node.reference].state == node.state, [node.reference]
    if isinstance(node, Not):
        value, support = _explain(node.operand, children)
        return not value, support
    if isinstance(node, AtLeast):
        agree = [r for r in node.references if _satisfies(children[r], node)]
        value = len(agree) >= node.needed()
        return value, agree if value else [r for r in node.references if r not in agree]
    results = [_explain(op, children) for op in node.operands]
    value = all(r[0] for r in results) if isinstance(node, And) else any(r[0] for r in results)
    decisive = isinstance(node, And) != value  # AND false / OR true: only matching operands
    support = [ref for v, refs in results if not decisive or v == value for ref in refs]
    return value, support


def evaluate_composite(
    alarm: CompositeAlarm,
    states: Mapping[str, AlarmState | StateValue | str],
    previous: AlarmState,
    now: int,
    *,
    workspace: str | None = None,
) -> Evaluation:
    """Evaluate a composite alarm against the states of the alarms its rule names.

    The reason names the deciding alarm that changed most recently (as
    "<alarm> transitioned to <STATE> at <time>"); the reason data lists the deciding
    alarms as ``triggeringAlarms``. Alarms are named by ARN when ``workspace`` is given.
    """
    rule = alarm.parsed_rule()
    children = _resolve(rule, states)
    value, support = _explain(rule.root, children)
    deciding: dict[str, _Child] = {}
    for ref in support:
        deciding.setdefault(reference_name(ref), children[ref])
    ordered = sorted(deciding.items(), key=lambda item: -(item[1].timestamp or 0))

    def label(name: str) -> str:
        return alarm_arn(workspace, name) if workspace is not None else name

    triggering: list[dict[str, Any]] = []
    for name, child in ordered:
        state: dict[str, Any] = {"value": child.state.value}
        if child.timestamp is not None:
            state["timestamp"] = reason_time(child.timestamp)
        triggering.append({"arn": label(name), "state": state})
    result = StateValue.ALARM if value else StateValue.OK
    if ordered:
        name, child = ordered[0]
        when = composite_time(child.timestamp) if child.timestamp is not None else "an unknown time"
        reason = f"{label(name)} transitioned to {child.state.value} at {when}"
    else:
        reason = f"The alarm rule is {'TRUE' if value else 'FALSE'} whatever the alarm states"
    return conclude(
        alarm_name=alarm.name, alarm_type=ALARM_TYPE, previous=previous, value=result,
        reason=reason, reason_data={"triggeringAlarms": triggering}, now=now,
    )


# -- the definition ---------------------------------------------------------------------


@dataclass
class CompositeAlarm:
    """A composite alarm: a rule over other alarms' states, and actions."""

    name: str
    rule: str
    description: str = ""
    actions_enabled: bool = True
    alarm_actions: list[str] = field(default_factory=list)
    ok_actions: list[str] = field(default_factory=list)
    insufficient_data_actions: list[str] = field(default_factory=list)
    state: AlarmState | None = None
    configuration_updated: int | None = None

    def parsed_rule(self) -> Rule:
        return parse_rule(self.rule)

    def validate(self) -> None:
        """Check the fields as PutCompositeAlarm does; the rule may not name the alarm itself."""
        check_alarm_name(self.name)
        if not isinstance(self.description, str) or len(self.description) > MAX_DESCRIPTION:
            raise ValidationError(f"AlarmDescription: at most {MAX_DESCRIPTION} characters")
        rule = self.parsed_rule()
        for ref in rule.references:
            if reference_name(ref) == self.name:
                raise ValidationError(f"the alarm rule of {self.name!r} names the alarm itself")
        if not isinstance(self.actions_enabled, bool):
            raise ValidationError("ActionsEnabled must be true or false")
        self.alarm_actions = check_actions(self.alarm_actions, "AlarmActions")
        self.ok_actions = check_actions(self.ok_actions, "OKActions")
        self.insufficient_data_actions = check_actions(
            self.insufficient_data_actions, "InsufficientDataActions"
        )

    def actions_for(self, value: StateValue) -> list[str]:
        return actions_for(self, value)

    def to_json(self, workspace: str | None = None) -> dict[str, Any]:
        """The alarm in CloudWatch's DescribeAlarms shape (CompositeAlarms item)."""
        return head_json(self, workspace, {"AlarmRule": self.rule})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CompositeAlarm:
        if not isinstance(data, Mapping):
            raise ValidationError("a composite alarm must be a JSON object")
        state = None
        if "StateValue" in data:
            reason_data = data.get("StateReasonData")
            if isinstance(reason_data, str):
                try:
                    reason_data = orjson.loads(reason_data)
                except orjson.JSONDecodeError:
                    raise ValidationError("StateReasonData is not valid JSON") from None
            state = AlarmState(
                parse_state_value(data["StateValue"]),
                str(data.get("StateReason", "")),
                reason_data,
                _time(data.get("StateUpdatedTimestamp")) or 0,
                _time(data.get("StateTransitionedTimestamp")),
            )
        alarm = cls(
            name=data.get("AlarmName"),  # type: ignore[arg-type]
            rule=data.get("AlarmRule"),  # type: ignore[arg-type]
            description=data.get("AlarmDescription") or "",
            actions_enabled=data.get("ActionsEnabled", True),
            alarm_actions=data.get("AlarmActions", []),
            ok_actions=data.get("OKActions", []),
            insufficient_data_actions=data.get("InsufficientDataActions", []),
            state=state,
            configuration_updated=_time(data.get("AlarmConfigurationUpdatedTimestamp")),
        )
        alarm.validate()
        return alarm


def _time(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return parse_time(value)
    raise ValidationError(f"expected a time, got {value!r}")


def referenced_by(composites: Sequence[CompositeAlarm], name: str) -> list[str]:
    """The composite alarms whose rule names ``name`` (a child cannot be deleted while any do)."""
    return [c.name for c in composites
            if any(reference_name(ref) == name for ref in c.parsed_rule().references)]
