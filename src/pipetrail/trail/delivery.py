"""Delivering the trail to the archive: log files, then a signed digest naming them.

One delivery per shard covers the events stored since the last one (at most
``max_events``, in log files of at most ``file_events``) and always ends in a digest,
even when there was nothing to deliver, chained to the previous digest. A delivery is
planned in the store before anything is written (its file names, times and event
range), and recorded as done after the digest is written. A delivery cut short (a crash,
kill -9) is redone from its plan by the next deliverer with the same names and the same
bytes, so the archive gets no gaps and no duplicates. Only the holder of the shard's
delivery lease delivers, so several processes can call :meth:`Deliverer.deliver`; the
lease of a process that died is taken over when it expires, or at once on its own host.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from pipetrail.model.clock import iso_from_ms, now_ms
from pipetrail.store import Store
from pipetrail.store.leases import holder_name
from pipetrail.store.trail import DeliveryState, DigestRow, LogFileRow
from pipetrail.trail import files, layout
from pipetrail.trail.archive import Archive
from pipetrail.trail.signing import ALGORITHM, Signer, signed_text

FILE_EVENTS = 10_000
MAX_EVENTS = 500_000
LEASE_MS = 60_000


@dataclass(frozen=True)
class Delivered:
    """What one delivery of one shard wrote."""

    shard: str
    digest_key: str
    log_keys: list[str]
    events: int
    redone: bool


class Deliverer:
    def __init__(self, store: Store, archive: Archive, signer: Signer, workspace: str, *,
                 file_events: int = FILE_EVENTS, max_events: int = MAX_EVENTS,
                 clock: Callable[[], int] = now_ms) -> None:
        self.store = store
        self.archive = archive
        self.signer = signer
        self.workspace = workspace
        self.file_events = file_events
        self.max_events = max_events
        self.clock = clock
        self.holder = holder_name()
        self._key_published = False

    def deliver(self, shards: list[str] | None = None, *, wait: float = 0.0
                ) -> list[Delivered]:
        """Deliver every shard (or the given ones). A shard another process is
        delivering is skipped, or waited for up to ``wait`` seconds."""
        self._publish_key()
        done = []
        for shard in shards if shards is not None else self._shards():
            deadline = time.monotonic() + wait
            while (delivered := self.deliver_shard(shard)) is None:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
            if delivered is not None:
                done.append(delivered)
        return done

    def _shards(self) -> list[str]:
        known = {h.shard for h in self.store.chain_heads()}
        known |= set(self.store.delivered_shards())
        return sorted(known or {self.store.trail_shard})

    def _publish_key(self) -> None:
        if not self._key_published:
            self.store.put_public_key(self.signer.fingerprint, self.signer.public_pem, now_ms())
            self._key_published = True

    def deliver_shard(self, shard: str) -> Delivered | None:
        lease = f"trail-delivery:{shard}"
        if self.store.take_lease(lease, self.holder, LEASE_MS) is None:
            return None
        try:
            state = self.store.trail_delivery_state(shard)
            redone = state.pending is not None
            plan = state.pending
            if plan is None:
                plan = self._plan(shard, state)
                if not self.store.plan_trail_delivery(shard, state.digest_count, plan):
                    return None
            return self._carry_out(shard, state, plan, redone)
        finally:
            self.store.release_lease(lease, self.holder)

    def _plan(self, shard: str, state: DeliveryState) -> dict[str, Any]:
        head = next((h for h in self.store.chain_heads() if h.shard == shard), None)
        last = min(head.last_seq if head else 0, state.delivered_seq + self.max_events)
        end = self.clock()
        if state.last_digest_end is not None and end <= state.last_digest_end:
            end = state.last_digest_end + 1
        start = state.last_digest_end if state.last_digest_end is not None else end
        number = state.digest_count + 1
        ranges = [(first, min(first + self.file_events - 1, last))
                  for first in range(state.delivered_seq + 1, last + 1, self.file_events)]
        return {
            "digestNo": number,
            "digestKey": layout.digest_key(self.workspace, shard, number, end),
            "digestStart": start,
            "digestEnd": end,
            "lastSeq": max(last, state.delivered_seq),
            "files": [{"key": layout.log_file_key(self.workspace, shard, first, end),
                       "first": first, "last": final} for first, final in ranges],
        }

    def _carry_out(self, shard: str, state: DeliveryState, plan: dict[str, Any],
                   redone: bool) -> Delivered:
        bucket = self.archive.bucket
        entries: list[dict[str, Any]] = []
        rows: list[LogFileRow] = []
        events = 0
        chain_hash = None
        for number, planned in enumerate(plan["files"]):
            if number % 10 == 9:  # a long delivery keeps its lease
                self.store.acquire_lease(f"trail-delivery:{shard}", self.holder, LEASE_MS)
            chained = list(self.store.chain_rows(shard, planned["first"], planned["last"]))
            if not chained:
                continue
            bodies = [r.body.encode() for r in chained]
            data = files.log_file_bytes(bodies)
            packed = files.compress(data)
            self.archive.put(planned["key"], packed)
            oldest = min(r.event_time for r in chained)
            newest = max(r.event_time for r in chained)
            chain_hash = chained[-1].event_hash
            entries.append({
                "s3Bucket": bucket, "s3Object": planned["key"],
                "hashValue": files.sha256_hex(data), "hashAlgorithm": files.HASH_ALGORITHM,
                "fileHashValue": files.sha256_hex(packed),
                "newestEventTime": iso_from_ms(newest), "oldestEventTime": iso_from_ms(oldest),
                "firstSequence": chained[0].seq, "lastSequence": chained[-1].seq,
                "eventCount": len(chained), "merkleRoot": files.tree_root(bodies),
                "merkleAlgorithm": files.MERKLE_ALGORITHM, "lastEventHash": chain_hash,
            })
            rows.append(LogFileRow(planned["key"], shard, chained[0].seq, chained[-1].seq,
                                   plan["digestKey"], oldest, newest))
            events += len(chained)
        chain_seq = int(plan["lastSeq"])
        if chain_hash is None and chain_seq:
            row = self.store.chain_row(shard, chain_seq)
            chain_hash = row.event_hash if row else None
        digest = self._digest(shard, state, plan, entries, chain_seq, chain_hash)
        data = orjson.dumps(digest)
        digest_hash = files.sha256_hex(data)
        signature = self.signer.sign(signed_text(
            digest["digestEndTime"], bucket, plan["digestKey"], digest_hash,
            state.last_digest_signature))
        packed = files.compress(data)
        self.archive.put(plan["digestKey"], packed,
                         {"signature": signature, "signature-algorithm": ALGORITHM})
        self.store.complete_trail_delivery(shard, DigestRow(
            plan["digestKey"], shard, plan["digestNo"], plan["digestStart"], plan["digestEnd"],
            digest_hash, files.sha256_hex(packed), signature), chain_seq, rows)
        return Delivered(shard, plan["digestKey"], [r.log_key for r in rows], events, redone)

    def _digest(self, shard: str, state: DeliveryState, plan: dict[str, Any],
                entries: list[dict[str, Any]], chain_seq: int,
                chain_hash: str | None) -> dict[str, Any]:
        first = state.last_digest_key is None
        return {
            "awsAccountId": self.workspace,
            "digestStartTime": iso_from_ms(plan["digestStart"]),
            "digestEndTime": iso_from_ms(plan["digestEnd"]),
            "digestS3Bucket": self.archive.bucket,
            "digestS3Object": plan["digestKey"],
            "digestPublicKeyFingerprint": self.signer.fingerprint,
            "digestSignatureAlgorithm": ALGORITHM,
            "newestEventTime": max((e["newestEventTime"] for e in entries), default=None),
            "oldestEventTime": min((e["oldestEventTime"] for e in entries), default=None),
            "previousDigestS3Bucket": None if first else self.archive.bucket,
            "previousDigestS3Object": state.last_digest_key,
            "previousDigestHashValue": state.last_digest_hash,
            "previousDigestHashAlgorithm": None if first else files.HASH_ALGORITHM,
            "previousDigestSignature": state.last_digest_signature,
            "previousDigestFileHashValue": state.last_digest_file_hash,
            "shard": shard,
            "digestSequence": plan["digestNo"],
            "chainSequence": chain_seq,
            "chainHash": chain_hash,
            "logFiles": entries,
        }

