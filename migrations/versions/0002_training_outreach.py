"""training sessions and attendance; leaflets, attachments and distributions

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leaflet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("audience_departments", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("leaflet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leaflet_issued_on"), ["issued_on"], unique=False)

    op.create_table(
        "training_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("form", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("content", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("organiser", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("hours_tenths", sa.Integer(), nullable=False),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("audience_departments", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("makeup_of_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["makeup_of_id"],
            ["training_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_session_held_on"), ["held_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_session_makeup_of_id"), ["makeup_of_id"], unique=False)

    op.create_table(
        "leaflet_attachment",
        sa.Column("leaflet_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.ForeignKeyConstraint(["leaflet_id"], ["leaflet.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("leaflet_id"),
    )
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("made_up_in_id", sa.Integer(), nullable=True),
        sa.Column("made_up_from", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("marked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("marked_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
        ),
        sa.ForeignKeyConstraint(
            ["made_up_in_id"],
            ["training_session.id"],
        ),
        sa.ForeignKeyConstraint(["session_id"], ["training_session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "employee_id", name="uq_attendance_session_employee"),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attendance_made_up_in_id"), ["made_up_in_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attendance_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attendance_status"), ["status"], unique=False)

    op.create_table(
        "distribution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("leaflet_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Boolean(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("received_by", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("marked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("marked_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
        ),
        sa.ForeignKeyConstraint(["leaflet_id"], ["leaflet.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("leaflet_id", "employee_id", name="uq_distribution_leaflet_employee"),
    )
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_distribution_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distribution_leaflet_id"), ["leaflet_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_distribution_leaflet_id"))
        batch_op.drop_index(batch_op.f("ix_distribution_employee_id"))

    op.drop_table("distribution")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_status"))
        batch_op.drop_index(batch_op.f("ix_attendance_session_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_made_up_in_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_employee_id"))

    op.drop_table("attendance")
    op.drop_table("leaflet_attachment")
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_session_makeup_of_id"))
        batch_op.drop_index(batch_op.f("ix_training_session_held_on"))

    op.drop_table("training_session")
    with op.batch_alter_table("leaflet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leaflet_issued_on"))

    op.drop_table("leaflet")
