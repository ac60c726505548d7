"""Where in the user's own code a job failed: frames, and the code around a line.

Frames come from three places: the uncaught exception the SDK reports (driver side),
Python tracebacks printed inside an exception message (a PySpark UDF's worker
traceback), and ``faulthandler`` stacks (a crashed interpreter, or the stack at a
timeout's SIGTERM). Frames in the standard library, in installed packages and in
Pipetrail itself are library frames; everything else is the user's code.
"""

from __future__ import annotations

import os
import re
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

SNIPPET_BEFORE = 3
SNIPPET_AFTER = 2
MAX_SOURCE_BYTES = 10 * 1024 * 1024

# A traceback line: `  File "/x/job.py", line 12, in main`
_TRACEBACK_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<fn>.+?)\s*$')
# A faulthandler line: `  File "/x/job.py", line 12 in main`
_FAULT_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<fn>.+?)\s*$')
_FAULT_THREAD = re.compile(r"^(?P<current>Current thread|Thread) 0x[0-9a-fA-F]+")


@dataclass(frozen=True)
class Frame:
    file: str
    line: int
    function: str
    code: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "function": self.function,
                "code": self.code}


@lru_cache(maxsize=1)
def _library_prefixes() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    prefixes = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib", "purelib",
                                                     "platlib") if k in paths}
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the pipetrail package
    prefixes.add(here)
    return tuple(p.rstrip(os.sep) + os.sep for p in prefixes)


def is_user_file(path: str) -> bool:
    """True for a frame in the user's code (not a library, not ``<frozen …>``)."""
    if not path or path.startswith("<"):
        return False
    if f"{os.sep}site-packages{os.sep}" in path or f"{os.sep}dist-packages{os.sep}" in path:
        return False
    real = os.path.realpath(path)
    return not any(real.startswith(p) or path.startswith(p) for p in _library_prefixes())


def frames_from_records(records: Iterable[object]) -> list[Frame]:
    """Frames as the SDK reports them (``{"file", "line", "function", "code"}``)."""
    found = []
    for item in records:
        if not isinstance(item, dict):
            continue
        line = item.get("line")
        if isinstance(item.get("file"), str) and isinstance(line, int):
            found.append(Frame(item["file"], line, str(item.get("function") or "?"),
                               item.get("code") if isinstance(item.get("code"), str) else None))
    return found


def frames_from_traceback_text(text: str) -> list[Frame]:
    """Frames of Python tracebacks printed in ``text`` (oldest first, as printed)."""
    found = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _TRACEBACK_FRAME.match(line)
        if match is None:
            continue
        code = lines[index + 1].strip() if index + 1 < len(lines) else None
        if code is not None and (code.startswith("File ") or set(code) <= set("^~ ")):
            code = None
        found.append(Frame(match["file"], int(match["line"]), match["fn"], code))
    return found


def frames_from_fault_text(lines: Iterable[str]) -> list[Frame]:
    """The stack ``faulthandler`` dumped, oldest first, from the thread that was in the
    user's code (the current thread when it was, else the first that was)."""
    blocks: list[tuple[bool, list[Frame]]] = []
    for line in lines:
        thread = _FAULT_THREAD.match(line)
        if thread is not None:
            blocks.append((thread["current"] == "Current thread", []))
            continue
        match = _FAULT_FRAME.match(line)
        if match is not None and blocks:
            blocks[-1][1].append(Frame(match["file"], int(match["line"]), match["fn"]))
    with_user = [(current, frames) for current, frames in blocks
                 if any(is_user_file(f.file) for f in frames)]
    if not with_user:
        return []
    with_user.sort(key=lambda block: not block[0])  # the current thread first
    return list(reversed(with_user[0][1]))  # faulthandler prints the newest first


def deepest_user_frame(frames: list[Frame]) -> Frame | None:
    """The innermost frame (frames are oldest first) in the user's code."""
    for frame in reversed(frames):
        if is_user_file(frame.file):
            return frame
    return None


def snippet(source: str, line: int) -> list[dict[str, object]]:
    """The lines around ``line`` (1-based), the failing one marked."""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return []
    start, end = max(1, line - SNIPPET_BEFORE), min(len(lines), line + SNIPPET_AFTER)
    return [{"line": n, "code": lines[n - 1], **({"failing": True} if n == line else {})}
            for n in range(start, end + 1)]


def read_source(path: str) -> str | None:
    """A user file's text from disk (for files other than the stored script)."""
    try:
        if os.path.getsize(path) > MAX_SOURCE_BYTES:
            return None
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None
