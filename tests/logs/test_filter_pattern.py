"""Filter patterns against the documented semantics and CloudWatch Logs' own answers.

The corpora and expected matches below record what CloudWatch Logs' TestMetricFilter
answered for these exact patterns and messages (us-east-1, 2026), plus the examples of the
"Filter pattern syntax" documentation page. Indexes are 0-based positions in the corpus.
"""

from __future__ import annotations

import pytest

from pipetrail.logs.filter_pattern import compile_pattern, parse_value_selector
from pipetrail.logs.syntax import SyntaxProblem
from pipetrail.model.errors import ValidationError

TERMS = [
    "ERROR ARGUMENTS REQUEST", "ERROR BAD REQUEST", "INFO ARGUMENTS", "INFO REQUEST",
    "error arguments request", "ERROR INTERNAL SERVER ERROR", "ERROR INTERNAL  SERVER ERROR",
    "INTERNAL SERVER error", "TERROR REQUEST", "[ERROR] REQUEST", "ERROR-REQUEST",
    "ERROR_ARGUMENTS", "ERROR\nARGUMENTS", "ARGUMENTS ERROR", "plain", 'say "hello world" now',
    "hello-world", " ",
]

REGEX = [
    "ERROR 500", "ERROR 50", "ERROR 5000", "WARN 404", "xERROR 500", "error 500", "color",
    "colour", "colouur", "10.10.0.1", "10010,051", "hello!", "hello(", "café", "aaab", "abab",
    "ERROR\n500",
]

SCALARS = [
    "{}", '{"v":null}', '{"v":"null"}', '{"v":true}', '{"v":false}', '{"v":"true"}',
    '{"v":"false"}', '{"v":0}', '{"v":1}', '{"v":1.0}', '{"v":1e0}', '{"v":"1"}',
    '{"v":"1.0"}', '{"v":-1}', '{"v":1.5}', '{"v":10}', '{"v":"10"}', '{"v":"Alpha"}',
    '{"v":"alpha"}', '{"v":"Alphabet"}', '{"v":"xAlpha"}', '{"v":""}', '{"v":[]}', '{"v":{}}',
    '{"v":[1,"Alpha",null]}', '{"v":"a*b"}', '{"v":"a?b"}', '{"v":1,"v":2}', '{"v":2,"v":1}',
    "not JSON", '[{"v":1}]', "{broken",
]

PATHS = [
    '{"nested":{"value":"hit"},"cluster.name":"flat","cluster":{"name":"nested"},'
    '"items":[{"a":1,"b":0},{"a":0,"b":2}],"arr":["miss","hit"],"matrix":[[0,1],[2,3]],'
    '"a":1,"b":0,"c":0}',
    '{"nested":{"value":"miss"},"cluster.name":"nested","cluster":{"name":"flat"},'
    '"items":[{"a":1,"b":2}],"arr":["hit","miss"],"matrix":[[1,0]],"a":0,"b":2,"c":3}',
    '{"nested":null,"arr":[null],"items":[],"a":0,"b":2,"c":0}',
    '{"nested":{},"arr":[],"a":1,"b":2,"c":3}',
    '{"nested":{"value":null},"arr":"hit","a":0,"b":0,"c":3}',
    '{"nested":{"value":"null"},"other":"hit"}',
    '{"nested.value":"hit","arr":[["hit"]]}',
    '{"arr":["hit","hit"],"items":[{"a":1},{"b":2}]}',
    '{"arr":{"0":"hit"},"nested":[{"value":"hit"}]}',
    "{}",
]

SPACE = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
    '127.0.0.2 - jane [10/Oct/2000:13:25:16 -0700] "GET /index.html HTTP/1.0" 410 0',
    '127.0.0.3 - frank [10/Oct/2000:13:25:17 -0700] "POST /api HTTP/1.0" 500 2048',
    '127.0.0.4 - frank [10/Oct/2000:13:25:18 -0700] "GET /index.html HTTP/1.0" 200 100',
    '127.0.0.5  -  frank [10/Oct/2000:13:25:19 -0700] "GET /index.html HTTP/1.0" 404 1534 extra',
    '127.0.0.6\t-\tfrank\t[10/Oct/2000:13:25:20 -0700]\t"GET /index.html HTTP/1.0"\t404\t1534',
    "ERROR request failed", "WARNING request", "INFO request accepted", "ERROR",
    'ERROR "two words"', 'ERROR "unterminated words',
]

ALL_TERMS = list(range(len(TERMS)))

CASES: list[tuple[str, list[str], list[int]]] = [
    # unstructured terms
    ("", TERMS, ALL_TERMS),
    ("   ", TERMS, ALL_TERMS),
    ('""', TERMS, ALL_TERMS),
    ('" "', TERMS, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 15, 17]),
    ("ERROR", TERMS, [0, 1, 5, 6, 8, 9, 10, 11, 12, 13]),
    ("ERROR ARGUMENTS", TERMS, [0, 11, 12, 13]),
    ("?ERROR ?ARGUMENTS", TERMS, [0, 1, 2, 5, 6, 8, 9, 10, 11, 12, 13]),
    ("?ERROR ?ARGUMENTS REQUEST", TERMS, [0, 1, 3, 8, 9, 10]),
    ("?ERROR ?ARGUMENTS -REQUEST", TERMS, [2, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 17]),
    ("ERROR -ARGUMENTS", TERMS, [1, 5, 6, 8, 9, 10]),
    ("-ERROR", TERMS, [2, 3, 4, 7, 14, 15, 16, 17]),
    ('"INTERNAL SERVER ERROR"', TERMS, [5]),
    ("error", TERMS, [4, 7]),
    ('"hello-world"', TERMS, [16]),
    ('ERROR -"BAD REQUEST"', TERMS, [0, 5, 6, 8, 9, 10, 11, 12, 13]),
    ('"ERROR" - "ARGUMENTS"', TERMS, [1, 5, 6, 8, 9, 10]),
    ('"hello world"', TERMS, [15]),
    ("?plain ?hello_x", TERMS, [14]),
    # regular expressions
    (r"%^ERROR\s[0-9]{3}$%", REGEX, [0, 16]),
    ("%ERROR|WARN%", REGEX, [0, 1, 2, 3, 4, 16]),
    ("%^colou?r$%", REGEX, [6, 7]),
    (r"%10\.10\.0\.1%", REGEX, [9]),
    ("%10.10.0.1%", REGEX, [9, 10]),
    (r"%\x21%", REGEX, [11]),
    ("%^[^a-z]+$%", REGEX, [0, 1, 2, 3, 9, 10, 16]),
    ("%^a*b$%", REGEX, [14]),
    ("%[ab]{4}%", REGEX, [14, 15]),
    # JSON scalars
    ("{ $.v = 1 }", SCALARS, [8, 9, 10, 11, 28]),
    ("{ $.v != 1 }", SCALARS, [2, 5, 6, 7, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 25, 26, 27]),
    ("{ $.v > 1 }", SCALARS, [14, 15, 27]),
    ("{ $.v < 1 }", SCALARS, [7, 13]),
    ("{ $.v >= 1 }", SCALARS, [8, 9, 10, 14, 15, 27, 28]),
    ("{ $.v <= 1 }", SCALARS, [7, 8, 9, 10, 13, 28]),
    ("{ $.v = 1e+0 }", SCALARS, [8, 9, 10, 28]),
    ("{ $.v = -1 }", SCALARS, [13]),
    ('{ $.v = "1" }', SCALARS, [8, 11, 28]),
    ('{ $.v = "Alpha" }', SCALARS, [17]),
    ('{ $.v != "Alpha" }', SCALARS,
     [2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 25, 26, 27, 28]),
    ('{ $.v = "Alpha*" }', SCALARS, [17, 19]),
    ('{ $.v = "*Alpha" }', SCALARS, [17, 20]),
    ('{ $.v = "a?b" }', SCALARS, [26]),
    ('{ $.v = "" }', SCALARS, [21]),
    ("{ $.v = %^Al.*% }", SCALARS, [17, 19]),
    ("{ $.v IS NULL }", SCALARS, [1, 24]),
    ("{ $.v NOT EXISTS }", SCALARS, [0]),
    ("{ $.v IS TRUE }", SCALARS, [3]),
    ("{ $.v IS FALSE }", SCALARS, [4]),
    ("{ $.v = true }", SCALARS, [5]),
    ("{ $.v = * }", SCALARS, [2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                             25, 26, 27, 28]),
    ("{$.v=Alpha}", SCALARS, [17]),
    ("{ $.v = Al*ha }", SCALARS, [17]),
    # JSON paths
    ('{ $.nested.value = "hit" }', PATHS, [0]),
    ("{ $.['cluster.name'] = \"flat\" }", PATHS, [0]),
    ('{ $.cluster.name = "flat" }', PATHS, [1]),
    ('{ $.arr[0] = "hit" }', PATHS, [1, 7]),
    ('{ $.arr[*] = "hit" }', PATHS, [0, 1, 7, 8]),
    ('{ $.* = "hit" }', PATHS, [4, 5, 6]),
    ("{ $.matrix[0][1] = 1 }", PATHS, [0]),
    ("{ $.items[*].a = 1 && $.items[*].b = 2 }", PATHS, [0, 1, 7]),
    ("{ $.a = 1 && $.c = 3 }", PATHS, [3]),
    ("{ $.a = 1 || $.b = 2 && $.c = 3 }", PATHS, [0, 1, 3]),
    ("{ ($.a = 1 || $.b = 2) && $.c = 3 }", PATHS, [1, 3]),
    ("{ $.nested.value NOT EXISTS }", PATHS, [2, 3, 6, 7, 8, 9]),
    ("{ $.nested.value IS NULL }", PATHS, [4]),
    ("{ $.nested = * }", PATHS, []),
    # space-delimited
    ("[ip, identity, user, timestamp, request, status, bytes]", SPACE, [0, 1, 2, 3, 4, 5]),
    ("[ip, identity, user, timestamp, request, status >= 400, bytes > 1000]", SPACE, [0, 2, 5]),
    ("[..., request = *.html*, status = 4*, bytes]", SPACE, [0, 1, 5]),
    ("[..., status = 404 || status = 410, bytes]", SPACE, [0, 1, 5]),
    (r"[ip = %127\.0\.0\.[1-3]%, identity, user, timestamp, request, status, bytes]", SPACE,
     [0, 1, 2]),
    ("[..., bytes]", SPACE, list(range(12))),
    ("[ip, ..., status, bytes]", SPACE, [0, 1, 2, 3, 4, 5, 6, 8, 11]),
    ("[]", SPACE, list(range(12))),
    ("[w1=ERROR, w2]", SPACE, [6, 10, 11]),
    ("[w1!=ERROR && w1!=WARNING, w2]", SPACE, [0, 1, 2, 3, 4, 5, 8]),
    ("[w1=ERROR || w1=WARNING, w2]", SPACE, [6, 7, 10, 11]),
]

DOC_EVENT = (
    '{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",'
    ' "arrayKey": ["value", "another value"],'
    ' "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],'
    ' "SomeObject": null, "ThisFlag": true}'
)
DOC_COMPOUND = (
    '{"user": {"id": 1, "email": "John.Stiles@example.com"},'
    ' "users": [{"id": 2, "email": "John.Doe@example.com"},'
    ' {"id": 3, "email": "Jane.Doe@example.com"}],'
    ' "actions": ["GET", "PUT", "DELETE"], "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}'
)
DOC_NUMBERS = (
    '{"latency": 1500, "numbers": [0.001, 2], "errorCode": 400,'
    ' "processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}]}'
)
APACHE = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /index.html HTTP/1.0" 404 12',
]

DOC_CASES: list[tuple[str, str, bool]] = [
    ('{ $.eventType = "UpdateTrail" }', DOC_EVENT, True),
    ("{ $.sourceIPAddress != 123.123.* }", DOC_EVENT, True),
    ("{ $.sourceIPAddress = 111.111.* }", DOC_EVENT, True),
    ('{ $.arrayKey[0] = "value" }', DOC_EVENT, True),
    ("{ $.objectList[1].id = 2 }", DOC_EVENT, True),
    ("{ $.objectList[0].id = 2 }", DOC_EVENT, False),
    ("{ $.SomeObject IS NULL }", DOC_EVENT, True),
    ("{ $.SomeOtherObject NOT EXISTS }", DOC_EVENT, True),
    ("{ $.SomeObject NOT EXISTS }", DOC_EVENT, False),
    ("{ $.ThisFlag IS TRUE }", DOC_EVENT, True),
    ("{ $.ThisFlag IS FALSE }", DOC_EVENT, False),
    ("{ $.arrayKey = value }", DOC_EVENT, False),
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', DOC_COMPOUND, True),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }',
     DOC_COMPOUND, False),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch'
     " && $.actions[2] = nomatch }", DOC_COMPOUND, True),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch)'
     " && $.actions[2] = nomatch }", DOC_COMPOUND, False),
    ("{ $.users = 1 }", '{"users": [1, 2, 3]}', False),
    ("{ $.users != 1 }", '{"users": [1, 2, 3]}', False),
    ("{ $.latency >= 500 }", DOC_NUMBERS, True),
    ("{ $.numbers[0] < 10e3 }", DOC_NUMBERS, True),
    ("{ $.numbers[0] < 10e-3 }", DOC_NUMBERS, True),
    ("{ $.processes[4].averageRuntime <= 55.5 }", DOC_NUMBERS, True),
    ("{ $.errorCode = 400 }", DOC_NUMBERS, True),
    ("{ $.errorCode != 500 }", DOC_NUMBERS, True),
    ("{ $.latency > +1000 }", DOC_NUMBERS, True),
    ("{ $.latency > 1e4 }", DOC_NUMBERS, False),
    ("{$.foo = bar}", '{"foo": "bar"}', True),
    ("{$.foo = baz }", '{"foo": "bar"}', False),
    ("{$.foo = bar || $.foo = baz }", '{"foo": "baz"}', True),
    ('{ $.level = "ERROR" }', '  {"level": "ERROR"}  ', True),
    ('{ $.level = "ERROR" }', 'prefix {"level": "ERROR"}', False),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", APACHE[0], True),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", APACHE[3], False),
    ("[ip, user, username, timestamp, request, status_code = 200, bytes]", APACHE[1], False),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE[3], True),
    ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
     APACHE[3], True),
    ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
     APACHE[0], False),
    ("[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
     APACHE[3], True),
    ("[ip, user, ...]", APACHE[2], True),
    ("[..., status_code, bytes]", APACHE[2], True),
    ("[..., status_code = 5*, bytes]", APACHE[1], True),
    ("[..., status_code = 5*, bytes]", APACHE[0], False),
    ("[w1=ERROR, w2]", "ERROR message", True),
    ("[w1=ERROR, w2]", "WARN message", False),
    ("[w1=ERROR || w1=WARN, w2]", "WARN message", True),
    ("[w1!=ERROR&&w1!=WARN, w2]", "INFO message", True),
    ("[w1!=ERROR&&w1!=WARN, w2]", "ERROR WARN message", False),
    ("[a, b = 2.0]", "x 2", True),
    ("[a, b = 2]", "x 02", True),
    ("[a, b != 2]", "x two", True),
    ("[a, b < 3]", "x three", False),
    ("[(a = 1 || a = 2) && a != 3, b]", "2 x", True),
    ("[a = 1 && b = 2, b]", "1 2", True),
    ("[a = 1 && b = 2, b]", "1 3", False),
]


@pytest.mark.parametrize(("pattern", "corpus", "expected"), CASES)
def test_pattern_matches_exactly_the_expected_events(
        pattern: str, corpus: list[str], expected: list[int]) -> None:
    compiled = compile_pattern(pattern)
    assert [i for i, message in enumerate(corpus) if compiled.matches(message)] == expected


@pytest.mark.parametrize(("pattern", "message", "expected"), DOC_CASES)
def test_documented_examples(pattern: str, message: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(message) is expected


EXTRACTED = [
    ("[ip, identity, user, timestamp, request, status, bytes]", SPACE[4], {
        "$ip": "127.0.0.5", "$identity": "-", "$user": "frank",
        "$timestamp": "10/Oct/2000:13:25:19 -0700", "$request": "GET /index.html HTTP/1.0",
        "$status": "404", "$bytes": "1534 extra"}),
    ("[..., request = *.html*, status = 4*, bytes]", SPACE[0], {
        "$1": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700",
        "$request": "GET /index.html HTTP/1.0", "$status": "404", "$bytes": "1534"}),
    ("[ip, ..., status, bytes]", SPACE[4], {
        "$ip": "127.0.0.5", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:19 -0700",
        "$5": "GET /index.html HTTP/1.0", "$6": "404", "$status": "1534", "$bytes": "extra"}),
    ("[..., bytes]", SPACE[11], {"$1": "ERROR", "$2": '"unterminated', "$bytes": "words"}),
    ("[]", SPACE[10], {"$1": "ERROR", "$2": "two words"}),
    ("[w1=ERROR, w2]", SPACE[6], {"$w1": "ERROR", "$w2": "request failed"}),
    ("[w1=ERROR, w2]", SPACE[11], {"$w1": "ERROR", "$w2": '"unterminated words'}),
    ("[w1!=ERROR && w1!=WARNING, w2]", SPACE[5], {
        "$w1": "127.0.0.6",
        "$w2": '-\tfrank\t[10/Oct/2000:13:25:20 -0700]\t"GET /index.html HTTP/1.0"\t404\t1534'}),
    ("[..., request=*.html*, status_code=4*,]", SPACE[0], {
        "$1": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700",
        "$request": "GET /index.html HTTP/1.0", "$status_code": "404", "$7": "1534"}),
    ("[kind,value]", "SPACE 17", {"$kind": "SPACE", "$value": "17"}),
]


@pytest.mark.parametrize(("pattern", "message", "expected"), EXTRACTED)
def test_space_delimited_extracted_values(pattern: str, message: str,
                                          expected: dict[str, str]) -> None:
    match = compile_pattern(pattern).match(message)
    assert match is not None
    assert dict(match.extracted) == expected


def test_json_and_terms_extract_nothing_but_expose_the_document() -> None:
    match = compile_pattern("{ $.latency = * }").match('{"latency": 50, "requestType": "GET"}')
    assert match is not None
    assert dict(match.extracted) == {}
    assert match.value(parse_value_selector("$.latency")) == 50.0
    assert match.value(parse_value_selector("$.requestType")) == "GET"
    assert match.value(parse_value_selector("$.missing")) is None
    plain = compile_pattern("ERROR").match('ERROR {"a": 1}')
    assert plain is not None and dict(plain.extracted) == {}


def test_value_selectors_read_numbers_and_text_only() -> None:
    match = compile_pattern("{ $.a = * }").match(
        '{"a": "x", "n": 2.5, "b": true, "o": {"k": [7]}, "z": null}')
    assert match is not None
    assert match.value(parse_value_selector("$.n")) == 2.5
    assert match.value(parse_value_selector("$.o.k[0]")) == 7.0
    assert match.value(parse_value_selector("$.b")) is None
    assert match.value(parse_value_selector("$.z")) is None
    assert match.value(parse_value_selector("$.o")) is None
    fields = compile_pattern("[kind, value]").match("SPACE 17")
    assert fields is not None
    assert fields.value(parse_value_selector("$value")) == "17"
    assert fields.value(parse_value_selector("$missing")) is None


INVALID: list[tuple[str, int, str]] = [
    # (pattern, 0-based offset of the problem, words the message must contain)
    ("ERR*", 3, "'*' cannot appear in an unquoted term"),
    ('"ERROR', 0, "never closed"),
    ("ERROR -", 6, "'-' must be followed by a term"),
    ('"a"b', 3, "space after a quoted term"),
    ("%^(ERROR|WARN)%", 2, "no groups"),
    ("%hello!%", 6, "'!' is not allowed"),
    ("%café%", 4, "multi-byte"),
    ("%ERROR(?= 500)%", 6, "no groups"),
    ("%[abc%", 5, "failed to compile"),
    ("%%", 1, "empty"),
    ("%abc", 4, "must end with '%'"),
    ("{ $.v EXISTS }", 6, "NOT EXISTS"),
    ("{ $.v IS NOT NULL }", 9, "IS NOT is not supported"),
    ("{ $.v == 1 }", 6, "not '=='"),
    ("{ !($.v = 1) }", 2, "'!'"),
    ("{ $.v > 0 AND $.v < 2 }", 10, "&& or ||"),
    ('{ "v": [1] }', 2, "expected a selector"),
    ('{ $.v > "Alpha" }', 8, "must be a number"),
    ("{ $.v = %(Alpha|Beta)% }", 9, "no groups"),
    ("{ $.items[*].* = 1 }", 12, "at most 1 wildcard"),
    ('{ $..value = "hit" }', 4, "after '.'"),
    ('{ $.arr[-1] = "hit" }', 8, "array index"),
    ('{ $.arr[0:2] = "hit" }', 9, "expected ']'"),
    ('{ $.arr[*] = "hit" || $.items[*].a = 1 || $.* = "hit" || $.matrix[*][0] = 0 }',
     57, "at most 3 selectors with wildcards"),
    ("{ $.v = %Alpha% || $.v = %Beta% || $.v = %Gamma% }", 41, "at most 2 regular"),
    ("{ $.v = null }", 8, "IS NULL"),
    ("{ $.v = 1 ", 9, "must end with '}'"),
    ("{}", 1, "empty"),
    ("{ $.v = }", 8, "expected a value"),
    ("{ ($.v = 1 }", 11, "expected ')'"),
    ("{ $.v = a@b }", 9, "double quotes"),
    ("{ $ = 1 }", 2, "at least one step"),
    ("{ $.v IS MAYBE }", 9, "NULL, TRUE or FALSE"),
    ("{ $.v ~ 1 }", 6, "expected =, !="),
    ("[..., status, ...]", 14, "duplicate field '...'"),
    ("[word, word]", 7, "duplicate field 'word'"),
    ("[a, b", 5, "must end with ']'"),
    ("[a b]", 3, "expected ','"),
    ("[a, b = ]", 8, "expected a value"),
    ("[a, b > x]", 8, "must be a number"),
    ("[a = 1 && c = 2, b]", 10, "not a field of this pattern"),
    ("[a, %x% ]", 4, "cannot start a field name"),
    ("[a = %x%, b = %y%, c = %z%]", 23, "at most 2 regular"),
    ("x" * 1025, 1024, "at most 1024 characters"),
]


@pytest.mark.parametrize(("pattern", "offset", "words"), INVALID)
def test_invalid_patterns_point_at_the_problem(pattern: str, offset: int, words: str) -> None:
    with pytest.raises(SyntaxProblem) as caught:
        compile_pattern(pattern)
    assert caught.value.offset == offset, str(caught.value)
    assert words in str(caught.value)
    assert isinstance(caught.value, ValidationError)
    assert f"column {offset + 1}" in str(caught.value)


def test_error_message_shows_the_pattern_with_a_caret() -> None:
    with pytest.raises(SyntaxProblem) as caught:
        compile_pattern("{ $.v IS NOT NULL }")
    lines = str(caught.value).splitlines()
    assert lines[1] == "  { $.v IS NOT NULL }"
    assert lines[2] == "  " + " " * 9 + "^"


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(SyntaxProblem, match="nest deeper"):
        compile_pattern("{ " + "(" * 100 + "$.a = 1" + ")" * 100 + " }")
    with pytest.raises(SyntaxProblem, match="nest deeper"):
        compile_pattern("[" + "(" * 100 + "a = 1" + ")" * 100 + "]")


def test_deeply_nested_json_events_do_not_match_rather_than_crash() -> None:
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    assert not compile_pattern("{ $.a = 1 }").matches(deep)


def test_value_selector_errors() -> None:
    with pytest.raises(SyntaxProblem, match="wildcards are not allowed"):
        parse_value_selector("$.items[*].value")
    with pytest.raises(SyntaxProblem, match="starts with '\\$'"):
        parse_value_selector("latency")
    with pytest.raises(SyntaxProblem, match="cannot appear in a field name"):
        parse_value_selector("$a b")
    assert parse_value_selector("$['a.b']").json is not None


def test_pattern_kinds() -> None:
    assert compile_pattern("").kind == "all"
    assert compile_pattern("ERROR").kind == "terms"
    assert compile_pattern("%E%").kind == "regex"
    assert compile_pattern("{ $.a = 1 }").kind == "json"
    assert compile_pattern("[a]").kind == "delimited"
