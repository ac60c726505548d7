from __future__ import annotations

import pytest

from pipetrail.model.clock import cloudtrail_time, iso_from_ms, parse_time
from pipetrail.model.errors import ValidationError

NOW = 1_790_000_000_000


@pytest.mark.parametrize("text, expected", [
    ("2026-11-25T10:00:00Z", 1_795_600_800_000),
    ("2026-11-25T11:00:00+01:00", 1_795_600_800_000),
    ("2026-11-25T10:00:00", 1_795_600_800_000),
    ("2026-11-25", 1_795_564_800_000),
    ("1795600800", 1_795_600_800_000),
    ("1795600800000", 1_795_600_800_000),
    ("now", NOW),
    ("15m", NOW - 900_000),
    ("2h", NOW - 7_200_000),
    ("7d", NOW - 604_800_000),
])
def test_parse_time(text: str, expected: int) -> None:
    assert parse_time(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "15 minutes", "2026-13-01", ""])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ValidationError, match="cannot read time"):
        parse_time(text, now=NOW)


def test_formats() -> None:
    assert iso_from_ms(1_795_600_800_123) == "2026-11-25T10:00:00.123Z"
    assert cloudtrail_time(1_795_600_800_999) == "2026-11-25T10:00:00Z"
