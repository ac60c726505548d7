"""Rules: a named event pattern, a state, and the targets its matching events go to.

Names follow EventBridge (1-64 characters: letters, digits, ``.``, ``-``, ``_``), and so
do the states, with ``ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS`` standing in for
EventBridge's ``ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS``. The pattern is kept as
the text it was given, and compiled when the rule is read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from pipetrail.events.operators import Exact
from pipetrail.events.pattern import Pattern, compile_pattern
from pipetrail.model.errors import ValidationError

ENABLED: Final = "ENABLED"
DISABLED: Final = "DISABLED"
ENABLED_WITH_TRAIL: Final = "ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS"
RULE_STATES: Final = (ENABLED, DISABLED, ENABLED_WITH_TRAIL)

MAX_NAME: Final = 64
MAX_PATTERN_CHARS: Final = 4096
"""EventBridge's hard maximum (its default quota is 2,048)."""
MAX_DESCRIPTION: Final = 512
MAX_TARGETS_PER_RULE: Final = 5

TRAIL_SOURCE: Final = "pipetrail.trail"

_NAME = re.compile(r"[.\-_A-Za-z0-9]+")


def check_name(name: object, what: str) -> str:
    """A rule or target name: 1-64 of letters, digits, '.', '-' and '_'."""
    if not isinstance(name, str) or not name:
        raise ValidationError(f"a {what} needs a name")
    if len(name) > MAX_NAME:
        raise ValidationError(f"{what} name {name[:80]!r} is {len(name)} characters long; "
                              f"at most {MAX_NAME}")
    if not _NAME.fullmatch(name):
        bad = next(i for i, ch in enumerate(name) if not _NAME.fullmatch(ch))
        raise ValidationError(f"{what} name {name!r} has {name[bad]!r} at position {bad}; "
                              "use letters, digits, '.', '-' and '_'")
    return name


def check_state(state: object) -> str:
    if state not in RULE_STATES:
        raise ValidationError(f"rule state {state!r} is not one of {', '.join(RULE_STATES)}")
    return str(state)


def check_pattern_text(text: object) -> Pattern:
    """Compile a rule's pattern text (at most 4,096 characters)."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("a rule needs an event pattern")
    if len(text) > MAX_PATTERN_CHARS:
        raise ValidationError(f"the event pattern is {len(text)} characters long; "
                              f"at most {MAX_PATTERN_CHARS}")
    return compile_pattern(text)


def check_targets(names: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(names))
    for name in unique:
        check_name(name, "target")
    if len(unique) > MAX_TARGETS_PER_RULE:
        raise ValidationError(f"a rule has at most {MAX_TARGETS_PER_RULE} targets, "
                              f"got {len(unique)}")
    return unique


@dataclass
class Rule:
    """A rule as stored: the pattern text as given, and the names of its targets."""

    name: str
    pattern_text: str
    state: str = ENABLED
    description: str = ""
    targets: list[str] = field(default_factory=list)
    _pattern: Pattern | None = field(default=None, repr=False, compare=False)

    def validate(self) -> None:
        check_name(self.name, "rule")
        check_state(self.state)
        if not isinstance(self.description, str) or len(self.description) > MAX_DESCRIPTION:
            raise ValidationError(f"a rule description has at most {MAX_DESCRIPTION} characters")
        self.targets = check_targets(self.targets)
        self._pattern = check_pattern_text(self.pattern_text)

    @property
    def pattern(self) -> Pattern:
        if self._pattern is None:
            self._pattern = compile_pattern(self.pattern_text)
        return self._pattern

    @property
    def enabled(self) -> bool:
        return self.state != DISABLED

    @property
    def receives_trail(self) -> bool:
        """Whether the rule asked for trail events: every branch of its pattern names
        the source ``pipetrail.trail`` as an exact value (a rule must opt in; trail
        events are never offered to rules that merely could match them)."""
        return self.enabled and all(
            any(f.path == ("source",) and any(isinstance(m, Exact) and m.value == TRAIL_SOURCE
                                              for m in f.matchers)
                for f in branch.fields)
            for branch in self.pattern.branches)

    @property
    def receives_read_only_trail(self) -> bool:
        """Read-only management events (Get/List/Describe …) go only to rules in state
        ``ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS``."""
        return self.state == ENABLED_WITH_TRAIL and self.receives_trail


_EVENTS_ARN = re.compile(r"arn:pipetrail:events:([^:]*):(rule|target)/(.+)")


def parse_events_arn(text: str) -> tuple[str, str, str] | None:
    """``(workspace, "rule" | "target", name)`` of an events ARN, else None."""
    match = _EVENTS_ARN.fullmatch(text)
    if match is None:
        return None
    return match.group(1), match.group(2), match.group(3)
