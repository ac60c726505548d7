"""The archive in an S3-compatible bucket (AWS S3, MinIO, SeaweedFS …), through boto3.

Credentials, region and endpoint come from boto3's standard sources
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles, instance roles,
``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``);
``PIPETRAIL_S3_ENDPOINT_URL`` wins over them, and ``PIPETRAIL_S3_ADDRESSING`` chooses
``path`` (the default when an endpoint URL is set) or ``virtual`` host addressing.

Connections time out after a few seconds and are tried at most three times, so an
unreachable endpoint fails quickly with an :class:`ArchiveError` naming the bucket and
endpoint. Messages never carry credentials: botocore's own messages are not passed on,
only the S3 error code.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from pipetrail.trail.archive import (
    MAX_KEY_BYTES,
    ArchiveError,
    ArchiveNotFound,
    check_bucket,
    check_data,
    check_key,
    check_metadata,
    check_prefix,
)

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 30.0
MAX_ATTEMPTS = 3
PAGE_SIZE = 1000
FALLBACK_REGION = "us-east-1"
ADDRESSING = ("path", "virtual")
NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
DENIED = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch",
          "AllAccessDisabled", "InvalidToken", "ExpiredToken", "InvalidSecurity"}
PERMISSION = {"put": "s3:PutObject", "get": "s3:GetObject", "read metadata": "s3:GetObject",
              "check": "s3:GetObject", "list": "s3:ListBucket", "delete": "s3:DeleteObject"}
INSTALL_HINT = "the S3 archive needs boto3: pip install 'pipetrail[s3]'"


def _endpoint_from_env(environ: Mapping[str, str]) -> str | None:
    for name in ("PIPETRAIL_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        value = (environ.get(name) or "").strip()
        if value:
            return value
    return None


def _check_endpoint(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArchiveError("the S3 endpoint URL must be http://host[:port] or "
                           "https://host[:port]")
    if "@" in parts.netloc:
        raise ArchiveError("the S3 endpoint URL must not contain credentials: give them with "
                           "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if parts.query or parts.fragment:
        raise ArchiveError("the S3 endpoint URL must not have a query or a fragment")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ArchiveError("the S3 endpoint URL has an invalid port") from None
    return url.rstrip("/")


class S3Archive:
    """An archive in an S3 bucket: object ``prefix + key``, metadata as S3 user metadata
    (``x-amz-meta-*``). No request is made until the first operation.

    ``client`` is a boto3 S3 client to use instead of making one (they are thread-safe
    and cost about half a second to make); ``page_size`` is the ``MaxKeys`` of a list
    request."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, client: Any | None = None,
                 addressing: str | None = None, page_size: int = PAGE_SIZE) -> None:
        self.bucket = check_bucket(bucket)
        stripped = prefix.strip("/")
        if stripped:
            check_key(stripped)
        self.prefix = f"{stripped}/" if stripped else ""
        self.location = f"s3://{bucket}/{stripped}" if stripped else f"s3://{bucket}"
        if not 1 <= page_size <= PAGE_SIZE:
            raise ArchiveError(f"the S3 page size must be between 1 and {PAGE_SIZE}")
        self.page_size = page_size
        endpoint = endpoint_url or _endpoint_from_env(os.environ)
        self.endpoint_url = _check_endpoint(endpoint) if endpoint else None
        self._where = (f"{self.location} at {self.endpoint_url}" if self.endpoint_url
                       else self.location)
        style = (addressing or os.environ.get("PIPETRAIL_S3_ADDRESSING") or "").strip().lower()
        if style and style not in ADDRESSING:
            raise ArchiveError(f"PIPETRAIL_S3_ADDRESSING must be path or virtual, not {style!r}")
        if not style and self.endpoint_url:
            style = "path"
        self.addressing = style or None
        self.client = client if client is not None else self._make_client(region)

    def __repr__(self) -> str:
        return f"S3Archive({self._where!r})"

    def _make_client(self, region: str | None) -> Any:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise ArchiveError(INSTALL_HINT) from None
        session = boto3.session.Session()
        region_name = region or session.region_name
        if region_name is None and self.endpoint_url:
            region_name = FALLBACK_REGION
        config = Config(
            connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            s3={"addressing_style": self.addressing} if self.addressing else None,
            user_agent_extra="pipetrail",
        )
        try:
            return session.client("s3", endpoint_url=self.endpoint_url,
                                  region_name=region_name, config=config)
        except Exception as exc:  # botocore refuses a region or endpoint it cannot use
            raise ArchiveError(f"cannot set up the S3 client for {self._where}: "
                               f"{type(exc).__name__}") from None

    def _object_key(self, key: str) -> str:
        full = self.prefix + check_key(key)
        if len(full.encode("utf-8")) > MAX_KEY_BYTES:
            raise ArchiveError(f"archive key {key!r} with the prefix {self.prefix!r} is longer "
                               f"than {MAX_KEY_BYTES} bytes")
        return full

    def _call(self, action: str, key: str | None, operation: str, **params: Any) -> Any:
        try:
            return getattr(self.client, operation)(**params)
        except Exception as exc:
            raise self._error(exc, action, key) from None

    def _error(self, exc: Exception, action: str, key: str | None) -> ArchiveError:
        try:
            from botocore import exceptions as boto
        except ImportError:  # a client passed in that is not botocore's
            return ArchiveError(f"cannot {action} in the archive {self._where}: "
                                f"{type(exc).__name__}")
        what = f" {key!r}" if key is not None else ""
        if isinstance(exc, boto.ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or "Unknown")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in NOT_FOUND:
                return ArchiveNotFound(f"no object{what} in the archive {self._where}")
            if code == "NoSuchBucket":
                return ArchiveError(f"the bucket {self.bucket!r} does not exist ({self._where})")
            if code in DENIED:
                permission = PERMISSION.get(action, "access to the bucket")
                return ArchiveError(
                    f"{self._where} denied the request to {action}{what} ({code}): check the "
                    f"credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or the profile) "
                    f"and that they allow {permission}")
            return ArchiveError(f"{self._where} refused to {action}{what}: {code} "
                                f"(HTTP {status})")
        if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
            return ArchiveError(f"no usable S3 credentials for {self._where}: set "
                                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use a profile "
                                "or an instance role")
        if isinstance(exc, boto.ConnectTimeoutError | boto.ReadTimeoutError):
            return ArchiveError(f"cannot reach {self._where}: the connection timed out "
                                f"({MAX_ATTEMPTS} attempts)")
        if isinstance(exc, boto.ConnectionError | boto.HTTPClientError):
            return ArchiveError(f"cannot reach {self._where}: {type(exc).__name__} "
                                f"({MAX_ATTEMPTS} attempts)")
        return ArchiveError(f"cannot {action}{what} in the archive {self._where}: "
                            f"{type(exc).__name__}")

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        full = self._object_key(key)
        meta = check_metadata(metadata)
        body = check_data(data)
        self._call("put", key, "put_object", Bucket=self.bucket, Key=full, Body=body,
                   Metadata=meta, ContentType="application/octet-stream")

    def get(self, key: str) -> bytes:
        answer = self._call("get", key, "get_object", Bucket=self.bucket,
                            Key=self._object_key(key))
        try:
            return bytes(answer["Body"].read())
        except Exception as exc:
            raise self._error(exc, "get", key) from None
        finally:
            answer["Body"].close()

    def metadata(self, key: str) -> dict[str, str]:
        answer = self._call("read metadata", key, "head_object", Bucket=self.bucket,
                            Key=self._object_key(key))
        return {str(name): str(value) for name, value in answer.get("Metadata", {}).items()}

    def exists(self, key: str) -> bool:
        try:
            self._call("check", key, "head_object", Bucket=self.bucket,
                       Key=self._object_key(key))
        except ArchiveNotFound:
            return False
        return True

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix``, sorted. Not every S3-compatible store lists in byte order
        as AWS S3 does (SeaweedFS lists folder by folder), so all pages of the listing are
        read and sorted before the first key is returned: list a narrow prefix (a day)
        in a large archive."""
        return iter(sorted(self._pages(self.prefix + check_prefix(prefix))))

    def _pages(self, full_prefix: str) -> Iterator[str]:
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full_prefix,
                                  "MaxKeys": self.page_size}
        skip = len(self.prefix)
        while True:
            page = self._call("list", None, "list_objects_v2", **params)
            for item in page.get("Contents", []):
                key = str(item["Key"])[skip:]
                try:
                    check_key(key)
                except ArchiveError:
                    continue  # folder markers and names the archive cannot address
                yield key
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            params["ContinuationToken"] = token

    def delete(self, key: str) -> None:
        try:
            self._call("delete", key, "delete_object", Bucket=self.bucket,
                       Key=self._object_key(key))
        except ArchiveNotFound:
            return
