"""Fuzzing what users give the bus: PutEvents entries, target settings and rules are
either accepted or refused with a ValidationError, never anything else."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipetrail.actions.context import ActionContext, Caller
from pipetrail.actions.events import _entry_event
from pipetrail.config import Settings
from pipetrail.events.rules import RULE_STATES, Rule
from pipetrail.events.targets import Target, kind_names
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import local_identity

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)
ENTRY_KEYS = st.sampled_from(["Source", "DetailType", "Detail", "Resources", "Time",
                              "EventBusName", "Other"])
CONFIG_KEYS = st.sampled_from(["url", "headers", "to", "subjectPrefix", "command",
                               "timeoutSeconds", "retryPolicy", "extra"])
# A context without a store: _entry_event only reads the workspace.
CTX = ActionContext(store=None,  # type: ignore[arg-type]
                    settings=Settings(), caller=Caller(local_identity("local")))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(ENTRY_KEYS, JSON | st.text(max_size=30), max_size=6))
def test_entries_are_accepted_or_refused(entry: dict[str, Any]) -> None:
    try:
        event = _entry_event(CTX, entry)
    except ValidationError:
        return
    assert event.to_json()["source"] == entry["Source"]


@pytest.mark.parametrize("when", [float("inf"), 1e300, -5, "99999999999999999999", "x", [1]])
def test_entry_times_out_of_range_are_refused(when: object) -> None:
    with pytest.raises(ValidationError, match=r"(?i)time"):
        _entry_event(CTX, {"Source": "a", "DetailType": "b", "Time": when})


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(kind_names()), st.dictionaries(CONFIG_KEYS, JSON, max_size=5),
       st.none() | st.text(max_size=40))
def test_target_settings_are_accepted_or_refused(kind: str, config: dict[str, Any],
                                                 secret: str | None) -> None:
    try:
        target = Target.from_request("t", kind, config, secret)
    except ValidationError:
        return
    Target.from_stored("t", kind, target.config_json(), target.secret).validate()


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=70), st.text(max_size=60) | JSON.map(str),
       st.sampled_from([*RULE_STATES, "ON"]), st.lists(st.text(max_size=8), max_size=7))
def test_rules_are_accepted_or_refused(name: str, pattern: str, state: str,
                                       targets: list[str]) -> None:
    rule = Rule(name, pattern, state, targets=targets)
    try:
        rule.validate()
    except ValidationError:
        return
    assert rule.pattern is not None
    assert isinstance(rule.receives_trail, bool)


@pytest.mark.parametrize("url, message", [
    ("http://[x/", "not a valid URL"),
    ("http://a b/", "spaces or control characters"),
    ("ftp://host/", "not an http:// or https:// URL"),
    ("http:///path", "not an http:// or https:// URL"),
    ("http://host:99999/", "invalid port"),
])
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Target.from_request("t", "webhook", {"url": url}, "0123456789abcdef")
    with pytest.raises(ValidationError, match=message):
        Target.from_request("t", "slack", {"url": url}, None)
