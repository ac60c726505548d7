"""Events, stores and deliverers for the trail's tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipetrail.model.audit import AuditEvent, Resource
from pipetrail.model.identity import Identity
from pipetrail.store import Store
from pipetrail.trail.archive import Archive, LocalArchive
from pipetrail.trail.delivery import Deliverer
from pipetrail.trail.signing import Signer

ALICE = Identity(type="User", principal_id="u-alice", user_name="alice", workspace="local")
BOB = Identity(type="User", principal_id="u-bob", user_name="bob", workspace="local")


def events(n: int, *, who: Identity = ALICE, dataset: str | None = None,
           start_ms: int = 1_790_000_000_000) -> list[AuditEvent]:
    made = []
    for i in range(n):
        if dataset:
            made.append(AuditEvent("data.pipetrail", "ReadDataset", who, event_type="DataAccess",
                                   read_only=True, dataset=dataset, operation="read", rows=i,
                                   bytes=i * 10, columns=["id", "amount"],
                                   event_time_ms=start_ms + i))
        else:
            made.append(AuditEvent("jobs.pipetrail", "StartJobRun", who,
                                   request_parameters={"n": i},
                                   resources=[Resource("Pipetrail::Jobs::Job",
                                                       f"arn:pipetrail:jobs:local:job/j{i % 3}")],
                                   event_time_ms=start_ms + i))
    return made


@dataclass
class Trail:
    store: Store
    archive: Archive
    deliverer: Deliverer
    key_path: Path

    def add(self, n: int, **kwargs: object) -> list[AuditEvent]:
        made = events(n, **kwargs)  # type: ignore[arg-type]
        self.store.append_audit_events(made)
        return made

    def validate(self, *, deep: bool = True) -> list[str]:
        from pipetrail.trail.validate import validate

        report = validate(self.store, self.archive, "local", deep=deep)
        return [f"{p.kind}\t{p.name}\t{p.message}" for p in report.problems]


def make_trail(store: Store, home: Path, *, file_events: int = 10) -> Trail:
    key_path = home / "keys" / "trail-signing.pem"
    archive = LocalArchive(home / "archive")
    deliverer = Deliverer(store, archive, Signer.load_or_create(key_path), "local",
                          file_events=file_events)
    return Trail(store, archive, deliverer, key_path)
