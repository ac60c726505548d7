"""``pipetrail access`` management verbs against the store (the bootstrap of the first
administrator), and policies of the local user in embedded mode."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from pipetrail.config import Settings
from tests.conftest import Cli
from tests.servers import ALLOW_ALL

VERBS = ["create-principal", "list-principals", "get-principal", "delete-principal",
         "put-policy", "list-policies", "get-policy", "delete-policy", "attach-policy",
         "detach-policy", "create-token", "list-tokens", "revoke-token", "assume-role"]


def test_every_verb_has_help(tmp_path: Path) -> None:
    cli = Cli(Settings(home=tmp_path / "home"), tmp_path)
    for verb in VERBS:
        done = cli("access", verb, "--help")
        assert done.returncode == 0 and done.stdout.startswith(f"Usage: pipetrail access {verb}")


def test_the_first_administrator_is_made_locally(tmp_path: Path) -> None:
    cli = Cli(Settings(home=tmp_path / "home"), tmp_path)
    policy = tmp_path / "admin.json"
    policy.write_text(ALLOW_ALL)
    made = cli("access", "create-principal", "admin", "--tag", "team=platform",
               "--description", "first admin", "--format", "json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["arn"] == "arn:pipetrail:iam:local:user/admin"
    assert cli("access", "put-policy", "admin-all", "--policy", f"@{policy}").stdout \
        == "created policy admin-all\n"
    assert cli("access", "attach-policy", "admin", "admin-all").returncode == 0
    token = cli("access", "create-token", "admin", "--expires-in", "30d", "--format", "json")
    issued = json.loads(token.stdout)
    assert issued["token"].startswith(f"pt_{issued['tokenId']}_")
    assert issued["status"] == "active"
    plain = cli("access", "create-token", "admin")
    assert plain.stdout.startswith("pt_") and "shown only now" in plain.stderr
    shown = json.loads(cli("access", "get-principal", "admin", "--format", "json").stdout)
    assert shown["attachedPolicies"] == ["admin-all"] and shown["tags"] == {"team": "platform"}
    assert len(shown["tokens"]) == 2 and all("token" not in t for t in shown["tokens"])
    assert cli("access", "revoke-token", issued["tokenId"]).returncode == 0
    tokens = json.loads(cli("access", "list-tokens", "admin", "--format", "json").stdout)
    assert {t["status"] for t in tokens} == {"revoked", "active"}
    assert json.loads(cli("access", "get-policy", "admin-all", "--format", "json").stdout
                      )["document"] == ALLOW_ALL
    assert cli("access", "get-policy", "admin-all").stdout.strip() == ALLOW_ALL
    listed = json.loads(cli("access", "list-policies", "--format", "json").stdout)
    assert [p["policyName"] for p in listed] == ["admin-all"]
    conflict = cli("access", "delete-policy", "admin-all")
    assert conflict.returncode == 2 and "attached to admin" in conflict.stderr
    assert cli("access", "detach-policy", "admin", "admin-all").returncode == 0
    assert cli("access", "delete-policy", "admin-all").returncode == 0
    assert cli("access", "delete-principal", "admin").returncode == 0
    assert json.loads(cli("access", "list-principals", "--format", "json").stdout) == []
    lookup = json.loads(cli("trail", "lookup", "--source", "access.pipetrail", "--limit", "100",
                            "--format", "json").stdout)
    names = {e["eventName"] for e in lookup}
    assert {"CreatePrincipal", "PutPolicy", "AttachPolicy", "CreateToken", "RevokeToken",
            "DeletePrincipal"} <= names
    assert not any(issued["token"] in json.dumps(e) for e in lookup)


BAD_INPUT = [
    (["create-principal", "bad name!"], 2, "principal name 'bad name!'"),
    (["create-principal", "x", "--tag", "novalue"], 2, "is not KEY=VALUE"),
    (["create-token", "nobody"], 4, "no principal named 'nobody'"),
    (["put-policy", "p", "--policy", '{"Statement": []}'], 2, "Statement"),
    (["put-policy", "p", "--policy", "@/no/such/file"], 2, "cannot read policy file"),
    (["create-token", "admin", "--expires-in", "forever"], 2, "cannot read duration"),
    (["create-token", "admin", "--expires-in", "400d"], 2, "between 60 and"),
    (["revoke-token", "0000000000000000"], 4, "no token"),
    (["attach-policy", "admin", "nope"], 4, "no policy named 'nope'"),
]


def test_bad_input_gets_a_clear_error(tmp_path: Path) -> None:
    cli = Cli(Settings(home=tmp_path / "home"), tmp_path)
    cli("access", "create-principal", "admin")
    for args, code, message in BAD_INPUT:
        done = cli("access", *args)
        assert done.returncode == code, (args, done.stderr)
        assert message in done.stderr, args


def test_a_principal_name_is_unique(cli: Cli) -> None:
    assert cli("access", "create-principal", "ci", "--type", "service-account").returncode == 0
    again = cli("access", "create-principal", "ci")
    assert again.returncode == 2 and "exists" in again.stderr


def test_the_local_user_is_allowed_everything_until_it_has_policies(tmp_path: Path) -> None:
    cli = Cli(Settings(home=tmp_path / "home"), tmp_path)
    me = getpass.getuser()
    assert cli("runs", "list").returncode == 0
    read_only = tmp_path / "read.json"
    read_only.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["jobs:Get*", "trail:LookupEvents"], "Resource": "*"}]}))
    cli("access", "put-policy", "read-only", "--policy", f"@{read_only}")
    cli("access", "create-principal", me, "--type", "local-user")
    assert cli("runs", "list").returncode == 0  # no policy attached yet: still allowed
    assert cli("access", "attach-policy", me, "read-only").returncode == 0
    # From now on, the local user's policies apply to the CLI.
    assert cli("runs", "list").returncode == 0
    denied = cli("access", "create-principal", "someone")
    assert denied.returncode == 5
    assert f"LocalUser: arn:pipetrail:iam:local:user/{me} is not authorized to perform: " \
           "access:CreatePrincipal" in denied.stderr
    events = json.loads(cli("trail", "lookup", "--event-name", "CreatePrincipal",
                            "--format", "json").stdout)
    assert events[0]["errorCode"] == "AccessDenied"
    local = cli("access", "create-token", me)
    assert local.returncode == 5  # not allowed; and a local user gets no tokens anyway
