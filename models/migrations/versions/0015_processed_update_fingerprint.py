"""Tell a re-delivered update from a new one that reuses its id: a fingerprint of what was sent
(the bot's identity and the platform's message id) and a count of the times an id was reused;
and keep the answers an update owes until they went out (sent after a crash, once).
Also: where an admin's rights come from (`member.admin_source`: ADMIN_IDS or a grant in the
chat), so that removing someone from ADMIN_IDS takes their rights back.

Update ids start over with a new bot token, a new Bot API server, or when Telegram picks them
afresh after a week without updates; keyed by id alone, such new messages were dropped as
duplicates. Rows written before this revision have no fingerprint and keep the old rule until
they are pruned (bot.core.PRUNE_AFTER).

Revision ID: 0015
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_update") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("reuses", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("answers", sa.JSON(), nullable=True))
    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("admin_source", sa.String(length=16), nullable=True))
    # Admins granted in the chat left an audit line; every other admin came from ADMIN_IDS.
    op.execute(
        "UPDATE member SET admin_source = CASE WHEN EXISTS (SELECT 1 FROM audit_log a "
        "WHERE a.action = 'member.grant_admin' AND a.target_type = 'member' "
        "AND a.target_id = CAST(member.id AS VARCHAR(64))) THEN 'chat' ELSE 'config' END "
        "WHERE role = 'admin'"
    )


def downgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.drop_column("admin_source")
    with op.batch_alter_table("processed_update") as batch:
        batch.drop_column("answers")
        batch.drop_column("reuses")
        batch.drop_column("fingerprint")
