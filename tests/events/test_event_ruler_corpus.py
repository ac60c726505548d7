"""Conformance with aws/event-ruler's own test data (``corpus/event-ruler``).

- ``correctness-cases.json`` holds named ``{rule, event}`` pairs without answers: Event
  Ruler's test checks that two of its matchers agree on them. The answers below follow
  its array-consistent matching (``rulesForJSONEvent``: fields under one array of objects
  must come from the same element), which the case names spell out ("split" cases fail).
- ``arrayRule*`` / ``arrayEvent*``: Event Ruler's nested-array test expects event 1 to
  match rules 1 and 2, event 2 none, event 3 none of rules 1-3 and event 4 rule 3.
- ``orRelationshipRules.json`` must compile; ``wrongOrRelationshipRules.json`` must be
  refused; ``normalRulesWithOrWording.json`` (``$or`` used as a plain field name) is
  refused too, as by Event Ruler's JSON rule compiler: ``$or`` is reserved here.
- ``bigEvent.json`` (256 KB) matches ``bigEventRule.json``.
- ``perf-scenarios.json`` gives a rule, an event generator name and the expected number
  of matches; the generators are not in the corpus, so events are built here after the
  scenario descriptions, at the smallest listed size.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipetrail.events import RuleSet, compile_pattern, parse_event
from pipetrail.model.errors import ValidationError
from tests.corpus import require_corpus
from tests.events.agreement import assert_matches


def _ruler() -> Path:
    return require_corpus("event-ruler", "src", "test")


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


CORRECTNESS: dict[str, bool] = {
    "flat: 2-field exists, both present": True,
    "flat: 2-field exists, one missing": False,
    "flat: exact match": True,
    "flat: exact mismatch": False,
    "flat: prefix": True,
    "flat: numeric range": True,
    "flat: anything-but": True,
    "objarray: same element": True,
    "objarray: split": False,
    "objarray: 3 elem, last valid": True,
    "objarray: 3-field, all in one": True,
    "objarray: 3-field, split 3 ways": False,
    "objarray: exact same elem": True,
    "objarray: exact split": False,
    "objarray: prefix same": True,
    "objarray: prefix split": False,
    "primarray: exists": True,
    "primarray: exact match": True,
    "primarray: no match": False,
    "nested: inner same": True,
    "nested: inner split": False,
    "nested: outer split": False,
    "nested: outer same": True,
    "nested2: same leaf": True,
    "nested2: split leaf": False,
    "mixed: array+scalar match": True,
    "mixed: array+scalar fail": False,
    "exists-false: absent": True,
    "exists-false: present": False,
    "empty object": False,
    "empty array": False,
    "single-field rule": True,
    "many elem one valid": True,
    "numeric+exists array": True,
    "anything-but array": True,
    "primarray: large + scalar, exists": True,
    "primarray: large + scalar, prefix": True,
    "primarray: large + scalar, no match": False,
    "primarray: nested under object": True,
    "primarray: two prim arrays + scalar": True,
    "primarray: exact match among many": True,
    "primarray: numeric in array": True,
    "primarray: anything-but in array": True,
    "primarray: single value array": True,
    "primarray: empty prim array": False,
    "mixed: obj-array + prim-array": True,
    "mixed: obj-array split + prim-array": False,
    "deep prim: nested 3 levels": True,
    "suffix match in array": True,
    "N emails, only last element has name — dedup loses the only valid match": True,
    "suffix match split": False,
}


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = _load(_ruler() / "resources" / "correctness-cases.json")
    return cases


def test_every_correctness_case_has_an_answer() -> None:
    assert sorted(c["name"] for c in _cases()) == sorted(CORRECTNESS)


def test_correctness_cases() -> None:
    for case in _cases():
        assert_matches(case["rule"], case["event"], CORRECTNESS[case["name"]])


def test_correctness_rules_together_in_one_rule_set() -> None:
    cases = _cases()
    rules = RuleSet({case["name"]: case["rule"] for case in cases})
    patterns = {case["name"]: compile_pattern(case["rule"]) for case in cases}
    for case in cases:
        event = parse_event(case["event"])
        expected = sorted(name for name, p in patterns.items() if p.matches(event))
        assert rules.matching(event) == expected
        assert (case["name"] in expected) is CORRECTNESS[case["name"]]


def test_array_rules_and_events() -> None:
    data = _ruler() / "data"
    events = {n: (data / f"arrayEvent{n}.json").read_text() for n in range(1, 5)}
    rules = RuleSet({f"rule{n}": (data / f"arrayRule{n}.json").read_text()
                     for n in range(1, 5)})
    assert rules.matching(events[1]) == ["rule1", "rule2"]
    assert rules.matching(events[2]) == []
    # Event 3 splits CPUUtilization and AWS/ES over two elements; rule 4 accepts
    # CPUUtilization with AWS/EC2, which sit in one element.
    assert rules.matching(events[3]) == ["rule4"]
    assert rules.matching(events[4]) == ["rule3", "rule4"]


def test_or_relationship_rules_compile() -> None:
    rules = _load(_ruler() / "data" / "orRelationshipRules.json")
    branch_counts = [len(compile_pattern(rule).branches) for rule in rules]
    assert branch_counts == [2, 4, 3, 4, 2]


def test_or_relationship_rules_match() -> None:
    rules = RuleSet({f"r{i}": rule for i, rule in enumerate(
        _load(_ruler() / "data" / "orRelationshipRules.json"))})
    assert rules.matching({"metricName": "ReadLatency"}) == ["r0"]
    assert rules.matching({"namespace": "AWS/ES", "detail": {"source": "aws.cloudwatch"}}) \
        == ["r0", "r1"]
    assert rules.matching({"source": "aws.cloudwatch", "metricType": "MetricType",
                           "namespace": "AWS/EC2"}) == ["r0", "r2"]
    assert rules.matching({"source": "aws.cloudwatch", "metricType": "MetricType",
                           "namespace": "AWS/EC2", "spaceId": 1000}) == ["r0", "r2", "r3"]
    assert rules.matching({"source": "aws.cloudwatch", "detail": {"state": {"value": "ALARM"}},
                           "withoutConfiguration": {"metric": {"name": "AWS/Default"}}}) \
        == ["r4"]


@pytest.mark.parametrize("file", ["wrongOrRelationshipRules.json",
                                  "normalRulesWithOrWording.json"])
def test_misused_or_is_refused(file: str) -> None:
    rules = _load(_ruler() / "data" / file)
    assert rules
    for rule in rules:
        with pytest.raises(ValidationError, match=r"\$or"):
            compile_pattern(rule)


def test_big_event() -> None:
    data = _ruler() / "data"
    text = (data / "bigEvent.json").read_text()
    rule = (data / "bigEventRule.json").read_text()
    assert_matches(rule, text, True)
    other = json.loads(text)
    other["source"] = "aws.s3"
    assert_matches(rule, other, False)


# --- performance scenarios, as correctness checks --------------------------------------

def _names(n: int, stem: str = "t") -> list[str]:
    return [f"{stem}{i}" for i in range(n)]


GENERATORS: dict[str, Callable[[int], dict[str, Any]]] = {
    "primArrayPlusScalar": lambda n: {"d": {"tags": _names(n), "type": "G"}},
    "primArrayOnly": lambda n: {"d": {"tags": _names(n)}},
    "objArrayBothFields": lambda n: {"d": [{"a": str(i), "b": str(i)} for i in range(n)]},
    "objArrayLastValid": lambda n: {
        "d": [{"a": str(i)} for i in range(n - 1)] + [{"a": "last", "b": "last"}]},
    "objArrayAllPartial": lambda n: {
        "d": [{"a": str(i)} if i % 2 else {"b": str(i)} for i in range(n)]},
    "customerLike": lambda n: {"detail": {
        "data": {"name": _names(n, "u"), "type": "G", "domains": {"email": "t@x"}},
        "context": {"companyId": "c", "userId": "u", "email": "a@b"}}},
    "primInsideObjArray": lambda n: {"detail": {"data": [
        {"name": _names(n, "u"), "type": "G"}, {"name": _names(n, "v"), "type": "H"}]}},
    "noObjArrayLargePrim": lambda n: {"detail": {"data": {"name": _names(n), "type": "G"}}},
    "nested2Level": lambda n: {"a": [
        {"b": [{"x": f"{i}_{j}", "y": f"{i}_{j}"} for j in range(10)]} for i in range(n)]},
    "deepNestedPrim": lambda n: {"a": [
        {"b": {"tags": _names(n), "type": "G"}} for _ in range(3)]},
    "wideRulePrimArray": lambda n: {"d": {"a": _names(n), "b": "x", "c": "y"}},
    "twoPrimArrays": lambda n: {"tags": _names(n), "cats": _names(n, "c"), "v": "1"},
    "controlScalar": lambda n: {"a": 1, "b": 2},
}


def test_performance_scenarios_match_as_expected() -> None:
    scenarios = _load(_ruler() / "resources" / "perf-scenarios.json")
    assert {s["generator"] for s in scenarios} <= set(GENERATORS)
    for scenario in scenarios:
        event = parse_event(GENERATORS[scenario["generator"]](min(scenario["sizes"])))
        rules = RuleSet({"r": scenario["rule"]})
        assert len(rules.matching(event)) == scenario["expectedMatches"], scenario["name"]
        assert compile_pattern(scenario["rule"]).matches(event) is (
            scenario["expectedMatches"] == 1), scenario["name"]
