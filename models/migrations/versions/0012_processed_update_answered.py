"""Remember which chat a handled update came from and when its answers went out, so a restart
can ask again the question whose sending a crash interrupted.

Revision ID: 0012
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_update") as batch:
        batch.add_column(sa.Column("chat_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_processed_update_chat", ["channel", "chat_id"])


def downgrade() -> None:
    with op.batch_alter_table("processed_update") as batch:
        batch.drop_index("ix_processed_update_chat")
        batch.drop_column("answered_at")
        batch.drop_column("chat_id")
