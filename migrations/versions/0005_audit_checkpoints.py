"""keyed audit chain: hash_version on events, signed checkpoints of the chain head

Events already stored keep hash_version 1 (plain SHA-256); events written once
the database has an audit key are HMAC-SHA-256 (hash_version 2).  Adding the
column fires no UPDATE trigger, so the append-only guards stay in place.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not batch_alter_table: on SQLite that copies the table, and the guard
    # triggers would go with the old one.
    op.add_column("audit_event", sa.Column("hash_version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("head_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoint_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoint_at"))
    op.drop_table("audit_checkpoint")
    op.drop_column("audit_event", "hash_version")
