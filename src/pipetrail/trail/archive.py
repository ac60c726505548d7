"""Archive storage (minimal local form; replaced by the full local + S3 layer)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

from pipetrail.model.errors import PipetrailError


class ArchiveError(PipetrailError):
    pass


class ArchiveNotFound(ArchiveError):
    pass


class Archive(Protocol):
    bucket: str
    location: str

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None: ...
    def get(self, key: str) -> bytes: ...
    def metadata(self, key: str) -> dict[str, str]: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str = "") -> Iterator[str]: ...
    def delete(self, key: str) -> None: ...


class LocalArchive:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bucket = "local"
        self.location = str(root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def _meta(self, key: str) -> Path:
        p = self._path(key)
        return p.with_name(f".{p.name}.metadata.json")

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if metadata:
            self._meta(key).write_text(json.dumps(dict(metadata)))
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ArchiveNotFound(key) from None

    def metadata(self, key: str) -> dict[str, str]:
        if not self.exists(key):
            raise ArchiveNotFound(key)
        try:
            return dict(json.loads(self._meta(key).read_text()))
        except FileNotFoundError:
            return {}

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        keys = []
        for dirpath, _, files in os.walk(self.root):
            for name in files:
                if name.startswith("."):
                    continue
                key = os.path.relpath(os.path.join(dirpath, name), self.root).replace(os.sep, "/")
                if key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        self._meta(key).unlink(missing_ok=True)


def open_archive(spec: str | None, home: Path) -> Archive:
    return LocalArchive(Path(spec) if spec else home / "archive")
