"""Organisers: one deployment for many offices (a province and its communes).

Adds `organiser` and `organiser_member` (member × organiser × role), and the organiser of every
unit, campaign, broadcast and audit entry. An existing database moves whole into one default
organiser, made first so it has id 1: its units, campaigns and broadcasts belong to it and every
admin becomes its admin; nothing else changes. Unit codes become unique per organiser (two
communes may both have a village "T01").

Revision ID: 0016
Revises: 0018
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_ID = 1
# SQLite keeps the original UNIQUE(code) of `unit` unnamed; batch mode finds it by this name.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    op.create_table(
        "organiser",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("signing_place", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["organiser.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("unit_id"),
    )
    op.create_index("ix_organiser_parent_id", "organiser", ["parent_id"])
    organiser = sa.table(
        "organiser",
        sa.column("id", sa.Integer()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("level", sa.String()),
        sa.column("place", sa.String()),
        sa.column("signing_place", sa.String()),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)  # a migration has no clock to be handed; it runs once
    op.bulk_insert(
        organiser,
        [
            {
                "id": DEFAULT_ID,
                "code": "MACDINH",
                "name": "Cơ quan tổ chức",
                "level": "khac",
                "place": "",
                "signing_place": "",
                "active": True,
                "created_at": now,
            }
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        # The row was given its id; the sequence must not hand out 1 again.
        op.execute("SELECT setval(pg_get_serial_sequence('organiser', 'id'), 1)")

    op.create_table(
        "organiser_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["organiser_id"], ["organiser.id"]),
        sa.ForeignKeyConstraint(["granted_by_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "organiser_id", "role", name="uq_organiser_member"),
    )
    op.create_index("ix_organiser_member_member_id", "organiser_member", ["member_id"])
    op.create_index("ix_organiser_member_organiser_id", "organiser_member", ["organiser_id"])
    op.execute(
        sa.text(
            "INSERT INTO organiser_member (member_id, organiser_id, role, created_at) "
            "SELECT id, :org, 'admin', :now FROM member WHERE role = 'admin'"
        ).bindparams(org=DEFAULT_ID, now=now)
    )

    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("unit", naming_convention=NAMING) as batch:
        batch.add_column(sa.Column("organiser_id", sa.Integer(), nullable=True))
    op.execute(sa.text("UPDATE unit SET organiser_id = :org").bindparams(org=DEFAULT_ID))
    with op.batch_alter_table("unit", naming_convention=NAMING) as batch:
        batch.alter_column("organiser_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_unit_organiser_id", "organiser", ["organiser_id"], ["id"])
        batch.drop_constraint("uq_unit_code" if sqlite else "unit_code_key", type_="unique")
        batch.create_unique_constraint("uq_unit_code", ["organiser_id", "code"])
        batch.create_index("ix_unit_organiser_id", ["organiser_id"])

    for table in ("campaign", "broadcast"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("organiser_id", sa.Integer(), nullable=True))
        op.execute(sa.text(f"UPDATE {table} SET organiser_id = :org").bindparams(org=DEFAULT_ID))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("organiser_id", existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(
                f"fk_{table}_organiser_id", "organiser", ["organiser_id"], ["id"]
            )
            batch.create_index(f"ix_{table}_organiser_id", ["organiser_id"])

    with op.batch_alter_table("campaign") as batch:
        batch.add_column(
            sa.Column("cascade", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("parent_campaign_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_campaign_parent_campaign_id", "campaign", ["parent_campaign_id"], ["id"]
        )
        batch.create_index("ix_campaign_parent_campaign_id", ["parent_campaign_id"])

    with op.batch_alter_table("deadline") as batch:
        batch.add_column(sa.Column("parent_deadline_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_deadline_parent_deadline_id", "deadline", ["parent_deadline_id"], ["id"]
        )

    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("acting_organiser_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_member_acting_organiser_id", "organiser", ["acting_organiser_id"], ["id"]
        )

    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("organiser_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_audit_log_organiser_id", "organiser", ["organiser_id"], ["id"])
        batch.create_index("ix_audit_log_organiser_id", ["organiser_id"])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("ix_audit_log_organiser_id")
        batch.drop_constraint("fk_audit_log_organiser_id", type_="foreignkey")
        batch.drop_column("organiser_id")
    with op.batch_alter_table("member") as batch:
        batch.drop_constraint("fk_member_acting_organiser_id", type_="foreignkey")
        batch.drop_column("acting_organiser_id")
    with op.batch_alter_table("deadline") as batch:
        batch.drop_constraint("fk_deadline_parent_deadline_id", type_="foreignkey")
        batch.drop_column("parent_deadline_id")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_index("ix_campaign_parent_campaign_id")
        batch.drop_constraint("fk_campaign_parent_campaign_id", type_="foreignkey")
        batch.drop_column("parent_campaign_id")
        batch.drop_column("cascade")
    for table in ("campaign", "broadcast"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_organiser_id")
            batch.drop_constraint(f"fk_{table}_organiser_id", type_="foreignkey")
            batch.drop_column("organiser_id")
    with op.batch_alter_table("unit", naming_convention=NAMING) as batch:
        batch.drop_index("ix_unit_organiser_id")
        batch.drop_constraint("uq_unit_code", type_="unique")
        batch.create_unique_constraint("uq_unit_code" if sqlite else "unit_code_key", ["code"])
        batch.drop_constraint("fk_unit_organiser_id", type_="foreignkey")
        batch.drop_column("organiser_id")
    op.drop_index("ix_organiser_member_organiser_id", table_name="organiser_member")
    op.drop_index("ix_organiser_member_member_id", table_name="organiser_member")
    op.drop_table("organiser_member")
    op.drop_index("ix_organiser_parent_id", table_name="organiser")
    op.drop_table("organiser")
