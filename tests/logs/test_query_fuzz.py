"""Fuzzing: queries parse or raise ValidationError; running them never crashes."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipetrail.logs.query import QueryLimits, parse_query, run_query
from pipetrail.model.errors import ValidationError

FRAGMENTS = [
    "fields", "filter", "stats", "sort", "limit", "parse", "dedup", "display", "by", "as",
    "asc", "desc", "and", "or", "not", "like", "in", "|", ",", "(", ")", "[", "]", "=", "!=",
    "<", ">=", "=~", "+", "-", "*", "/", "%", "^", " ", "@message", "@timestamp", "a", "a.b",
    "`x y`", "1", "2.5", "5m", "1h", "3mo", '"x"', "'*'", "/E.*/", "/(?<n>\\d+)/", "count(*)",
    "count", "avg", "pct", "bin", "bin(5m)", "sum(a)", "abs", "concat", "ispresent", "#",
    "\n", "10", "0", "ERROR",
]
query_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(FRAGMENTS), max_size=20).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=20).map("".join),
)
RECORDS = [
    {"@timestamp": 1_790_000_000_000 + i * 1000, "@logStream": "s", "@log": "/g",
     "@ingestionTime": 1_790_000_000_000 + i * 1000,
     "@message": json.dumps({"a": i, "b": {"c": "x" * i}, "n": None}) if i % 2 else f"ERROR {i}"}
    for i in range(6)
]
LIMITS = QueryLimits(timeout_seconds=5.0, max_groups=100, max_buffered_rows=100)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query_text)
def test_queries_parse_or_raise_validation_error(text: str) -> None:
    try:
        parse_query(text)
    except ValidationError:
        return
    with contextlib.suppress(ValidationError):
        run_query(text, RECORDS, LIMITS)


atoms = st.sampled_from(["a", "b.c", "n", "@message", "@timestamp", "`a`", "1", "-2", "2.5",
                         "'x'", '"ERROR"', "0"])
expressions = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "^", "=", "!=", "<", ">=",
                                          "and", "or"]), inner).map(" ".join),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"{e} like /E.*R/"),
        inner.map(lambda e: f"{e} not in [1, 'x']"),
        st.tuples(st.sampled_from(["abs", "concat", "strlen", "toupper", "coalesce",
                                   "ispresent", "isempty", "ceil"]), inner)
        .map(lambda t: f"{t[0]}({t[1]})"),
    ),
    max_leaves=8,
)
aggregates = st.tuples(st.sampled_from(["count", "sum", "avg", "min", "max", "stddev",
                                        "count_distinct", "earliest", "latest", "sortsFirst"]),
                       expressions).map(lambda t: f"{t[0]}({t[1]})")
commands = st.one_of(
    expressions.map(lambda e: f"filter {e}"),
    expressions.map(lambda e: f"fields {e} as f"),
    st.tuples(aggregates, expressions).map(lambda t: f"stats {t[0]} as s by {t[1]}"),
    expressions.map(lambda e: f"stats pct({e}, 50), count(*) by bin(1m)"),
    expressions.map(lambda e: f"sort {e} desc"),
    st.sampled_from(["limit 3", "dedup a", "display a, f, s", "parse 'ERROR *' as n",
                     "parse @message /(?<k>\\d)/", "fields @timestamp, @message"]),
)
queries = st.lists(commands, min_size=1, max_size=5).map(" | ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries)
def test_generated_queries_run_or_raise_validation_error(text: str) -> None:
    with contextlib.suppress(ValidationError):
        run_query(text, RECORDS, LIMITS)
