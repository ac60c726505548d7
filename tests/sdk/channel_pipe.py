"""A real side channel on a pipe, made active in this process for a test."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pipetrail.sdk.channel import Channel, activate


class PipeChannel:
    def __init__(self) -> None:
        self._read_fd, write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self.channel = Channel(write_fd)

    def records(self) -> list[dict[str, Any]]:
        """Every record sent since the last call."""
        data = b""
        while True:
            try:
                chunk = os.read(self._read_fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        return [json.loads(line) for line in data.decode().splitlines()]

    def close(self) -> None:
        self.channel._file.close()
        os.close(self._read_fd)


@contextmanager
def active_channel() -> Iterator[PipeChannel]:
    pipe = PipeChannel()
    activate(pipe.channel)
    try:
        yield pipe
    finally:
        activate(None)
        pipe.close()
