"""Runs a job script under ``pipetrail run``: installs the SDK hooks, then the script.

``python -m pipetrail.sdk.bootstrap SCRIPT [ARGS...]`` behaves like ``python SCRIPT
[ARGS...]`` (same ``sys.argv``, ``sys.path[0]``, ``__main__``, exit code and traceback),
with stdout line-buffered so that output streams line by line. Under a runner (a side
channel is open) it also sends, through the channel: every Python ``logging`` record;
the job's environment (Python and key package versions); the uncaught exception with
its frames; the datasets the job reads and writes (:mod:`pipetrail.sdk.capture` wraps
pandas, Polars and PySpark when, and only if, the script imports them); PySpark's
application and action call sites (:mod:`pipetrail.sdk.spark_hooks`); and, should the
interpreter crash or be stopped by SIGTERM (a timeout), the Python stack at that moment
(``faulthandler``, written as plain text lines into the channel, never to the job's own
stderr).

Frames of the SDK's own wrappers are left out of the tracebacks it prints and reports,
so an uncaught error looks as it would without Pipetrail.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import runpy
import signal
import sys
import time
import traceback
from types import TracebackType

from pipetrail.sdk.channel import Channel, activate

# Set to 0/false/off/no to run the job without data-access capture.
ENV_DATA_CAPTURE = "PIPETRAIL_DATA_CAPTURE"
OFF = ("0", "false", "off", "no")

_SDK_DIR = os.path.dirname(os.path.abspath(__file__))
_CAPTURE_DIR = os.path.join(_SDK_DIR, "capture") + os.sep
# How long a job that ends quickly waits for its environment report to be sent.
ENVIRONMENT_WAIT_SECONDS = 1.0


def install_logging_hook(channel: Channel) -> None:
    """Copy each logging record that reaches its handlers to the channel.

    Wraps ``Logger.callHandlers`` rather than adding a handler, so ``basicConfig`` and
    the last-resort handler behave exactly as without Pipetrail.
    """
    original = logging.Logger.callHandlers

    def call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it itself
            message = str(record.msg)
        entry = {"t": "log", "ts": int(record.created * 1000), "level": record.levelname,
                 "logger": record.name, "message": message}
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        channel.send(entry)
        original(self, record)

    logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign]


def install_fault_reports(channel: Channel) -> None:
    """Dump the Python stacks into the channel on a fatal signal (segfault, abort …) and
    on SIGTERM (then terminate as before: the previous, default action is chained)."""
    fd = channel.fileno()
    if fd is None:
        return
    try:
        faulthandler.enable(file=fd, all_threads=True)
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            faulthandler.register(signal.SIGTERM, file=fd, all_threads=True, chain=True)
    except (OSError, ValueError, RuntimeError):
        return


def _user_frames(tb: TracebackType | None, script: str) -> TracebackType | None:
    """Skip the bootstrap's and runpy's own frames at the top of a traceback."""
    current = tb
    while current is not None:
        filename = current.tb_frame.f_code.co_filename
        if filename == script or not (filename.startswith(_SDK_DIR) or "runpy" in filename
                                      or filename.startswith("<frozen runpy")):
            return current
        current = current.tb_next
    return tb


def _without_wrappers(stack: traceback.StackSummary) -> traceback.StackSummary:
    """A stack without the frames of the data-capture wrappers."""
    return traceback.StackSummary.from_list(
        [f for f in stack if not f.filename.startswith(_CAPTURE_DIR)])


def print_exception(exc: BaseException, script: str) -> None:
    """Print ``exc`` as Python would, without the bootstrap's and the wrappers' frames."""
    report = traceback.TracebackException(type(exc), exc, _user_frames(exc.__traceback__,
                                                                       script))
    pending, seen = [report], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.stack = _without_wrappers(current.stack)
        pending.extend(c for c in (current.__cause__, current.__context__) if c is not None)
        pending.extend(getattr(current, "exceptions", None) or [])
    sys.stderr.write("".join(report.format()))


def report_exception(channel: Channel | None, exc: BaseException, script: str) -> None:
    if channel is None:
        return
    frames = [
        {"file": f.filename, "line": f.lineno, "function": f.name, "code": f.line}
        for f in _without_wrappers(
            traceback.extract_tb(_user_frames(exc.__traceback__, script)))
    ]
    record = {"t": "exception", "ts": int(time.time() * 1000),
              "type": type(exc).__qualname__, "module": type(exc).__module__,
              "message": str(exc)[:65536], "frames": frames[-200:]}
    if isinstance(exc, SyntaxError):  # where the bad code is, not where it was compiled
        record.update({"file": exc.filename, "line": exc.lineno,
                       "code": (exc.text or "").strip() or None})
    channel.send(record)


def main() -> None:
    if len(sys.argv) < 2:
        sys.stderr.write("usage: python -m pipetrail.sdk.bootstrap SCRIPT [ARGS...]\n")
        sys.exit(2)
    script = os.path.abspath(sys.argv[1])
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(script)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    channel = Channel.from_env()
    activate(channel)
    environment = None
    if channel is not None:
        from pipetrail.sdk.environment import report_environment
        from pipetrail.sdk.spark_hooks import install_spark_hooks

        install_logging_hook(channel)
        if os.environ.get(ENV_DATA_CAPTURE, "1").strip().lower() not in OFF:
            from pipetrail.sdk.capture import install as install_capture

            install_capture(channel)
        install_fault_reports(channel)
        install_spark_hooks(channel, script)
        environment = report_environment(channel)
    try:
        runpy.run_path(script, run_name="__main__")
    except (SystemExit, KeyboardInterrupt) as exc:
        if isinstance(exc, KeyboardInterrupt):
            report_exception(channel, exc, script)
        raise
    except BaseException as exc:
        report_exception(channel, exc, script)
        print_exception(exc, script)
        sys.stderr.flush()
        sys.exit(1)
    finally:
        if environment is not None:
            environment.join(ENVIRONMENT_WAIT_SECONDS)


if __name__ == "__main__":
    main()
