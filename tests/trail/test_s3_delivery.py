"""The trail delivered to an S3 bucket (a real SeaweedFS on 127.0.0.1): signatures in
the objects' metadata, validation and proofs as with a folder, and the command line
configured only through the environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipetrail.store import Store
from pipetrail.trail.archive import Archive
from pipetrail.trail.delivery import Deliverer
from pipetrail.trail.proof import prove, verify_proof
from pipetrail.trail.signing import Signer
from pipetrail.trail.validate import validate
from tests.seaweedfs import BUCKET, SECRET_KEY, SeaweedFS
from tests.trail.builders import events

pytestmark = pytest.mark.s3


def test_delivery_validation_and_proofs_on_s3(store: Store, s3_archive: Archive,
                                              s3_client: Any, tmp_path: Path) -> None:
    signer = Signer.load_or_create(tmp_path / "key.pem")
    deliverer = Deliverer(store, s3_archive, signer, "local", file_events=5)
    made = events(12)
    store.append_audit_events(made)
    [first] = deliverer.deliver()
    deliverer.deliver()
    assert first.events == 12 and len(first.log_keys) == 3
    assert s3_archive.metadata(first.digest_key)["signature-algorithm"] == "Ed25519"
    assert validate(store, s3_archive, "local").valid
    proof = prove(store, s3_archive, made[7].event_id)
    assert proof["digest"]["s3Bucket"] == BUCKET
    assert verify_proof(proof, signer.public_pem).valid
    # A changed object in the bucket is found.
    key = first.log_keys[1]
    s3_archive.put(key, s3_archive.get(key) + b"\0")
    report = validate(store, s3_archive, "local")
    assert [p.name for p in report.problems] == [f"{BUCKET}/{key}"]


def test_the_cli_delivers_to_the_bucket_the_environment_names(cli, s3_env: None,  # type: ignore[no-untyped-def]
                                                              seaweedfs: SeaweedFS) -> None:
    prefix = "cli-" + Path(cli.cwd).name[-12:]
    env = {"PIPETRAIL_ARCHIVE": f"s3://{BUCKET}/{prefix}",
           "PIPETRAIL_S3_ENDPOINT_URL": seaweedfs.endpoint}
    result = cli("trail", "deliver", env=env)
    assert result.returncode == 0, result.stderr
    assert f"s3://{BUCKET}/{prefix}" in result.stdout
    result = cli("trail", "validate", "--format", "json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["digestFiles"]["checked"] == 1
    # Wrong credentials: a clear error, and the secret is never printed.
    bad = cli("trail", "deliver", env={**env, "AWS_SECRET_ACCESS_KEY": "wrong-" + SECRET_KEY})
    assert bad.returncode != 0
    assert SECRET_KEY not in bad.stdout + bad.stderr
    assert "s3://" in bad.stderr
