"""The bytes of delivered files: gzip CloudTrail log files and digest files.

The digest lists both the hash of a log file's content (``hashValue``, as CloudTrail)
and of the gzip file itself (``fileHashValue``), so that a change to any byte of the
file, its gzip header included, is detected. A log file is ``{"Records":[…]}`` holding
the events' canonical JSON exactly as stored (so the bytes hashed by the chain, the
Merkle leaves and the file are the same bytes).
Both kinds are gzip with a zero timestamp: the same content always gives the same file.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Sequence
from typing import Any

import orjson

from pipetrail.model.chain import leaf_hash, merkle_root

HASH_ALGORITHM = "SHA-256"
MERKLE_ALGORITHM = "RFC6962-SHA-256"
OPEN, SEPARATOR, CLOSE = b'{"Records":[', b",", b"]}"
# Digest fields a reader needs; a digest without them is "invalid format".
DIGEST_FIELDS = ("digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object",
                 "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "logFiles",
                 "previousDigestHashValue", "previousDigestSignature", "shard",
                 "digestSequence", "chainSequence", "chainHash")
LOG_FILE_FIELDS = ("s3Bucket", "s3Object", "hashValue", "fileHashValue", "firstSequence",
                   "lastSequence", "eventCount", "merkleRoot", "lastEventHash")


class FileFormatError(ValueError):
    """A delivered file that cannot be read as what it should be."""


def log_file_bytes(bodies: Sequence[bytes]) -> bytes:
    return OPEN + SEPARATOR.join(bodies) + CLOSE


def compress(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def decompress(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileFormatError(f"not a gzip file ({exc})") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_root(bodies: Sequence[bytes]) -> str:
    return merkle_root([leaf_hash(b) for b in bodies]).hex()


def split_records(data: bytes) -> list[bytes]:
    """The exact bytes of each record of an uncompressed log file."""
    if not (data.startswith(OPEN) and data.endswith(CLOSE)):
        raise FileFormatError('not a {"Records": [...]} file')
    try:
        records = orjson.loads(data)["Records"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise FileFormatError(f"not valid JSON ({exc})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FileFormatError("Records is not a list of objects")
    # Records are canonical JSON (compact, sorted keys): re-encoding each gives its bytes
    # back, and the joined bytes must then equal the file (else the file was changed).
    bodies = [orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in records]
    if log_file_bytes(bodies) != data:
        raise FileFormatError("records are not in canonical form")
    return bodies


def parse_digest(data: bytes) -> dict[str, Any]:
    try:
        digest = orjson.loads(decompress(data))
    except orjson.JSONDecodeError as exc:
        raise FileFormatError(f"not valid JSON ({exc})") from None
    if not isinstance(digest, dict) or any(f not in digest for f in DIGEST_FIELDS):
        raise FileFormatError("a digest field is missing")
    files = digest["logFiles"]
    if not isinstance(files, list) or not all(
            isinstance(f, dict) and all(k in f for k in LOG_FILE_FIELDS) for f in files):
        raise FileFormatError("logFiles is not a list of log file entries")
    return digest
