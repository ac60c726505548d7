"""The trail's retention policy, legal holds and the log files retention expired.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trail_retention",
        sa.Column("trail", sa.String(64), primary_key=True),
        sa.Column("retention_days", sa.Integer),
        sa.Column("updated_on", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "trail_legal_holds",
        sa.Column("trail", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("start_time", sa.BigInteger),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("resource", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_on", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("trail", "name"),
    )
    op.create_table(
        "trail_expired_files",
        sa.Column("log_key", sa.String(700), primary_key=True),
        sa.Column("shard", sa.String(64), nullable=False),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("oldest_event", sa.BigInteger, nullable=False),
        sa.Column("newest_event", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("cutoff", sa.BigInteger, nullable=False),
        sa.Column("expired_on", sa.BigInteger, nullable=False),
        sa.Column("archive_deleted", sa.Boolean, nullable=False),
    )
    op.create_index("ix_trail_expired_seq", "trail_expired_files", ["shard", "last_seq"])


def downgrade() -> None:
    op.drop_index("ix_trail_expired_seq", "trail_expired_files")
    for table in ("trail_expired_files", "trail_legal_holds", "trail_retention"):
        op.drop_table(table)
