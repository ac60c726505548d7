"""Where delivered files go in the archive, laid out like CloudTrail's S3 folders.

- log files: ``PipetrailLogs/<workspace>/CloudTrail/local/YYYY/MM/DD/``
  ``<workspace>_CloudTrail_local_<YYYYMMDDTHHmmZ>_<16 characters>.json.gz``
- digests: ``PipetrailLogs/<workspace>/CloudTrail-Digest/local/YYYY/MM/DD/``
  ``<workspace>_CloudTrail-Digest_local_<shard>_local_<YYYYMMDDTHHMMSSZ>_<number>.json.gz``

Names are derived from what is delivered (the shard and first event number, the digest's
number), so a delivery that is redone writes the same names.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

ROOT = "PipetrailLogs"
REGION = "local"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _day(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def logs_prefix(workspace: str) -> str:
    return f"{ROOT}/{workspace}/CloudTrail/"


def digests_prefix(workspace: str) -> str:
    return f"{ROOT}/{workspace}/CloudTrail-Digest/"


def _unique(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:16])


def log_file_key(workspace: str, shard: str, first_seq: int, delivered_ms: int) -> str:
    when = _day(delivered_ms)
    return (f"{logs_prefix(workspace)}{REGION}/{when:%Y/%m/%d}/"
            f"{workspace}_CloudTrail_{REGION}_{when:%Y%m%dT%H%MZ}_"
            f"{_unique(f'{shard}:{first_seq}')}.json.gz")


def digest_key(workspace: str, shard: str, number: int, end_ms: int) -> str:
    when = _day(end_ms)
    return (f"{digests_prefix(workspace)}{REGION}/{when:%Y/%m/%d}/"
            f"{workspace}_CloudTrail-Digest_{REGION}_{shard}_{REGION}_"
            f"{when:%Y%m%dT%H%M%SZ}_{number:010d}.json.gz")
