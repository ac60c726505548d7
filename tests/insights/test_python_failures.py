"""Failure categories of plain-Python and pandas jobs, each from a real failing script."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from pipetrail.model.runs import RunState
from tests.insights.conftest import RunScript, failing_line, insight_of


def test_pandas_key_error_names_the_column_line_and_snippet(run_script: RunScript) -> None:
    run = run_script("""
        import pandas as pd

        frame = pd.DataFrame({"order_id": [1, 2], "price": [3.0, 4.0]})
        total = frame["amount"].sum()
        print(total)
    """)
    assert run.state is RunState.FAILED
    insight = insight_of(run)
    assert insight["category"] == "PANDAS_KEY_ERROR"
    assert "'amount'" in insight["summary"] and "line 4" in insight["summary"]
    assert insight["exception"]["type"] == "KeyError"
    location = insight["location"]
    assert location["line"] == 4 and location["file"].endswith(".py")
    marked = [s for s in location["snippet"] if s.get("failing")]
    assert marked == [{"line": 4, "code": 'total = frame["amount"].sum()', "failing": True}]
    assert [s["line"] for s in location["snippet"]] == [1, 2, 3, 4, 5]
    assert "df.columns" in insight["recommendation"] or "columns" in insight["recommendation"]


def test_a_library_frame_is_never_the_location(run_script: RunScript) -> None:
    run = run_script("""
        import json


        def load(text):
            return json.loads(text)


        load("{broken")
    """)
    insight = insight_of(run)
    assert insight["location"]["line"] == 5  # inside the user's function, not json's
    assert insight["location"]["function"] == "load"
    assert insight["category"] == "UNCLASSIFIED"


def test_python_memory_error(run_script: RunScript) -> None:
    run = run_script("""
        import resource

        size = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size + 64 * 2**20, size + 64 * 2**20))
        buffers = [bytearray(8 * 2**20) for _ in range(64)]
    """)
    insight = insight_of(run)
    assert insight["category"] == "PYTHON_MEMORY_ERROR"
    assert failing_line(insight) == 5
    assert "chunk" in insight["recommendation"]


def test_file_not_found(run_script: RunScript, tmp_path: Path) -> None:
    missing = tmp_path / "incoming" / "orders-2026-11-25.csv"
    run = run_script("""
        import sys
        import pandas as pd

        orders = pd.read_csv(sys.argv[1])
    """, str(missing))
    insight = insight_of(run)
    assert insight["category"] == "FILE_NOT_FOUND"
    assert str(missing) in insight["summary"]
    assert failing_line(insight) == 4


def test_permission_denied(run_script: RunScript, tmp_path: Path) -> None:
    secret = tmp_path / "payroll.csv"
    secret.write_text("name,salary\n")
    secret.chmod(0o000)
    tmp_path.chmod(0o755)
    run = run_script("""
        import os, sys

        if os.geteuid() == 0:  # root reads anything: run as an ordinary user, as jobs do
            os.setgid(65534)
            os.setuid(65534)
        with open(sys.argv[1]) as handle:
            print(handle.read())
    """, str(secret))
    insight = insight_of(run)
    assert insight["category"] == "PERMISSION_DENIED"
    assert str(secret) in insight["summary"] and failing_line(insight) == 6


def test_schema_mismatch_in_pandas(run_script: RunScript) -> None:
    run = run_script("""
        import pandas as pd

        frame = pd.DataFrame({"quantity": ["1", "2", "two"]})
        frame["quantity"] = frame["quantity"].astype(int)
    """)
    insight = insight_of(run)
    assert insight["category"] == "SCHEMA_MISMATCH"
    assert "'two'" in insight["summary"] and failing_line(insight) == 4


def test_division_by_zero(run_script: RunScript) -> None:
    run = run_script("""
        rows = []


        def average(values):
            return sum(values) / len(values)


        print(average(rows))
    """)
    insight = insight_of(run)
    assert insight["category"] == "DIVISION_BY_ZERO"
    assert failing_line(insight) == 5 and insight["location"]["function"] == "average"


def test_timeout_says_where_the_job_was(run_script: RunScript) -> None:
    run = run_script("""
        import time


        def wait_for_upstream():
            while True:
                time.sleep(0.05)


        wait_for_upstream()
    """, timeout=1.5)
    assert run.state is RunState.TIMEOUT
    insight = insight_of(run)
    assert insight["category"] == "TIMEOUT"
    assert "1.5 s" in insight["summary"]
    assert failing_line(insight) in {5, 6}  # in the loop, where SIGTERM found it
    assert insight["location"]["function"] == "wait_for_upstream"
    assert "--timeout" in insight["recommendation"]


def test_disk_full(run_script: RunScript) -> None:
    # /dev/full answers every write with ENOSPC, as a full disk does.
    run = run_script("""
        with open("/dev/full", "w") as out:
            out.write("order_id,total\\n" * 10000)
            out.flush()
    """)
    insight = insight_of(run)
    assert insight["category"] == "DISK_FULL"
    assert failing_line(insight) in {2, 3}
    assert "No space left on device" in insight["evidence"]


def test_too_many_open_files(run_script: RunScript, tmp_path: Path) -> None:
    run = run_script("""
        import resource, sys

        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
        handles = []
        for part in range(100):
            handles.append(open(f"{sys.argv[1]}/part-{part}.csv", "w"))
    """, str(tmp_path))
    insight = insight_of(run)
    assert insight["category"] == "TOO_MANY_OPEN_FILES"
    assert failing_line(insight) == 6
    assert "ulimit" in insight["recommendation"]


def test_connection_refused(run_script: RunScript) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = run_script("""
        import socket, sys

        connection = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    """, str(port))
    insight = insight_of(run)
    assert insight["category"] == "CONNECTION_REFUSED"
    assert failing_line(insight) == 3


def test_missing_module(run_script: RunScript) -> None:
    run = run_script("""
        import json
        import pipetrail_no_such_module_for_tests
    """)
    insight = insight_of(run)
    assert insight["category"] == "MODULE_NOT_FOUND"
    assert "pipetrail_no_such_module_for_tests" in insight["summary"]
    assert failing_line(insight) == 2


def test_syntax_error_points_at_the_bad_line(run_script: RunScript) -> None:
    run = run_script("""
        total = 0
        for x in range(3)
            total += x
    """)
    insight = insight_of(run)
    assert insight["category"] == "SYNTAX_ERROR"
    assert failing_line(insight) == 2
    assert any(s.get("failing") and "for x" in s["code"] for s in insight["location"]["snippet"])


def test_a_segfault_is_a_crash_with_its_line(run_script: RunScript) -> None:
    run = run_script("""
        import ctypes


        def read_native():
            return ctypes.string_at(0)


        read_native()
    """)
    assert run.state is RunState.FAILED and run.exit_code == 139
    insight = insight_of(run)
    assert insight["category"] == "INTERPRETER_CRASH"
    assert "SIGSEGV" in insight["summary"]
    assert failing_line(insight) == 5 and insight["location"]["function"] == "read_native"


def test_os_exit_without_an_exception(run_script: RunScript) -> None:
    run = run_script("""
        import os
        print("half done")
        os._exit(3)
    """)
    insight = insight_of(run)
    assert insight["category"] == "INTERPRETER_CRASH"
    assert "exited with code 3" in insight["summary"]


def test_successful_and_stopped_runs_get_no_insight(run_script: RunScript) -> None:
    run = run_script("print('fine')\n")
    assert run.state is RunState.SUCCEEDED and "insights" not in run.details
    assert run.details["environment"]["python"].count(".") == 2


def test_a_user_rule_takes_precedence(run_script: RunScript, monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    from pipetrail.insights import rules

    def quota(evidence: rules.Evidence) -> rules.Finding | None:
        if evidence.search(r"QuotaExceeded"):
            return rules.Finding("QUOTA_EXCEEDED", "Quota exceeded", "Ask for more quota.")
        return None

    monkeypatch.setattr(rules, "RULES", [quota, *rules.RULES])
    run = run_script("raise ZeroDivisionError('QuotaExceeded: 0 calls left')\n")
    assert insight_of(run)["category"] == "QUOTA_EXCEEDED"


def test_the_insight_is_logged_to_the_insights_stream(run_script: RunScript,
                                                      sqlite_ctx: object) -> None:
    from pipetrail.actions.context import ActionContext

    assert isinstance(sqlite_ctx, ActionContext)
    run = run_script("raise KeyError('x')\n")
    events = sqlite_ctx.store.get_log_events("/pipetrail/jobs/insights", run.run_id)
    assert len(events) == 1
    import json

    assert json.loads(events[0].message)["category"] == insight_of(run)["category"]


def test_environment_is_recorded_from_the_job(run_script: RunScript) -> None:
    run = run_script("import sys\nprint(sys.version)\n")
    environment = run.details["environment"]
    assert environment["executable"] and os.path.exists(environment["executable"])
    assert "pandas" in environment["packages"]
