"""EventBridge-style events: the envelope, event patterns and rule matching.

- :func:`compile_pattern` / :func:`matches`: parse, validate and test one pattern.
- :class:`RuleSet`: many named patterns, matched against an event at once.
- :class:`EventEnvelope`: the EventBridge event shape Pipetrail emits.
"""

from pipetrail.events.envelope import EventEnvelope
from pipetrail.events.event import Event, parse_event
from pipetrail.events.pattern import Pattern, compile_pattern, matches
from pipetrail.events.ruleset import RuleSet

__all__ = [
    "Event",
    "EventEnvelope",
    "Pattern",
    "RuleSet",
    "compile_pattern",
    "matches",
    "parse_event",
]
