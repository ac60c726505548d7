from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipetrail.model.logs import split_message


@given(st.text(), st.integers(min_value=4, max_value=64))
def test_split_message_keeps_everything_and_respects_the_limit(text: str, limit: int) -> None:
    pieces = split_message(text, limit)
    assert "".join(pieces) == text
    assert all(len(p.encode()) <= limit for p in pieces)


def test_split_never_cuts_a_character() -> None:
    text = "é" * 10  # two bytes each
    assert split_message(text, 5) == ["éé", "éé", "éé", "éé", "éé"]
