"""Event rules, targets, the rule-target links, the delivery queue (with dead letters)
and the cursors of event sources read from other tables.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
# Chained after the newest migration on main at the time of writing (0003); re-chain
# when merging.
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_rules",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("pattern", sa.Text, nullable=False),
        sa.Column("state", sa.String(48), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_on", sa.BigInteger, nullable=False),
        sa.Column("updated_on", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "event_targets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("secret", sa.Text),
        sa.Column("created_on", sa.BigInteger, nullable=False),
        sa.Column("updated_on", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "event_rule_targets",
        sa.Column("rule_name", sa.String(64), primary_key=True),
        sa.Column("target_name", sa.String(64), primary_key=True),
    )
    op.create_index("ix_event_rule_targets_target", "event_rule_targets", ["target_name"])
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(1024), nullable=False),
        sa.Column("target_name", sa.String(64), nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("queued_on", sa.BigInteger, nullable=False),
        sa.Column("next_attempt", sa.BigInteger, nullable=False),
        sa.Column("lease_owner", sa.String(255)),
        sa.Column("lease_until", sa.BigInteger),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text),
        sa.Column("dead_on", sa.BigInteger),
    )
    op.create_index("ix_event_deliveries_due", "event_deliveries", ["state", "next_attempt"])
    op.create_table(
        "event_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("updated_on", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("event_cursors")
    op.drop_table("event_deliveries")
    op.drop_table("event_rule_targets")
    op.drop_table("event_targets")
    op.drop_table("event_rules")
