"""Initial schema: jobs, scripts, runs, log events, metric data, audit events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("created_on", sa.BigInteger, nullable=False),
        sa.Column("script", sa.Text),
        sa.Column("description", sa.Text),
    )
    op.create_table(
        "scripts",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("stored_on", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("job_name", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("arguments", sa.Text, nullable=False),
        sa.Column("started_on", sa.BigInteger, nullable=False),
        sa.Column("completed_on", sa.BigInteger),
        sa.Column("exit_code", sa.Integer),
        sa.Column("error_message", sa.Text),
        sa.Column("principal", sa.String(255)),
        sa.Column("code_hash", sa.String(64)),
        sa.Column("script", sa.Text),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer),
        sa.Column("timeout", sa.Float),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_runs_job_started", "runs", ["job_name", "started_on"])
    op.create_index("ix_runs_state", "runs", ["state"])
    op.create_table(
        "log_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("group_name", sa.String(512), nullable=False),
        sa.Column("stream_name", sa.String(512), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("ingestion_time", sa.BigInteger, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_log_stream", "log_events", ["group_name", "stream_name", "id"])
    op.create_index("ix_log_group_time", "log_events", ["group_name", "timestamp"])
    op.create_table(
        "metric_data",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("dimensions", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(80)),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
    )
    op.create_index(
        "ix_metric_series", "metric_data", ["namespace", "name", "dimensions", "timestamp"]
    )
    op.create_index("ix_metric_run", "metric_data", ["run_id", "name", "timestamp"])
    op.create_table(
        "audit_events",
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("event_time", sa.BigInteger, nullable=False),
        sa.Column("event_source", sa.String(128), nullable=False),
        sa.Column("event_name", sa.String(128), nullable=False),
        sa.Column("event_category", sa.String(16), nullable=False),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("error_code", sa.String(128)),
        sa.Column("dataset", sa.Text),
        sa.Column("run_id", sa.String(80)),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_time", "audit_events", ["event_time"])
    op.create_index("ix_audit_name_time", "audit_events", ["event_name", "event_time"])
    op.create_index("ix_audit_principal_time", "audit_events", ["principal", "event_time"])
    op.create_index("ix_audit_dataset_time", "audit_events", ["dataset", "event_time"])
    op.create_table(
        "audit_resources",
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.Column("resource", sa.Text, nullable=False),
        sa.Column("event_time", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_audit_resource_time", "audit_resources", ["resource", "event_time"])
    op.create_index("ix_audit_resource_seq", "audit_resources", ["event_seq"])


def downgrade() -> None:
    for table in ("audit_resources", "audit_events", "metric_data", "log_events", "runs",
                  "scripts", "jobs"):
        op.drop_table(table)
