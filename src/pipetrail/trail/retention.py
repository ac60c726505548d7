"""Retention of the trail, and the legal holds that stop it.

Retention expires whole delivered log files: a log file whose newest event is older
than the retention period, and that holds no event under a legal hold, is deleted from
the archive, and its events from the store. A hold covers a time window (either end
open) and/or one resource (an ARN or a dataset URI, as ``trail lookup --resource``
matches it): a resource hold holds the events naming the resource in its window; a
hold without a resource holds every log file whose events' time span meets its
window. Undelivered events never expire, and the digests (which name every log file
and sign its hashes) are never deleted: they are small, hold no event data, and are
what lets ``trail validate`` tell an expired file from a deleted one.

One expiry step records the files as expired (key, shard, event numbers, the chain hash
of the last event, the cutoff) and deletes their events from the store in one
transaction, then deletes the files from the archive and confirms it; a step cut short
is finished by the next one. Validation accepts exactly what is recorded, when the
digests agree with it (see ``pipetrail.trail.validate``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipetrail.model.clock import iso_from_ms
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.store import Store
from pipetrail.store.trail import LogFileRow
from pipetrail.store.trail_retention import ExpiredFile, LegalHold
from pipetrail.trail.archive import Archive

DAY_MS = 86_400_000
MIN_DAYS = 1
MAX_DAYS = 36_500
DEFAULT_TRAIL = "default"
TRAILS = (DEFAULT_TRAIL,)
HOLD_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")
MAX_REASON = 1024
MAX_RESOURCE = 2048
#: Log files expired per store transaction.
STEP_FILES = 50
#: At most this many event ranges are named in the ApplyRetention audit event.
MAX_RANGES = 100


def check_trail(trail: str) -> None:
    if trail not in TRAILS:
        raise NotFoundError(f"no trail {trail!r}: the workspace has one trail, "
                            f"{DEFAULT_TRAIL!r}")


def check_days(days: int | None) -> None:
    if days is not None and not MIN_DAYS <= days <= MAX_DAYS:
        raise ValidationError(f"the retention period must be between {MIN_DAYS} and "
                              f"{MAX_DAYS} days, not {days}")


def check_hold(name: str, start: int | None, end: int | None, resource: str | None,
               reason: str) -> None:
    if not HOLD_NAME.fullmatch(name):
        raise ValidationError("a legal hold's name must be 1 to 128 letters, digits, '.', '_' "
                              f"or '-', not {name[:140]!r}")
    if start is not None and end is not None and start >= end:
        raise ValidationError("the hold's start time must be before its end time")
    if resource is not None and not 1 <= len(resource) <= MAX_RESOURCE:
        raise ValidationError(f"the hold's resource must be 1 to {MAX_RESOURCE} characters")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"the hold's reason must be at most {MAX_REASON} characters")


def hold_record(hold: LegalHold) -> dict[str, Any]:
    return {"name": hold.name, "trail": hold.trail,
            "startTime": None if hold.start is None else iso_from_ms(hold.start),
            "endTime": None if hold.end is None else iso_from_ms(hold.end),
            "resource": hold.resource, "reason": hold.reason,
            "createdOn": iso_from_ms(hold.created_on), "createdBy": hold.created_by}


@dataclass
class RetentionPlan:
    """What an expiry step at ``now`` would do under a retention of ``days``."""

    days: int | None
    cutoff: int | None
    expire: list[LogFileRow] = field(default_factory=list)
    held: list[LogFileRow] = field(default_factory=list)
    #: Files expired earlier whose deletion from the archive is not confirmed yet.
    unfinished: list[ExpiredFile] = field(default_factory=list)


@dataclass
class RetentionOutcome:
    plan: RetentionPlan
    dry_run: bool
    #: The files expired (or, in a dry run, that would be).
    files: list[LogFileRow] = field(default_factory=list)
    events: int = 0

    def to_record(self, keys: bool = False) -> dict[str, Any]:
        files = self.files
        record: dict[str, Any] = {
            "dryRun": self.dry_run,
            "retentionDays": self.plan.days,
            "cutoffTime": None if self.plan.cutoff is None else iso_from_ms(self.plan.cutoff),
            "logFilesDeleted": len(files),
            "eventsDeleted": self.events,
            "logFilesHeld": len(self.plan.held),
            "oldestEventTime": iso_from_ms(min(f.oldest_event for f in files)) if files else None,
            "newestEventTime": iso_from_ms(max(f.newest_event for f in files)) if files else None,
        }
        ranges = event_ranges(files)
        record["eventRanges"] = ranges[:MAX_RANGES]
        if len(ranges) > MAX_RANGES:
            record["eventRangesTruncated"] = True
        if keys:
            record["logFiles"] = [f.log_key for f in files]
        return record


def event_ranges(log_files: Sequence[LogFileRow]) -> list[dict[str, Any]]:
    """The files' event numbers, joined into runs per shard."""
    runs: list[dict[str, Any]] = []
    for f in sorted(log_files, key=lambda f: (f.shard, f.first_seq)):
        last = runs[-1] if runs else None
        if last and last["shard"] == f.shard and last["lastSequence"] + 1 == f.first_seq:
            last["lastSequence"] = f.last_seq
        else:
            runs.append({"shard": f.shard, "firstSequence": f.first_seq,
                         "lastSequence": f.last_seq})
    return runs


def plan_retention(store: Store, days: int | None, holds: Sequence[LegalHold], now: int
                   ) -> RetentionPlan:
    unfinished = store.expired_trail_files(archive_pending=True)
    if days is None:
        return RetentionPlan(None, None, unfinished=unfinished)
    cutoff = now - days * DAY_MS
    candidates = store.live_trail_log_files(before=cutoff)
    held = held_files(store, candidates, holds, cutoff)
    return RetentionPlan(days, cutoff, [f for f in candidates if f.log_key not in held],
                         [f for f in candidates if f.log_key in held], unfinished)


def held_files(store: Store, candidates: Sequence[LogFileRow], holds: Sequence[LegalHold],
               cutoff: int) -> set[str]:
    """The keys of the candidate files holding an event under a hold."""
    by_shard: dict[str, list[LogFileRow]] = {}
    for f in sorted(candidates, key=lambda f: (f.shard, f.first_seq)):
        by_shard.setdefault(f.shard, []).append(f)
    firsts = {shard: [f.first_seq for f in rows] for shard, rows in by_shard.items()}
    held: set[str] = set()
    for hold in holds:
        if hold.resource is None:
            held.update(f.log_key for f in candidates
                        if (hold.start is None or f.newest_event >= hold.start)
                        and (hold.end is None or f.oldest_event < hold.end))
            continue
        end = cutoff if hold.end is None else min(hold.end, cutoff)
        for shard, seq in store.held_positions(hold.resource, hold.start, end):
            rows = by_shard.get(shard)
            if not rows:
                continue
            index = bisect.bisect_right(firsts[shard], seq) - 1
            if index >= 0 and rows[index].last_seq >= seq:
                held.add(rows[index].log_key)
    return held


def apply_retention(store: Store, archive: Archive, plan: RetentionPlan, now: int
                    ) -> RetentionOutcome:
    """Carry out ``plan``: finish earlier steps, then expire its files in steps."""
    outcome = RetentionOutcome(plan, dry_run=False)
    _delete_from_archive(store, archive, [f.log_key for f in plan.unfinished])
    if plan.cutoff is None:
        return outcome
    for first in range(0, len(plan.expire), STEP_FILES):
        step = plan.expire[first:first + STEP_FILES]
        expired = store.expire_trail_files(step, plan.cutoff, now)
        keys = {f.log_key for f in expired.files}
        _delete_from_archive(store, archive, sorted(keys))
        outcome.files += [f for f in step if f.log_key in keys]
        outcome.events += expired.events
    return outcome


def _delete_from_archive(store: Store, archive: Archive, keys: Sequence[str]) -> None:
    for key in keys:
        archive.delete(key)
    store.confirm_archive_deleted(keys)


def dry_run(plan: RetentionPlan) -> RetentionOutcome:
    return RetentionOutcome(plan, dry_run=True, files=list(plan.expire),
                            events=sum(f.last_seq - f.first_seq + 1 for f in plan.expire))
