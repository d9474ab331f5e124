"""A short code for each invite, to type on channels without deep links (Zalo, console).

Revision ID: 0022
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invite") as batch:
        batch.add_column(sa.Column("short_code", sa.String(length=8), nullable=True))
        batch.create_unique_constraint("uq_invite_short_code", ["short_code"])


def downgrade() -> None:
    with op.batch_alter_table("invite") as batch:
        batch.drop_constraint("uq_invite_short_code", type_="unique")
        batch.drop_column("short_code")
