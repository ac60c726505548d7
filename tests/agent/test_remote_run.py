"""``pipetrail run`` with PIPETRAIL_URL: the run is recorded through the server."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from pipetrail.actions import access
from pipetrail.model.logs import OUTPUT_GROUP
from pipetrail.store.store import AuditQuery
from tests.agent.conftest import Remote
from tests.conftest import ScriptFactory
from tests.servers import ThreadedServer, free_port

JOB = """
import logging, sys
logging.warning("from the logger")
for i in range(1500):
    print("row", i)
print("to stderr", file=sys.stderr)
"""


def events_of(remote: Remote, name: str, run_id: str) -> list[dict]:
    return remote.store.lookup_audit_events(AuditQuery(event_name=name, run_id=run_id))


def test_a_remote_run_is_recorded_through_the_server(remote: Remote,
                                                     script: ScriptFactory) -> None:
    done = remote.cli("run", str(script(JOB)), "--job", "nightly", "--", "--day", "1")
    assert done.returncode == 0, done.stderr
    assert "SUCCEEDED" in done.stderr and remote.server.url in done.stderr
    run = remote.store.list_runs(job_name="nightly")[0]
    assert run.state.value == "SUCCEEDED" and run.exit_code == 0
    assert run.principal == "runner"
    assert run.arguments == ["--day", "1"]
    assert remote.store.count_log_events(OUTPUT_GROUP, run.run_id) == 1500
    messages = [e.message for e in remote.store.read_streams(
        [(OUTPUT_GROUP, run.run_id)], limit=2000)]
    assert messages == [f"row {i}" for i in range(1500)]
    logger = remote.store.read_streams([("/pipetrail/jobs/error", run.run_id + "-logger")])
    assert "from the logger" in logger[0].message
    assert {d.name for d in remote.store.get_run_metrics(run.run_id)} >= {
        "job.duration", "process.memory.rss", "job.exitCode"}
    start = events_of(remote, "StartJobRun", run.run_id)
    assert len(start) == 1
    assert start[0]["userIdentity"]["userName"] == "runner"
    assert start[0]["userIdentity"]["type"] == "ServiceAccount"
    assert start[0]["requestParameters"]["arguments"] == ["--day", "1"]
    assert len(events_of(remote, "JobRunStateChange", run.run_id)) == 1
    assert remote.store.get_script(run.code_hash or "") == Path(run.script or "").read_bytes()
    assert not (remote.agent_home / "pipetrail.db").exists()  # no local store
    assert not any((remote.agent_home / "spool").glob("jr_*"))


def test_a_failing_remote_job_keeps_its_exit_code_and_error(remote: Remote,
                                                            script: ScriptFactory) -> None:
    done = remote.cli("run", str(script("raise KeyError('missing column')\n")),
                      "--job", "nightly-bad")
    assert done.returncode == 1
    run = remote.store.list_runs(job_name="nightly-bad")[0]
    assert run.state.value == "FAILED"
    assert run.error_message == "KeyError: 'missing column'"
    assert run.details["exception"]["frames"][-1]["line"] == 1


class Silent(threading.Thread):
    """A server that accepts connections and never answers."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)


def test_a_down_or_silent_server_does_not_hold_the_job_up_and_nothing_is_lost(
        remote: Remote, script: ScriptFactory) -> None:
    job = script("for i in range(1000): print('line', i)\n")
    down = f"http://127.0.0.1:{free_port()}"
    silent = Silent()
    silent.start()
    for url in (down, f"http://127.0.0.1:{silent.port}"):
        done = remote.cli("run", str(job), "--job", "nightly-offline", url=url,
                          PIPETRAIL_AGENT_DRAIN_SECONDS="0.5")
        assert done.returncode == 0, done.stderr
        assert "wait in" in done.stderr and "pipetrail agent flush" in done.stderr
    assert remote.store.list_runs(job_name="nightly-offline") == []
    status = remote.cli("agent", "status", "--format", "json", url=down)
    waiting = [row for row in __import__("json").loads(status.stdout)
               if row["state"] == "waiting"]
    assert len(waiting) == 2 and all(row["records"] > 1000 for row in waiting)
    silent.sock.close()
    # The spools name the servers they were meant for; flush them to the real one.
    for row in waiting:
        meta = remote.agent_home / "spool" / row["runId"] / "meta.json"
        meta.write_text(meta.read_text().replace(row["server"], remote.server.url))
    flushed = remote.cli("agent", "flush")
    assert flushed.returncode == 0, flushed.stderr
    assert "of 2 runs" in flushed.stdout
    runs = remote.store.list_runs(job_name="nightly-offline")
    assert len(runs) == 2
    for run in runs:
        assert run.state.value == "SUCCEEDED"
        assert remote.store.count_log_events(OUTPUT_GROUP, run.run_id) == 1000
        assert len(events_of(remote, "StartJobRun", run.run_id)) == 1
    assert not any((remote.agent_home / "spool").glob("jr_*"))


def test_a_denied_run_waits_in_the_spool_until_it_is_allowed(remote: Remote,
                                                             script: ScriptFactory) -> None:
    done = remote.cli("run", str(script("print('hello')\n")), "--job", "payroll",
                      PIPETRAIL_AGENT_DRAIN_SECONDS="1")
    assert done.returncode == 0
    assert "AccessDenied" in done.stderr
    denied = remote.store.lookup_audit_events(AuditQuery(event_name="PutJobRunRecords"))
    assert denied and denied[0]["errorCode"] == "AccessDenied"
    assert remote.store.list_runs(job_name="payroll") == []
    access.put_policy(remote.ctx, "payroll", """{"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": "jobs:*", "Resource": "arn:pipetrail:jobs:local:job/payroll*"}
    ]}""")
    access.attach_policy(remote.ctx, "runner", "payroll")
    assert remote.cli("agent", "flush").returncode == 0
    assert remote.store.list_runs(job_name="payroll")[0].state.value == "SUCCEEDED"


def test_a_remote_run_adopts_spools_left_by_dead_runners(remote: Remote,
                                                         script: ScriptFactory) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    left = remote.cli("run", str(script("print('left behind')\n")), "--job", "nightly-a",
                      url=down, PIPETRAIL_AGENT_DRAIN_SECONDS="0")
    assert left.returncode == 0
    spool = next((remote.agent_home / "spool").glob("jr_*"))
    meta = spool / "meta.json"
    meta.write_text(meta.read_text().replace(down, remote.server.url))
    done = remote.cli("run", str(script("import time; time.sleep(1)\n")), "--job", "nightly-b")
    assert done.returncode == 0, done.stderr
    adopted = remote.store.list_runs(job_name="nightly-a")
    assert [r.state.value for r in adopted] == ["SUCCEEDED"]
    assert not spool.exists()


def test_a_second_server_gets_nothing_twice(remote: Remote, script: ScriptFactory) -> None:
    """Two servers on one store: delivering the same spool through both stores it once."""
    other = ThreadedServer(remote.server.settings, remote.store).start()
    try:
        down = f"http://127.0.0.1:{free_port()}"
        remote.cli("run", str(script("for i in range(300): print(i)\n")), "--job", "nightly-2",
                   url=down, PIPETRAIL_AGENT_DRAIN_SECONDS="0")
        spool = next((remote.agent_home / "spool").glob("jr_*"))
        copy = spool.parent / "copy"
        import shutil

        shutil.copytree(spool, copy)
        meta_text = (spool / "meta.json").read_text()
        (spool / "meta.json").write_text(meta_text.replace(down, remote.server.url))
        (copy / "meta.json").write_text(meta_text.replace(down, other.url))
        assert remote.cli("agent", "flush").returncode == 0
        assert remote.cli("agent", "flush", url=other.url).returncode == 0
        run = remote.store.list_runs(job_name="nightly-2")[0]
        assert remote.store.count_log_events(OUTPUT_GROUP, run.run_id) == 300
        assert len(events_of(remote, "JobRunStateChange", run.run_id)) == 1
        assert len(events_of(remote, "StartJobRun", run.run_id)) == 1
        calls = remote.store.lookup_audit_events(AuditQuery(event_name="PutJobRunRecords",
                                                            run_id=run.run_id))
        skipped = sum(c["responseElements"]["batchesSkipped"] for c in calls)
        stored = sum(c["responseElements"]["batchesStored"] for c in calls)
        assert skipped == stored > 0
    finally:
        other.stop()


class AnswerDropper(threading.Thread):
    """An HTTP proxy that passes requests to the server but, for the first ``drops``
    record deliveries, hangs up instead of passing the server's answer back."""

    def __init__(self, upstream: str, drops: int) -> None:
        super().__init__(daemon=True)
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import httpx

        proxy = self
        self.drops = drops
        self.dropped = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in {"authorization", "content-type", "user-agent"}}
                answer = httpx.post(upstream + self.path, content=body, headers=headers,
                                    timeout=30)
                with proxy.lock:
                    drop = "/records" in self.path and proxy.dropped < proxy.drops
                    proxy.dropped += drop
                if drop:
                    self.close_connection = True
                    return
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", ""))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def run(self) -> None:
        self.httpd.serve_forever()


def test_answers_lost_after_the_server_stored_a_batch_do_not_duplicate_it(
        remote: Remote, script: ScriptFactory) -> None:
    proxy = AnswerDropper(remote.server.url, drops=3)
    proxy.start()
    try:
        done = remote.cli("run", str(script("for i in range(2000): print('n', i)\n")),
                          "--job", "nightly-lossy", url=proxy.url)
        assert done.returncode == 0, done.stderr
    finally:
        proxy.httpd.shutdown()
    assert proxy.dropped == 3
    run = remote.store.list_runs(job_name="nightly-lossy")[0]
    messages = [e.message for e in remote.store.read_streams([(OUTPUT_GROUP, run.run_id)],
                                                             limit=5000)]
    assert messages == [f"n {i}" for i in range(2000)]
    calls = remote.store.lookup_audit_events(AuditQuery(event_name="PutJobRunRecords",
                                                        run_id=run.run_id))
    assert sum(c["responseElements"]["batchesSkipped"] for c in calls) > 0
    assert len(events_of(remote, "StartJobRun", run.run_id)) == 1
