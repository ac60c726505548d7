"""The tables, as SQLAlchemy Core metadata. Migrations in ``migrations/`` create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

# The newest migration; checked against Alembic's head by the test suite so that the
# fast start-up path (no Alembic import) stays correct.
SCHEMA_HEAD = "0008"

metadata = MetaData()

# SQLite only gives autoincrement to "INTEGER PRIMARY KEY"; BigInteger elsewhere.
Id = BigInteger().with_variant(Integer(), "sqlite")

jobs = Table(
    "jobs",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("created_on", BigInteger, nullable=False),
    Column("script", Text),
    Column("description", Text),
)

scripts = Table(
    "scripts",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("stored_on", BigInteger, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("job_name", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempt", Integer, nullable=False, default=0),
    Column("arguments", Text, nullable=False),
    Column("started_on", BigInteger, nullable=False),
    Column("completed_on", BigInteger),
    Column("exit_code", Integer),
    Column("error_message", Text),
    Column("principal", String(255)),
    Column("code_hash", String(64)),
    Column("script", Text),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("timeout", Float),
    Column("details", Text, nullable=False),
    Index("ix_runs_job_started", "job_name", "started_on"),
    Index("ix_runs_state", "state"),
)

log_events = Table(
    "log_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("group_name", String(512), nullable=False),
    Column("stream_name", String(512), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("ingestion_time", BigInteger, nullable=False),
    Column("message", Text, nullable=False),
    Index("ix_log_stream", "group_name", "stream_name", "id"),
    Index("ix_log_group_time", "group_name", "timestamp"),
)

metric_data = Table(
    "metric_data",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("namespace", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("dimensions", Text, nullable=False),
    Column("run_id", String(80)),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", String(32), nullable=False),
    Index("ix_metric_series", "namespace", "name", "dimensions", "timestamp"),
    Index("ix_metric_run", "run_id", "name", "timestamp"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("event_time", BigInteger, nullable=False),
    Column("event_source", String(128), nullable=False),
    Column("event_name", String(128), nullable=False),
    Column("event_category", String(16), nullable=False),
    Column("read_only", Boolean, nullable=False),
    Column("principal", String(255), nullable=False),
    Column("error_code", String(128)),
    Column("dataset", Text),
    Column("run_id", String(80)),
    Column("body", Text, nullable=False),
    # The hash chain: events are numbered per shard, and each event's hash is
    # SHA-256(previous event's hash ‖ body) (see pipetrail.trail.chain).
    Column("shard", String(64), nullable=False),
    Column("shard_seq", BigInteger, nullable=False),
    Column("event_hash", String(64), nullable=False),
    Index("ux_audit_shard_seq", "shard", "shard_seq", unique=True),
    Index("ix_audit_time", "event_time"),
    Index("ix_audit_name_time", "event_name", "event_time"),
    Index("ix_audit_principal_time", "principal", "event_time"),
    Index("ix_audit_dataset_time", "dataset", "event_time"),
)

audit_resources = Table(
    "audit_resources",
    metadata,
    Column("event_seq", BigInteger, nullable=False),
    Column("resource", Text, nullable=False),
    Column("event_time", BigInteger, nullable=False),
    Index("ix_audit_resource_time", "resource", "event_time"),
    Index("ix_audit_resource_seq", "event_seq"),
)

alarms = Table(
    "alarms",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("definition", Text, nullable=False),
    Column("state_value", String(32), nullable=False),
    Column("state_reason", Text, nullable=False),
    Column("state_reason_data", Text),
    Column("state_updated", BigInteger, nullable=False),
    Column("state_transitioned", BigInteger),
    Column("updated_on", BigInteger, nullable=False),
)

alarm_history = Table(
    "alarm_history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("alarm_name", String(255), nullable=False),
    Column("alarm_type", String(32), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("item_type", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_alarm_history_name_time", "alarm_name", "timestamp"),
)

event_rules = Table(
    "event_rules",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("pattern", Text, nullable=False),
    Column("state", String(48), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_on", BigInteger, nullable=False),
    Column("updated_on", BigInteger, nullable=False),
)

event_targets = Table(
    "event_targets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("config", Text, nullable=False),
    Column("secret", Text),
    Column("created_on", BigInteger, nullable=False),
    Column("updated_on", BigInteger, nullable=False),
)

event_rule_targets = Table(
    "event_rule_targets",
    metadata,
    Column("rule_name", String(64), primary_key=True),
    Column("target_name", String(64), primary_key=True),
    Index("ix_event_rule_targets_target", "target_name"),
)

event_deliveries = Table(
    "event_deliveries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("origin", String(1024), nullable=False),
    Column("target_name", String(64), nullable=False),
    Column("event", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("queued_on", BigInteger, nullable=False),
    Column("next_attempt", BigInteger, nullable=False),
    Column("lease_owner", String(255)),
    Column("lease_until", BigInteger),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("dead_on", BigInteger),
    Index("ix_event_deliveries_due", "state", "next_attempt"),
)

event_cursors = Table(
    "event_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_on", BigInteger, nullable=False),
)


# -- access control (0004) ---------------------------------------------------------------

principals = Table(
    "principals",
    metadata,
    Column("principal_id", String(40), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    Column("description", Text),
    Column("tags", Text, nullable=False),
    Column("created_on", BigInteger, nullable=False),
)

policies = Table(
    "policies",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
    Column("description", Text),
    Column("created_on", BigInteger, nullable=False),
    Column("updated_on", BigInteger, nullable=False),
)

principal_policies = Table(
    "principal_policies",
    metadata,
    Column("principal_id", String(40), primary_key=True),
    Column("policy_name", String(128), primary_key=True),
    Column("attached_on", BigInteger, nullable=False),
    Index("ix_principal_policies_policy", "policy_name"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(40), primary_key=True),
    Column("principal_id", String(40), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("description", Text),
    Column("created_on", BigInteger, nullable=False),
    Column("expires_on", BigInteger, nullable=False),
    Column("revoked_on", BigInteger),
    Column("session", Text),
    Index("ix_api_tokens_principal", "principal_id"),
)

# One row: bumped by every change to principals, policies, attachments or tokens, so
# that servers sharing the database know when their cached policies are stale.
access_generation = Table(
    "access_generation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", BigInteger, nullable=False),
)

# Batches of records delivered by agents: a batch id seen before is not stored again.
ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("received_on", BigInteger, nullable=False),
    Column("records", Integer, nullable=False),
    Index("ix_ingest_batches_received", "received_on"),
)

# Leases: which server process holds a cluster-wide duty (the background evaluators).
leases = Table(
    "leases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("term", BigInteger, nullable=False),
    Column("expires_on", BigInteger, nullable=False),
    Column("acquired_on", BigInteger, nullable=False),
)


# -- log groups, streams and metric filters (0005) ----------------------------------

log_groups = Table(
    "log_groups",
    metadata,
    Column("name", String(512), primary_key=True),
    Column("created_on", BigInteger, nullable=False),
    Column("retention_days", Integer),
)

log_streams = Table(
    "log_streams",
    metadata,
    Column("group_name", String(512), nullable=False),
    Column("stream_name", String(512), nullable=False),
    Column("created_on", BigInteger, nullable=False),
    Column("first_event", BigInteger),
    Column("last_event", BigInteger),
    Column("last_ingestion", BigInteger),
    Column("stored_events", BigInteger, nullable=False),
    Column("stored_bytes", BigInteger, nullable=False),
    PrimaryKeyConstraint("group_name", "stream_name"),
    Index("ix_log_streams_last_event", "group_name", "last_event"),
)

metric_filters = Table(
    "metric_filters",
    metadata,
    Column("group_name", String(512), nullable=False),
    Column("filter_name", String(512), nullable=False),
    Column("pattern", Text, nullable=False),
    Column("transformation", Text, nullable=False),
    Column("created_on", BigInteger, nullable=False),
    PrimaryKeyConstraint("group_name", "filter_name"),
)

# The trail: chain heads, delivery state, delivered files and signing keys.

trail_shards = Table(
    "trail_shards",
    metadata,
    Column("shard", String(64), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

trail_delivery = Table(
    "trail_delivery",
    metadata,
    Column("shard", String(64), primary_key=True),
    Column("delivered_seq", BigInteger, nullable=False),
    Column("digest_count", BigInteger, nullable=False),
    Column("last_digest_key", Text),
    Column("last_digest_hash", String(64)),
    Column("last_digest_signature", Text),
    Column("last_digest_file_hash", String(64)),
    Column("last_digest_end", BigInteger),
    Column("pending", Text),
)

trail_digests = Table(
    "trail_digests",
    metadata,
    Column("digest_key", String(700), primary_key=True),
    Column("shard", String(64), nullable=False),
    Column("digest_no", BigInteger, nullable=False),
    Column("digest_start", BigInteger, nullable=False),
    Column("digest_end", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("file_hash", String(64), nullable=False),
    Column("signature", Text, nullable=False),
    Index("ux_trail_digest_no", "shard", "digest_no", unique=True),
    Index("ix_trail_digest_end", "digest_end"),
)

trail_log_files = Table(
    "trail_log_files",
    metadata,
    Column("log_key", String(700), primary_key=True),
    Column("shard", String(64), nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("digest_key", String(700), nullable=False),
    Column("oldest_event", BigInteger, nullable=False),
    Column("newest_event", BigInteger, nullable=False),
    Index("ix_trail_log_seq", "shard", "last_seq"),
)

trail_public_keys = Table(
    "trail_public_keys",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("public_key", Text, nullable=False),
    Column("valid_from", BigInteger, nullable=False),
)


# Retention and legal holds of the trail (0008; see pipetrail.trail.retention).

trail_retention = Table(
    "trail_retention",
    metadata,
    Column("trail", String(64), primary_key=True),
    Column("retention_days", Integer),  # null: events never expire
    Column("updated_on", BigInteger, nullable=False),
)

trail_legal_holds = Table(
    "trail_legal_holds",
    metadata,
    Column("trail", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("start_time", BigInteger),
    Column("end_time", BigInteger),
    Column("resource", Text),
    Column("reason", Text, nullable=False),
    Column("created_on", BigInteger, nullable=False),
    Column("created_by", String(255), nullable=False),
    PrimaryKeyConstraint("trail", "name"),
)

# Delivered log files that retention expired: the file is deleted from the archive and
# its events from the store; the digest that lists it stays. ``last_hash`` is the chain
# hash of the file's last event (the one its digest signed), where the chain resumes.
trail_expired_files = Table(
    "trail_expired_files",
    metadata,
    Column("log_key", String(700), primary_key=True),
    Column("shard", String(64), nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("oldest_event", BigInteger, nullable=False),
    Column("newest_event", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("cutoff", BigInteger, nullable=False),
    Column("expired_on", BigInteger, nullable=False),
    Column("archive_deleted", Boolean, nullable=False),
    Index("ix_trail_expired_seq", "shard", "last_seq"),
)
