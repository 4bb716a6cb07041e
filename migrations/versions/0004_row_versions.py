"""a version on every attendance and distribution row (roll calls and receipts saved per row)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("attendance", "distribution"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    for table in ("attendance", "distribution"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
