"""Where the events of a time window are read from: the archive or the store.

Each shard's chain is cut into stretches. A stretch delivered in a log file that
retention has not expired is read from the archive, when the file's events (by its
oldest and newest event) can fall in the window; every other stretch (not delivered
yet, or delivered in a file that is gone or unreadable) is read from the store. Every
event is therefore read once, from one place; and a file that cannot be read falls
back to the store's copy of its events (when the store still has them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pipetrail.store import Store
from pipetrail.store.trail import LogFileRow
from pipetrail.trail import files
from pipetrail.trail.archive import Archive


@dataclass(frozen=True)
class Stretch:
    """Events ``first``..``last`` (``last`` None: to the end) of ``shard`` in the store."""

    shard: str
    first: int
    last: int | None


@dataclass
class Sources:
    start: int | None
    end: int | None
    files: list[LogFileRow] = field(default_factory=list)
    stretches: list[Stretch] = field(default_factory=list)

    def fall_back(self, log_file: LogFileRow) -> None:
        """Read ``log_file``'s events from the store instead."""
        self.stretches.append(Stretch(log_file.shard, log_file.first_seq, log_file.last_seq))


def plan(store: Store, start: int | None = None, end: int | None = None) -> Sources:
    """The sources of the events with an event time in ``[start, end)`` (ms)."""
    sources = Sources(start, end)
    live = store.live_trail_log_files()
    # Every append goes through its shard's head, so the heads name every shard (without
    # a DISTINCT over all events).
    shards = sorted({h.shard for h in store.chain_heads()} | {f.shard for f in live})
    by_shard: dict[str, list[LogFileRow]] = {s: [] for s in shards}
    for log_file in live:
        by_shard[log_file.shard].append(log_file)
    for shard in shards:
        following = 1
        for log_file in by_shard[shard]:  # ordered by first event
            if log_file.first_seq > following:
                sources.stretches.append(Stretch(shard, following, log_file.first_seq - 1))
            following = max(following, log_file.last_seq + 1)
            if ((start is None or log_file.newest_event >= start)
                    and (end is None or log_file.oldest_event < end)):
                sources.files.append(log_file)
        sources.stretches.append(Stretch(shard, following, None))
    return sources


def store_bodies(store: Store, stretch: Stretch, start: int | None, end: int | None
                 ) -> Iterator[bytes]:
    """The canonical JSON of the stretch's events in the window, in chain order."""
    for row in store.chain_rows(stretch.shard, stretch.first, stretch.last, start=start,
                                end=end):
        yield row.body.encode()


def log_file_data(archive: Archive, key: str) -> bytes:
    """A log file's uncompressed ``{"Records":[…]}`` bytes; raises ArchiveNotFound or
    FileFormatError."""
    data = files.decompress(archive.get(key))
    if not (data.startswith(files.OPEN) and data.endswith(files.CLOSE)):
        raise files.FileFormatError('not a {"Records": [...]} file')
    return data
