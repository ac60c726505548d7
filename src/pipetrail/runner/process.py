"""Process plumbing for job runs: parent-death signal, subreaper, signal names."""

from __future__ import annotations

import contextlib
import ctypes
import signal

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)  # the C library already loaded
    except OSError:
        return None


# Loaded once, in the parent: die_with_parent runs between fork and exec, where it must
# not spawn anything (ctypes.util.find_library would).
_LIBC = _libc()


def _prctl(option: int, value: int) -> None:
    if _LIBC is None:
        return
    with contextlib.suppress(AttributeError):
        _LIBC.prctl(option, value, 0, 0, 0)


def become_subreaper() -> None:
    """Orphaned descendants of the job reparent to this process (Linux), so the runner
    can see and stop them when the job ends."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent() -> None:
    """In the child, before exec: receive SIGTERM if the runner dies."""
    _prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


def describe_exit(returncode: int) -> tuple[int, str | None]:
    """The shell-style exit code and, for a signal, a message naming it."""
    if returncode >= 0:
        return returncode, None
    signum = -returncode
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    return 128 + signum, f"killed by {name}"
