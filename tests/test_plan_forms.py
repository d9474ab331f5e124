"""Deadlines made from a plan ask for the organiser's own form, as /hanmoi's do: commune An Bình
keeps its version of «Báo cáo thành tích» in forms/CQ-ANBINH/; a plan An Bình's admin imports
(/nhapkehoach, or the web desk's plan upload, which calls the same domain function without the
bot's forms) gets deadlines asking that version where it has one and the default elsewhere;
the province's imported plan keeps the defaults."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.runtime import build_core
from bot.settings import Settings
from domain.forms import DEFAULT_FORMS_DIR, forms_in_use, load_forms, use_forms
from domain.organisers import grant_admin
from domain.plan_parser import PlanProposal, ProposedDeadline
from domain.plans import create_campaign_from_plan
from domain.scope import Scope
from models.campaigns import Campaign, Deadline, DeadlineKind
from models.organisers import DEFAULT_ORGANISER_ID, Organiser
from models.units import Role
from tests.utils.factories import T0, make_member, make_organiser, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.plan_files import plan_text
from tests.utils.scenario import TestBot

OWN = "CQ-ANBINH/bao-cao-thanh-tich"
PLAN = "ke-hoach-xa-27-KH-UBND-2026.txt"


def _forms_with_own(tmp_path: Path) -> Path:
    folder = tmp_path / "forms"
    shutil.copytree(DEFAULT_FORMS_DIR, folder)
    (folder / "CQ-ANBINH").mkdir()
    source = (folder / "bao-cao-thanh-tich.yaml").read_text(encoding="utf-8")
    own = source.replace("title: Báo cáo thành tích", "title: Báo cáo thành tích (xã An Bình)")
    (folder / "CQ-ANBINH" / "bao-cao-thanh-tich.yaml").write_text(own, encoding="utf-8")
    return folder


@pytest.fixture
def restore_forms() -> Iterator[None]:
    """The registered forms are the process's: put back what was there."""
    before = dict(forms_in_use())
    yield
    use_forms(before)


def _an_binh(session: Session) -> Organiser:
    top = session.get(Organiser, DEFAULT_ORGANISER_ID)
    xa = make_unit(session, "Xã An Bình", code="XA-ANBINH")
    an_binh = make_organiser(session, "UBND xã An Bình", code="CQ-ANBINH", parent=top, unit=xa)
    make_unit(session, "Thôn Nà Hiềng", code="T01", kind="thon", organiser=an_binh)
    make_member(session, ADMIN_USER_ID, role=Role.ADMIN)
    hai = make_member(session, "201", unit=xa, name="Lò Văn Hải")
    grant_admin(hai, an_binh, by=None, now=T0, session=session)
    session.commit()
    return an_binh


def _codes(session: Session, campaign_id: int) -> list[tuple[str, str]]:
    rows = session.exec(
        select(Deadline).where(Deadline.campaign_id == campaign_id).order_by(Deadline.due_at)
    ).all()
    return [(d.kind, d.form_code) for d in rows]


async def test_a_plan_a_commune_imports_in_the_chat_asks_its_own_form(
    bot: TestBot, tmp_path: Path
) -> None:
    bot.core.services.forms = load_forms(_forms_with_own(tmp_path))
    with bot.db() as db:
        _an_binh(db)
    hai = bot.person("201", "Lò Văn Hải")
    await hai.says("/nhapkehoach")
    await hai.sends_file(plan_text(PLAN).encode(), "ke-hoach.txt")
    await hai.presses("Bỏ mốc 1")  # the one dated before the plan: no second question
    await hai.presses("Tạo đợt thi đua")
    assert "nháp" in hai.last_reply
    with bot.db() as db:
        campaign = db.exec(select(Campaign)).one()
        assert campaign.organiser_id != DEFAULT_ORGANISER_ID
        assert _codes(db, campaign.id) == [  # type: ignore[arg-type]  # a stored row
            (DeadlineKind.REGISTRATION, "dang-ky-thi-dua"),  # no own version: the default
            (DeadlineKind.PRELIMINARY, OWN),
            (DeadlineKind.FINAL, OWN),
            (DeadlineKind.NOMINATION, "de-nghi-khen-thuong"),
        ]


def _proposal(number: str) -> PlanProposal:
    return PlanProposal(
        document_number=number,
        title="Phát động phong trào thi đua năm 2026",
        issued_on=date(2026, 3, 2),
        deadlines=[
            ProposedDeadline(
                no=1,
                kind=DeadlineKind.FINAL,
                title="Báo cáo tổng kết",
                due_on=date(2026, 12, 5),
                source="Báo cáo tổng kết trước ngày 05/12/2026",
                due_time=time(17, 0),
            )
        ],
    )


def test_the_desks_plan_upload_without_forms_picks_them_from_the_bots(
    settings: Settings, engine: Engine, clock: ManualClock, tmp_path: Path, restore_forms: None
) -> None:
    """The desk calls `create_campaign_from_plan` with no forms: those the bot loaded at start-up
    (here from a FORMS_DIR holding An Bình's version) decide."""
    own_settings = settings.model_copy(update={"forms_dir": _forms_with_own(tmp_path)})
    build_core(own_settings, engine=engine, clock=clock, migrate=False)
    with Session(engine) as session:
        an_binh = _an_binh(session)
        mine = create_campaign_from_plan(
            session,
            proposal=_proposal("5/KH-UBND"),
            scope=Scope.of(an_binh.id),  # type: ignore[arg-type]  # a stored row
            actor=None,
            now=T0,
            timezone="Asia/Ho_Chi_Minh",
        )
        province = create_campaign_from_plan(
            session,
            proposal=_proposal("12/KH-SNV"),
            scope=Scope.of(DEFAULT_ORGANISER_ID),
            actor=None,
            now=T0,
            timezone="Asia/Ho_Chi_Minh",
        )
        assert _codes(session, mine.id) == [(DeadlineKind.FINAL, OWN)]  # type: ignore[arg-type]
        assert _codes(session, province.id) == [  # type: ignore[arg-type]  # a stored row
            (DeadlineKind.FINAL, "bao-cao-thanh-tich")
        ]
