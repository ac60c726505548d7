"""Access control and the server: principals, policies, API tokens, ingest batches, leases.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("principal_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("created_on", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "policies",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created_on", sa.BigInteger, nullable=False),
        sa.Column("updated_on", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "principal_policies",
        sa.Column("principal_id", sa.String(40), primary_key=True),
        sa.Column("policy_name", sa.String(128), primary_key=True),
        sa.Column("attached_on", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_principal_policies_policy", "principal_policies", ["policy_name"])
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(40), primary_key=True),
        sa.Column("principal_id", sa.String(40), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created_on", sa.BigInteger, nullable=False),
        sa.Column("expires_on", sa.BigInteger, nullable=False),
        sa.Column("revoked_on", sa.BigInteger),
        sa.Column("session", sa.Text),
    )
    op.create_index("ix_api_tokens_principal", "api_tokens", ["principal_id"])
    op.create_table(
        "access_generation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO access_generation (id, generation) VALUES (1, 0)")
    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.String(64), primary_key=True),
        sa.Column("received_on", sa.BigInteger, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
    )
    op.create_index("ix_ingest_batches_received", "ingest_batches", ["received_on"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("term", sa.BigInteger, nullable=False),
        sa.Column("expires_on", sa.BigInteger, nullable=False),
        sa.Column("acquired_on", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("leases", "ingest_batches", "access_generation", "api_tokens",
                  "principal_policies", "policies", "principals"):
        op.drop_table(table)
