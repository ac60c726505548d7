"""Real API servers for tests: uvicorn in a thread of the test process, or
``pipetrail server`` in a process of its own (to kill it), on 127.0.0.1 free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn

from pipetrail.access import parse_policy
from pipetrail.actions import access
from pipetrail.actions.context import ActionContext
from pipetrail.config import Settings
from pipetrail.server.app import create_app
from pipetrail.store import Store

ALLOW_ALL = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'  # noqa: E501
DENY_ALL = ('{"Version": "2012-10-17", "Statement": ['
            '{"Effect": "Allow", "Action": "*", "Resource": "*"},'
            '{"Sid": "NoWay", "Effect": "Deny", "Action": "*", "Resource": "*"}]}')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def principal_with_token(ctx: ActionContext, name: str, policy: str | None,
                         kind: str = "User") -> str:
    """Create a principal (with ``policy`` attached, if any) and return a token."""
    assert policy is None or parse_policy(policy)
    access.create_principal(ctx, name, kind)
    if policy is not None:
        access.put_policy(ctx, f"{name}-policy", policy)
        access.attach_policy(ctx, name, f"{name}-policy")
    return access.create_token(ctx, name).text


@dataclass
class ThreadedServer:
    """uvicorn serving ``create_app(settings)`` in a thread of this process."""

    settings: Settings
    store: Store
    lease_seconds: float = 15.0
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        app = create_app(self.settings, store=self.store, lease_seconds=self.lease_seconds)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def server_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
    env["PIPETRAIL_HOME"] = str(settings.home)
    if settings.database_url:
        env["PIPETRAIL_DATABASE_URL"] = settings.database_url
    env.update(extra or {})
    return env


@dataclass
class ProcessServer:
    """``pipetrail server`` in its own process."""

    settings: Settings
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> ProcessServer:
        out = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipetrail.cli", "server", "--port", str(self.port)],
            env=server_env(self.settings, self.extra_env), stdout=out, stderr=out)
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 30) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            try:
                answer = httpx.get(f"{self.url}/healthz", timeout=1)
                if answer.status_code == 200:
                    return dict(answer.json())
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the server did not become healthy")

    def health(self) -> dict[str, object]:
        return dict(httpx.get(f"{self.url}/healthz", timeout=2).json())

    def kill(self, signum: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signum)
            self.proc.wait(30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
