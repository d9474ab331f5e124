"""A short code for each invite, to type on channels without deep links (Zalo, console); and
the webhook inbox: updates recorded before they are acknowledged, handled after.

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
    op.create_table(
        "inbox_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "key", name="uq_inbox_update_key"),
    )
    op.create_index("ix_inbox_update_handled_at", "inbox_update", ["handled_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_update_handled_at", table_name="inbox_update")
    op.drop_table("inbox_update")
    with op.batch_alter_table("invite") as batch:
        batch.drop_constraint("uq_invite_short_code", type_="unique")
        batch.drop_column("short_code")
