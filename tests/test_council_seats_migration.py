"""Migration 0023 on a database filled at revision 0016 (organisers exist, council seats and
rounds name none): a seat for one campaign goes to that campaign's organiser, every other seat
to the default organiser, a round to its campaign's organiser; the columns become required. Run
on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.db import alembic_config, current_revision, upgrade
from domain import council
from models.council import CouncilMember, CouncilRound
from models.organisers import DEFAULT_ORGANISER_ID
from tests.conftest import DATABASES
from tests.utils.migrations import database_at, head_revision

T = "2026-03-01 01:00:00"


@pytest.fixture(params=DATABASES)
def engine_at_0016(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from database_at("0016", request.param, tmp_path)


def _fill_at_0016(engine: Engine) -> None:
    """A province (the default organiser) and a commune, a campaign of each, four seats and a
    round of the commune's campaign, as the 0016 schema has them (plain SQL)."""
    true = "true" if engine.dialect.name == "postgresql" else "1"
    with engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO organiser (code, name, level, place, signing_place, parent_id, active, "
            f"created_at) VALUES ('CQ-ANBINH', 'UBND xã An Bình', 'xa', '', '', 1, {true}, '{T}')"
        )
        for number, organiser in (("12/KH-SNV", 1), ("5/KH-UBND", 2)):
            c.exec_driver_sql(
                "INSERT INTO campaign (document_number, name, issuing_body, description, status, "
                "participants, timezone, created_at, organiser_id, cascade) VALUES "
                f"('{number}', 'Đợt {number}', '', '', 'active', 'all', 'Asia/Ho_Chi_Minh', "
                f"'{T}', {organiser}, {'false' if true == 'true' else '0'})"
            )
        for user in ("301", "302", "303", "304"):
            c.exec_driver_sql(
                "INSERT INTO member (channel, user_id, chat_id, display_name, role, status, "
                f"created_at, updated_at) VALUES ('memory', '{user}', '{user}', 'Người {user}', "
                f"'officer', 'approved', '{T}', '{T}')"
            )
        # Seats: for every campaign (1, 2), for the province's (3), for the commune's (4).
        for member, campaign in ((1, "NULL"), (2, "NULL"), (3, "1"), (4, "2")):
            c.exec_driver_sql(
                "INSERT INTO council_member (member_id, role, campaign_id, active, added_at) "
                f"VALUES ({member}, 'uy-vien', {campaign}, {true}, '{T}')"
            )
        c.exec_driver_sql(
            "INSERT INTO council_round (campaign_id, status, opened_at, closes_at, rules, "
            f"electorate, present) VALUES (2, 'open', '{T}', '{T}', '{{}}', '[4]', 0)"
        )


def test_existing_seats_and_rounds_get_their_organiser(engine_at_0016: Engine) -> None:
    engine = engine_at_0016
    _fill_at_0016(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    with Session(engine) as session:
        seats = session.exec(select(CouncilMember).order_by(CouncilMember.id)).all()
        assert [(s.member_id, s.organiser_id) for s in seats] == [
            (1, DEFAULT_ORGANISER_ID),
            (2, DEFAULT_ORGANISER_ID),
            (3, DEFAULT_ORGANISER_ID),
            (4, 2),
        ]
        (round_,) = session.exec(select(CouncilRound)).all()
        assert round_.organiser_id == 2
        assert [m.id for _, m in council.seats(session, organiser_id=2)] == [4]
        assert council.voting_member_ids(session, organiser_id=1, campaign_id=1) == [1, 2, 3]
        # Required from now on, and only an organiser that exists.
        session.add(CouncilMember(member_id=1, organiser_id=99, added_at=round_.opened_at))
        with pytest.raises(sa.exc.IntegrityError):
            session.flush()


def test_the_migration_goes_down_and_up_again(engine_at_0016: Engine) -> None:
    engine = engine_at_0016
    _fill_at_0016(engine)
    upgrade(engine)
    command.downgrade(alembic_config(engine), "0016")
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM council_member").scalar() == 4
        c.exec_driver_sql("UPDATE council_member SET organiser_id = NULL")  # nullable again
    upgrade(engine)
    with engine.connect() as c:
        assert c.exec_driver_sql(
            "SELECT organiser_id FROM council_member ORDER BY id"
        ).scalars().all() == [1, 1, 1, 2]
