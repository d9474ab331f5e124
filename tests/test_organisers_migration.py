"""Migration 0016 on a database filled at revision 0013 (one office, as every deployment was;
0016 comes after 0017 in the history):
everything moves into the default organiser untouched, every admin becomes its admin, and the
bot answers as before. Run on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.memory import MemoryChannel
from bot.clock import ManualClock
from bot.db import alembic_config, current_revision, upgrade
from bot.runtime import build_core
from bot.settings import Settings
from domain.campaigns import participating_units
from domain.scope import admin_organiser_ids
from models.campaigns import Campaign
from models.organisers import DEFAULT_ORGANISER_ID, Organiser
from models.units import Member, Unit
from tests.conftest import DATABASES
from tests.utils.migrations import database_at, head_revision
from tests.utils.scenario import TestBot

T = "2026-03-01 01:00:00"


@pytest.fixture(params=DATABASES)
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated only up to 0013."""
    yield from database_at("0013", request.param, tmp_path)


def _fill_at_0013(engine: Engine) -> None:
    """Rows as the 0013 schema has them, written in plain SQL (today's models differ)."""
    true = "true" if engine.dialect.name == "postgresql" else "1"
    with engine.begin() as c:
        for code, name in (("XA-BINHLU", "Xã Bình Lư"), ("XA-SONBINH", "Xã Sơn Bình")):
            c.exec_driver_sql(
                "INSERT INTO unit (code, name, search_key, kind, active, created_at) "
                f"VALUES ('{code}', '{name}', '{code.lower()}', 'xa', {true}, '{T}')"
            )
        for user, role, unit in (("100", "admin", "NULL"), ("200", "officer", "1")):
            c.exec_driver_sql(
                "INSERT INTO member (channel, user_id, chat_id, display_name, role, unit_id, "
                f"status, created_at, updated_at) VALUES ('memory', '{user}', '{user}', "
                f"'Người {user}', '{role}', {unit}, 'approved', '{T}', '{T}')"
            )
        c.exec_driver_sql(
            "INSERT INTO campaign (document_number, name, issuing_body, description, status, "
            "participants, timezone, created_at) VALUES ('353/KH-UBND', 'Đợt chào mừng', '', "
            f"'', 'active', 'all', 'Asia/Ho_Chi_Minh', '{T}')"
        )
        c.exec_driver_sql(
            "INSERT INTO audit_log (at, actor, action, outcome, detail) "
            f"VALUES ('{T}', 'memory:100', 'unit.create', 'ok', '{{}}')"
        )


async def test_an_existing_database_moves_into_the_default_organiser(
    old_engine: Engine, tmp_path: Path
) -> None:
    _fill_at_0013(old_engine)
    upgrade(old_engine)
    assert current_revision(old_engine) == head_revision(old_engine)
    with Session(old_engine) as session:
        default = session.get(Organiser, DEFAULT_ORGANISER_ID)
        assert default is not None and default.parent_id is None
        assert session.exec(select(Organiser)).all() == [default]
        units = session.exec(select(Unit).order_by(Unit.id)).all()
        assert [(u.code, u.name, u.organiser_id) for u in units] == [
            ("XA-BINHLU", "Xã Bình Lư", 1),
            ("XA-SONBINH", "Xã Sơn Bình", 1),
        ]
        campaign = session.exec(select(Campaign)).one()
        assert campaign.organiser_id == 1 and campaign.cascade is False
        assert [u.code for u in participating_units(session, campaign)] == [
            "XA-BINHLU",
            "XA-SONBINH",
        ]
        admin, officer = session.exec(select(Member).order_by(Member.id)).all()
        assert admin_organiser_ids(admin, session=session) == [1]
        assert admin_organiser_ids(officer, session=session) == []
        # A new organiser gets a fresh id (PostgreSQL's sequence was moved past the default).
        session.add(
            Organiser(code="XA-BINHLU", name="UBND xã Bình Lư", created_at=campaign.created_at)
        )
        session.commit()

    # The admin of the old single office keeps working with the same configuration (ADMIN_IDS
    # still names them; migration 0015 made them an admin "from configuration") and nothing
    # about organisers.
    settings = Settings(
        _env_file=None,
        storage_dir=tmp_path / "files",
        database_url="sqlite:///unused.db",
        admin_ids=["memory:100"],
    )
    core = build_core(
        settings,
        engine=old_engine,
        clock=ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)),
        migrate=False,
    )
    channel = MemoryChannel()
    core.hub.register(channel)
    admin_chat = TestBot(core, channel).person("100")
    await admin_chat.says("/donvi")
    assert "Xã Bình Lư" in admin_chat.new_text and "Xã Sơn Bình" in admin_chat.new_text


def test_unit_codes_are_unique_per_organiser_after_the_migration(old_engine: Engine) -> None:
    _fill_at_0013(old_engine)
    upgrade(old_engine)
    with Session(old_engine) as session:
        commune = Organiser(code="XA-BINHLU", name="UBND xã Bình Lư", created_at=sa.func.now())
        session.add(commune)
        session.flush()
        # Same code as the province's unit, another organiser: allowed.
        session.add(
            Unit(code="XA-BINHLU", name="Thôn 1", organiser_id=commune.id, created_at=sa.func.now())
        )
        session.flush()
        session.add(Unit(code="XA-BINHLU", name="Trùng", organiser_id=1, created_at=sa.func.now()))
        with pytest.raises(sa.exc.IntegrityError):
            session.flush()


def test_the_migration_goes_down_and_up_again(old_engine: Engine) -> None:
    _fill_at_0013(old_engine)
    upgrade(old_engine)
    command.downgrade(alembic_config(old_engine), "0013")
    with old_engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM unit").scalar() == 2
    upgrade(old_engine)
    assert current_revision(old_engine) == head_revision(old_engine)
