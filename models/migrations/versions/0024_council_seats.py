"""Council seats belong to an organiser.

A seat on the Hội đồng Thi đua – Khen thưởng is a seat on *one* office's council: the province's
council does not vote on a commune's nominees. `council_member.organiser_id` and
`council_round.organiser_id` (nullable since 0021, when organisers were not data yet) become
required foreign keys. Existing seats move to the organiser of the campaign they were seated
for, else to the default organiser (id 1) — every seat of a single-office deployment; a round
takes the organiser of its campaign.

Revision ID: 0024_council_seats
Revises: 0023_pushed_choices
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_council_seats"
down_revision: str | None = "0023_pushed_choices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_ID = 1
_OF_CAMPAIGN = (
    "(SELECT campaign.organiser_id FROM campaign WHERE campaign.id = {table}.campaign_id)"
)


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE council_member SET organiser_id = "
            + _OF_CAMPAIGN.format(table="council_member")
            + " WHERE campaign_id IS NOT NULL"
        )
    )
    op.execute(
        sa.text(
            "UPDATE council_round SET organiser_id = " + _OF_CAMPAIGN.format(table="council_round")
        )
    )
    for table in ("council_member", "council_round"):
        op.execute(
            sa.text(
                f"UPDATE {table} SET organiser_id = :org WHERE organiser_id IS NULL"
            ).bindparams(org=DEFAULT_ID)
        )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("organiser_id", existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(
                f"fk_{table}_organiser_id", "organiser", ["organiser_id"], ["id"]
            )


def downgrade() -> None:
    for table in ("council_round", "council_member"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_organiser_id", type_="foreignkey")
            batch.alter_column("organiser_id", existing_type=sa.Integer(), nullable=True)
