"""PIPETRAIL_ARCHIVE: the forms it takes, and clear errors for the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipetrail.config import Settings
from pipetrail.trail.archive import ArchiveError, LocalArchive, open_archive


@pytest.mark.parametrize("spec", [None, "", "   "])
def test_unset_means_the_archive_folder_of_the_home(tmp_path: Path, spec: str | None) -> None:
    archive = open_archive(spec, tmp_path / "home")
    assert isinstance(archive, LocalArchive)
    assert archive.bucket == "local"
    assert archive.location == str(tmp_path / "home" / "archive")


def test_directory_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    assert open_archive(str(tmp_path / "abs"), home).location == str(tmp_path / "abs")
    assert open_archive(f"file://{tmp_path}/url", home).location == str(tmp_path / "url")
    assert open_archive(f"FILE://localhost{tmp_path}/a%20b", home).location == str(
        tmp_path / "a b")
    monkeypatch.chdir(tmp_path)
    assert open_archive("rel/dir", home).location == str(tmp_path / "rel" / "dir")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert open_archive("~/trail", home).location == str(tmp_path / "user" / "trail")
    archive = open_archive(str(tmp_path / "abs"), home)
    archive.put("k", b"v")
    assert (tmp_path / "abs" / "k").read_bytes() == b"v"


@pytest.mark.s3
@pytest.mark.parametrize("spec, location, prefix", [
    ("s3://pipetrail-audit", "s3://pipetrail-audit", ""),
    ("s3://pipetrail-audit/", "s3://pipetrail-audit", ""),
    ("s3://pipetrail-audit/team/trail/", "s3://pipetrail-audit/team/trail", "team/trail/"),
    ("S3://my.bucket-1/p", "s3://my.bucket-1/p", "p/"),
])
def test_s3_urls(boto3_installed: None, s3_env: None, tmp_path: Path, spec: str,
                 location: str, prefix: str) -> None:
    from pipetrail.trail.s3_archive import S3Archive

    archive = open_archive(spec, tmp_path)
    assert isinstance(archive, S3Archive)
    assert archive.bucket == location.removeprefix("s3://").split("/")[0]
    assert archive.location == location
    assert archive.prefix == prefix


@pytest.mark.parametrize("spec, message", [
    ("ftp://example.com/x", "unsupported archive 'ftp://example.com/x'"),
    ("https://bucket.s3.amazonaws.com/x", "unsupported archive"),
    ("gs://bucket/x", "unsupported archive"),
    ("s3:bucket/x", "not an S3 URL"),
    ("s3://", "not a valid bucket name"),
    ("s3:///prefix", "not a valid bucket name"),
    ("s3://Bad_Bucket/x", "not a valid bucket name"),
    ("s3://ab/x", "not a valid bucket name"),
    ("s3://bucket..dots/x", "not a valid bucket name"),
    ("s3://bucket:9000/x", "names a port"),
    ("s3://bucket/x?region=eu-west-1", "query"),
    ("s3://bucket/a/../b", "segment"),
    ("s3://bucket/a/.hidden", "segment"),
    ("file://otherhost/x", "not a local file URL"),
    ("file:relative/x", "not a local file URL"),
    ("file:///x?y=1", "query"),
    ("dir\x00name", "control character"),
])
def test_bad_specs_get_clear_errors(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(ArchiveError, match=message.replace("?", r"\?")):
        open_archive(spec, tmp_path)


@pytest.mark.parametrize("spec", ["s3://AKIAEXAMPLEKEY:hunter2secret@bucket/p",
                                  "s3://hunter2secret@bucket/p",
                                  "ftp://AKIAEXAMPLEKEY:hunter2secret@host/p"])
def test_credentials_in_the_spec_are_refused_and_not_shown(tmp_path: Path, spec: str) -> None:
    with pytest.raises(ArchiveError) as info:
        open_archive(spec, tmp_path)
    assert "hunter2secret" not in str(info.value)
    assert "AKIAEXAMPLEKEY" not in str(info.value)


def test_settings_read_pipetrail_archive(tmp_path: Path) -> None:
    assert Settings.from_env({"PIPETRAIL_HOME": str(tmp_path)}).archive is None
    assert Settings.from_env({"PIPETRAIL_ARCHIVE": ""}).archive is None
    settings = Settings.from_env({"PIPETRAIL_HOME": str(tmp_path),
                                  "PIPETRAIL_ARCHIVE": f" {tmp_path}/elsewhere "})
    assert settings.archive == f"{tmp_path}/elsewhere"
    assert open_archive(settings.archive, settings.home).location == str(tmp_path / "elsewhere")
    default = Settings.from_env({"PIPETRAIL_HOME": str(tmp_path)})
    assert open_archive(default.archive, default.home).location == str(tmp_path / "archive")
