"""Lettered choices of the messages the bot sends on its own (a reminder's «Làm báo cáo»), kept
beside the numbered choices of the conversation so a later question does not end them.

Revision ID: 0023_pushed_choices
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_pushed_choices"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offered_choice") as batch:
        batch.add_column(sa.Column("pushed", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offered_choice") as batch:
        batch.drop_column("pushed")
