"""The archive: where the trail's log files and digests are delivered.

An archive is a flat store of objects named by ``/``-separated keys, with a little user
metadata per object, behind one small interface (:class:`Archive`). Two backends:

- :class:`LocalArchive`, a directory (``PIPETRAIL_HOME/archive`` by default): an object
  is a file; its metadata sits in a hidden sidecar ``.<name>.metadata.json`` beside it.
  Writes are atomic (temporary file, fsync, rename, fsync of the directory).
- :class:`~pipetrail.trail.s3_archive.S3Archive`, an S3-compatible bucket (AWS S3,
  MinIO, SeaweedFS …): an object is an S3 object under an optional prefix; its metadata
  is S3 user metadata (``x-amz-meta-*``).

:func:`open_archive` turns a ``PIPETRAIL_ARCHIVE`` value into one of them.

Keys are checked the same way on both backends, so a key that works on one works on the
other: relative, at most 1,024 bytes of UTF-8, no empty, ``.`` or ``..`` segment, no
segment starting with ``.`` (hidden names are the archive's own), no backslash and no
control characters. Metadata names are lower-case ``[a-z0-9-]``, values non-empty
printable ASCII without surrounding spaces, at most 2 KiB in all: what S3 user metadata
keeps exactly (S3 lower-cases names, trims values, some stores drop empty ones).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

from pipetrail.model.errors import PipetrailError

if TYPE_CHECKING:
    from pipetrail.trail.s3_archive import S3Archive

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
MAX_OBJECT_BYTES = 5 * 1024**3
LOCAL_BUCKET = "local"
DEFAULT_DIRECTORY = "archive"
METADATA_SUFFIX = ".metadata.json"

_METADATA_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_METADATA_VALUE = re.compile(r"[\x20-\x7e]*\Z")
_FORBIDDEN_IN_KEY = re.compile(r"[\x00-\x1f\x7f\\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_USERINFO = re.compile(r"//[^/?#]*@")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")


class ArchiveError(PipetrailError):
    """The archive refused an operation or could not be reached."""

    code = "ArchiveException"
    exit_code = 3


class ArchiveNotFound(ArchiveError):
    """No object under that key."""

    code = "NoSuchKey"
    exit_code = 4


class Archive(Protocol):
    """Objects by key, with user metadata. ``put`` is atomic: a reader sees the old
    object, the new one, or none, never a part."""

    bucket: str
    location: str

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        ...

    def get(self, key: str) -> bytes:
        ...

    def metadata(self, key: str) -> dict[str, str]:
        ...

    def exists(self, key: str) -> bool:
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        ...

    def delete(self, key: str) -> None:
        ...


def _shown(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _check_segment(segment: str, what: str, text: str) -> None:
    if not segment:
        raise ArchiveError(f"{what} {_shown(text)} has an empty segment ('//' or a "
                           "leading or trailing '/')")
    if segment in (".", ".."):
        raise ArchiveError(f"{what} {_shown(text)} has a '{segment}' segment: keys may not "
                           "leave the archive")
    if segment.startswith("."):
        raise ArchiveError(f"{what} {_shown(text)} has a segment starting with '.': hidden "
                           "names are reserved for the archive's own files")


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid archive key, else raise :class:`ArchiveError`."""
    if not isinstance(key, str) or not key:
        raise ArchiveError("an archive key must be a non-empty string")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise ArchiveError(f"archive key {_shown(key)} is longer than {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise ArchiveError(f"archive key {_shown(key)} is absolute: keys are relative "
                           "'/'-separated paths")
    if _FORBIDDEN_IN_KEY.search(key):
        raise ArchiveError(f"archive key {_shown(key)} contains a backslash or a control "
                           "character")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ArchiveError(f"archive key {_shown(key)} is not valid UTF-8") from None
    for segment in key.split("/"):
        _check_segment(segment, "archive key", key)
    return key


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if keys can start with it: ``""``, whole segments ending with
    ``/``, or whole segments then the start of a last one (``"2026/11/2"``)."""
    if not isinstance(prefix, str):
        raise ArchiveError("an archive prefix must be a string")
    if not prefix:
        return prefix
    if len(prefix.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise ArchiveError(f"archive prefix {_shown(prefix)} is longer than "
                           f"{MAX_KEY_BYTES} bytes")
    if prefix.startswith("/") or _FORBIDDEN_IN_KEY.search(prefix):
        raise ArchiveError(f"archive prefix {_shown(prefix)} is absolute or contains a "
                           "backslash or a control character")
    *whole, last = prefix.split("/")
    for segment in whole:
        _check_segment(segment, "archive prefix", prefix)
    if last:
        _check_segment(last, "archive prefix", prefix)
    return prefix


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Return a copy of ``metadata`` if S3 can keep it exactly, else raise."""
    if not metadata:
        return {}
    checked: dict[str, str] = {}
    size = 0
    for name, value in metadata.items():
        if not isinstance(name, str) or not _METADATA_NAME.match(name):
            raise ArchiveError(f"metadata name {_shown(str(name))} must be lower-case letters, "
                               "digits and '-', starting with a letter or digit")
        if not isinstance(value, str) or not _METADATA_VALUE.match(value):
            raise ArchiveError(f"metadata {name!r} must be a string of printable ASCII")
        if not value:
            raise ArchiveError(f"metadata {name!r} is empty (S3 stores drop empty values)")
        if value != value.strip():
            raise ArchiveError(f"metadata {name!r} starts or ends with a space")
        size += len(name) + len(value)
        checked[name] = value
    if size > MAX_METADATA_BYTES:
        raise ArchiveError(f"metadata of {size} bytes is over the limit of "
                           f"{MAX_METADATA_BYTES} bytes")
    return checked


def check_data(data: bytes) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ArchiveError(f"an archive object must be bytes, not {type(data).__name__}")
    if len(data) > MAX_OBJECT_BYTES:
        raise ArchiveError(f"an archive object of {len(data)} bytes is over the limit of "
                           f"{MAX_OBJECT_BYTES} bytes")
    return bytes(data)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a hidden temporary file beside ``path``, fsync it and rename it
    over ``path``. The caller fsyncs the directory."""
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(6)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


class LocalArchive:
    """An archive in a directory: one file per object, its metadata in a hidden sidecar
    ``.<name>.metadata.json`` written before the object."""

    bucket = LOCAL_BUCKET

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(Path(root).expanduser()))
        self.location = str(self.root)

    def __repr__(self) -> str:
        return f"LocalArchive({self.location!r})"

    def _path(self, key: str) -> Path:
        path = self.root.joinpath(*check_key(key).split("/"))
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        if not real.startswith(real_root.rstrip(os.sep) + os.sep):
            raise ArchiveError(f"archive key {_shown(key)} leads out of the archive "
                               f"{self.location} (through a symbolic link)")
        return path

    @staticmethod
    def _sidecar(path: Path) -> Path:
        return path.with_name(f".{path.name}{METADATA_SUFFIX}")

    def _make_dirs(self, directory: Path, key: str) -> None:
        missing = []
        current = directory
        while not current.is_dir():
            missing.append(current)
            current = current.parent
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:
                if not folder.is_dir():
                    name = folder.relative_to(self.root).as_posix()
                    raise ArchiveError(f"cannot store {_shown(key)} in the archive "
                                       f"{self.location}: {name!r} is an object") from None
            _fsync_dir(folder.parent)

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        path = self._path(key)
        meta = check_metadata(metadata)
        body = check_data(data)
        sidecar = self._sidecar(path)
        if path.is_dir():
            raise ArchiveError(f"cannot store {_shown(key)} in the archive {self.location}: "
                               "it is a folder of other objects")
        for attempt in range(3):
            try:
                self._make_dirs(path.parent, key)
                if meta:
                    _atomic_write(sidecar, json.dumps(meta, sort_keys=True).encode())
                    _fsync_dir(path.parent)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        sidecar.unlink()
                _atomic_write(path, body)
                _fsync_dir(path.parent)
                return
            except FileNotFoundError:
                # a delete pruned the folder meanwhile: make it again
                if attempt == 2:
                    raise ArchiveError(f"cannot write {_shown(key)} to the archive "
                                       f"{self.location}: its folder keeps vanishing") from None
            except OSError as exc:
                raise ArchiveError(f"cannot write {_shown(key)} to the archive "
                                   f"{self.location}: {exc.strerror or exc}") from None

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ArchiveNotFound(f"no object {_shown(key)} in the archive "
                                  f"{self.location}") from None
        except OSError as exc:
            raise ArchiveError(f"cannot read {_shown(key)} from the archive {self.location}: "
                               f"{exc.strerror or exc}") from None

    def metadata(self, key: str) -> dict[str, str]:
        path = self._path(key)
        if not path.is_file():
            raise ArchiveNotFound(f"no object {_shown(key)} in the archive {self.location}")
        try:
            text = self._sidecar(path).read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ArchiveError(f"cannot read the metadata of {_shown(key)} in the archive "
                               f"{self.location}: {exc.strerror or exc}") from None
        try:
            loaded = json.loads(text)
            if not isinstance(loaded, dict):
                raise ValueError("not an object")
            return {str(name): str(value) for name, value in loaded.items()}
        except ValueError:
            raise ArchiveError(f"the metadata of {_shown(key)} in the archive "
                               f"{self.location} is damaged") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        head, _, partial = check_prefix(prefix).rpartition("/")
        base = self.root.joinpath(*head.split("/")) if head else self.root
        return self._walk(base, f"{head}/" if head else "", partial)

    def _walk(self, directory: Path, key_prefix: str, partial: str) -> Iterator[str]:
        """Keys under ``directory`` in the order of their full names: a folder sorts as
        its name followed by ``/``, which is exactly where its keys sort."""
        try:
            with os.scandir(directory) as scan:
                entries = []
                for entry in scan:
                    name = entry.name
                    if name.startswith(".") or not name.startswith(partial):
                        continue
                    if _FORBIDDEN_IN_KEY.search(name):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        entries.append((f"{name}/", True))
                    elif entry.is_file(follow_symlinks=False):
                        entries.append((name, False))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise ArchiveError(f"cannot list the archive {self.location}: "
                               f"{exc.strerror or exc}") from None
        entries.sort()
        for name, is_dir in entries:
            if is_dir:
                yield from self._walk(directory / name[:-1], key_prefix + name, "")
            else:
                yield key_prefix + name

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir():
            return
        try:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                path.unlink()
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                self._sidecar(path).unlink()
            if path.parent.is_dir():
                _fsync_dir(path.parent)
        except OSError as exc:
            raise ArchiveError(f"cannot delete {_shown(key)} from the archive "
                               f"{self.location}: {exc.strerror or exc}") from None
        folder = path.parent
        while folder != self.root:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def _display_spec(spec: str) -> str:
    """A spec as it may be shown: without any ``user:password@``."""
    return _shown(_USERINFO.sub("//***@", spec))


def open_archive(spec: str | None, home: Path) -> Archive:
    """The archive a ``PIPETRAIL_ARCHIVE`` value names: unset or empty for the folder
    ``home/archive``; ``s3://bucket[/prefix]``; ``file:///abs/dir`` or a directory path."""
    text = (spec or "").strip()
    if not text:
        return LocalArchive(Path(home).expanduser() / DEFAULT_DIRECTORY)
    if _CONTROL.search(text):
        raise ArchiveError("PIPETRAIL_ARCHIVE contains a control character")
    scheme = _SCHEME.match(text)
    if scheme is None:
        return LocalArchive(Path(text).expanduser())
    name = scheme.group(1).lower()
    if name == "s3":
        return _s3_from_spec(text)
    if name == "file":
        return _local_from_file_url(text)
    raise ArchiveError(f"unsupported archive {_display_spec(text)}: use a directory path, "
                       "file:///absolute/dir or s3://bucket/prefix")


def _local_from_file_url(text: str) -> LocalArchive:
    parts = urlsplit(text)
    if not text.lower().startswith("file://") or parts.netloc not in ("", "localhost"):
        raise ArchiveError(f"archive {_display_spec(text)} is not a local file URL: use "
                           "file:///absolute/dir")
    if parts.query or parts.fragment:
        raise ArchiveError(f"archive {_display_spec(text)} has a query or a fragment")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise ArchiveError(f"archive {_display_spec(text)} needs an absolute path: "
                           "file:///absolute/dir")
    return LocalArchive(Path(path))


def _s3_from_spec(text: str) -> S3Archive:
    if not text.lower().startswith("s3://"):
        raise ArchiveError(f"archive {_display_spec(text)} is not an S3 URL: use "
                           "s3://bucket/prefix")
    parts = urlsplit(text)
    if "@" in parts.netloc:
        raise ArchiveError("PIPETRAIL_ARCHIVE must not contain credentials: give them with "
                           "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile or role)")
    if parts.query or parts.fragment:
        raise ArchiveError(f"archive {_display_spec(text)} has a query or a fragment: set "
                           "the endpoint and region with PIPETRAIL_S3_ENDPOINT_URL and AWS_REGION")
    bucket = parts.netloc
    if ":" in bucket:
        raise ArchiveError(f"archive {_display_spec(text)} names a port: s3://bucket/prefix "
                           "takes a bucket; set the endpoint with PIPETRAIL_S3_ENDPOINT_URL")
    check_bucket(bucket, text)
    from pipetrail.trail.s3_archive import S3Archive

    return S3Archive(bucket, unquote(parts.path).strip("/"))


def check_bucket(bucket: str, spec: str | None = None) -> str:
    """Refuse a bucket name S3 would refuse: 3 to 63 of ``a-z 0-9 . -``."""
    if not isinstance(bucket, str) or not _BUCKET.match(bucket) or ".." in bucket:
        where = f" in {_display_spec(spec)}" if spec else ""
        shown = _shown(bucket) if isinstance(bucket, str) else "that"
        raise ArchiveError(f"{shown}{where} is not a valid bucket name: 3 to 63 lower-case "
                           "letters, digits, '.' and '-', starting and ending with a letter "
                           "or digit")
    return bucket


def __getattr__(name: str) -> Any:
    # S3Archive lives in its own module (boto3 is optional); importable from here too.
    if name == "S3Archive":
        from pipetrail.trail.s3_archive import S3Archive

        return S3Archive
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
