"""Running a parsed query over an iterable of records, within fixed limits.

Records are mappings with the fields ``@timestamp`` and ``@ingestionTime`` (epoch
milliseconds), ``@message``, ``@logStream`` and ``@log``; JSON messages add their fields.
Commands run in order as a pipeline of generators: ``filter``, ``fields``, ``parse`` and
``dedup`` stream; ``stats`` keeps one accumulator set per group; ``sort`` keeps only the
rows it can still return (a bounded heap) unless a later ``filter`` or ``dedup`` may drop
rows, in which case it buffers up to ``max_buffered_rows``.

Without ``stats`` or ``sort``, results come newest first (``sort @timestamp desc``), as in
Logs Insights; without ``limit``, at most ``default_result_rows`` rows come back.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from pipetrail.logs.query import ast
from pipetrail.logs.query.aggregates import Accumulator, ValueBudget, make_accumulator
from pipetrail.logs.query.evaluate import Compiler, Evaluator
from pipetrail.logs.query.parser import MAX_RESULT_ROWS, parse_query
from pipetrail.logs.query.rows import Row
from pipetrail.logs.query.values import Timestamp, group_key, sort_key, to_output, truthy
from pipetrail.logs.syntax import QueryLimitError

DEFAULT_COLUMNS = ("@timestamp", "@message")
TIME_FIELDS = ("@timestamp", "@ingestionTime")


@dataclass(frozen=True)
class QueryLimits:
    """The bounds every query runs within; each one, when hit, fails the query clearly."""

    max_records_scanned: int = 10_000_000
    timeout_seconds: float = 300.0
    max_result_rows: int = MAX_RESULT_ROWS
    default_result_rows: int = 1_000
    max_groups: int = 100_000
    max_buffered_rows: int = 200_000
    max_kept_values: int = 1_000_000
    regex_timeout_seconds: float = 0.1
    max_discovered_fields: int = 1_000


@dataclass
class QueryStatistics:
    records_scanned: int = 0
    records_matched: int = 0
    bytes_scanned: int = 0

    def to_json(self) -> dict[str, int]:
        return {"recordsScanned": self.records_scanned,
                "recordsMatched": self.records_matched,
                "bytesScanned": self.bytes_scanned}


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[dict[str, Any]]
    statistics: QueryStatistics = field(default_factory=QueryStatistics)

    def to_json(self) -> dict[str, Any]:
        return {"status": "Complete", "statistics": self.statistics.to_json(),
                "columns": self.columns, "results": self.rows}


def run_query(text: str, records: Iterable[Mapping[str, Any]],
              limits: QueryLimits | None = None) -> QueryResult:
    """Parse ``text`` and run it over ``records``."""
    return execute(parse_query(text), records, limits)


def execute(query: ast.Query, records: Iterable[Mapping[str, Any]],
            limits: QueryLimits | None = None) -> QueryResult:
    return _Run(query, limits or QueryLimits()).run(records)


class _Run:
    def __init__(self, query: ast.Query, limits: QueryLimits) -> None:
        self.query = query
        self.limits = limits
        self.stats = QueryStatistics()
        self.budget = ValueBudget(limits.max_kept_values)
        self.compiler = Compiler(limits.regex_timeout_seconds)
        self.deadline = 0.0

    def run(self, records: Iterable[Mapping[str, Any]]) -> QueryResult:
        commands = _with_implicit_sort(list(self.query.commands))
        has_limit = any(isinstance(c, ast.LimitCmd) for c in commands)
        cap = self.limits.max_result_rows if has_limit else self.limits.default_result_rows
        cap = min(cap, self.limits.max_result_rows)
        self.deadline = time.monotonic() + self.limits.timeout_seconds

        rows: Iterator[Row] = self.scan(records)
        columns: list[str] | None = None  # None: the default columns
        parsed: list[str] = []
        display: list[str] | None = None
        counted = False
        for index, command in enumerate(commands):
            if not counted and isinstance(command, (ast.StatsCmd, ast.SortCmd, ast.DedupCmd,
                                                    ast.LimitCmd)):
                rows = self.count_matched(rows)
                counted = True
            if isinstance(command, ast.FilterCmd):
                rows = self.filter(rows, command)
            elif isinstance(command, ast.FieldsCmd):
                rows = self.fields(rows, command)
                columns = _merge(columns or [], [item.name for item in command.items])
            elif isinstance(command, ast.ParseCmd):
                rows = self.parse(rows, command)
                parsed = _merge(parsed, list(command.names))
            elif isinstance(command, ast.DisplayCmd):
                display = list(command.names)
            elif isinstance(command, ast.StatsCmd):
                rows = self.aggregate(rows, command)
                columns = _merge([p.name for p in command.by],
                                 [p.name for p in command.aggregates])
            elif isinstance(command, ast.SortCmd):
                rows = self.sort(rows, command, _keep_for_sort(commands, index, cap))
            elif isinstance(command, ast.DedupCmd):
                rows = self.dedup(rows, command)
            elif isinstance(command, ast.LimitCmd):
                rows = islice(rows, command.count)
        if not counted:
            rows = self.count_matched(rows)
        final_columns = display or columns or _merge(list(DEFAULT_COLUMNS), parsed)
        output = [{name: to_output(row.get(name)) for name in final_columns}
                  for row in islice(rows, cap)]
        return QueryResult(final_columns, output, self.stats)

    # -- stages -------------------------------------------------------------------------

    def scan(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Row]:
        limits = self.limits
        stats = self.stats
        for record in records:
            if stats.records_scanned >= limits.max_records_scanned:
                raise QueryLimitError(
                    f"the query would scan more than {limits.max_records_scanned} records; "
                    "narrow the time range or the log groups")
            stats.records_scanned += 1
            if stats.records_scanned % 1024 == 0:
                self.check_time()
            fields = dict(record)
            for name in TIME_FIELDS:
                value = fields.get(name)
                if type(value) is int:
                    fields[name] = Timestamp(value)
            message = fields.get("@message")
            if isinstance(message, str):
                stats.bytes_scanned += (len(message) if message.isascii()
                                        else len(message.encode("utf-8", "surrogatepass")))
            yield Row(fields, limits.max_discovered_fields)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise QueryLimitError(
                f"the query ran longer than {self.limits.timeout_seconds:g} s; narrow the "
                "time range or the log groups")

    def count_matched(self, rows: Iterator[Row]) -> Iterator[Row]:
        for row in rows:
            self.stats.records_matched += 1
            yield row

    def filter(self, rows: Iterator[Row], command: ast.FilterCmd) -> Iterator[Row]:
        predicate = self.compiler.compile(command.expr)
        return (row for row in rows if truthy(predicate(row)))

    def fields(self, rows: Iterator[Row], command: ast.FieldsCmd) -> Iterator[Row]:
        computed = [(item.name, self.compiler.compile(item.expr)) for item in command.items
                    if not (isinstance(item.expr, ast.FieldRef) and item.expr.name == item.name)]
        for row in rows:
            values = [(name, evaluate(row)) for name, evaluate in computed]
            for name, value in values:
                row.set(name, value)
            yield row

    def parse(self, rows: Iterator[Row], command: ast.ParseCmd) -> Iterator[Row]:
        source = self.compiler.compile(command.source)
        pattern = command.pattern
        pairs = list(zip(command.names, command.groups, strict=True))
        timeout = self.limits.regex_timeout_seconds
        for row in rows:
            value = source(row)
            match = None
            if isinstance(value, str):
                try:
                    match = pattern.search(value, timeout=timeout)
                except TimeoutError:
                    raise QueryLimitError(
                        f"parse took longer than {timeout} s on one log event; make the "
                        "pattern more specific") from None
            for name, group in pairs:
                row.set(name, match.group(group) if match is not None else None)
            yield row

    def aggregate(self, rows: Iterator[Row], command: ast.StatsCmd) -> Iterator[Row]:
        by = [self.compiler.compile(item.expr) for item in command.by]
        calls: list[ast.AggCall] = []
        for item in command.aggregates:
            _collect_aggregates(item.expr, calls)
        slots = {id(call): f"\0agg{index}" for index, call in enumerate(calls)}
        arguments: list[Evaluator] = [self.compiler.compile(call.args[0]) if call.args
                                      else (lambda row: None) for call in calls]
        finals = Compiler(self.limits.regex_timeout_seconds, slots)
        outputs = [(item.name, finals.compile(item.expr)) for item in command.aggregates]
        groups: dict[tuple[Any, ...], tuple[list[Any], list[Accumulator]]] = {}
        limit = self.limits.max_groups
        for row in rows:
            values = [evaluate(row) for evaluate in by]
            key = tuple(group_key(value) for value in values)
            group = groups.get(key)
            if group is None:
                if len(groups) >= limit:
                    raise QueryLimitError(
                        f"stats would make more than {limit} groups; group by fewer or "
                        "coarser fields")
                group = (values, [self.accumulator(call) for call in calls])
                groups[key] = group
            timestamp = row.get("@timestamp")
            time_ms = int(timestamp) if isinstance(timestamp, int) else None
            for argument, accumulator in zip(arguments, group[1], strict=True):
                accumulator.add(argument(row), time_ms)
        self.check_time()
        for values, accumulators in groups.values():
            fields: dict[str, Any] = {item.name: value for item, value in
                                      zip(command.by, values, strict=True)}
            for call, accumulator in zip(calls, accumulators, strict=True):
                fields[slots[id(call)]] = accumulator.result()
            row = Row(fields, discovered=True)
            results = [(name, evaluate(row)) for name, evaluate in outputs]
            for name, value in results:
                fields[name] = value
            for slot in slots.values():
                fields.pop(slot, None)
            yield row

    def accumulator(self, call: ast.AggCall) -> Accumulator:
        star = not call.args or isinstance(call.args[0], ast.Star)
        percent = None
        if call.name == "pct":
            literal = call.args[1]
            percent = float(literal.value) if isinstance(literal, ast.Literal) else None
        return make_accumulator(call.name, star=star, percent=percent, budget=self.budget)

    def sort(self, rows: Iterator[Row], command: ast.SortCmd, keep: int | None) -> Iterator[Row]:
        keys = [(self.compiler.compile(key.expr), key.descending) for key in command.keys]

        def key_of(row: Row) -> tuple[Any, ...]:
            return tuple(sort_key(evaluate(row), descending) for evaluate, descending in keys)
        if keep is not None:
            yield from heapq.nsmallest(keep, rows, key=key_of)
            return
        buffered: list[Row] = []
        for row in rows:
            if len(buffered) >= self.limits.max_buffered_rows:
                raise QueryLimitError(
                    f"sort would hold more than {self.limits.max_buffered_rows} rows; add a "
                    "limit right after the sort or narrow the query")
            buffered.append(row)
        self.check_time()
        buffered.sort(key=key_of)
        yield from buffered

    def dedup(self, rows: Iterator[Row], command: ast.DedupCmd) -> Iterator[Row]:
        seen: set[tuple[Any, ...]] = set()
        for row in rows:
            values = [row.get(name) for name in command.names]
            if any(value is None for value in values):
                yield row
                continue
            key = tuple(group_key(value) for value in values)
            if key in seen:
                continue
            if len(seen) >= self.limits.max_groups:
                raise QueryLimitError(
                    f"dedup would track more than {self.limits.max_groups} distinct values")
            seen.add(key)
            yield row


def _with_implicit_sort(commands: list[ast.Command]) -> list[ast.Command]:
    """Insights returns the newest events first when a query neither sorts nor stats."""
    if any(isinstance(c, (ast.StatsCmd, ast.SortCmd)) for c in commands):
        return commands
    newest_first = ast.SortCmd(0, 0, (ast.SortKey(ast.FieldRef(0, 0, "@timestamp"), True),))
    for index, command in enumerate(commands):
        if isinstance(command, (ast.LimitCmd, ast.DedupCmd)):
            return [*commands[:index], newest_first, *commands[index:]]
    return [*commands, newest_first]


def _keep_for_sort(commands: list[ast.Command], index: int, cap: int) -> int | None:
    """How many rows a sort must keep: bounded unless a later command may drop rows."""
    keep = cap
    for command in commands[index + 1:]:
        if isinstance(command, ast.LimitCmd):
            return min(keep, command.count)
        if isinstance(command, (ast.FilterCmd, ast.StatsCmd, ast.DedupCmd, ast.SortCmd)):
            return None
    return keep


def _collect_aggregates(node: ast.Node, found: list[ast.AggCall]) -> None:
    if isinstance(node, ast.AggCall):
        found.append(node)
        return
    for child in vars(node).values():
        if isinstance(child, ast.Node):
            _collect_aggregates(child, found)
        elif isinstance(child, tuple):
            for item in child:
                if isinstance(item, ast.Node):
                    _collect_aggregates(item, found)


def _merge(first: list[str], more: list[str]) -> list[str]:
    merged = list(first)
    for name in more:
        if name not in merged:
            merged.append(name)
    return merged
