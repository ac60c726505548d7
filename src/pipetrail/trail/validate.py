"""Validating the trail: the digest chain, signatures, log files and the store's chain.

For each shard, every digest the store recorded (or those ending in ``[start, end]``)
is read from the archive and checked as CloudTrail's ``validate-logs`` does: it is
there, it is a digest, it sits where it says, its signature verifies with the key its
fingerprint names, and it names its predecessor's hash and signature. Every log file a
digest lists must be there with the hash the digest gives. ``deep`` also re-reads each
log file's events and checks its Merkle root and the chain hash it ends in.

The store's chain is then walked: each event's hash must be SHA-256(previous hash ‖
body), the numbers must run without gaps up to the shard's head, and the hashes the
digests signed must be the store's. Problems name the file or the event; nothing stops
at the first one.

Retention (``pipetrail.trail.retention``) deletes whole log files and their events, and
records each one it expired. A log file a valid digest lists may then be missing from
the archive, and its events from the store's chain, when the record agrees with the
digest: same key, shard and event numbers, the same hash of its last event, and a
newest event (as the digest signed it) older than the recorded cutoff, itself at least
a day before the expiry. The chain walk then resumes after the expired events from the
hash the digest signed for the last of them, so the next stored event must continue
the signed chain. A record that no digest lists, or that disagrees with its digest, is
a problem; digests themselves are never expired.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pipetrail.model.chain import GENESIS, chain
from pipetrail.model.clock import iso_from_ms, parse_time
from pipetrail.model.errors import ValidationError
from pipetrail.store import Store
from pipetrail.store.trail import DigestRow
from pipetrail.store.trail_retention import ExpiredFile
from pipetrail.trail import files, layout
from pipetrail.trail.archive import Archive, ArchiveNotFound
from pipetrail.trail.retention import DAY_MS
from pipetrail.trail.signing import fingerprint, load_public_key, signed_text, verify

Progress = Callable[[str, int], None]
#: Events in a shard from which the store's chain is checked by two processes.
PARALLEL_FROM = 400_000


@dataclass(frozen=True)
class Problem:
    kind: str  # "Digest file", "Log file", "Event", "Chain"
    name: str
    message: str

    def to_record(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "message": self.message}


@dataclass
class Report:
    start: int | None = None
    end: int | None = None
    problems: list[Problem] = field(default_factory=list)
    digests: int = 0
    digests_invalid: int = 0
    log_files: int = 0
    log_files_invalid: int = 0
    log_files_expired: int = 0
    events: int = 0
    events_invalid: int = 0

    @property
    def valid(self) -> bool:
        return not self.problems

    def add(self, kind: str, name: str, message: str) -> None:
        self.problems.append(Problem(kind, name, message))

    def to_record(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "startTime": None if self.start is None else iso_from_ms(self.start),
            "endTime": None if self.end is None else iso_from_ms(self.end),
            "digestFiles": {"checked": self.digests, "invalid": self.digests_invalid},
            "logFiles": {"checked": self.log_files, "invalid": self.log_files_invalid,
                         "expired": self.log_files_expired},
            "events": {"checked": self.events, "invalid": self.events_invalid},
            "problems": [p.to_record() for p in self.problems],
        }


@dataclass
class _Expected:
    """Chain hashes the digests signed, to compare with the store's: seq → (hash, file)."""

    hashes: dict[int, tuple[str, str]] = field(default_factory=dict)
    #: Event numbers (first, last) of the expired log files the digests confirm.
    expired: list[tuple[int, int]] = field(default_factory=list)

    def skip(self, first: int) -> int:
        """The first event from ``first`` on that is not in a confirmed expired file."""
        for low, high in sorted(self.expired):
            if low <= first <= high:
                first = high + 1
        return first

    def resume(self, first: int, last: int) -> str | None:
        """The signed hash of event ``last`` when events ``first``..``last`` are all
        in confirmed expired files, ``last`` the last of one; else None."""
        if self.skip(first) <= last or not any(high == last for _, high in self.expired):
            return None
        signed = self.hashes.get(last)
        return signed[0] if signed else None


def validate(store: Store, archive: Archive, workspace: str, *, start: int | None = None,
             end: int | None = None, deep: bool = False,
             public_keys: dict[str, str] | None = None,
             progress: Progress | None = None,
             parallel_from: int = PARALLEL_FROM) -> Report:
    """Check everything (or digests and events in ``[start, end]``, ms). A shard of at
    least ``parallel_from`` events has its chain checked by two processes."""
    report = Report(start, end)
    keys = _keys({**store.public_keys(), **(public_keys or {})})
    shards = sorted(set(store.chain_shards()) | {d.shard for d in store.trail_digests()})
    referenced: set[str] = set()
    for shard in shards:
        expected = _Expected()
        expired = {f.log_key: f for f in store.expired_trail_files(shard)}
        checker = _DigestChecker(store, archive, keys, report, expected, referenced, deep,
                                 expired)
        checker.check_shard(shard, start, end)
        with ThreadPoolExecutor(1) as pool:
            files_checked = pool.submit(checker.check_files)
            _check_chain(store, shard, report, expected, start, end, progress,
                         parallel_from)
            files_checked.result()
    if start is None and end is None:
        _check_unreferenced(store, archive, workspace, referenced, report)
    return report


def _keys(pems: dict[str, str]) -> dict[str, Ed25519PublicKey]:
    keys = {}
    for pem in pems.values():
        try:
            key = load_public_key(pem)
        except ValidationError:
            continue
        keys[fingerprint(key)] = key  # by the key's own fingerprint, never a claimed one
    return keys


@dataclass
class _DigestChecker:
    store: Store
    archive: Archive
    keys: dict[str, Ed25519PublicKey]
    report: Report
    expected: _Expected
    referenced: set[str]
    deep: bool
    expired: dict[str, ExpiredFile] = field(default_factory=dict)
    files: list[tuple[str, dict[str, Any], str, bool]] = field(default_factory=list)

    def check_shard(self, shard: str, start: int | None, end: int | None) -> None:
        rows = self.store.trail_digests(shard)
        previous: DigestRow | None = None
        next_seq = None
        state = self.store.trail_delivery_state(shard)
        if state.last_digest_key and (not rows or rows[-1].digest_key != state.last_digest_key):
            self.report.add("Digest file", self._name(state.last_digest_key),
                            "INVALID: the newest digest is not recorded")
        for row in rows:
            self.referenced.add(row.digest_key)
            in_window = ((start is None or row.digest_end >= start)
                         and (end is None or row.digest_end <= end))
            if previous is not None and row.digest_no != previous.digest_no + 1:
                self.report.add("Digest file", self._name(row.digest_key),
                                f"INVALID: digests {previous.digest_no + 1} to {row.digest_no - 1} "
                                "are missing from the chain")
            digest = self._check_digest(row, previous, count=in_window)
            if digest is not None:
                next_seq = self._check_log_files(digest, next_seq, count=in_window)
            previous = row
        for key in sorted(set(self.expired) - self.referenced):
            self.report.add("Log file", self._name(key), "INVALID: recorded as expired by "
                            "retention, but no digest lists it")

    def _name(self, key: str) -> str:
        return f"{self.archive.bucket}/{key}"

    def _invalid(self, row: DigestRow, message: str, count: bool) -> None:
        self.report.add("Digest file", self._name(row.digest_key), f"INVALID: {message}")
        if count:
            self.report.digests_invalid += 1

    def _check_digest(self, row: DigestRow, previous: DigestRow | None,
                      count: bool) -> dict[str, Any] | None:
        if count:
            self.report.digests += 1
        try:
            raw = self.archive.get(row.digest_key)
            metadata = self.archive.metadata(row.digest_key)
        except ArchiveNotFound:
            self._invalid(row, "not found", count)
            return None
        try:
            digest = files.parse_digest(raw)
        except files.FileFormatError:
            self._invalid(row, "invalid format", count)
            return None
        data = files.decompress(raw)
        digest_hash = files.sha256_hex(data)
        if files.sha256_hex(raw) != row.file_hash:
            self._invalid(row, "the file differs from the one delivered", count)
            return None
        if (digest["digestS3Bucket"], digest["digestS3Object"]) != (self.archive.bucket,
                                                                    row.digest_key):
            self._invalid(row, "has been moved from its original location", count)
            return None
        key = self.keys.get(str(digest["digestPublicKeyFingerprint"]))
        if key is None:
            self._invalid(row, "public key not found for fingerprint "
                               f"{digest['digestPublicKeyFingerprint']}", count)
            return None
        signature = metadata.get("signature", "")
        if metadata.get("signature-algorithm") != digest["digestSignatureAlgorithm"]:
            self._invalid(row, "invalid format (signature algorithm)", count)
            return None
        text = signed_text(str(digest["digestEndTime"]), self.archive.bucket, row.digest_key,
                           digest_hash, digest["previousDigestSignature"])
        if not verify(key, text, signature):
            self._invalid(row, "signature verification failed", count)
            return None
        if digest_hash != row.hash or signature != row.signature:
            self._invalid(row, "differs from the digest that was delivered", count)
            return None
        if digest["shard"] != row.shard or digest["digestSequence"] != row.digest_no:
            self._invalid(row, "invalid format", count)
            return None
        if previous is None:
            if digest["previousDigestSignature"] is not None or row.digest_no != 1:
                self._invalid(row, "its previous digest is not in the trail", count)
        elif (digest["previousDigestHashValue"] != previous.hash
              or digest["previousDigestSignature"] != previous.signature
              or digest["previousDigestS3Object"] != previous.digest_key
              or digest.get("previousDigestFileHashValue") != previous.file_hash):
            self._invalid(row, "does not chain to the previous digest", count)
            return None
        if digest["chainHash"] is not None:
            self.expected.hashes[int(digest["chainSequence"])] = (
                str(digest["chainHash"]), self._name(row.digest_key))
        return digest

    def _check_log_files(self, digest: dict[str, Any], next_seq: int | None,
                         count: bool) -> int | None:
        for entry in digest["logFiles"]:
            key = str(entry["s3Object"])
            self.referenced.add(key)
            first, last = int(entry["firstSequence"]), int(entry["lastSequence"])
            if next_seq is not None and first != next_seq:
                self.report.add("Log file", self._name(key),
                                f"INVALID: starts at event {first}, expected {next_seq}")
            next_seq = last + 1
            self.expected.hashes[last] = (str(entry["lastEventHash"]), self._name(key))
            if count:
                self.report.log_files += 1
            gone = self.expired.get(key)
            if gone is not None:
                message = _expiry_problem(gone, entry, str(digest["shard"]))
                if message is not None:
                    self.report.add("Log file", self._name(key), f"INVALID: {message}")
                    if count:
                        self.report.log_files_invalid += 1
                    continue
                self.expected.expired.append((first, last))
                if count:
                    self.report.log_files_expired += 1
                if not self.archive.exists(key):
                    continue  # deleted by retention, as recorded
            self.files.append((key, entry, str(digest["shard"]), count))
        return next_seq

    def check_files(self) -> None:
        """Check the log files the digests listed (hashing big buffers releases the GIL,
        so this runs on a thread beside the store's chain check)."""
        for key, entry, shard, count in self.files:
            message = self._check_log_file(key, entry, shard)
            if message:
                self.report.add("Log file", self._name(key), f"INVALID: {message}")
                if count:
                    self.report.log_files_invalid += 1

    def _check_log_file(self, key: str, entry: dict[str, Any], shard: str) -> str | None:
        try:
            raw = self.archive.get(key)
        except ArchiveNotFound:
            return "not found"
        # The signed hash of the file's bytes: equal bytes are the delivered content.
        if files.sha256_hex(raw) != entry["fileHashValue"]:
            return "hash value doesn't match"
        if not self.deep:
            return None
        try:
            data = files.decompress(raw)
        except files.FileFormatError:
            return "invalid format"
        if files.sha256_hex(data) != entry["hashValue"]:
            return "hash value doesn't match"
        try:
            bodies = files.split_records(data)
        except files.FileFormatError:
            return "invalid format"
        if len(bodies) != entry["eventCount"] or files.tree_root(bodies) != entry["merkleRoot"]:
            return "Merkle root doesn't match"
        first = int(entry["firstSequence"])
        before = GENESIS if first == 1 else None
        if before is None:
            row = self.store.chain_row(shard, first - 1)
            signed = self.expected.hashes.get(first - 1)  # the previous file expired
            before = row.event_hash if row else signed[0] if signed else None
        if before is not None and chain(before, bodies) != entry["lastEventHash"]:
            return "events do not continue the chain"
        return None



def _check_chain(store: Store, shard: str, report: Report, expected: _Expected,
                 start: int | None, end: int | None, progress: Progress | None,
                 parallel_from: int = PARALLEL_FROM) -> None:
    if start is not None or end is not None:
        _check_window(store, shard, report, expected, start, end)
        return
    head = next((h for h in store.chain_heads() if h.shard == shard), None)
    signed = {seq: pair[0] for seq, pair in expected.hashes.items()}
    problems: list[tuple[Any, ...]] = []
    middle = _split_point(store, shard, head, expected, parallel_from)
    if middle is None:
        checked, previous_seq, previous = _walk(store, shard, signed, expected, 1, None, 0,
                                                bytes(32), problems, progress)
    else:
        # Two processes, each over half the chain: an event needs only its predecessor's
        # stored hash, and the halves meet at an event known to be there.
        seq, stored_hash = middle
        upper = {n: h for n, h in signed.items() if n > seq}
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            second = pool.submit(_walk_elsewhere, store.engine.url.render_as_string(
                hide_password=False), store.trail_shard, shard, upper, seq, stored_hash)
            checked, previous_seq, previous = _walk(store, shard, signed, expected, 1, seq,
                                                    0, bytes(32), problems, progress)
            if previous_seq < seq:
                problems.append(("gap", previous_seq, seq + 1))
            more, previous_seq, previous_hex, found = second.result()
        checked += more
        previous = bytes.fromhex(previous_hex)
        problems.extend(found)
    for problem in problems:
        if problem[0] == "gap":
            _gap(report, shard, problem[1], problem[2])
        elif problem[0] == "changed":
            _changed(store, report, shard, problem[1])
        else:
            _differs(store, report, shard, problem[1], expected.hashes[problem[1]][1])
    report.events += checked
    last = head.last_seq if head else 0
    resumed = expected.resume(previous_seq + 1, last) if previous_seq < last else None
    if resumed is not None:
        previous_seq, previous = last, bytes.fromhex(resumed)  # the newest events expired
    if previous_seq < last:
        _gap(report, shard, min(expected.skip(previous_seq + 1), last) - 1, last + 1)
    elif previous_seq > last:
        report.add("Chain", f"shard {shard}",
                   f"INVALID: events {last + 1} to {previous_seq} were added after the "
                   "chain's head (inserted)")
    elif head is not None and previous.hex() != head.last_hash:
        report.add("Chain", f"shard {shard}", "INVALID: the last event differs from the "
                   "chain's head (changed or replaced)")
    for seq in sorted(s for s in expected.hashes if s > previous_seq):
        report.add("Chain", f"shard {shard}",
                   f"INVALID: event {seq}, signed in {expected.hashes[seq][1]}, is not in "
                   "the store (deleted)")


def _split_point(store: Store, shard: str, head: Any, expected: _Expected,
                 parallel_from: int) -> tuple[int, str] | None:
    """Where to split a long chain between two processes: an event in its middle that
    is stored, with its stored hash (None: check it in one process)."""
    if head is None or head.last_seq < parallel_from or expected.expired:
        return None
    middle = store.chain_row(shard, head.last_seq // 2)
    return None if middle is None else (middle.seq, middle.event_hash)


def _walk(store: Store, shard: str, signed: dict[int, str], expected: _Expected | None,
          first: int, last: int | None, previous_seq: int, previous: bytes,
          problems: list[tuple[Any, ...]], progress: Progress | None = None
          ) -> tuple[int, int, bytes]:
    """Check events ``first``..``last`` against their predecessors; append what is wrong
    to ``problems``; the number checked, and the last event's number and hash."""
    sha256 = hashlib.sha256
    checked = 0
    for page in store.chain_hashes(shard, first=first, last=last):
        for seq, body, event_hash in page:
            resumed = (expected.resume(previous_seq + 1, seq - 1)
                       if expected is not None and seq > previous_seq + 1 else None)
            if resumed is not None:
                previous = bytes.fromhex(resumed)  # the events before expired by retention
            elif seq != previous_seq + 1:
                before_gap = (previous_seq if expected is None
                              else min(expected.skip(previous_seq + 1), seq - 1) - 1)
                problems.append(("gap", before_gap, seq))
                # Carry on from the stored hash, so one gap is reported once.
                before = store.chain_row(shard, seq - 1)
                previous = bytes.fromhex(before.event_hash) if before else previous
            digest = sha256(previous + body.encode()).digest()
            if digest.hex() != event_hash:
                problems.append(("changed", seq))
                # Go on from the stored hash (or the computed one if it is not even hex).
                with contextlib.suppress(ValueError):
                    digest = bytes.fromhex(event_hash)
            if seq in signed and signed[seq] != event_hash:
                problems.append(("differs", seq))
            previous_seq, previous = seq, digest
        checked += len(page)
        if progress is not None:
            progress(shard, checked)
    return checked, previous_seq, previous


def _walk_elsewhere(url: str, own_shard: str, shard: str, signed: dict[int, str],
                    after: int, after_hash: str) -> tuple[int, int, str, list[tuple[Any, ...]]]:
    """:func:`_walk` from event ``after + 1`` to the end, in another process."""
    from pipetrail.store.engine import make_engine

    store = Store(make_engine(url), trail_shard=own_shard)
    try:
        problems: list[tuple[Any, ...]] = []
        checked, last_seq, last = _walk(store, shard, signed, None, after + 1, None, after,
                                        bytes.fromhex(after_hash), problems)
        return checked, last_seq, last.hex(), problems
    finally:
        store.close()


def _check_window(store: Store, shard: str, report: Report, expected: _Expected,
                  start: int | None, end: int | None) -> None:
    """Events stored in ``[start, end)``: each against its predecessor in the chain."""
    previous_seq, previous_hash = -1, GENESIS
    for row in store.chain_rows(shard, start=start, end=end):
        report.events += 1
        if row.seq != previous_seq + 1:
            before = store.chain_row(shard, row.seq - 1) if row.seq > 1 else None
            resumed = expected.resume(row.seq - 1, row.seq - 1) if before is None else None
            previous_hash = before.event_hash if before else resumed or GENESIS
            if before is None and row.seq > 1 and resumed is None:
                _gap(report, shard, row.seq - 2, row.seq)
        computed = hashlib.sha256(bytes.fromhex(previous_hash) + row.body.encode()).hexdigest()
        if computed != row.event_hash:
            _changed(store, report, shard, row.seq)
        signed = expected.hashes.get(row.seq)
        if signed is not None and signed[0] != row.event_hash:
            _differs(store, report, shard, row.seq, signed[1])
        previous_seq, previous_hash = row.seq, row.event_hash


def _event_name(store: Store, shard: str, seq: int) -> str:
    row = store.chain_row(shard, seq)
    return f"{row.event_id if row else '?'} (shard {shard}, #{seq})"


def _changed(store: Store, report: Report, shard: str, seq: int) -> None:
    report.add("Event", _event_name(store, shard, seq),
               "INVALID: changed, or not in its place in the chain (its hash does not match)")
    report.events_invalid += 1


def _differs(store: Store, report: Report, shard: str, seq: int, signed_in: str) -> None:
    report.add("Event", _event_name(store, shard, seq),
               f"INVALID: its hash differs from the one signed in {signed_in}")


def _gap(report: Report, shard: str, before: int, after: int) -> None:
    """Events ``before + 1`` to ``after - 1`` are missing."""
    missing = (f"events {before + 1} to {after - 1} are missing" if after - before > 2
               else f"event {before + 1} is missing")
    report.add("Chain", f"shard {shard}", f"INVALID: {missing} (deleted)")


def _check_unreferenced(store: Store, archive: Archive, workspace: str, referenced: set[str],
                        report: Report) -> None:
    """Files in the trail's folders that no digest lists (inserted, or from a delivery
    still being made)."""
    pending: set[str] = set()
    for shard in store.chain_shards():
        plan = store.trail_delivery_state(shard).pending
        if plan:
            pending.add(plan["digestKey"])
            pending.update(f["key"] for f in plan["files"])
    for prefix, kind in ((layout.logs_prefix(workspace), "Log file"),
                         (layout.digests_prefix(workspace), "Digest file")):
        for key in archive.list(prefix):
            if key not in referenced and key not in pending:
                report.add(kind, f"{archive.bucket}/{key}",
                           "INVALID: not delivered by the trail (no digest lists it)")


def _expiry_problem(gone: ExpiredFile, entry: dict[str, Any], shard: str) -> str | None:
    """Why the record of an expired log file disagrees with the digest listing it."""
    if (gone.shard, gone.first_seq, gone.last_seq) != (
            shard, int(entry["firstSequence"]), int(entry["lastSequence"])):
        return "recorded as expired by retention with other events than its digest lists"
    if gone.last_hash != entry["lastEventHash"]:
        return "recorded as expired by retention with another hash than its digest signed"
    try:
        newest = parse_time(str(entry.get("newestEventTime")))
    except ValidationError:
        return "recorded as expired by retention, but its digest gives no newest event time"
    if not newest < gone.cutoff <= gone.expired_on - DAY_MS:
        return "recorded as expired by retention, but it was not old enough to expire"
    return None
