"""Timestamps as Spark's REST API writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rest_date(epoch_ms: int) -> str:
    """``1795559084782`` → ``"2026-11-24T22:24:44.782GMT"`` (the History Server's format).

    Works for the ``-1`` Spark uses for "not ended" (``1969-12-31T23:59:59.999GMT``).
    """
    moment = _EPOCH + timedelta(milliseconds=epoch_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}GMT"
