"""Lookup structures that find, for one event value, every pattern field it satisfies.

A :class:`PathIndex` holds all the matchers that many rules put on one field path, sorted
by operator into hash tables (exact values, case-folded values, prefixes and suffixes by
length, wildcards by their literal start), interval tables (numeric ranges, CIDR blocks)
and short lists (anything-but forms). Looking a value up costs a few hash probes and a
binary search instead of one test per rule.

An *entry* is whatever the caller registers with a matcher (the rule set uses branch
numbers); lookups return the entries of the matchers a value satisfies.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

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
    fold,
    ip_key,
)
from pipetrail.events.values import JsonNumber, Leaf

Entry = int
Range = tuple[int | None, bool, int | None, bool, Entry]


class IntervalIndex:
    """Ranges over integers, answering "which ranges hold this key" by binary search.

    The distinct bounds cut the line into points and open gaps ("regions"); each region
    keeps the entries of the ranges covering it.
    """

    __slots__ = ("_bounds", "_regions")

    def __init__(self, ranges: Iterable[Range]) -> None:
        ranges = list(ranges)
        bounds = sorted({b for r in ranges for b in (r[0], r[2]) if b is not None})
        position = {bound: i for i, bound in enumerate(bounds)}
        regions: list[list[Entry]] = [[] for _ in range(2 * len(bounds) + 1)]
        for low, low_open, high, high_open, entry in ranges:
            start = 0 if low is None else 2 * position[low] + (2 if low_open else 1)
            end = 2 * len(bounds) if high is None else (
                2 * position[high] + (0 if high_open else 1))
            for region in range(start, end + 1):
                regions[region].append(entry)
        self._bounds = bounds
        self._regions = [tuple(region) for region in regions]

    def find(self, key: int) -> tuple[Entry, ...]:
        i = bisect_left(self._bounds, key)
        if i < len(self._bounds) and self._bounds[i] == key:
            return self._regions[2 * i + 1]
        return self._regions[2 * i]


def _put(table: dict[str, list[Entry]], key: str, entry: Entry) -> None:
    table.setdefault(key, []).append(entry)


class PathIndex:
    """Every matcher placed on one field path, arranged for lookup by value."""

    def __init__(self) -> None:
        self.exact: dict[Leaf, list[Entry]] = {}
        self.folded: dict[str, list[Entry]] = {}
        self.prefix: dict[int, dict[str, list[Entry]]] = {}
        self.prefix_folded: dict[int, dict[str, list[Entry]]] = {}
        self.suffix: dict[int, dict[str, list[Entry]]] = {}
        self.suffix_folded: dict[int, dict[str, list[Entry]]] = {}
        self.wildcards: dict[int, dict[str, list[tuple[Wildcard, Entry]]]] = {}
        self.exists: list[Entry] = []
        self.anything_but: list[tuple[int, Entry]] = []
        self.excluded_strings: dict[str, list[int]] = {}
        self.excluded_numbers: dict[int, list[int]] = {}
        self.others: list[tuple[Matcher, Entry]] = []
        self._ranges: list[Range] = []
        self._networks: dict[int, list[Range]] = {}
        self.numeric: IntervalIndex | None = None
        self.networks: dict[int, IntervalIndex] = {}
        self._needs_fold = False

    def add(self, matcher: Matcher, entry: Entry) -> None:
        if isinstance(matcher, Exact):
            self.exact.setdefault(matcher.value, []).append(entry)
        elif isinstance(matcher, EqualsIgnoreCase):
            _put(self.folded, matcher.folded, entry)
            self._needs_fold = True
        elif isinstance(matcher, Prefix):
            tables = self.prefix_folded if matcher.ignore_case else self.prefix
            _put(tables.setdefault(len(matcher.key), {}), matcher.key, entry)
            self._needs_fold |= matcher.ignore_case
        elif isinstance(matcher, Suffix):
            tables = self.suffix_folded if matcher.ignore_case else self.suffix
            _put(tables.setdefault(len(matcher.key), {}), matcher.key, entry)
            self._needs_fold |= matcher.ignore_case
        elif isinstance(matcher, Wildcard):
            start = matcher.literal_prefix
            self.wildcards.setdefault(len(start), {}).setdefault(start, []).append(
                (matcher, entry))
        elif isinstance(matcher, Exists):
            self.exists.append(entry)
        elif isinstance(matcher, Numeric):
            self._ranges.append(
                (matcher.low, matcher.low_open, matcher.high, matcher.high_open, entry))
        elif isinstance(matcher, Cidr):
            self._networks.setdefault(matcher.version, []).append(
                (matcher.low, False, matcher.high, False, entry))
        elif isinstance(matcher, AnythingBut):
            serial = len(self.anything_but)
            self.anything_but.append((serial, entry))
            for text in matcher.strings:
                self.excluded_strings.setdefault(text, []).append(serial)
            for key in matcher.numbers:
                self.excluded_numbers.setdefault(key, []).append(serial)
        elif isinstance(matcher, AnythingButOf):
            self.others.append((matcher, entry))
        else:  # pragma: no cover - every operator is handled above
            raise TypeError(f"no index for {matcher!r}")

    def seal(self) -> None:
        """Build the interval tables once all matchers are added."""
        self.numeric = IntervalIndex(self._ranges) if self._ranges else None
        self.networks = {version: IntervalIndex(ranges)
                         for version, ranges in self._networks.items()}

    def collect(self, value: Leaf, out: list[Entry]) -> None:
        """Append to ``out`` the entry of every matcher that ``value`` satisfies."""
        hit = self.exact.get(value)  # keys of different JSON types never compare equal
        if hit is not None:
            out.extend(hit)
        if isinstance(value, str):
            self._collect_string(value, out)
        elif isinstance(value, JsonNumber) and self.numeric is not None:
            key = value.key
            if key is not None:
                out.extend(self.numeric.find(key))
        if self.exists:
            out.extend(self.exists)
        if self.anything_but:
            self._collect_anything_but(value, out)
        for matcher, entry in self.others:
            if matcher.test(value):
                out.append(entry)

    def _collect_string(self, value: str, out: list[Entry]) -> None:
        length = len(value)
        for size, table in self.prefix.items():
            if size <= length:
                hit = table.get(value[:size])
                if hit is not None:
                    out.extend(hit)
        for size, table in self.suffix.items():
            if size <= length:
                hit = table.get(value[length - size:])
                if hit is not None:
                    out.extend(hit)
        if self._needs_fold:
            folded = fold(value)
            hit = self.folded.get(folded)
            if hit is not None:
                out.extend(hit)
            flength = len(folded)
            for size, table in self.prefix_folded.items():
                if size <= flength:
                    hit = table.get(folded[:size])
                    if hit is not None:
                        out.extend(hit)
            for size, table in self.suffix_folded.items():
                if size <= flength:
                    hit = table.get(folded[flength - size:])
                    if hit is not None:
                        out.extend(hit)
        for size, wild_table in self.wildcards.items():
            if size <= length:
                candidates = wild_table.get(value[:size])
                if candidates is not None:
                    out.extend(entry for matcher, entry in candidates if matcher.test(value))
        if self.networks:
            key = ip_key(value)
            if key is not None:
                network = self.networks.get(key[0])
                if network is not None:
                    out.extend(network.find(key[1]))

    def _collect_anything_but(self, value: Leaf, out: list[Entry]) -> None:
        excluded: list[int] | None = None
        if isinstance(value, str):
            excluded = self.excluded_strings.get(value)
        elif isinstance(value, JsonNumber):
            key = value.key
            if key is not None:
                excluded = self.excluded_numbers.get(key)
        if not excluded:
            out.extend(entry for _, entry in self.anything_but)
        else:
            skip = set(excluded)
            out.extend(entry for serial, entry in self.anything_but if serial not in skip)
