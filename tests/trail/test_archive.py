"""The archive contract, on a folder and on a real S3 bucket (SeaweedFS); then what only
the folder does (atomic writes, hidden sidecars, symbolic links)."""

from __future__ import annotations

import hashlib
import os
import random
import threading
from pathlib import Path

import pytest

from pipetrail.model.errors import PipetrailError
from pipetrail.trail.archive import (
    MAX_METADATA_BYTES,
    Archive,
    ArchiveError,
    ArchiveNotFound,
    LocalArchive,
)

BINARY = bytes(range(256)) * 64 + b"\x00\r\n\x1f\x8b"
TRICKY_KEYS = ["a/b/c", "a/b.c", "a/b0", "a/b-c", "a-b", "a.b", "a0", "ab", "A", "z",
               "données/é.json", "AWSLogs/1/CloudTrail/2026/11/25/x.json.gz",
               "AWSLogs/1/CloudTrail-Digest/2026/11/25/x.json.gz"]
BAD_KEYS = ["", "/etc/passwd", "../outside", "a/../../outside", "a/..", "./a", "a//b", "a/",
            ".hidden", "a/.metadata.json", "a\\b", "a\x00b", "line\nbreak", "k" * 1025]


def test_put_get_round_trip_with_binary_data_and_metadata(archive: Archive) -> None:
    meta = {"sha256": hashlib.sha256(BINARY).hexdigest(), "signature-algorithm": "ed25519",
            "x": "~ !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"}
    archive.put("AWSLogs/local/CloudTrail/2026/11/25/file.json.gz", BINARY, meta)
    assert archive.get("AWSLogs/local/CloudTrail/2026/11/25/file.json.gz") == BINARY
    assert archive.metadata("AWSLogs/local/CloudTrail/2026/11/25/file.json.gz") == meta
    assert archive.exists("AWSLogs/local/CloudTrail/2026/11/25/file.json.gz")
    assert list(archive.list()) == ["AWSLogs/local/CloudTrail/2026/11/25/file.json.gz"]


def test_an_object_without_metadata_and_an_empty_object(archive: Archive) -> None:
    archive.put("empty", b"")
    archive.put("plain", bytearray(b"bytes-like"))
    assert archive.get("empty") == b""
    assert archive.get("plain") == b"bytes-like"
    assert archive.metadata("empty") == {}
    assert archive.metadata("plain") == {}


def test_many_keys_are_listed_sorted_under_prefixes(archive: Archive) -> None:
    keys = [f"AWSLogs/1/CloudTrail/2026/11/{day:02d}/f{n:03d}.json.gz"
            for day in (1, 2, 10, 25) for n in range(8)] + TRICKY_KEYS
    shuffled = keys[:]
    random.Random(7).shuffle(shuffled)
    for number, key in enumerate(shuffled):
        archive.put(key, key.encode(), {"n": str(number)})
    assert list(archive.list()) == sorted(keys)
    assert list(archive.list("")) == sorted(keys)
    assert list(archive.list("AWSLogs/1/CloudTrail/2026/11/2")) == sorted(
        k for k in keys if k.startswith("AWSLogs/1/CloudTrail/2026/11/2"))
    assert list(archive.list("AWSLogs/1/CloudTrail/")) == sorted(
        k for k in keys if k.startswith("AWSLogs/1/CloudTrail/"))
    assert list(archive.list("AWSLogs/1/CloudTrail")) == sorted(
        k for k in keys if k.startswith("AWSLogs/1/CloudTrail"))
    assert list(archive.list("a/")) == ["a/b-c", "a/b.c", "a/b/c", "a/b0"]
    assert list(archive.list("a")) == sorted(k for k in keys if k.startswith("a"))
    assert list(archive.list("données/")) == ["données/é.json"]
    assert list(archive.list("nothing/here/")) == []
    assert list(archive.list("AWSLogs/1/CloudTrail/2026/12/")) == []
    for number, key in enumerate(shuffled):
        assert archive.get(key) == key.encode()
        assert archive.metadata(key) == {"n": str(number)}


def test_an_overwrite_replaces_data_and_metadata(archive: Archive) -> None:
    archive.put("d/k", b"one", {"v": "1", "only-first": "yes"})
    archive.put("d/k", b"one", {"v": "1", "only-first": "yes"})
    assert archive.get("d/k") == b"one"
    archive.put("d/k", b"two", {"v": "2"})
    assert archive.get("d/k") == b"two"
    assert archive.metadata("d/k") == {"v": "2"}
    archive.put("d/k", b"three")
    assert archive.get("d/k") == b"three"
    assert archive.metadata("d/k") == {}
    assert list(archive.list()) == ["d/k"]


def test_delete_removes_the_object_and_its_metadata(archive: Archive) -> None:
    archive.put("x/y/gone", b"1", {"a": "b"})
    archive.put("x/y/kept", b"2")
    archive.delete("x/y/gone")
    assert not archive.exists("x/y/gone")
    assert list(archive.list()) == ["x/y/kept"]
    with pytest.raises(ArchiveNotFound):
        archive.get("x/y/gone")
    with pytest.raises(ArchiveNotFound):
        archive.metadata("x/y/gone")
    archive.delete("x/y/gone")
    archive.delete("never/there")
    archive.delete("x")  # a prefix of objects, no object itself
    assert archive.get("x/y/kept") == b"2"
    archive.delete("x/y/kept")
    assert list(archive.list()) == []
    archive.put("x/y/gone", b"again", {"a": "c"})
    assert archive.get("x/y/gone") == b"again"
    assert archive.metadata("x/y/gone") == {"a": "c"}


def test_a_missing_key_is_not_found(archive: Archive) -> None:
    archive.put("present/key", b"1")
    for key in ("missing", "present/other", "present/key/below"):
        assert not archive.exists(key)
        with pytest.raises(ArchiveNotFound, match="no object") as info:
            archive.get(key)
        assert archive.location in str(info.value)
        with pytest.raises(ArchiveNotFound):
            archive.metadata(key)
    assert not archive.exists("present")  # a folder of objects is not an object
    with pytest.raises(ArchiveNotFound):
        archive.get("present")
    assert issubclass(ArchiveNotFound, ArchiveError)
    assert issubclass(ArchiveError, PipetrailError)


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_that_are_not_plain_relative_paths_are_refused(archive: Archive, key: str
                                                            ) -> None:
    for operation in (lambda: archive.put(key, b"x"), lambda: archive.get(key),
                      lambda: archive.metadata(key), lambda: archive.exists(key),
                      lambda: archive.delete(key)):
        with pytest.raises(ArchiveError) as info:
            operation()
        assert not isinstance(info.value, ArchiveNotFound)
        assert "key" in str(info.value)
    assert list(archive.list()) == []


@pytest.mark.parametrize("prefix", ["/abs", "../up", "a/../b", "a//", ".hid", "a/.hid"])
def test_prefixes_that_cannot_start_a_key_are_refused(archive: Archive, prefix: str) -> None:
    with pytest.raises(ArchiveError, match="prefix"):
        archive.list(prefix)


@pytest.mark.parametrize("metadata, message", [
    ({"Upper": "x"}, "lower-case"),
    ({"under_score": "x"}, "lower-case"),
    ({"-dash": "x"}, "lower-case"),
    ({"k": "é"}, "printable ASCII"),
    ({"k": "line\nbreak"}, "printable ASCII"),
    ({"k": " padded"}, "space"),
    ({"k": ""}, "empty"),
    ({"k": "x" * MAX_METADATA_BYTES}, "over the limit"),
])
def test_metadata_s3_cannot_keep_exactly_is_refused(archive: Archive, metadata: dict[str, str],
                                                    message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        archive.put("k", b"x", metadata)
    assert not archive.exists("k")


def test_data_must_be_bytes(archive: Archive) -> None:
    with pytest.raises(ArchiveError, match="must be bytes"):
        archive.put("k", "text", None)  # type: ignore[arg-type]
    assert not archive.exists("k")


# --- the folder only ---------------------------------------------------------------------

def test_local_layout_objects_are_files_and_metadata_hidden_sidecars(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path / "root")
    assert archive.bucket == "local"
    assert archive.location == str(tmp_path / "root")
    assert list(archive.list()) == []  # the folder does not exist yet
    archive.put("AWSLogs/f.json.gz", b"data", {"sha256": "ab"})
    folder = tmp_path / "root" / "AWSLogs"
    assert (folder / "f.json.gz").read_bytes() == b"data"
    assert sorted(p.name for p in folder.iterdir()) == [".f.json.gz.metadata.json",
                                                        "f.json.gz"]
    assert list(archive.list()) == ["AWSLogs/f.json.gz"]
    archive.delete("AWSLogs/f.json.gz")
    assert not folder.exists()  # emptied folders are pruned
    assert (tmp_path / "root").is_dir()


def test_local_put_is_atomic_for_readers(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path / "root")
    versions = [bytes([n]) * (1 << 20) for n in (1, 2)]
    archive.put("day/file", versions[0], {"v": "0"})
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for number in range(40):
                archive.put("day/file", versions[number % 2], {"v": str(number % 2)})
        except BaseException as exc:
            errors.append(exc)
        finally:
            stop.set()

    writer = threading.Thread(target=write)
    writer.start()
    reads = 0
    while not stop.is_set() or reads == 0:
        assert archive.get("day/file") in versions
        assert list(archive.list()) == ["day/file"]
        assert archive.metadata("day/file") in ({"v": "0"}, {"v": "1"})
        reads += 1
    writer.join()
    assert not errors
    assert sorted(os.listdir(tmp_path / "root" / "day")) == [".file.metadata.json", "file"]


def test_local_keys_cannot_leave_the_root_through_a_symbolic_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    archive = LocalArchive(root)
    with pytest.raises(ArchiveError, match="out of the archive"):
        archive.put("link/escaped", b"x")
    with pytest.raises(ArchiveError, match="out of the archive"):
        archive.get("link/escaped")
    assert list(outside.iterdir()) == []
    assert list(archive.list()) == []  # links are not followed


def test_local_a_key_below_an_object_is_refused_clearly(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path / "root")
    archive.put("a", b"1")
    with pytest.raises(ArchiveError, match="'a' is an object"):
        archive.put("a/b", b"2")
    archive.put("c/d", b"3")
    with pytest.raises(ArchiveError, match="folder of other objects"):
        archive.put("c", b"4")
    assert list(archive.list()) == ["a", "c/d"]


def test_local_foreign_files_in_the_folder_are_not_listed(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path / "root")
    archive.put("ok", b"1")
    (tmp_path / "root" / ".partial.tmp-abc").write_bytes(b"half")
    (tmp_path / "root" / "bad\\name").write_bytes(b"x")
    assert list(archive.list()) == ["ok"]


def test_local_damaged_metadata_is_reported(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path / "root")
    archive.put("k", b"1", {"a": "b"})
    (tmp_path / "root" / ".k.metadata.json").write_text("{not json")
    with pytest.raises(ArchiveError, match="damaged"):
        archive.metadata("k")
