"""The trail's hash chain, delivery state, delivered files and signing keys.

Events already stored are chained in their stored order, on shard ``main``.

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
SHARD = "main"


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("shard", sa.String(64)))
        batch.add_column(sa.Column("shard_seq", sa.BigInteger))
        batch.add_column(sa.Column("event_hash", sa.String(64)))
    conn = op.get_bind()
    events = sa.table("audit_events", sa.column("seq"), sa.column("body"),
                      sa.column("shard"), sa.column("shard_seq"), sa.column("event_hash"))
    previous, number = GENESIS, 0
    rows = conn.execute(sa.select(events.c.seq, events.c.body).order_by(events.c.seq)).all()
    for seq, body in rows:
        number += 1
        previous = hashlib.sha256(bytes.fromhex(previous) + body.encode()).hexdigest()
        conn.execute(sa.update(events).where(events.c.seq == seq).values(
            shard=SHARD, shard_seq=number, event_hash=previous))
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("shard", existing_type=sa.String(64), nullable=False)
        batch.alter_column("shard_seq", existing_type=sa.BigInteger, nullable=False)
        batch.alter_column("event_hash", existing_type=sa.String(64), nullable=False)
    op.create_index("ux_audit_shard_seq", "audit_events", ["shard", "shard_seq"], unique=True)

    op.create_table(
        "trail_shards",
        sa.Column("shard", sa.String(64), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    if rows:
        conn.execute(sa.text("INSERT INTO trail_shards (shard, last_seq, last_hash) "
                             "VALUES (:s, :n, :h)"), {"s": SHARD, "n": number, "h": previous})
    op.create_table(
        "trail_delivery",
        sa.Column("shard", sa.String(64), primary_key=True),
        sa.Column("delivered_seq", sa.BigInteger, nullable=False),
        sa.Column("digest_count", sa.BigInteger, nullable=False),
        sa.Column("last_digest_key", sa.Text),
        sa.Column("last_digest_hash", sa.String(64)),
        sa.Column("last_digest_signature", sa.Text),
        sa.Column("last_digest_file_hash", sa.String(64)),
        sa.Column("last_digest_end", sa.BigInteger),
        sa.Column("pending", sa.Text),
    )
    op.create_table(
        "trail_digests",
        sa.Column("digest_key", sa.String(700), primary_key=True),
        sa.Column("shard", sa.String(64), nullable=False),
        sa.Column("digest_no", sa.BigInteger, nullable=False),
        sa.Column("digest_start", sa.BigInteger, nullable=False),
        sa.Column("digest_end", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
    )
    op.create_index("ux_trail_digest_no", "trail_digests", ["shard", "digest_no"], unique=True)
    op.create_index("ix_trail_digest_end", "trail_digests", ["digest_end"])
    op.create_table(
        "trail_log_files",
        sa.Column("log_key", sa.String(700), primary_key=True),
        sa.Column("shard", sa.String(64), nullable=False),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("digest_key", sa.String(700), nullable=False),
        sa.Column("oldest_event", sa.BigInteger, nullable=False),
        sa.Column("newest_event", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_trail_log_seq", "trail_log_files", ["shard", "last_seq"])
    op.create_table(
        "trail_public_keys",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("valid_from", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("trail_public_keys", "trail_log_files", "trail_digests", "trail_delivery",
                  "trail_shards"):
        op.drop_table(table)
    op.drop_index("ux_audit_shard_seq", "audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("event_hash")
        batch.drop_column("shard_seq")
        batch.drop_column("shard")
