"""What only the S3 archive does: its layout in the bucket, listings over 1,000 keys,
its configuration from the environment, and failures that never show credentials."""

from __future__ import annotations

import logging
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pipetrail.trail.archive import ArchiveError, ArchiveNotFound
from pipetrail.trail.s3_archive import S3Archive
from tests.seaweedfs import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedFS, free_ports

pytestmark = pytest.mark.s3


def fresh_prefix() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def test_objects_are_prefix_plus_key_with_s3_user_metadata(seaweedfs: SeaweedFS,
                                                           s3_client: Any) -> None:
    prefix = fresh_prefix()
    archive = S3Archive(BUCKET, f"/{prefix}/logs/", endpoint_url=seaweedfs.endpoint,
                        client=s3_client)
    assert archive.bucket == BUCKET
    assert archive.location == f"s3://{BUCKET}/{prefix}/logs"
    archive.put("2026/11/25/f.json.gz", b"\x1f\x8bdata", {"sha256": "00ff"})
    raw = seaweedfs.client()
    head = raw.head_object(Bucket=BUCKET, Key=f"{prefix}/logs/2026/11/25/f.json.gz")
    assert head["Metadata"] == {"sha256": "00ff"}
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-sha256"] == "00ff"
    listed = raw.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    assert [item["Key"] for item in listed["Contents"]] == [f"{prefix}/logs/2026/11/25/f.json.gz"]


def test_a_listing_of_more_than_one_page_of_1000(seaweedfs: SeaweedFS, s3_client: Any) -> None:
    archive = S3Archive(BUCKET, fresh_prefix(), endpoint_url=seaweedfs.endpoint,
                        client=s3_client)
    keys = [f"d/{n:04d}" for n in range(1003)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: archive.put(key, key.encode()), keys))
    assert list(archive.list()) == keys
    assert list(archive.list("d/09")) == [k for k in keys if k.startswith("d/09")]


def test_objects_the_archive_cannot_address_are_not_listed(seaweedfs: SeaweedFS,
                                                           s3_client: Any) -> None:
    prefix = fresh_prefix()
    archive = S3Archive(BUCKET, prefix, endpoint_url=seaweedfs.endpoint, client=s3_client)
    archive.put("ok", b"1")
    raw = seaweedfs.client()
    raw.put_object(Bucket=BUCKET, Key=f"{prefix}/.hidden", Body=b"x")
    raw.put_object(Bucket=BUCKET, Key=f"{prefix}/folder/", Body=b"")
    raw.put_object(Bucket=BUCKET, Key=f"{prefix}-sibling/key", Body=b"x")
    assert list(archive.list()) == ["ok"]


def test_the_pipetrail_endpoint_wins_over_aws_endpoint_url(
        seaweedfs: SeaweedFS, s3_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{free_ports(1)[0]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    monkeypatch.setenv("PIPETRAIL_S3_ENDPOINT_URL", seaweedfs.endpoint)
    archive = S3Archive(BUCKET, fresh_prefix())
    assert archive.endpoint_url == seaweedfs.endpoint
    assert archive.addressing == "path"
    archive.put("k", b"v")
    assert archive.get("k") == b"v"
    monkeypatch.delenv("PIPETRAIL_S3_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL", seaweedfs.endpoint)
    assert S3Archive(BUCKET, archive.prefix).get("k") == b"v"


def test_addressing_is_path_or_virtual(boto3_installed: None, s3_env: None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert S3Archive(BUCKET).addressing is None  # AWS: boto3 chooses
    assert S3Archive(BUCKET, endpoint_url="http://127.0.0.1:9").addressing == "path"
    monkeypatch.setenv("PIPETRAIL_S3_ADDRESSING", "virtual")
    archive = S3Archive(BUCKET, endpoint_url="http://127.0.0.1:9")
    assert archive.client.meta.config.s3["addressing_style"] == "virtual"
    monkeypatch.setenv("PIPETRAIL_S3_ADDRESSING", "sideways")
    with pytest.raises(ArchiveError, match="path or virtual"):
        S3Archive(BUCKET)


@pytest.mark.parametrize("endpoint, message", [
    ("http://user:hunter2@127.0.0.1:9000", "must not contain credentials"),
    ("ftp://127.0.0.1:21", "http://host"),
    ("http://127.0.0.1:99999", "invalid port"),
    ("http://127.0.0.1:9000/?token=hunter2", "query"),
])
def test_bad_endpoint_urls_are_refused(boto3_installed: None, s3_env: None, endpoint: str,
                                       message: str) -> None:
    with pytest.raises(ArchiveError, match=message) as info:
        S3Archive(BUCKET, endpoint_url=endpoint)
    assert "hunter2" not in str(info.value)


@pytest.mark.timeout(60)
def test_an_unreachable_endpoint_fails_quickly_without_showing_credentials(
        boto3_installed: None, s3_env: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    endpoint = f"http://127.0.0.1:{free_ports(1)[0]}"
    archive = S3Archive(BUCKET, "trail", endpoint_url=endpoint)
    for operation in (lambda: archive.put("k", b"v", {"a": "b"}), lambda: archive.get("k"),
                      lambda: archive.exists("k"), lambda: list(archive.list())):
        with pytest.raises(ArchiveError, match="cannot reach") as info:
            operation()
        message = str(info.value)
        assert f"s3://{BUCKET}/trail" in message and endpoint in message
        assert SECRET_KEY not in message and ACCESS_KEY not in message
        assert not isinstance(info.value, ArchiveNotFound)
    assert caplog.records  # botocore did log at debug level
    assert SECRET_KEY not in caplog.text
    assert SECRET_KEY not in repr(archive)


def test_wrong_credentials_are_denied_without_showing_them(
        seaweedfs: SeaweedFS, s3_env: None, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-SECRET-value-never-shown"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", wrong)
    archive = S3Archive(BUCKET, fresh_prefix(), endpoint_url=seaweedfs.endpoint)
    for operation, permission in ((lambda: archive.put("k", b"v"), "s3:PutObject"),
                                  (lambda: archive.get("k"), "s3:GetObject"),
                                  (lambda: list(archive.list()), "s3:ListBucket")):
        with pytest.raises(ArchiveError, match="denied") as info:
            operation()
        assert permission in str(info.value)
        assert wrong not in str(info.value)
    assert wrong not in caplog.text


def test_missing_credentials_are_reported(boto3_installed: None, s3_env: None,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    archive = S3Archive(BUCKET, endpoint_url=f"http://127.0.0.1:{free_ports(1)[0]}")
    with pytest.raises(ArchiveError, match=r"no usable S3 credentials.*AWS_ACCESS_KEY_ID"):
        archive.get("k")


def test_a_missing_bucket_is_named(seaweedfs: SeaweedFS, s3_client: Any) -> None:
    archive = S3Archive("no-such-bucket-here", endpoint_url=seaweedfs.endpoint,
                        client=s3_client)
    for operation in (lambda: archive.put("k", b"v"), lambda: list(archive.list())):
        with pytest.raises(ArchiveError, match="bucket 'no-such-bucket-here' does not exist"):
            operation()


def test_without_boto3_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ArchiveError, match=r"pip install 'pipetrail\[s3\]'"):
        S3Archive(BUCKET)


def test_bad_construction_arguments(boto3_installed: None, s3_env: None) -> None:
    with pytest.raises(ArchiveError, match="not a valid bucket name"):
        S3Archive("Bad_Bucket")
    with pytest.raises(ArchiveError, match="segment"):
        S3Archive(BUCKET, "a/../b")
    with pytest.raises(ArchiveError, match="page size"):
        S3Archive(BUCKET, page_size=1001)
