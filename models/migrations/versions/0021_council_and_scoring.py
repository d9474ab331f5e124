"""The emulation-commendation council: memberships, review rounds, nominees, vote marks, ballots,
reminders to vote; and bloc scoring: sheets, score cards and lines.

Revision ID: 0021
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "council_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("added_at", UTC, nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", UTC, nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["added_by_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["removed_by_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("council_member") as batch:
        batch.create_index("ix_council_member_member_id", ["member_id"])
        batch.create_index("ix_council_member_organiser_id", ["organiser_id"])
        batch.create_index("ix_council_member_active", ["active"])

    op.create_table(
        "council_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("closes_at", UTC, nullable=False),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("confirmed_at", UTC, nullable=True),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("electorate", sa.JSON(), nullable=False),
        sa.Column("ballot_secret", sa.String(length=64), nullable=True),
        sa.Column("closed_how", sa.String(length=16), nullable=True),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["opened_by_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("council_round") as batch:
        batch.create_index("ix_council_round_campaign_id", ["campaign_id"])
        batch.create_index("ix_council_round_organiser_id", ["organiser_id"])
        batch.create_index("ix_council_round_status", ["status"])
        batch.create_index("ix_council_round_closes_at", ["closes_at"])

    op.create_table(
        "council_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("nominee_type", sa.String(length=16), nullable=False),
        sa.Column("nominee_name", sa.String(length=200), nullable=False),
        sa.Column("award", sa.String(length=120), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("yes", sa.Integer(), nullable=True),
        sa.Column("no", sa.Integer(), nullable=True),
        sa.Column("voters", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("decision_number", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["council_round.id"]),
        sa.ForeignKeyConstraint(["nomination_id"], ["nomination.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("council_item") as batch:
        batch.create_index("ix_council_item_round_id", ["round_id"])
        batch.create_index("ix_council_item_unit_id", ["unit_id"])

    op.create_table(
        "council_vote_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["council_round.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["council_item.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "member_id", name="uq_council_vote_mark"),
    )
    with op.batch_alter_table("council_vote_mark") as batch:
        batch.create_index("ix_council_vote_mark_round_id", ["round_id"])

    op.create_table(
        "council_ballot",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["council_item.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("council_ballot") as batch:
        batch.create_index("ix_council_ballot_item_id", ["item_id"])

    op.create_table(
        "council_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", UTC, nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["council_round.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "member_id", "slot", name="uq_council_reminder"),
    )
    with op.batch_alter_table("council_reminder") as batch:
        batch.create_index("ix_council_reminder_round_id", ["round_id"])

    op.create_table(
        "scoring_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("bloc", sa.String(length=120), nullable=False),
        sa.Column("table_code", sa.String(length=64), nullable=False),
        sa.Column("table", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "bloc", name="uq_scoring_sheet_bloc"),
    )
    with op.batch_alter_table("scoring_sheet") as batch:
        batch.create_index("ix_scoring_sheet_campaign_id", ["campaign_id"])

    op.create_table(
        "score_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", UTC, nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["sheet_id"], ["scoring_sheet.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sheet_id", "unit_id", name="uq_score_card_unit"),
    )
    with op.batch_alter_table("score_card") as batch:
        batch.create_index("ix_score_card_sheet_id", ["sheet_id"])
        batch.create_index("ix_score_card_unit_id", ["unit_id"])

    op.create_table(
        "score_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=64), nullable=False),
        sa.Column("self_centi", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("adjusted_centi", sa.Integer(), nullable=True),
        sa.Column("adjust_reason", sa.String(length=1000), nullable=True),
        sa.Column("adjusted_by_id", sa.Integer(), nullable=True),
        sa.Column("adjusted_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["card_id"], ["score_card.id"]),
        sa.ForeignKeyConstraint(["adjusted_by_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("card_id", "criterion", name="uq_score_line"),
    )
    with op.batch_alter_table("score_line") as batch:
        batch.create_index("ix_score_line_card_id", ["card_id"])


def downgrade() -> None:
    for table in (
        "score_line",
        "score_card",
        "scoring_sheet",
        "council_reminder",
        "council_ballot",
        "council_vote_mark",
        "council_item",
        "council_round",
        "council_member",
    ):
        op.drop_table(table)
