"""The trail over HTTP: deliver, validate, prove (and check the proof offline), public
keys; an archive problem is a 503, an unknown event a 404."""

from __future__ import annotations

from pipetrail.trail.proof import verify_proof
from tests.server.conftest import Api


def test_deliver_validate_prove_over_http(api: Api) -> None:
    with api.client(api.admin) as client:
        events = client.get("/api/v1/trail/events", params={"maxResults": 1}).json()["events"]
        delivered = client.post("/api/v1/trail/deliveries")
        assert delivered.status_code == 200, delivered.text
        [delivery] = delivered.json()["deliveries"]
        assert delivery["events"] >= 1 and delivery["digest"].endswith(".json.gz")
        report = client.get("/api/v1/trail/validation").json()
        assert report["valid"] is True and report["digestFiles"]["checked"] >= 1
        proof = client.get(f"/api/v1/trail/events/{events[0]['eventID']}/proof")
        assert proof.status_code == 200, proof.text
        [key] = client.get("/api/v1/trail/public-keys").json()["publicKeys"]
        assert verify_proof(proof.json(), key["publicKey"]).valid
        missing = client.get("/api/v1/trail/events/00000000-0000-0000-0000-000000000000/proof")
        assert missing.status_code == 404
        assert client.get("/api/v1/trail/validation",
                          params={"startTime": "2h", "endTime": "3h"}).status_code == 400
