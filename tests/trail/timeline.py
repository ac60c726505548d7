"""A trail of events of given ages, to deliver, query, export and expire: events
written through the store, delivered by the real Deliverer into the folder archive
under the home, with a real signing key (the ``timeline`` fixture)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipetrail.config import Settings
from pipetrail.model.audit import AuditEvent, Resource
from pipetrail.model.clock import now_ms
from pipetrail.model.identity import Identity
from pipetrail.store import Store
from pipetrail.trail.archive import Archive, open_archive
from pipetrail.trail.delivery import Delivered, Deliverer
from pipetrail.trail.signing import Signer

DAY = 86_400_000
WORKSPACE = "local"


def data_event(when: int, user: str = "alice", dataset: str = "s3://lake/patients",
               operation: str = "read", rows: int = 10, **more: object) -> AuditEvent:
    """A data event at ``when`` (ms) by ``user`` on ``dataset``."""
    return AuditEvent(
        event_source="data.pipetrail", event_name="ReadDataset" if operation == "read"
        else "WriteDataset", identity=Identity("User", f"id-{user}", user, WORKSPACE),
        event_type="DataAccess", read_only=operation == "read", dataset=dataset,
        operation=operation, rows=rows, bytes=rows * 100, columns=["id", "name"],
        run_id="jr_" + "0" * 64, event_time_ms=when,
        resources=[Resource("Pipetrail::Jobs::JobRun", "arn:pipetrail:jobs:local:job/x")],
        request_parameters={"path": dataset}, **more)  # type: ignore[arg-type]


@dataclass
class Timeline:
    store: Store
    settings: Settings
    archive: Archive
    signer: Signer
    file_events: int = 10
    delivered: list[Delivered] = field(default_factory=list)

    def record(self, events: Sequence[AuditEvent]) -> list[AuditEvent]:
        self.store.append_audit_events(events)
        return list(events)

    def days_ago(self, count: int, days: float, step_ms: int = 60_000, **kw: object
                 ) -> list[AuditEvent]:
        """Record ``count`` data events starting ``days`` ago, ``step_ms`` apart."""
        base = now_ms() // 1000 * 1000 - int(days * DAY)  # whole seconds, as eventTime
        return self.record([data_event(base + i * step_ms, **kw)  # type: ignore[arg-type]
                            for i in range(count)])

    def deliver(self) -> list[Delivered]:
        done = Deliverer(self.store, self.archive, self.signer, WORKSPACE,
                         file_events=self.file_events).deliver()
        self.delivered += done
        return done

    def log_keys(self) -> list[str]:
        return [f.log_key for f in self.store.trail_log_files()]

    def bodies(self) -> dict[str, bytes]:
        """The store's events by id (canonical JSON)."""
        return {row.event_id: row.body.encode()
                for shard in self.store.chain_shards()
                for row in self.store.chain_rows(shard)}


def make_timeline(store: Store, settings: Settings, key_path: Path) -> Timeline:
    return Timeline(store, settings, open_archive(None, settings.home),
                    Signer.load_or_create(key_path))
