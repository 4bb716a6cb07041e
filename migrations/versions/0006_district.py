"""the district side: the unit's kind, every school workbook received, the roster

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "unit",
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default="school"),
    )
    op.create_table(
        "district_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("generated_at", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("checksum", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("received_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["superseded_by_id"], ["district_file.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("district_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_district_file_year"), ["year"], unique=False)
        batch_op.create_index(batch_op.f("ix_district_file_unit_name"), ["unit_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_district_file_superseded_by_id"), ["superseded_by_id"], unique=False)
    op.create_table(
        "district_roster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("unit_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "unit_name", name="uq_district_roster_unit"),
    )
    with op.batch_alter_table("district_roster", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_district_roster_year"), ["year"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("district_roster", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_district_roster_year"))
    op.drop_table("district_roster")
    with op.batch_alter_table("district_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_district_file_superseded_by_id"))
        batch_op.drop_index(batch_op.f("ix_district_file_unit_name"))
        batch_op.drop_index(batch_op.f("ix_district_file_year"))
    op.drop_table("district_file")
    op.drop_column("unit", "kind")
