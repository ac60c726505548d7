"""Many named event patterns matched against an event at once.

Every branch of every rule is filed in the index (:mod:`pipetrail.events.index`) under
its two *anchors*: the required fields least likely to match, judged by their operators
and by how many other branches test the same value (exact values shared by few rules
first; ``exists`` and ``anything-but``, which nearly every value satisfies, last).
Matching an event looks each of its leaves up in the index of its path; only the
branches whose anchors are all satisfied are then checked in full by the single-pattern
matcher. A branch can only match if its anchors do, so the answer is always the one
:meth:`Pattern.matches` gives rule by rule, while the work grows with the size of the
event and the number of likely matches rather than with the number of rules.
Branches made only of ``exists: false`` fields have no anchor and are always checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from typing import Any, Final

from pipetrail.events.event import Event, Path, parse_event
from pipetrail.events.index import PathIndex
from pipetrail.events.operators import (
    AnythingBut,
    AnythingButOf,
    Cidr,
    EqualsIgnoreCase,
    Exact,
    Exists,
    Matcher,
    Numeric,
    Prefix,
    Suffix,
    Wildcard,
)
from pipetrail.events.pattern import Branch, Field, Pattern, compile_pattern
from pipetrail.model.errors import NotFoundError, ValidationError

PatternSource = Pattern | str | bytes | Mapping[str, Any]

ANCHORS: Final = 2
"""How many of each branch's fields the index holds (entries pack the position in 1 bit)."""

# How many values of a field an operator lets through, roughly, relative to an exact value.
_BREADTH: dict[type, int] = {
    Exact: 1, EqualsIgnoreCase: 1, Prefix: 3, Suffix: 3, Wildcard: 4, Numeric: 8, Cidr: 8,
    Exists: 1000, AnythingBut: 1000, AnythingButOf: 1000,
}


def _share_key(path: Path, matcher: Matcher) -> Hashable:
    """Matchers with equal keys are satisfied by the same values."""
    if isinstance(matcher, Exact):
        return path, "exact", type(matcher.value), matcher.value
    if isinstance(matcher, EqualsIgnoreCase):
        return path, "ignore-case", matcher.folded
    if isinstance(matcher, (Prefix, Suffix)):
        return path, type(matcher).__name__, matcher.ignore_case, matcher.key
    if isinstance(matcher, Wildcard):
        return path, "wildcard", matcher.text
    return path, type(matcher).__name__


class _Compiled:
    """The anchor index over every branch of every rule; rebuilt when the rules change."""

    def __init__(self, rules: Mapping[str, Pattern]) -> None:
        self.names: list[str] = []
        self.branches: list[Branch] = []
        self.paths: dict[Path, PathIndex] = {}
        self.unanchored: list[int] = []
        shared: Counter[Hashable] = Counter()
        for name, pattern in rules.items():
            for branch in pattern.branches:
                self.names.append(name)
                self.branches.append(branch)
                for f in branch.fields:
                    shared.update(_share_key(f.path, m) for m in f.matchers)

        def cost(f: Field) -> int:
            return sum(_BREADTH[type(m)] * shared[_share_key(f.path, m)] for m in f.matchers)

        self.full: list[int] = []
        for number, branch in enumerate(self.branches):
            required = [f for f in branch.fields if f.matchers and not f.allows_absent]
            required.sort(key=cost)
            self.full.append((1 << min(len(required), ANCHORS)) - 1)
            if not required:
                self.unanchored.append(number)
            for position, anchor in enumerate(required[:ANCHORS]):
                index = self.paths.get(anchor.path)
                if index is None:
                    index = self.paths[anchor.path] = PathIndex()
                for matcher in anchor.matchers:
                    index.add(matcher, number * ANCHORS + position)
        for index in self.paths.values():
            index.seal()

    def candidates(self, event: Event) -> list[int]:
        """Numbers of the branches whose anchors the event all satisfies, in order."""
        leaves = event.leaves
        hits: list[int] = []
        if len(self.paths) <= len(leaves):
            for path, index in self.paths.items():
                values = leaves.get(path)
                if values is not None:
                    for value, _ in values:
                        index.collect(value, hits)
        else:
            for path, values in leaves.items():
                found_index = self.paths.get(path)
                if found_index is not None:
                    for value, _ in values:
                        found_index.collect(value, hits)
        seen: dict[int, int] = {}
        get = seen.get
        for entry in hits:  # entry = branch number * 2 + anchor position
            number = entry >> 1
            seen[number] = get(number, 0) | (1 << (entry & 1))
        full = self.full
        found = [n for n, mask in seen.items() if mask == full[n]]
        found.extend(self.unanchored)
        found.sort()
        return found

    def matching(self, event: Event) -> list[str]:
        matched: set[str] = set()
        for number in self.candidates(event):
            name = self.names[number]
            if name not in matched and self.branches[number].matches(event):
                matched.add(name)
        return sorted(matched)


class RuleSet:
    """Named event patterns; :meth:`matching` names those an event matches.

    Adding a rule under an existing name replaces it. The index is rebuilt lazily on
    the first match after a change.
    """

    def __init__(self, rules: Mapping[str, PatternSource] | None = None) -> None:
        self._rules: dict[str, Pattern] = {}
        self._compiled: _Compiled | None = None
        for name, pattern in (rules or {}).items():
            self.add(name, pattern)

    def add(self, name: str, pattern: PatternSource) -> Pattern:
        """Compile ``pattern`` and store it under ``name``; ValidationError if invalid."""
        if not isinstance(name, str) or not name:
            raise ValidationError("a rule needs a non-empty name")
        compiled = compile_pattern(pattern)
        self._rules[name] = compiled
        self._compiled = None
        return compiled

    def remove(self, name: str) -> None:
        if name not in self._rules:
            raise NotFoundError(f"no rule named {name!r}")
        del self._rules[name]
        self._compiled = None

    def get(self, name: str) -> Pattern:
        try:
            return self._rules[name]
        except KeyError:
            raise NotFoundError(f"no rule named {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    def matching(self, event: Event | str | bytes | Mapping[str, Any]) -> list[str]:
        """The sorted names of the rules whose pattern matches ``event``."""
        parsed = parse_event(event)
        if self._compiled is None:
            self._compiled = _Compiled(self._rules)
        return self._compiled.matching(parsed)
