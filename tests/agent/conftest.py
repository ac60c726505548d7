"""A server to record remote runs, an agent home without a store, and a runner token."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.config import Settings
from pipetrail.store import Store
from tests.servers import ThreadedServer, principal_with_token

RUNNER_POLICY = """{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["jobs:StartJobRun", "jobs:PutJobRunRecords"],
   "Resource": "arn:pipetrail:jobs:local:job/nightly*"}]}"""


@dataclass
class Remote:
    server: ThreadedServer
    ctx: ActionContext
    token: str
    agent_home: Path

    @property
    def store(self) -> Store:
        return self.ctx.store

    def env(self, url: str | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
        env.update({"PIPETRAIL_HOME": str(self.agent_home),
                    "PIPETRAIL_URL": url or self.server.url, "PIPETRAIL_TOKEN": self.token,
                    "PIPETRAIL_SAMPLE_INTERVAL": "0.1"})
        env.update(extra)
        return env

    def cli(self, *args: str, url: str | None = None, timeout: float = 120,
            **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipetrail.cli", *args],
                              capture_output=True, text=True, env=self.env(url, **extra),
                              timeout=timeout, cwd=self.agent_home.parent)


@pytest.fixture
def remote(store: Store, settings: Settings, ctx: ActionContext, tmp_path: Path
           ) -> Iterator[Remote]:
    token = principal_with_token(ctx, "runner", RUNNER_POLICY, kind="ServiceAccount")
    server = ThreadedServer(settings, store).start()
    agent_home = tmp_path / "agent-home"
    yield Remote(server, ctx, token, agent_home)
    server.stop()
