"""The on-disk spool of a remote run: records wait here until the server has them.

``PIPETRAIL_HOME/spool/<run id>/`` holds ``meta.json`` (server URL, job, run), a
``lock`` file the owning process holds (``flock``) while it runs, and one file per
batch, ``<sequence>.json``, written whole (to a temporary name, then renamed) and never
changed. A batch is removed only after the server confirmed it stored it; a batch the
server refuses as invalid moves to ``spool/rejected/<run id>/`` with the reason. A spool
whose lock is free belongs to a process that died: the next remote run or
``pipetrail agent flush`` delivers it.

Files are not fsync'ed: a batch survives the crash of any process (the page cache keeps
it), but a power cut may lose the last ones, as the embedded store's
``synchronous=NORMAL`` may lose its last transactions.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import orjson

META = "meta.json"
LOCK = "lock"
REJECTED = "rejected"


@dataclass(frozen=True)
class Segment:
    """One batch file: its sequence number, path, size in bytes and record count."""

    seq: int
    path: Path
    size: int
    records: int


class Spool:
    """The spool of one run; thread-safe."""

    def __init__(self, directory: Path, meta: dict[str, Any], lock: TextIO) -> None:
        self.directory = directory
        self.meta = meta
        self._lock_file = lock
        self._mutex = threading.Lock()
        self._pending: list[Segment] = []
        self._next = 1

    @property
    def run_id(self) -> str:
        return str(self.meta["runId"])

    @property
    def job_name(self) -> str:
        return str(self.meta["jobName"])

    @classmethod
    def create(cls, root: Path, meta: dict[str, Any]) -> Spool:
        """A new spool for ``meta["runId"]``, locked by this process."""
        directory = root / str(meta["runId"])
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = (directory / LOCK).open("a")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _write_whole(directory / META, orjson.dumps(meta))
        return cls(directory, meta, lock)

    @classmethod
    def adopt(cls, directory: Path) -> Spool | None:
        """The spool of a process that is gone, now locked by this one; None when its
        owner still runs (or it is not a spool)."""
        try:
            lock = (directory / LOCK).open("a")
        except OSError:
            return None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            meta = orjson.loads((directory / META).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            lock.close()
            return None
        spool = cls(directory, meta, lock)
        spool._load()
        return spool

    def _load(self) -> None:
        found = []
        for path in self.directory.glob("*.json"):
            if path.name == META or not path.stem.isdigit():
                continue
            try:
                data = orjson.loads(path.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                continue  # cut short by a crash while written: it never was a batch
            found.append(Segment(int(path.stem), path, path.stat().st_size, _count(data)))
        found.sort(key=lambda s: s.seq)
        self._pending = found
        self._next = (found[-1].seq + 1) if found else 1
        for tmp in self.directory.glob("*.tmp"):
            tmp.unlink(missing_ok=True)

    def append(self, batch: dict[str, Any]) -> Segment:
        """Write one batch (an id is added); it is durable when this returns."""
        batch = {"batchId": str(uuid.uuid4()), **batch}
        data = orjson.dumps(batch)
        with self._mutex:
            seq = self._next
            self._next += 1
            path = self.directory / f"{seq:012d}.json"
            _write_whole(path, data)
            segment = Segment(seq, path, len(data), _count(batch))
            self._pending.append(segment)
        return segment

    def pending(self, max_records: int, max_bytes: int) -> list[Segment]:
        """The oldest batches, as many as fit the limits (at least one when any)."""
        with self._mutex:
            chosen: list[Segment] = []
            records = size = 0
            for segment in self._pending:
                if chosen and (records + segment.records > max_records
                               or size + segment.size > max_bytes):
                    break
                chosen.append(segment)
                records += segment.records
                size += segment.size
            return chosen

    def read(self, segment: Segment) -> bytes:
        return segment.path.read_bytes()

    def remove(self, segments: list[Segment]) -> None:
        """Forget batches the server stored."""
        done = {s.seq for s in segments}
        with self._mutex:
            self._pending = [s for s in self._pending if s.seq not in done]
        for segment in segments:
            segment.path.unlink(missing_ok=True)

    def reject(self, segments: list[Segment], reason: str) -> Path:
        """Move batches the server refused to ``rejected/<run id>/``, with the reason."""
        target = self.directory.parent / REJECTED / self.run_id
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_whole(target / META, orjson.dumps(self.meta))
        for segment in segments:
            with contextlib.suppress(OSError):
                os.replace(segment.path, target / segment.path.name)
            (target / f"{segment.path.stem}.error.txt").write_text(reason + "\n")
        done = {s.seq for s in segments}
        with self._mutex:
            self._pending = [s for s in self._pending if s.seq not in done]
        return target

    @property
    def empty(self) -> bool:
        with self._mutex:
            return not self._pending

    def counts(self) -> tuple[int, int]:
        """Batches and records waiting."""
        with self._mutex:
            return len(self._pending), sum(s.records for s in self._pending)

    def close(self) -> None:
        """Release the spool; an empty spool is removed."""
        if self.empty:
            shutil.rmtree(self.directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()


def orphans(root: Path, own: str | None = None) -> list[Path]:
    """Spool folders below ``root`` other than ``own`` (their owners may still run)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and p.name not in {REJECTED, own} and (p / META).exists())


def _count(batch: dict[str, Any]) -> int:
    return ((1 if batch.get("run") else 0) + len(batch.get("logEvents") or ())
            + len(batch.get("metricData") or ()) + len(batch.get("auditEvents") or ()))


def _write_whole(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
