"""The side channel from a job to its runner: one JSON object per line on a pipe.

The runner passes the pipe's file descriptor in ``PIPETRAIL_CHANNEL_FD``. Records are
``{"t": KIND, ...}``; kinds so far: ``log`` (a Python logging record), ``exception``
(the job's uncaught exception, with its frames), ``data`` (a dataset read or written,
see :mod:`pipetrail.sdk.data`), ``env`` (Python and package versions), ``spark`` (a
SparkContext started), ``spark-action`` (an action's call site), ``spark-totals`` (the
application's final totals). ``faulthandler`` may also write plain text lines (a crashed
job's stacks); the runner receives them as ``text`` records. Only the standard library
is used, so the job's start-up stays fast.

The bootstrap makes its channel the *active* one (:func:`activate`); code inside the job
finds it with :func:`active`, which is ``None`` outside ``pipetrail run``.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

ENV_FD = "PIPETRAIL_CHANNEL_FD"
# The runner reads the channel in lines; a longer line would be cut and lost.
MAX_LINE_CHARS = 60_000


class Channel:
    def __init__(self, fd: int) -> None:
        self._file = os.fdopen(fd, "w", buffering=1, encoding="utf-8", errors="replace",
                               closefd=True)
        self._lock = threading.Lock()
        self.broken = False

    @classmethod
    def from_env(cls) -> Channel | None:
        value = os.environ.pop(ENV_FD, None)
        if not value:
            return None
        try:
            return cls(int(value))
        except (ValueError, OSError):
            return None

    def fileno(self) -> int | None:
        try:
            return self._file.fileno()
        except (OSError, ValueError):
            return None

    def send(self, record: dict[str, Any]) -> None:
        self.write_line(self.encode(record))

    def write_line(self, line: str) -> None:
        """Send one record encoded already (by :meth:`encode`)."""
        if self.broken:
            return
        with self._lock:
            try:
                self._file.write(line)
            except (OSError, ValueError):
                # The runner is gone: the job goes on, unmonitored.
                self.broken = True

    def close(self) -> None:
        with self._lock:
            self.broken = True
            self._file.close()

    @staticmethod
    def encode(record: dict[str, Any]) -> str:
        return json.dumps(record, default=str, ensure_ascii=False) + "\n"


_active: Channel | None = None


def activate(channel: Channel | None) -> None:
    """Make ``channel`` the one :func:`active` returns (``None``: no channel)."""
    global _active
    _active = channel


def active() -> Channel | None:
    """The channel of this job, or ``None`` when it does not run under ``pipetrail run``."""
    return _active
