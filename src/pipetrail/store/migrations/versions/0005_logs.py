"""Log groups (with retention), log streams and metric filters.

Groups and streams that events already stored name are created from those events, and
the groups runs write to exist from the start (so a retention policy or a metric filter
can be put on them before the first run).

Revision ID: 0005
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None

RUN_GROUPS = ("/pipetrail/jobs/output", "/pipetrail/jobs/error", "/pipetrail/jobs/insights")


def upgrade() -> None:
    op.create_table(
        "log_groups",
        sa.Column("name", sa.String(512), primary_key=True),
        sa.Column("created_on", sa.BigInteger, nullable=False),
        sa.Column("retention_days", sa.Integer),
    )
    op.create_table(
        "log_streams",
        sa.Column("group_name", sa.String(512), nullable=False),
        sa.Column("stream_name", sa.String(512), nullable=False),
        sa.Column("created_on", sa.BigInteger, nullable=False),
        sa.Column("first_event", sa.BigInteger),
        sa.Column("last_event", sa.BigInteger),
        sa.Column("last_ingestion", sa.BigInteger),
        sa.Column("stored_events", sa.BigInteger, nullable=False),
        sa.Column("stored_bytes", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("group_name", "stream_name"),
    )
    op.create_index("ix_log_streams_last_event", "log_streams", ["group_name", "last_event"])
    op.create_table(
        "metric_filters",
        sa.Column("group_name", sa.String(512), nullable=False),
        sa.Column("filter_name", sa.String(512), nullable=False),
        sa.Column("pattern", sa.Text, nullable=False),
        sa.Column("transformation", sa.Text, nullable=False),
        sa.Column("created_on", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("group_name", "filter_name"),
    )
    octets = ("octet_length(message)" if op.get_bind().dialect.name == "postgresql"
              else "length(CAST(message AS BLOB))")
    op.execute(
        "INSERT INTO log_streams (group_name, stream_name, created_on, first_event, "
        "last_event, last_ingestion, stored_events, stored_bytes) "
        "SELECT group_name, stream_name, min(ingestion_time), min(timestamp), max(timestamp), "
        f"max(ingestion_time), count(*), sum({octets}) FROM log_events "
        "GROUP BY group_name, stream_name"
    )
    op.execute(
        "INSERT INTO log_groups (name, created_on) "
        "SELECT group_name, min(created_on) FROM log_streams GROUP BY group_name"
    )
    now = int(time.time() * 1000)
    for group in RUN_GROUPS:
        op.execute(sa.text(
            "INSERT INTO log_groups (name, created_on) "
            "SELECT CAST(:name AS VARCHAR(512)), CAST(:now AS BIGINT) WHERE NOT EXISTS "
            "(SELECT 1 FROM log_groups WHERE name = CAST(:name AS VARCHAR(512)))"
        ).bindparams(name=group, now=now))


def downgrade() -> None:
    op.drop_table("metric_filters")
    op.drop_index("ix_log_streams_last_event", "log_streams")
    op.drop_table("log_streams")
    op.drop_table("log_groups")
