"""The query language against the documented Logs Insights semantics."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipetrail.logs.query import QueryLimits, parse_query, run_query
from pipetrail.logs.query.values import format_timestamp
from pipetrail.logs.syntax import QueryLimitError, SyntaxProblem

T0 = 1_790_000_000_000  # 2026-09-21 14:13:20 UTC


def record(offset_s: int, message: str, stream: str = "s1", group: str = "/g") -> dict[str, Any]:
    ts = T0 + offset_s * 1000
    return {"@timestamp": ts, "@message": message, "@logStream": stream, "@log": group,
            "@ingestionTime": ts + 250}


def js(**fields: Any) -> str:
    return json.dumps(fields)


RECORDS = [
    record(0, js(level="INFO", latency=120, user={"id": 1, "name": "ann"}, status=200)),
    record(30, js(level="ERROR", latency=900, user={"id": 2, "name": "bob"}, status=500,
                  tags=["db", "retry"])),
    record(60, "2026-09-21 ERROR java.lang.IllegalStateException: boom", stream="jr_1-driver"),
    record(90, js(level="WARN", latency=450, user={"id": 1, "name": "ann"}, status=404)),
    record(120, "user=ann, method:GET, latency := 15", stream="web"),
    record(150, "user=bob, method:POST, latency := 35", stream="web"),
    record(200, "user=ann, method:GET, latency := 25", stream="web"),
    record(320, js(level="ERROR", latency=300, user={"id": 3, "name": "cy"}, status=503),
           stream="jr_2-driver"),
    record(400, 'GlueExceptionAnalysis {"Failure Reason":"Out of memory","Stage":3}',
           stream="jr_1-driver"),
    record(410, 'GlueExceptionAnalysis {"Failure Reason":"Out of memory","Stage":4}',
           stream="jr_2-driver"),
    record(420, 'GlueExceptionAnalysis {"Failure Reason":"Missing column x","Stage":1}',
           stream="jr_2-driver"),
    record(600, "INFO shutting down"),
]


def rows(query: str, records: list[dict[str, Any]] | None = None,
         limits: QueryLimits | None = None) -> list[dict[str, Any]]:
    return run_query(query, RECORDS if records is None else records, limits).rows


def ts(offset_s: int) -> str:
    return format_timestamp(T0 + offset_s * 1000)


BIN5 = format_timestamp(T0 - T0 % 300_000)


CASES: list[tuple[str, list[dict[str, Any]]]] = [
    # default columns, newest first, filter on discovered JSON fields
    ("filter level = 'ERROR'", [
        {"@timestamp": ts(320), "@message": RECORDS[7]["@message"]},
        {"@timestamp": ts(30), "@message": RECORDS[1]["@message"]}]),
    ("filter latency > 400 | fields latency, user.name", [
        {"latency": 450, "user.name": "ann"}, {"latency": 900, "user.name": "bob"}]),
    ("fields @timestamp, @logStream | limit 2", [
        {"@timestamp": ts(600), "@logStream": "s1"},
        {"@timestamp": ts(420), "@logStream": "jr_2-driver"}]),
    ("filter status in [404, 503] | fields status | sort status asc", [
        {"status": 404}, {"status": 503}]),
    ("filter status not in [200, 404, 500] and ispresent(status) | fields status", [
        {"status": 503}]),
    ("filter tags.0 = 'db' | fields tags.1", [{"tags.1": "retry"}]),
    ("filter not ispresent(level) and @message like 'INFO' | fields @message", [
        {"@message": "INFO shutting down"}]),
    ("filter @message =~ /Illegal\\w+Exception/ | fields @logStream", [
        {"@logStream": "jr_1-driver"}]),
    ("filter @message not like /Glue|user=|level/ | fields @message", [
        {"@message": "INFO shutting down"},
        {"@message": "2026-09-21 ERROR java.lang.IllegalStateException: boom"}]),
    ("filter @message like /(?i)glueexception/ | stats count(*) as n", [{"n": 3}]),
    ("filter @message like /glueexception/ | stats count(*) as n", []),
    # the documented Glue examples
    ("fields @timestamp, @logStream, @message | filter @logStream like /jr_.*-driver/ and "
     "@message like /ERROR|Exception/ | sort @timestamp desc | limit 50", [
         {"@timestamp": ts(420), "@logStream": "jr_2-driver",
          "@message": RECORDS[10]["@message"]},
         {"@timestamp": ts(410), "@logStream": "jr_2-driver",
          "@message": RECORDS[9]["@message"]},
         {"@timestamp": ts(400), "@logStream": "jr_1-driver",
          "@message": RECORDS[8]["@message"]},
         {"@timestamp": ts(320), "@logStream": "jr_2-driver",
          "@message": RECORDS[7]["@message"]},
         {"@timestamp": ts(60), "@logStream": "jr_1-driver",
          "@message": RECORDS[2]["@message"]}]),
    ("filter @message like /GlueExceptionAnalysis/ | parse @message '\"Failure Reason\":\"*\"' "
     "as reason | stats count(*) by reason", [
         {"reason": "Out of memory", "count(*)": 2}, {"reason": "Missing column x",
                                                     "count(*)": 1}]),
    ("filter @message like / ERROR / | stats count(*) as errors by bin(5m)", [
        {"bin(5m)": BIN5, "errors": 1}]),
    ("filter @message like /ERROR/ | stats count(*) as errors by bin(5m)", [
        {"bin(5m)": BIN5, "errors": 2},
        {"bin(5m)": format_timestamp(T0 - T0 % 300_000 + 300_000), "errors": 1}]),
    # parse, glob and regex
    ('parse @message "user=*, method:*, latency := *" as @user, @method, @latency '
     "| stats avg(@latency) by @method, @user", [
         {"@method": None, "@user": None, "avg(@latency)": None},
         {"@method": "GET", "@user": "ann", "avg(@latency)": 20},
         {"@method": "POST", "@user": "bob", "avg(@latency)": 35}]),
    ("parse @message /user=(?<who>\\w+), method:(?<verb>[A-Z]+)/ | filter ispresent(who) "
     "| stats count(*) as n by verb | sort n desc", [
         {"verb": "GET", "n": 2}, {"verb": "POST", "n": 1}]),
    ('parse "user=*," as who | filter ispresent(who) | fields who | dedup who', [
        {"who": "ann"}, {"who": "bob"}]),
    # stats functions
    ("stats count(*) as all, count(level) as leveled, count_distinct(user.id) as users, "
     "sum(latency) as total, min(latency) as lo, max(latency) as hi", [
         {"all": 12, "leveled": 4, "users": 3, "total": 1770, "lo": 120, "hi": 900}]),
    ("stats avg(latency) as mean, pct(latency, 50) as p50, pct(latency, 100) as p100, "
     "pct(latency, 0) as p0", [{"mean": 442.5, "p50": 300, "p100": 900, "p0": 120}]),
    ("filter ispresent(latency) | stats earliest(level) as first, latest(level) as last, "
     "sortsFirst(level) as a, sortsLast(level) as z", [
         {"first": "INFO", "last": "ERROR", "a": "ERROR", "z": "WARN"}]),
    ("stats stddev(latency) as sd", [{"sd": pytest.approx(333.504, abs=0.001)}]),
    ("stats count(*) as n by level | sort n desc, level asc | limit 2", [
        {"level": None, "n": 8}, {"level": "ERROR", "n": 2}]),
    ("stats sum(latency) / count(latency) as mean by user.id | sort user.id", [
        {"user.id": 1, "mean": 285}, {"user.id": 2, "mean": 900}, {"user.id": 3, "mean": 300},
        {"user.id": None, "mean": None}]),
    ("stats count(*) as n by bin(1h) as hour", [{"hour": format_timestamp(T0 - T0 % 3_600_000),
                                                "n": 12}]),
    ("filter ispresent(level) | stats count(*) as n by level | stats max(n) as most", [
        {"most": 2}]),
    ("stats count(*) as n by @logStream | sort count(*) desc | limit 1", [
        {"@logStream": "s1", "n": 4}]),
    # fields, functions, arithmetic
    ("fields abs(-3) as a, 2 ^ 3 as p, 10 % 3 as m, 7 / 2 as d, -(2 + 3) * 2 as e | limit 1", [
        {"a": 3, "p": 8, "m": 1, "d": 3.5, "e": -10}]),
    ('fields ltrim("xyZfooxyZ", "xyZ") as l, rtrim("xyZfooxyZ", "xyZ") as r, '
     'trim("xyZfooxyZ", "xyZ") as t, substr("xyZfooxyZ", 3, 3) as s, '
     'replace("foo", "o", "0") as x, strcontains("foo", "oo") as c, strlen("héllo") as n '
     "| limit 1", [
         {"l": "fooxyZ", "r": "xyZfoo", "t": "foo", "s": "foo", "x": "f00", "c": 1, "n": 5}]),
    ("fields concat(level, '/', user.name) as who, toupper(user.name) as up, "
     "coalesce(level, 'none') as lvl | filter ispresent(user.name) | sort who | limit 2", [
         {"who": "ERROR/bob", "up": "BOB", "lvl": "ERROR"},
         {"who": "ERROR/cy", "up": "CY", "lvl": "ERROR"}]),
    ("fields greatest(latency, 500) as g, least(latency, 500) as l, ceil(latency / 7) as c, "
     "floor(latency / 7) as f | filter ispresent(latency) | sort latency | limit 1", [
         {"g": 500, "l": 120, "c": 18, "f": 17}]),
    ("fields datefloor(@timestamp, 1h) as h, dateceil(@timestamp, 1m) as m, "
     "toMillis(@timestamp) as ms, fromMillis(0) as epoch | sort @timestamp | limit 1", [
         {"h": format_timestamp(T0 - T0 % 3_600_000), "m": format_timestamp(T0 + 40_000),
          "ms": T0, "epoch": "1970-01-01 00:00:00.000"}]),
    ("fields datefloor(@timestamp, 1mo) as m, datefloor(@timestamp, 1q) as q, "
     "datefloor(@timestamp, 1y) as y, dateceil(@timestamp, 1mo) as c, "
     "dateceil(@timestamp, 1d) as d | sort @timestamp | limit 1", [
         {"m": "2026-09-01 00:00:00.000", "q": "2026-07-01 00:00:00.000",
          "y": "2026-01-01 00:00:00.000", "c": "2026-10-01 00:00:00.000",
          "d": "2026-09-22 00:00:00.000"}]),
    ("filter @message =~ \"ann\" | stats count(*) as n", [{"n": 4}]),
    ('parse @logStream "jr_*-driver" as job | filter ispresent(job) | stats count(*) as n '
     "by job", [{"job": "1", "n": 2}, {"job": "2", "n": 3}]),
    ("fields isValidIp('10.0.0.1') as v4, isValidIpV6('::1') as v6, isValidIp('x') as bad, "
     "isIpInSubnet('10.1.2.3', '10.0.0.0/8') as inside, "
     "isIpv4InSubnet('192.168.1.1', '10.0.0.0/8') as outside | limit 1", [
         {"v4": True, "v6": True, "bad": False, "inside": True, "outside": False}]),
    ("fields isempty(level) as e, isblank(' ') as b | sort @timestamp | limit 1", [
        {"e": False, "b": True}]),
    ("fields `user.name` as n, `@logStream` | filter n = 'cy'", [
        {"n": "cy", "@logStream": "jr_2-driver"}]),
    # display, dedup, sort order
    ("fields level, latency | display latency | filter ispresent(level) | limit 1", [
        {"latency": 300}]),
    ("fields @timestamp, level | sort @timestamp desc | dedup level | limit 10", [
        {"@timestamp": ts(600), "level": None}, {"@timestamp": ts(420), "level": None},
        {"@timestamp": ts(410), "level": None}, {"@timestamp": ts(400), "level": None},
        {"@timestamp": ts(320), "level": "ERROR"}, {"@timestamp": ts(200), "level": None},
        {"@timestamp": ts(150), "level": None}, {"@timestamp": ts(120), "level": None},
        {"@timestamp": ts(90), "level": "WARN"}, {"@timestamp": ts(60), "level": None}]),
    ("filter ispresent(level) | fields level | dedup level", [
        {"level": "ERROR"}, {"level": "WARN"}, {"level": "INFO"}]),
    ("filter ispresent(level) | fields level | sort level desc", [
        {"level": "WARN"}, {"level": "INFO"}, {"level": "ERROR"}, {"level": "ERROR"}]),
    ("# a comment line\nfilter level = 'WARN' # trailing comment\n| fields status", [
        {"status": 404}]),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_query_results(query: str, expected: list[dict[str, Any]]) -> None:
    assert rows(query) == expected


def test_documented_sort_order() -> None:
    values = ["3", "A", "0#", "@_", "2", "5A", "a12345hfh", "!:", "# *%04", "1", "111A", "@",
              "01", "A9876fghj", "2345_", "0"]
    data = [{"@timestamp": T0 + i, "@message": js(v=v)} for i, v in enumerate(values)]
    ordered = [r["v"] for r in rows("fields v | sort v asc", data)]
    assert ordered == ["!:", "# *%04", "0#", "5A", "111A", "2345_", "@", "@_", "A",
                       "A9876fghj", "a12345hfh", "0", "01", "1", "2", "3"]
    assert [r["v"] for r in rows("fields v | sort v desc", data)] == ordered[::-1]


def test_missing_values_sort_last_both_ways() -> None:
    data = [{"@timestamp": T0 + i, "@message": m}
            for i, m in enumerate([js(v=2), "plain", js(v=1)])]
    assert [r["v"] for r in rows("fields v | sort v", data)] == [1, 2, None]
    assert [r["v"] for r in rows("fields v | sort v desc", data)] == [2, 1, None]


def test_numeric_text_compares_as_a_number() -> None:
    data = [record(i, f"took {ms} ms") for i, ms in enumerate([5, 40, 300])]
    result = rows("parse 'took * ms' as ms | filter ms > 30 | sort ms | fields ms", data)
    assert result == [{"ms": "40"}, {"ms": "300"}]


def test_without_limit_at_most_the_default_rows_come_back() -> None:
    data = [record(i, f"line {i}") for i in range(50)]
    limits = QueryLimits(default_result_rows=7)
    result = run_query("fields @message", data, limits)
    assert len(result.rows) == 7
    assert result.rows[0]["@message"] == "line 49"
    assert result.statistics.records_scanned == 50
    assert len(run_query("fields @message | limit 20", data, limits).rows) == 20


def test_statistics() -> None:
    result = run_query("filter level = 'ERROR' | stats count(*)", RECORDS)
    assert result.statistics.records_scanned == len(RECORDS)
    assert result.statistics.records_matched == 2
    assert result.statistics.bytes_scanned == sum(len(r["@message"].encode()) for r in RECORDS)
    assert result.to_json()["statistics"]["recordsMatched"] == 2


def test_records_are_streamed_not_listed() -> None:
    consumed = []

    def source() -> Any:
        for index in range(100_000):
            consumed.append(index)
            yield record(index, f"n={index}")
    result = run_query("filter @message like 'n=9' | limit 3", source())
    # Newest first needs every record, but the sort keeps only the three it returns.
    assert [r["@message"] for r in result.rows] == ["n=99999", "n=99998", "n=99997"]
    assert len(consumed) == 100_000


LIMIT_CASES = [
    ("fields @message", QueryLimits(max_records_scanned=5), "scan more than 5 records"),
    ("stats count(*) by @message", QueryLimits(max_groups=3), "more than 3 groups"),
    ("fields @message | sort @message | filter @message like 'x'",
     QueryLimits(max_buffered_rows=4), "hold more than 4 rows"),
    ("stats pct(latency, 90)", QueryLimits(max_kept_values=2), "at most 2 values"),
    ("dedup @message", QueryLimits(max_groups=2), "more than 2 distinct"),
    ("fields @message", QueryLimits(timeout_seconds=-1.0), "longer than"),
]


@pytest.mark.parametrize(("query", "limits", "words"), LIMIT_CASES)
def test_limits_fail_clearly(query: str, limits: QueryLimits, words: str) -> None:
    data = [record(i, js(latency=i)) for i in range(2000)]
    with pytest.raises(QueryLimitError) as caught:
        run_query(query, data, limits)
    assert words in str(caught.value)


def test_regex_timeout_is_a_limit_error() -> None:
    data = [record(0, "a" * 5000 + "b")]
    with pytest.raises(QueryLimitError, match="took longer than"):
        run_query("filter @message like /(a|aa)+$/", data, QueryLimits(regex_timeout_seconds=0.01))


def test_discovered_fields_are_capped() -> None:
    message = json.dumps({f"k{i}": i for i in range(50)})
    data = [record(0, message)]
    limits = QueryLimits(max_discovered_fields=10)
    assert rows("fields k9, k10", data, limits) == [{"k9": 9, "k10": None}]


INVALID: list[tuple[str, int, str]] = [
    ("", 0, "the query is empty"),
    ("   # only a comment", 19, "the query is empty"),
    ("fields", 6, "fields needs arguments"),
    ("select *", 0, "expected a command"),
    ("pattern @message", 0, "not supported"),
    ("head 10", 0, "replaced by limit"),
    ("fields a b", 9, "expected '|' or the end"),
    ("fields a | | limit 1", 11, "expected a command"),
    ("filter a = ", 11, "ends where a value was expected"),
    ("filter a == 1", 10, "expected a value"),
    ("filter a ! 1", 9, "'!' is not an operator"),
    ("filter a like 'x", 14, "never closed"),
    ("filter a like /x", 14, "no closing '/'"),
    ("filter a like /(x/", 17, "bad regular expression"),
    ("filter a like 5", 14, "expected /regex/"),
    ("filter a in (1, 2)", 12, "'['"),
    ("filter a in [1, 2", 17, "',' or ']'"),
    ("filter (a = 1", 13, "expected ')'"),
    ("filter count(*) > 1", 7, "aggregate function; use it in stats"),
    ("fields nosuch(a)", 7, "unknown function"),
    ("fields abs(a, b)", 7, "takes 1 argument, not 2"),
    ("fields substr(a)", 7, "takes 2 to 3 arguments"),
    ("stats count(*) by", 17, "ends where a value"),
    ("stats a by b", 6, "needs an aggregate function"),
    ("stats sum(a) + b", 15, "outside an aggregate"),
    ("stats sum(count(*))", 10, "cannot be nested"),
    ("stats sum(*)", 10, "not allowed"),
    ("stats pct(a, 101)", 13, "between 0 and 100"),
    ("stats pct(a, b)", 13, "between 0 and 100"),
    ("stats count(*) by bin(a)", 22, "time period"),
    ("stats count(*) by bin(5x)", 23, "unknown time unit"),
    ("fields 5m", 7, "only goes in bin()"),
    ("limit 0", 6, "between 1 and 10000"),
    ("limit 10001", 6, "between 1 and 10000"),
    ("limit 2.5", 6, "whole number"),
    ("sort a desc desc", 12, "expected '|'"),
    ("dedup a | sort a", 10, "only limit may follow dedup"),
    ("dedup and", 6, "expected a field name"),
    ("parse @message 'no stars' as a", 15, "at least one *"),
    ("parse @message '* and *' as a", 25, "2 * but 1 field name"),
    ("parse @message '*'", 18, "expected 'as'"),
    ("parse @message /(\\d+)/", 15, "named groups"),
    ("parse @message /(?<n>\\d+)/ as n", 27, "'as' is for * patterns"),
    ("parse @message 42", 15, "expected a pattern"),
    ("fields `a", 7, "never closed"),
    ("fields ``", 7, "cannot be empty"),
    ("fields a ~ b", 9, "unexpected character"),
    ("fields 1.5m", 7, "whole number and a unit"),
    ("fields a as", 11, "expected a field name"),
    ("display a, ", 11, "expected a field name"),
    ("x" * 10_001, 10_000, "at most 10000 characters"),
    ("filter " + "(" * 80 + "a" + ")" * 80, 71, "nests deeper"),
    ("filter " + "not " * 80 + "a", 259, "nests deeper"),
    ("filter " + "-" * 80 + "a", 70, "nests deeper"),
]


@pytest.mark.parametrize(("query", "offset", "words"), INVALID)
def test_invalid_queries_point_at_the_problem(query: str, offset: int, words: str) -> None:
    with pytest.raises(SyntaxProblem) as caught:
        parse_query(query)
    assert words in str(caught.value)
    assert caught.value.offset == offset, str(caught.value)


def test_error_position_on_later_lines() -> None:
    with pytest.raises(SyntaxProblem) as caught:
        parse_query("fields a\n| filter b = \n| limit 5")
    message = str(caught.value)
    assert "line 3, column 1: expected a value, found '|'" in message
    assert message.splitlines()[1] == "  | limit 5"


def test_parse_names_columns_after_the_expression_text() -> None:
    query = parse_query("stats count(*), avg( x ) by bin(5m) | sort count(*) desc")
    assert [p.name for p in query.commands[0].aggregates] == ["count(*)", "avg( x )"]  # type: ignore[attr-defined]
