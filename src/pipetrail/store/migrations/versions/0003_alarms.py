"""Alarms (metric and composite) with their current state, and alarm history.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("state_value", sa.String(32), nullable=False),
        sa.Column("state_reason", sa.Text, nullable=False),
        sa.Column("state_reason_data", sa.Text),
        sa.Column("state_updated", sa.BigInteger, nullable=False),
        sa.Column("state_transitioned", sa.BigInteger),
        sa.Column("updated_on", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "alarm_history",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("alarm_name", sa.String(255), nullable=False),
        sa.Column("alarm_type", sa.String(32), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("item_type", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_alarm_history_name_time", "alarm_history", ["alarm_name", "timestamp"])


def downgrade() -> None:
    op.drop_table("alarm_history")
    op.drop_table("alarms")
