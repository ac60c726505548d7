"""``pipetrail access simulate``, run as a user runs it (``python -m pipetrail.cli``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN = "arn:pipetrail:jobs:local:job/ana-etl/run/jr_1"

READ_OWN = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ReadOwnJobs", "Effect": "Allow", "Action": ["jobs:Get*", "logs:GetLogEvents"],
         "Resource": "arn:pipetrail:jobs:local:job/${pipetrail:username}-*"},
    ],
}
OFFICE_ONLY = {
    "Version": "2012-10-17",
    "Statement": {"Sid": "OfficeOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
                  "Condition": {"NotIpAddress": {"pipetrail:SourceIp": ["10.0.0.0/8",
                                                                        "2001:db8::/32"]}}},
}
TAGS = {
    "Version": "2012-10-17",
    "Statement": {"Sid": "TagTeams", "Effect": "Allow", "Action": "jobs:TagResource",
                  "Resource": "*",
                  "Condition": {"ForAllValues:StringEquals": {"pipetrail:TagKeys": ["team",
                                                                                    "cost"]},
                                "Null": {"pipetrail:TagKeys": "false"}}},
}


def pipetrail(*args: str, home: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipetrail.cli", "--home", str(home), *args],
        capture_output=True, text=True, input=stdin, timeout=60, check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for name, doc in {"read": READ_OWN, "office": OFFICE_ONLY, "tags": TAGS}.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc, indent=2))
        paths[name] = "@" + str(path)
    return paths


def test_allowed_table(files: dict[str, str], tmp_path: Path) -> None:
    done = pipetrail("access", "simulate", "--policy", files["read"], "--policy", files["office"],
                     "--action", "jobs:GetJobRun", "--resource", RUN,
                     "--context", "pipetrail:username=ana",
                     "--context", "pipetrail:SourceIp=10.1.2.3", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "allowed" in done.stdout
    assert "ReadOwnJobs" in done.stdout
    assert done.stderr == ""


def test_explicit_deny_json(files: dict[str, str], tmp_path: Path) -> None:
    done = pipetrail("access", "simulate", "--policy", files["read"], "--policy", files["office"],
                     "--action", "jobs:GetJobRun", "--resource", RUN,
                     "--context", "pipetrail:username=ana",
                     "--context", "pipetrail:SourceIp=198.51.100.7", "--format", "json",
                     home=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["decision"] == "explicitDeny"
    assert out["matchedStatements"] == [{
        "policyIndex": 1, "statementIndex": 0, "sid": "OfficeOnly", "effect": "Deny",
        "source": files["office"][1:]}]
    assert out["missingContextKeys"] == []


def test_implicit_deny_lists_missing_keys(files: dict[str, str], tmp_path: Path) -> None:
    done = pipetrail("access", "simulate", "--policy", files["read"], "--action",
                     "jobs:GetJobRun", "--resource", RUN, "--format", "json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["decision"] == "implicitDeny"
    assert out["matchedStatements"] == []
    assert out["missingContextKeys"] == ["pipetrail:username"]
    table = pipetrail("access", "simulate", "--policy", files["read"], "--action",
                      "jobs:GetJobRun", "--resource", RUN, home=tmp_path)
    assert "implicitDeny" in table.stdout
    assert "pipetrail:username" in table.stderr


def test_repeated_context_gives_a_multivalued_key(files: dict[str, str], tmp_path: Path) -> None:
    def decision(*context: str) -> str:
        args = [a for kv in context for a in ("--context", kv)]
        done = pipetrail("access", "simulate", "--policy", files["tags"], "--action",
                         "jobs:TagResource", "--format", "json", *args, home=tmp_path)
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["decision"])

    assert decision("pipetrail:TagKeys=team", "pipetrail:TagKeys=cost") == "allowed"
    assert decision("pipetrail:TagKeys=team", "pipetrail:TagKeys=owner") == "implicitDeny"


def test_policy_from_stdin_and_inline(tmp_path: Path) -> None:
    text = json.dumps(READ_OWN)
    done = pipetrail("access", "simulate", "--policy", "@-", "--action", "logs:GetLogEvents",
                     "--resource", "arn:pipetrail:jobs:local:job/bo-x", "--context",
                     "pipetrail:username=bo", "--format", "json", home=tmp_path, stdin=text)
    assert json.loads(done.stdout)["decision"] == "allowed"
    done = pipetrail("access", "simulate", "--policy", text, "--action", "logs:GetLogEvents",
                     "--resource", "arn:pipetrail:jobs:local:job/bo-x", "--context",
                     "pipetrail:username=bo", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "allowed" in done.stdout


def test_bad_policy_exits_2_naming_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"StringEqual": {"pipetrail:username": "ana"}}}}))
    done = pipetrail("access", "simulate", "--policy", f"@{bad}", "--action", "jobs:GetJob",
                     home=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"policy {bad}: Statement.Condition.StringEqual: unknown condition operator" \
        in done.stderr
    assert "did you mean 'StringEquals'?" in done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--policy", "@/nonexistent/p.json", "--action", "jobs:GetJob"],
     "cannot read policy file '/nonexistent/p.json'"),
    (["--policy", "{", "--action", "jobs:GetJob"], "policy #1: not valid JSON at line 1"),
    (["--policy", '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}',
      "--action", "jobs:*"], "request action 'jobs:*' is not an action name"),
    (["--policy", '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}',
      "--action", "jobs:GetJob", "--context", "novalue"], "'novalue' is not KEY=VALUE"),
    (["--action", "jobs:GetJob"], "give --policy (one or more) or --principal"),
])
def test_bad_input_exits_2(args: list[str], message: str, tmp_path: Path) -> None:
    done = pipetrail("access", "simulate", *args, home=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr


def test_help(tmp_path: Path) -> None:
    done = pipetrail("access", "--help", home=tmp_path)
    assert done.returncode == 0 and "simulate" in done.stdout
    done = pipetrail("access", "simulate", "--help", home=tmp_path)
    assert done.returncode == 0
    for option in ("--policy", "--action", "--resource", "--context", "--format"):
        assert option in done.stdout
