"""Schemathesis against the server's own OpenAPI description: whatever it sends, the
server never answers 5xx (on both backends)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.config import Settings
from pipetrail.store import Store
from tests.servers import ALLOW_ALL, ThreadedServer, principal_with_token

PHASES = "examples,fuzzing"


@pytest.mark.slow
def test_no_request_gets_a_server_error(store: Store, settings: Settings, ctx: ActionContext,
                                        tmp_path: Path) -> None:
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    token = principal_with_token(ctx, "fuzzer-3b9e1c7a", ALLOW_ALL)
    server = ThreadedServer(settings, store).start()
    try:
        done = subprocess.run(
            [executable, "run", f"{server.url}/openapi.json",
             "--header", f"Authorization: Bearer {token}", "--checks", "not_a_server_error",
             "--max-examples", "8", "--workers", "2", "--phases", PHASES,
             "--seed", "20261125", "--no-color",
             "--generation-database", "none", "--report", "junit",
             "--report-dir", str(tmp_path / "report")],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    finally:
        server.stop()
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary
    assert "27/27" in summary or "Tested:" in summary
