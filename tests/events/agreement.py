"""Assertions that the single-pattern matcher and the rule set give the same answer."""

from __future__ import annotations

from typing import Any

from pipetrail.events import RuleSet, compile_pattern, parse_event


def assert_matches(pattern: Any, event: Any, expected: bool) -> None:
    """``pattern`` matches ``event`` exactly when ``expected``, by both matchers."""
    compiled = compile_pattern(pattern)
    parsed = parse_event(event)
    assert compiled.matches(parsed) is expected, (pattern, event)
    rules = RuleSet({"rule": compiled, "never": {"no-such-field": ["never"]}})
    assert rules.matching(parsed) == (["rule"] if expected else []), (pattern, event)
