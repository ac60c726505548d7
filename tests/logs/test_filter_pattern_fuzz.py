"""Fuzzing: filter patterns compile or raise ValidationError; matching never crashes."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipetrail.logs.filter_pattern import compile_pattern
from pipetrail.model.errors import ValidationError

FRAGMENTS = [
    "{", "}", "[", "]", "(", ")", "$", "$.", "$.a", "$.a.b", "[0]", "[*]", ".*", "['k']",
    "=", "!=", "<", "<=", ">", ">=", "==", "&&", "||", " ", "  ", ",", "...", "IS", "NULL",
    "TRUE", "FALSE", "NOT", "EXISTS", "null", "1", "-1", "1e3", "+2.5", "*", "a*", '"', '"x"',
    '""', "%", "%a%", "%(%", "%[a-z]+%", "ERROR", "?", "-", "?WARN", "-DEBUG", "w1", "\\",
    "é", "\t", "\n", "'",
]

pattern_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join),
)
messages = st.one_of(
    st.text(max_size=60),
    st.sampled_from([
        '{"a": 1, "b": {"c": [1, null, "x"]}}', '{"a": "ERROR"}', "ERROR 500 x",
        '1.2.3.4 - u [t] "GET / HTTP/1.1" 200 10', "[x] \"y z\" w", "", "{", '{"a": NaN}',
    ]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern_text, st.lists(messages, max_size=4))
def test_patterns_compile_or_raise_validation_error(text: str, events: list[str]) -> None:
    try:
        pattern = compile_pattern(text)
    except ValidationError:
        return
    for message in events:
        with contextlib.suppress(ValidationError):
            pattern.match(message)
