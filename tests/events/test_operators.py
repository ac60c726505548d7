"""Table-driven match / no-match cases for every pattern operator.

Patterns and events are JSON text, so numbers keep the form they are written in. Every
case is checked through the single-pattern matcher and through a rule set.
"""

from __future__ import annotations

import pytest

from tests.events.agreement import assert_matches

Case = tuple[str, str, str, bool]


def _cases(*rows: Case) -> list[pytest.ParameterSet]:
    return [pytest.param(p, e, want, id=name) for name, p, e, want in rows]


EXACT = _cases(
    ("string", '{"a": ["x"]}', '{"a": "x"}', True),
    ("string other", '{"a": ["x"]}', '{"a": "y"}', False),
    ("string case", '{"a": ["x"]}', '{"a": "X"}', False),
    ("missing field", '{"a": ["x"]}', '{"b": "x"}', False),
    ("or of values", '{"a": ["x", "y"]}', '{"a": "y"}', True),
    ("number", '{"a": [300]}', '{"a": 300}', True),
    ("number written otherwise", '{"a": [300]}', '{"a": 300.0}', False),
    ("number exponent form", '{"a": [3.0e2]}', '{"a": 3.0e2}', True),
    ("number vs exponent", '{"a": [300]}', '{"a": 3e2}', False),
    ("number vs string", '{"a": [300]}', '{"a": "300"}', False),
    ("string vs number", '{"a": ["300"]}', '{"a": 300}', False),
    ("true", '{"a": [true]}', '{"a": true}', True),
    ("true vs string", '{"a": [true]}', '{"a": "true"}', False),
    ("true vs 1", '{"a": [true]}', '{"a": 1}', False),
    ("false vs true", '{"a": [false]}', '{"a": true}', False),
    ("null", '{"a": [null]}', '{"a": null}', True),
    ("null vs missing", '{"a": [null]}', '{"b": 1}', False),
    ("null vs empty string", '{"a": [null]}', '{"a": ""}', False),
    ("empty string", '{"a": [""]}', '{"a": ""}', True),
    ("empty string vs null", '{"a": [""]}', '{"a": null}', False),
    ("nested", '{"detail": {"state": ["x"]}}', '{"detail": {"state": "x"}}', True),
    ("nesting differs", '{"detail": {"state": ["x"]}}', '{"state": "x"}', False),
    ("object is not a leaf", '{"a": ["x"]}', '{"a": {"b": "x"}}', False),
    ("leaf where object expected", '{"a": {"b": ["x"]}}', '{"a": "x"}', False),
    ("event array intersects", '{"r": ["arn1", "arn9"]}', '{"r": ["arn0", "arn1"]}', True),
    ("event array disjoint", '{"r": ["arn1"]}', '{"r": ["arn0", "arn2"]}', False),
    ("empty event array", '{"r": ["arn1"]}', '{"r": []}', False),
    ("nested event arrays", '{"r": ["x"]}', '{"r": [["a"], ["b", ["x"]]]}', True),
    ("unlisted fields ignored", '{"a": ["x"]}', '{"a": "x", "b": {"c": [1, 2]}}', True),
    ("all fields needed", '{"a": ["x"], "b": ["y"]}', '{"a": "x", "b": "z"}', False),
    ("dotted key is its own field", '{"a": {"b": ["x"]}}', '{"a.b": "x"}', False),
    ("unicode", '{"a": ["caf\\u00e9"]}', '{"a": "café"}', True),
)

PREFIX = _cases(
    ("prefix", '{"t": [{"prefix": "2017-10-02"}]}', '{"t": "2017-10-02T18:43:48Z"}', True),
    ("prefix other", '{"t": [{"prefix": "2017-10-02"}]}', '{"t": "2017-10-03T00:00Z"}', False),
    ("prefix is case sensitive", '{"t": [{"prefix": "ab"}]}', '{"t": "Abc"}', False),
    ("prefix equal to value", '{"t": [{"prefix": "abc"}]}', '{"t": "abc"}', True),
    ("prefix longer than value", '{"t": [{"prefix": "abcd"}]}', '{"t": "abc"}', False),
    ("empty prefix", '{"t": [{"prefix": ""}]}', '{"t": "anything"}', True),
    ("prefix vs number", '{"t": [{"prefix": "1"}]}', '{"t": 123}', False),
    ("prefix in array", '{"t": [{"prefix": "ad"}]}', '{"t": ["user", "admin"]}', True),
    ("prefix ignore case", '{"s": [{"prefix": {"equals-ignore-case": "EVENTB"}}]}',
     '{"s": "EventBridge"}', True),
    ("prefix ignore case other", '{"s": [{"prefix": {"equals-ignore-case": "EVENTB"}}]}',
     '{"s": "Events"}', False),
)

SUFFIX = _cases(
    ("suffix", '{"f": [{"suffix": ".png"}]}', '{"f": "photo.png"}', True),
    ("suffix other", '{"f": [{"suffix": ".png"}]}', '{"f": "photo.jpg"}', False),
    ("suffix case", '{"f": [{"suffix": ".png"}]}', '{"f": "photo.PNG"}', False),
    ("suffix whole value", '{"f": [{"suffix": ".png"}]}', '{"f": ".png"}', True),
    ("suffix longer than value", '{"f": [{"suffix": ".png"}]}', '{"f": "png"}', False),
    ("suffix vs number", '{"f": [{"suffix": "5"}]}', '{"f": 15}', False),
    ("suffix ignore case", '{"s": [{"suffix": {"equals-ignore-case": "tBridge"}}]}',
     '{"s": "EventBRIDGE"}', True),
    ("suffix ignore case other", '{"s": [{"suffix": {"equals-ignore-case": "tBridge"}}]}',
     '{"s": "EventBus"}', False),
)

EQUALS_IGNORE_CASE = _cases(
    ("same letters", '{"n": [{"equals-ignore-case": "alice"}]}', '{"n": "ALICE"}', True),
    ("mixed case", '{"n": [{"equals-ignore-case": "AlIcE"}]}', '{"n": "aLiCe"}', True),
    ("longer", '{"n": [{"equals-ignore-case": "alice"}]}', '{"n": "alicia"}', False),
    ("not a string", '{"n": [{"equals-ignore-case": "1"}]}', '{"n": 1}', False),
    ("non-ascii", '{"n": [{"equals-ignore-case": "ÉCOLE"}]}', '{"n": "école"}', True),
)

ANYTHING_BUT = _cases(
    ("string, other value", '{"s": [{"anything-but": "init"}]}', '{"s": "running"}', True),
    ("string, same value", '{"s": [{"anything-but": "init"}]}', '{"s": "init"}', False),
    ("string, number value", '{"s": [{"anything-but": "init"}]}', '{"s": 5}', True),
    ("string, null value", '{"s": [{"anything-but": "init"}]}', '{"s": null}', True),
    ("string, field missing", '{"s": [{"anything-but": "init"}]}', '{"t": "x"}', False),
    ("string list", '{"s": [{"anything-but": ["stopped", "overloaded"]}]}',
     '{"s": "running"}', True),
    ("string list, listed", '{"s": [{"anything-but": ["stopped", "overloaded"]}]}',
     '{"s": "overloaded"}', False),
    ("number", '{"x": [{"anything-but": 123}]}', '{"x": 124}', True),
    ("number, equal", '{"x": [{"anything-but": 123}]}', '{"x": 123}', False),
    ("number, equal when compared as numbers", '{"x": [{"anything-but": 123}]}',
     '{"x": 1.23e2}', False),
    ("number, string value", '{"x": [{"anything-but": 123}]}', '{"x": "123"}', True),
    ("number list", '{"x": [{"anything-but": [100, 200, 300]}]}', '{"x": 250}', True),
    ("number list, listed", '{"x": [{"anything-but": [100, 200, 300]}]}', '{"x": 200}',
     False),
    ("prefix", '{"s": [{"anything-but": {"prefix": "init"}}]}', '{"s": "running"}', True),
    ("prefix, has it", '{"s": [{"anything-but": {"prefix": "init"}}]}',
     '{"s": "initializing"}', False),
    ("prefix, number", '{"s": [{"anything-but": {"prefix": "1"}}]}', '{"s": 12}', True),
    ("suffix", '{"f": [{"anything-but": {"suffix": ".png"}}]}', '{"f": "a.jpg"}', True),
    ("suffix, has it", '{"f": [{"anything-but": {"suffix": ".png"}}]}', '{"f": "a.png"}',
     False),
    ("ignore case", '{"s": [{"anything-but": {"equals-ignore-case": "init"}}]}',
     '{"s": "running"}', True),
    ("ignore case, same", '{"s": [{"anything-but": {"equals-ignore-case": "init"}}]}',
     '{"s": "INIT"}', False),
    ("wildcard", '{"p": [{"anything-but": {"wildcard": "*/lib/*"}}]}',
     '{"p": "/usr/bin/x"}', True),
    ("wildcard, matches it", '{"p": [{"anything-but": {"wildcard": "*/lib/*"}}]}',
     '{"p": "/usr/lib/x"}', False),
    ("array with one other value", '{"t": [{"anything-but": "banned"}]}',
     '{"t": ["banned", "ok"]}', True),
    ("array of excluded values", '{"t": [{"anything-but": "banned"}]}',
     '{"t": ["banned", "banned"]}', False),
    ("two anything-buts are an or", '{"s": [{"anything-but": "a"}, {"anything-but": "b"}]}',
     '{"s": "a"}', True),
    ("anything-but or exact", '{"s": [{"anything-but": "a"}, "a"]}', '{"s": "a"}', True),
)

NUMERIC = _cases(
    ("range inside", '{"c": [{"numeric": [">", 0, "<=", 5]}]}', '{"c": 5}', True),
    ("range open bottom", '{"c": [{"numeric": [">", 0, "<=", 5]}]}', '{"c": 0}', False),
    ("range fraction", '{"c": [{"numeric": [">", 0, "<=", 5]}]}', '{"c": 0.5}', True),
    ("range above", '{"c": [{"numeric": [">", 0, "<=", 5]}]}', '{"c": 5.5}', False),
    ("six decimals kept", '{"c": [{"numeric": ["<=", 5]}]}', '{"c": 5.000001}', False),
    ("seventh decimal dropped", '{"c": [{"numeric": ["<=", 5]}]}', '{"c": 5.0000001}', True),
    ("less than", '{"d": [{"numeric": ["<", 10]}]}', '{"d": 9.99}', True),
    ("less than, equal", '{"d": [{"numeric": ["<", 10]}]}', '{"d": 10}', False),
    ("at or above", '{"d": [{"numeric": [">=", 1]}]}', '{"d": 1}', True),
    ("at or above, below", '{"d": [{"numeric": [">=", 1]}]}', '{"d": 0.999999}', False),
    ("equals", '{"x": [{"numeric": ["=", 3.018e2]}]}', '{"x": 301.8}', True),
    ("equals, other form", '{"x": [{"numeric": ["=", 3.018e2]}]}', '{"x": 301.80}', True),
    ("equals, other", '{"x": [{"numeric": ["=", 3.018e2]}]}', '{"x": 301.81}', False),
    ("negative zero", '{"x": [{"numeric": ["=", 0]}]}', '{"x": -0}', True),
    ("negative range", '{"x": [{"numeric": [">=", -10, "<", -1]}]}', '{"x": -5}', True),
    ("string is not a number", '{"x": [{"numeric": [">", 0]}]}', '{"x": "3"}', False),
    ("bool is not a number", '{"x": [{"numeric": [">", 0]}]}', '{"x": true}', False),
    ("limit itself", '{"x": [{"numeric": [">=", 5e9]}]}', '{"x": 5000000000}', True),
    ("beyond the limit", '{"x": [{"numeric": [">", 0]}]}', '{"x": 6e9}', False),
    ("any element of an array", '{"v": [{"numeric": [">", 0, "<", 10]}]}',
     '{"v": [100, 5, 200]}', True),
    ("no element in range", '{"v": [{"numeric": [">", 0, "<", 10]}]}',
     '{"v": [100, 200]}', False),
    ("or of ranges", '{"v": [{"numeric": ["<", 0]}, {"numeric": [">", 10]}]}',
     '{"v": 11}', True),
)

EXISTS = _cases(
    ("true, present", '{"p": [{"exists": true}]}', '{"p": "x"}', True),
    ("true, null value", '{"p": [{"exists": true}]}', '{"p": null}', True),
    ("true, missing", '{"p": [{"exists": true}]}', '{"q": "x"}', False),
    ("true, object value", '{"p": [{"exists": true}]}', '{"p": {"q": 1}}', False),
    ("true, empty array", '{"p": [{"exists": true}]}', '{"p": []}', False),
    ("false, missing", '{"d": {"c": [{"exists": false}]}}', '{"d": {"s": "x"}}', True),
    ("false, present", '{"d": {"c": [{"exists": false}]}}', '{"d": {"c": 1}}', False),
    ("false, null present", '{"d": {"c": [{"exists": false}]}}', '{"d": {"c": null}}', False),
    ("false, object is not a leaf", '{"d": {"c": [{"exists": false}]}}',
     '{"d": {"c": {"c1": 100}}}', True),
    ("false, empty array", '{"d": {"c": [{"exists": false}]}}', '{"d": {"c": []}}', True),
    ("false, parent missing", '{"d": {"c": [{"exists": false}]}}', '{"x": 1}', True),
    ("false, parent is a leaf", '{"d": {"c": [{"exists": false}]}}', '{"d": 5}', True),
    ("false, present in any element", '{"d": {"c": [{"exists": false}]}}',
     '{"d": [{"a": 1}, {"c": 2}]}', False),
    ("true or false", '{"e": [{"exists": true}, {"exists": false}]}', '{"x": 1}', True),
    ("false or value", '{"e": [{"exists": false}, "x"]}', '{"e": "x"}', True),
    ("false or value, other", '{"e": [{"exists": false}, "x"]}', '{"e": "y"}', False),
)

CIDR = _cases(
    ("ipv4 inside", '{"ip": [{"cidr": "10.0.0.0/24"}]}', '{"ip": "10.0.0.5"}', True),
    ("ipv4 top of block", '{"ip": [{"cidr": "10.0.0.0/24"}]}', '{"ip": "10.0.0.255"}', True),
    ("ipv4 outside", '{"ip": [{"cidr": "10.0.0.0/24"}]}', '{"ip": "10.0.1.5"}', False),
    ("ipv4 host bits ignored", '{"ip": [{"cidr": "10.0.0.1/24"}]}', '{"ip": "10.0.0.200"}',
     True),
    ("not an address", '{"ip": [{"cidr": "10.0.0.0/24"}]}', '{"ip": "localhost"}', False),
    ("number", '{"ip": [{"cidr": "10.0.0.0/8"}]}', '{"ip": 10}', False),
    ("ipv6 inside", '{"ip": [{"cidr": "2001:db8::/32"}]}', '{"ip": "2001:db8::1"}', True),
    ("ipv6 outside", '{"ip": [{"cidr": "2001:db8::/32"}]}', '{"ip": "2001:db9::1"}', False),
    ("ipv4 against ipv6 block", '{"ip": [{"cidr": "::/0"}]}', '{"ip": "10.0.0.1"}', False),
    ("any element", '{"ip": [{"cidr": "192.168.0.0/16"}]}',
     '{"ip": ["10.0.0.1", "192.168.3.4"]}', True),
)

WILDCARD = _cases(
    ("extension", '{"f": [{"wildcard": "*.png"}]}', '{"f": "a.png"}', True),
    ("star matches nothing", '{"f": [{"wildcard": "*.png"}]}', '{"f": ".png"}', True),
    ("other extension", '{"f": [{"wildcard": "*.png"}]}', '{"f": "a.jpg"}', False),
    ("folder", '{"f": [{"wildcard": "dir/*.png"}]}', '{"f": "dir/sub/a.png"}', True),
    ("other folder", '{"f": [{"wildcard": "dir/*.png"}]}', '{"f": "other/a.png"}', False),
    ("two stars", '{"f": [{"wildcard": "a*b*c"}]}', '{"f": "aXXbYc"}', True),
    ("two stars, no gap", '{"f": [{"wildcard": "a*b*c"}]}', '{"f": "abc"}', True),
    ("two stars, wrong order", '{"f": [{"wildcard": "a*b*c"}]}', '{"f": "acb"}', False),
    ("overlapping parts", '{"f": [{"wildcard": "ab*ba"}]}', '{"f": "aba"}', False),
    ("middle part", '{"f": [{"wildcard": "*Title*"}]}', '{"f": "A Title here"}', True),
    ("lone star", '{"f": [{"wildcard": "*"}]}', '{"f": ""}', True),
    ("lone star vs number", '{"f": [{"wildcard": "*"}]}', '{"f": 5}', False),
    ("no star is exact", '{"f": [{"wildcard": "abc"}]}', '{"f": "abcd"}', False),
    ("escaped star", '{"f": [{"wildcard": "a\\\\*b"}]}', '{"f": "a*b"}', True),
    ("escaped star is literal", '{"f": [{"wildcard": "a\\\\*b"}]}', '{"f": "axb"}', False),
    ("escaped backslash", '{"f": [{"wildcard": "a\\\\\\\\*"}]}', '{"f": "a\\\\bc"}', True),
    ("case sensitive", '{"f": [{"wildcard": "*.png"}]}', '{"f": "a.PNG"}', False),
)

OR = _cases(
    ("first branch", '{"$or": [{"a": ["1"]}, {"b": ["2"]}]}', '{"a": "1"}', True),
    ("second branch", '{"$or": [{"a": ["1"]}, {"b": ["2"]}]}', '{"b": "2"}', True),
    ("no branch", '{"$or": [{"a": ["1"]}, {"b": ["2"]}]}', '{"a": "2", "b": "1"}', False),
    ("and with or", '{"s": ["x"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}',
     '{"s": "y", "a": "1"}', False),
    ("nested under a field",
     '{"detail": {"$or": [{"source": ["cw"]}, {"type": ["alarm"]}]}}',
     '{"detail": {"type": "alarm"}}', True),
    ("nested under a field, top level does not count",
     '{"detail": {"$or": [{"source": ["cw"]}, {"type": ["alarm"]}]}}',
     '{"type": "alarm", "detail": {}}', False),
    ("and inside or",
     '{"$or": [{"a": ["1"], "b": ["2"]}, {"c": ["3"]}]}', '{"a": "1", "c": "4"}', False),
    ("or inside or",
     '{"$or": [{"a": ["1"], "$or": [{"m": [1]}, {"n": [2]}]}, {"c": ["3"]}]}',
     '{"a": "1", "n": 2}', True),
    ("two ors multiply",
     '{"$or": [{"a": ["1"]}, {"b": ["1"]}], "d": {"$or": [{"x": ["1"]}, {"y": ["1"]}]}}',
     '{"b": "1", "d": {"y": "1"}}', True),
    ("a branch overrides an earlier path",
     '{"name": ["a", "b"], "$or": [{"name": [{"anything-but": "a"}]}, {"c1": ["x"]}]}',
     '{"name": "c"}', True),
    ("the other branch keeps the earlier path",
     '{"name": ["a", "b"], "$or": [{"name": [{"anything-but": "a"}]}, {"c1": ["x"]}]}',
     '{"name": "c", "c1": "x"}', True),
    ("operators in branches",
     '{"$or": [{"n": [{"numeric": [">", 10]}]}, {"s": [{"prefix": "x"}]}]}',
     '{"n": 3, "s": "xy"}', True),
)

ARRAYS = _cases(
    ("fields from one element", '{"d": {"a": ["1"], "b": ["2"]}}',
     '{"d": [{"a": "1", "b": "2"}]}', True),
    ("fields split over elements", '{"d": {"a": ["1"], "b": ["2"]}}',
     '{"d": [{"a": "1"}, {"b": "2"}]}', False),
    ("later element", '{"d": {"a": ["1"], "b": ["2"]}}',
     '{"d": [{"a": "1"}, {"a": "1", "b": "2"}]}', True),
    ("separate arrays are independent", '{"x": {"a": ["1"]}, "y": {"b": ["2"]}}',
     '{"x": [{"a": "0"}, {"a": "1"}], "y": [{"b": "2"}]}', True),
    ("inner arrays split", '{"u": {"t": {"k": ["c"], "v": ["b"]}}}',
     '{"u": [{"t": [{"k": "c"}, {"v": "b"}]}]}', False),
    ("inner arrays same", '{"u": {"t": {"k": ["c"], "v": ["b"]}}}',
     '{"u": [{"t": [{"k": "c", "v": "b"}]}]}', True),
    ("arrays of arrays of objects", '{"e": {"f": ["Anna"], "l": ["Smith"]}}',
     '{"e": [[{"f": "John", "l": "Doe"}, {"f": "Anna", "l": "Smith"}], [{"f": "P"}]]}', True),
    ("arrays of arrays, split", '{"e": {"f": ["Anna"], "l": ["Jones"]}}',
     '{"e": [[{"f": "Anna", "l": "Smith"}], [{"f": "Peter", "l": "Jones"}]]}', False),
    ("primitive and object elements", '{"a": ["x"]}', '{"a": [{"b": 1}, "x"]}', True),
    ("leaf inside every element is not enough", '{"d": {"a": ["1"], "b": [{"exists": true}]}}',
     '{"d": [{"a": "2", "b": 1}, {"a": "1"}]}', False),
)


@pytest.mark.parametrize(("pattern", "event", "expected"), EXACT)
def test_exact_values(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), PREFIX)
def test_prefix(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), SUFFIX)
def test_suffix(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), EQUALS_IGNORE_CASE)
def test_equals_ignore_case(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), ANYTHING_BUT)
def test_anything_but(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), NUMERIC)
def test_numeric(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), EXISTS)
def test_exists(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), CIDR)
def test_cidr(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), WILDCARD)
def test_wildcard(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), OR)
def test_or(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), ARRAYS)
def test_arrays_in_events(pattern: str, event: str, expected: bool) -> None:
    assert_matches(pattern, event, expected)


def test_python_objects_number_by_their_json_form() -> None:
    assert_matches({"a": [300]}, {"a": 300}, True)
    assert_matches({"a": [300]}, {"a": 300.0}, False)
    assert_matches({"a": [{"numeric": ["=", 300]}]}, {"a": 300.0}, True)
    assert_matches({"a": [True]}, {"a": 1}, False)
