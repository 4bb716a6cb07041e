"""violation cases, awards and incentive pay, year closure

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models._common import utcnow

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DEFAULT_CATEGORIES = [
    (
        "参与非医学需要的胎儿性别鉴定或选择性别人工终止妊娠（“两非”）",
        "《中华人民共和国人口与计划生育法》（2021年修正）关于严禁非医学需要的胎儿性别鉴定和选择性别人工终止妊娠的规定；"
        "《禁止非医学需要的胎儿性别鉴定和选择性别人工终止妊娠的规定》（国家卫生和计划生育委员会令第9号）",
    ),
    (
        "伪造、变造、买卖计划生育证明或出生医学证明",
        "《中华人民共和国人口与计划生育法》（2021年修正）关于伪造、变造、买卖计划生育证明的法律责任规定；"
        "《中华人民共和国母婴保健法》关于出生医学证明的规定",
    ),
    (
        "以欺骗手段骗取计划生育奖励扶助、优待或育儿补贴",
        "《中华人民共和国人口与计划生育法》（2021年修正）关于以不正当手段骗取奖励扶助、优待的法律责任规定；本单位奖惩制度",
    ),
]


def upgrade() -> None:
    op.create_table(
        "violation_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "year_closure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_off_by_id", sa.Integer(), nullable=False),
        sa.Column("signed_off_by_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("signed_off_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("checksum", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("workbook_filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("workbook_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("workbook", sa.LargeBinary(), nullable=False),
        sa.Column("summary_filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("summary_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("summary", sa.LargeBinary(), nullable=False),
        sa.Column("reopened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reopened_by_id", sa.Integer(), nullable=True),
        sa.Column("reopened_by_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("reopen_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["reopened_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["signed_off_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "version", name="uq_year_closure_version"),
    )
    with op.batch_alter_table("year_closure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_year_closure_year"), ["year"], unique=False)

    op.create_table(
        "award_nomination",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("award_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("finalised", sa.Boolean(), nullable=False),
        sa.Column("finalised_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finalised_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "award_name", "employee_id", name="uq_award_nomination"),
    )
    with op.batch_alter_table("award_nomination", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_award_nomination_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_award_nomination_year"), ["year"], unique=False)

    op.create_table(
        "bonus_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("pay_month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("source_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("imported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("imported_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("employee_id", "item", "pay_month", name="uq_bonus_line"),
    )
    with op.batch_alter_table("bonus_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bonus_line_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bonus_line_year"), ["year"], unique=False)

    op.create_table(
        "violation_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_no", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("family_member_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("facts", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("evidence_note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decision_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("appeal_grounds", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("appealed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("appeal_result", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("appeal_decided_by_id", sa.Integer(), nullable=True),
        sa.Column("appeal_decided_by_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("appeal_decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("appeal_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_by_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoke_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_decided_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["violation_category.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
        ),
        sa.ForeignKeyConstraint(
            ["family_member_id"],
            ["family_member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_no", name="uq_violation_case_case_no"),
    )
    with op.batch_alter_table("violation_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_violation_case_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_violation_case_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_violation_case_family_member_id"), ["family_member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_violation_case_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_violation_case_year"), ["year"], unique=False)

    op.create_table(
        "case_attachment",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["violation_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id"),
    )

    # The default categories of docs/architecture.md, "Legal frame": rules that still stand.
    # None of them turns a birth or a number of children into a violation.
    category = sa.table(
        "violation_category",
        sa.column("name", sa.String),
        sa.column("basis", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("version", sa.Integer),
        sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("updated_by", sa.String),
    )
    now = utcnow()
    op.bulk_insert(
        category,
        [
            dict(name=name, basis=basis, active=True, version=1, created_at=now, updated_at=now, updated_by="system")
            for name, basis in DEFAULT_CATEGORIES
        ],
    )


def downgrade() -> None:
    op.drop_table("case_attachment")
    with op.batch_alter_table("violation_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_violation_case_year"))
        batch_op.drop_index(batch_op.f("ix_violation_case_state"))
        batch_op.drop_index(batch_op.f("ix_violation_case_family_member_id"))
        batch_op.drop_index(batch_op.f("ix_violation_case_employee_id"))
        batch_op.drop_index(batch_op.f("ix_violation_case_category_id"))

    op.drop_table("violation_case")
    with op.batch_alter_table("bonus_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bonus_line_year"))
        batch_op.drop_index(batch_op.f("ix_bonus_line_employee_id"))

    op.drop_table("bonus_line")
    with op.batch_alter_table("award_nomination", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_award_nomination_year"))
        batch_op.drop_index(batch_op.f("ix_award_nomination_employee_id"))

    op.drop_table("award_nomination")
    with op.batch_alter_table("year_closure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_year_closure_year"))

    op.drop_table("year_closure")
    op.drop_table("violation_category")
