"""Award history per unit and person, and the admin's overrides of eligibility rules.

Revision ID: 0017
Revises: 0021
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "award_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_name", sa.String(length=120), nullable=False),
        sa.Column("person_key", sa.String(length=120), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("award", sa.String(length=200), nullable=False),
        sa.Column("award_label", sa.String(length=200), nullable=False),
        sa.Column("decision_number", sa.String(length=80), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "person_key", "year", "award", name="uq_award_record"),
    )
    with op.batch_alter_table("award_record") as batch:
        batch.create_index("ix_award_record_unit_id", ["unit_id"], unique=False)
        batch.create_index("ix_award_record_person_key", ["person_key"], unique=False)

    op.create_table(
        "eligibility_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("nominee_key", sa.String(length=200), nullable=False),
        sa.Column("award", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "report_id", "nominee_key", "award", "rule", name="uq_eligibility_override"
        ),
    )
    with op.batch_alter_table("eligibility_override") as batch:
        batch.create_index("ix_eligibility_override_report_id", ["report_id"], unique=False)


def downgrade() -> None:
    op.drop_table("eligibility_override")
    op.drop_table("award_record")
