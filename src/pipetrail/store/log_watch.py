"""Waiting for new log events without re-reading the events table.

- PostgreSQL: every append notifies ``NOTIFY_CHANNEL`` in its transaction (delivered at
  commit); the watcher LISTENs on a connection of its own and wakes on a notification.
- SQLite: the watcher keeps a connection of its own and checks ``PRAGMA data_version``,
  which changes when another connection commits, every ``poll`` seconds. The check reads
  the WAL index in shared memory, not the tables, so it costs microseconds.

A wake-up says only that something may have changed; the caller then reads.
"""

from __future__ import annotations

import contextlib
import time
from types import TracebackType
from typing import Any

from sqlalchemy.engine import Engine

NOTIFY_CHANNEL = "pipetrail_log_events"


class LogWatcher:
    """``wait(timeout)``: True when new events may be there, False on timeout."""

    def wait(self, timeout: float) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        """Release the watcher's connection."""

    def __enter__(self) -> LogWatcher:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class _SqliteWatcher(LogWatcher):
    def __init__(self, engine: Engine, poll: float) -> None:
        self._raw: Any = engine.raw_connection()
        self._poll = poll
        self._version = self._read_version()

    def _read_version(self) -> int:
        cursor = self._raw.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            version = self._read_version()
            if version != self._version:
                self._version = version
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self._poll, left))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.close()


class _PostgresWatcher(LogWatcher):
    def __init__(self, engine: Engine) -> None:
        self._raw: Any = engine.raw_connection()
        conn: Any = self._raw.driver_connection
        conn.autocommit = True
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self._conn: Any = conn

    def wait(self, timeout: float) -> bool:
        woke = False
        for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            woke = True
        if woke:  # take what else is queued: one read covers them all
            for _ in self._conn.notifies(timeout=0):
                pass
        return woke

    def close(self) -> None:
        # The connection has LISTENed and is in autocommit: drop it, never reuse it.
        with contextlib.suppress(Exception):
            self._raw.invalidate()


def open_watcher(engine: Engine, poll: float) -> LogWatcher:
    if engine.dialect.name == "postgresql":
        return _PostgresWatcher(engine)
    return _SqliteWatcher(engine, poll)
