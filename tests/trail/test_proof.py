"""Inclusion proofs: made for a delivered event, checked offline with the trail's public
key; any change to the proof, or another key, makes it fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipetrail.model.errors import ConflictError, NotFoundError
from pipetrail.trail.proof import prove, verify_proof
from pipetrail.trail.signing import Signer
from tests.trail.builders import Trail


@pytest.fixture
def proven(trail: Trail) -> tuple[Trail, dict[str, Any]]:
    made = trail.add(23)
    trail.deliverer.deliver()
    return trail, prove(trail.store, trail.archive, made[13].event_id)


def test_a_proof_verifies_with_the_trails_key(proven: tuple[Trail, dict[str, Any]]) -> None:
    trail, proof = proven
    assert proof["leafIndex"] == 3 and proof["treeSize"] == 10
    pem = Signer.load_or_create(trail.key_path).public_pem
    verdict = verify_proof(proof, pem)
    assert verdict.valid, verdict.checks
    assert {c["check"] for c in verdict.checks} >= {"inclusion", "signature", "key"}


@pytest.mark.parametrize("change", [
    lambda p: p.update(event=p["event"].replace("alice", "mallo")),
    lambda p: p.update(leafIndex=p["leafIndex"] + 1),
    lambda p: p.update(treeSize=p["treeSize"] + 1),
    lambda p: p["auditPath"].reverse(),
    lambda p: p.update(auditPath=p["auditPath"][:-1]),
    lambda p: p["digest"].update(signature="00" * 64),
    lambda p: p["digest"].update(content=p["digest"]["content"].replace("local", "lokal", 1)),
    lambda p: p["digest"].update(s3Object="elsewhere.json.gz"),
    lambda p: p["logFile"].update(s3Object="elsewhere.json.gz"),
    lambda p: p.update(eventID="another"),
    lambda p: p.pop("auditPath"),
], ids=["event", "index", "size", "path-order", "path-short", "signature", "digest",
        "digest-location", "log-file", "event-id", "format"])
def test_any_change_makes_the_proof_fail(proven: tuple[Trail, dict[str, Any]], change) -> None:  # type: ignore[no-untyped-def]
    trail, proof = proven
    changed = json.loads(json.dumps(proof))
    change(changed)
    assert not verify_proof(changed, Signer.load_or_create(trail.key_path).public_pem).valid


def test_another_key_is_refused(proven: tuple[Trail, dict[str, Any]], tmp_path: Path) -> None:
    _, proof = proven
    other = Signer.load_or_create(tmp_path / "other.pem")
    verdict = verify_proof(proof, other.public_pem)
    assert not verdict.valid
    # Without a pinned key, the key inside the proof is used: consistent, not authentic.
    assert verify_proof(proof).valid


def test_undelivered_and_unknown_events(trail: Trail) -> None:
    made = trail.add(2)
    with pytest.raises(ConflictError, match="not been delivered yet"):
        prove(trail.store, trail.archive, made[0].event_id)
    with pytest.raises(NotFoundError):
        prove(trail.store, trail.archive, "no-such-event")


def test_prove_and_verify_on_the_command_line(cli, proven, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, proof = proven
    event_id = proof["eventID"]
    made = cli("trail", "prove", event_id)
    assert made.returncode == 0, made.stderr
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(made.stdout)
    key = cli("trail", "public-key")
    assert key.returncode == 0 and key.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    key_file = tmp_path / "trail.pem"
    key_file.write_text(key.stdout)
    # verify-proof needs no store: run it without one.
    ok = cli("trail", "verify-proof", str(proof_file), "--public-key", str(key_file),
             env={"PIPETRAIL_HOME": str(tmp_path / "nowhere"),
                  "PIPETRAIL_DATABASE_URL": ""})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "The proof is valid." in ok.stdout
    assert not (tmp_path / "nowhere").exists()
    proof_file.write_text(made.stdout.replace("alice", "mallo"))
    bad = cli("trail", "verify-proof", str(proof_file), "--public-key", str(key_file),
              "--format", "json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["valid"] is False
    proof_file.write_text("not json")
    assert cli("trail", "verify-proof", str(proof_file)).returncode == 2
    assert cli("trail", "prove", "no-such-event").returncode == 4
