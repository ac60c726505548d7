"""Inclusion proofs: an event is in a delivered log file whose Merkle root a signed
digest lists.

A proof is one JSON document holding the event's exact bytes, its RFC 6962 audit path
in its log file's tree, and the digest (its exact bytes and signature). Anyone can check
it offline, with nothing but the proof and the trail's public key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from pipetrail.model.chain import audit_path, leaf_hash, root_from_path
from pipetrail.model.errors import ConflictError, NotFoundError, ValidationError
from pipetrail.store import Store
from pipetrail.trail import files
from pipetrail.trail.archive import Archive, ArchiveNotFound
from pipetrail.trail.signing import fingerprint, load_public_key, signed_text, verify

PROOF_VERSION = "1"
MAX_PROOF_BYTES = 16 * 1024 * 1024


def prove(store: Store, archive: Archive, event_id: str) -> dict[str, Any]:
    """The proof that ``event_id`` is in the signed, delivered trail."""
    position = store.event_position(event_id)
    if position is None:
        raise NotFoundError(f"no event {event_id} in the trail")
    shard, seq = position
    log_file = store.trail_log_file_for(shard, seq)
    if log_file is None:
        raise ConflictError(f"event {event_id} has not been delivered yet: run "
                            "'pipetrail trail deliver' (or wait for the next delivery)")
    try:
        data = files.decompress(archive.get(log_file.log_key))
        raw_digest = archive.get(log_file.digest_key)
        signature = archive.metadata(log_file.digest_key).get("signature", "")
    except ArchiveNotFound as exc:
        raise NotFoundError(f"the archive has lost {exc}: run 'pipetrail trail validate'"
                            ) from None
    bodies = files.split_records(data)
    index = next((i for i, body in enumerate(bodies)
                  if orjson.loads(body).get("eventID") == event_id), None)
    if index is None:
        raise ValidationError(f"event {event_id} is not in {log_file.log_key}, where the "
                              "trail delivered it: run 'pipetrail trail validate'")
    digest_bytes = files.decompress(raw_digest)
    digest = files.parse_digest(raw_digest)
    keys = store.public_keys()
    fp = str(digest["digestPublicKeyFingerprint"])
    leaves = [leaf_hash(b) for b in bodies]
    return {
        "proofVersion": PROOF_VERSION,
        "eventID": event_id,
        "event": bodies[index].decode(),
        "leafIndex": index,
        "treeSize": len(bodies),
        "auditPath": [h.hex() for h in audit_path(leaves, index)],
        "merkleAlgorithm": files.MERKLE_ALGORITHM,
        "logFile": {"s3Bucket": archive.bucket, "s3Object": log_file.log_key},
        "digest": {"s3Bucket": archive.bucket, "s3Object": log_file.digest_key,
                   "content": digest_bytes.decode(), "signature": signature},
        "publicKey": {"fingerprint": fp, "pem": keys.get(fp)},
    }


@dataclass
class Verdict:
    valid: bool = True
    checks: list[dict[str, Any]] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append({"check": name, "ok": ok, "detail": detail})
        self.valid = self.valid and ok
        return ok

    def to_record(self) -> dict[str, Any]:
        return {"valid": self.valid, "checks": self.checks}


def verify_proof(proof: Any, public_key_pem: str | None = None) -> Verdict:
    """Check a proof offline. With ``public_key_pem`` the digest must be signed by that
    key; without, by the key the proof carries (which only shows consistency: pin the
    trail's published key to show authenticity)."""
    verdict = Verdict()
    try:
        event = proof["event"]
        index, size = int(proof["leafIndex"]), int(proof["treeSize"])
        path = [bytes.fromhex(h) for h in proof["auditPath"]]
        digest_content = proof["digest"]["content"]
        digest = orjson.loads(digest_content)
        bucket, key = proof["digest"]["s3Bucket"], proof["digest"]["s3Object"]
        log_key = proof["logFile"]["s3Object"]
        record = orjson.loads(event)
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as exc:
        verdict.check("format", False, f"not a Pipetrail proof ({type(exc).__name__}: {exc})")
        return verdict
    verdict.check("event", record.get("eventID") == proof.get("eventID"),
                  "the event carries the proof's eventID")
    entry = next((f for f in digest.get("logFiles") or []
                  if isinstance(f, dict) and f.get("s3Object") == log_key), None)
    if not verdict.check("digest lists the log file", entry is not None, log_key):
        return verdict
    assert entry is not None
    root = root_from_path(leaf_hash(event.encode()), index, size, path)
    verdict.check("inclusion", root is not None and root.hex() == entry.get("merkleRoot")
                  and entry.get("eventCount") == size,
                  f"leaf {index} of {size} leads to the Merkle root the digest lists")
    claimed = str(digest.get("digestPublicKeyFingerprint"))
    pem = public_key_pem or (proof.get("publicKey") or {}).get("pem")
    if not pem:
        verdict.check("signature", False, "no public key: pass --public-key FILE")
        return verdict
    try:
        public_key = load_public_key(pem)
    except ValidationError as exc:
        verdict.check("signature", False, str(exc))
        return verdict
    if not verdict.check("key", fingerprint(public_key) == claimed,
                         f"the digest was signed by key {claimed}"
                         + ("" if public_key_pem else " (key taken from the proof itself; "
                            "pin the trail's key with --public-key)")):
        return verdict
    text = signed_text(str(digest.get("digestEndTime")), bucket, key,
                       files.sha256_hex(digest_content.encode()),
                       digest.get("previousDigestSignature"))
    verdict.check("signature", verify(public_key, text, str(proof["digest"].get("signature"))),
                  f"Ed25519 signature of digest {bucket}/{key}")
    verdict.check("location", digest.get("digestS3Object") == key
                  and digest.get("digestS3Bucket") == bucket, "the digest names its location")
    return verdict
