"""The authorisation matrix: every command and every button prefix the router knows, tried by
an unregistered user, a pending member, an officer and an admin. What the role may not do gets
the refusal text and an audit line; what it may do never gets a refusal.

The matrix is built from the routing table itself, so a new command is covered the day it is
routed.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.access import Access
from bot.catalog import t
from bot.channels.text import html_to_plain
from handlers import build_router
from models.audit import AuditLog
from models.units import MemberStatus, Role
from tests.utils.factories import make_member, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import Person, TestBot

ROLES = ["unregistered", "pending", "officer", "admin"]
ALLOWED = {
    "unregistered": {Access.PUBLIC},
    "pending": {Access.PUBLIC},
    "officer": {Access.PUBLIC, Access.MEMBER, Access.OFFICER},
    "admin": {Access.PUBLIC, Access.MEMBER, Access.OFFICER, Access.ADMIN, Access.COUNCIL},
}
REFUSALS = {
    html_to_plain(t(k))
    for k in (
        "access.not_registered",
        "access.pending",
        "access.admin_only",
        "access.no_unit",
        "access.council_only",
    )
}

_router = build_router()
COMMANDS = sorted((name, route.access) for name, route in _router.commands.items())
BUTTONS = sorted((prefix, route.access) for prefix, route in _router.buttons.items())


@pytest.fixture
def people(bot: TestBot, session) -> dict[str, Person]:
    bot.core.flood.limit = 10_000  # the matrix sends hundreds of updates in a second
    unit = make_unit(session, "Xã Bình Lư", code="XA-BINHLU")
    make_member(session, "300", status=MemberStatus.PENDING)
    make_member(session, "400", unit=unit)
    make_member(session, ADMIN_USER_ID, role=Role.ADMIN, unit=unit)
    session.commit()
    return {
        "unregistered": bot.person("200"),
        "pending": bot.person("300"),
        "officer": bot.person("400"),
        "admin": bot.person(ADMIN_USER_ID),
    }


def _refused(person: Person, since: int) -> bool:
    return any(html_to_plain(m.text) in REFUSALS for m in person.messages[since:])


def _denials(bot: TestBot, person: Person) -> int:
    with bot.db() as db:
        rows = db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        return sum(1 for r in rows if r.actor.endswith(f":{person.user_id}"))


@pytest.mark.parametrize("role", ROLES)
async def test_every_command_obeys_its_access_level(
    bot: TestBot, people: dict[str, Person], role: str
) -> None:
    person = people[role]
    for name, access in COMMANDS:
        before, mark = _denials(bot, person), len(person.messages)
        await person.says(f"/{name}")
        await person.says("/huy")  # leave whatever flow the command began
        allowed = access in ALLOWED[role]
        assert _refused(person, mark) is not allowed, f"/{name} as {role}: {person.new_text!r}"
        assert (_denials(bot, person) > before) is not allowed, f"/{name} as {role}: audit"


@pytest.mark.parametrize("role", ROLES)
async def test_every_button_obeys_its_access_level(
    bot: TestBot, people: dict[str, Person], role: str
) -> None:
    person = people[role]
    for prefix, access in BUTTONS:
        before, mark = _denials(bot, person), len(person.messages)
        await person.presses_payload(f"{prefix}:999999")
        allowed = access in ALLOWED[role]
        assert _refused(person, mark) is not allowed, (
            f"button {prefix} as {role}: {person.new_text!r}"
        )
        assert (_denials(bot, person) > before) is not allowed, f"button {prefix} as {role}: audit"
        await person.says("/huy")


# --- forged payloads: unit A's officer reaching for unit B's data ----------------------------
@pytest.fixture
def two_units(bot: TestBot, session):
    """Unit A with its officer; unit B with its officer, a submitted report and a draft for a
    campaign only B takes part in; an admin."""
    from models.campaigns import CampaignParticipant
    from tests.utils.factories import make_campaign, make_deadline, make_report

    bot.core.flood.limit = 10_000
    unit_a = make_unit(session, "Xã Bình Lư", code="XA-A")
    unit_b = make_unit(session, "Xã Bản Bo", code="XA-B")
    officer_a = make_member(session, "410", unit=unit_a, name="Lò Văn A")
    officer_b = make_member(session, "420", unit=unit_b, name="Tao Thị Bê", phone="0912345678")
    make_member(session, ADMIN_USER_ID, role=Role.ADMIN)
    shared = make_deadline(session, make_campaign(session), form_code="bao-cao-thanh-tich")
    only_b = make_campaign(session, number="9/KH-UBND", name="Riêng B", participants="selected")
    session.add(CampaignParticipant(campaign_id=only_b.id, unit_id=unit_b.id))
    b_deadline = make_deadline(session, only_b, form_code="bao-cao-thanh-tich")
    submitted = make_report(
        session, unit_b, shared, answers={"ket_qua": "Bí mật của xã Bản Bo đạt 120%"}, by=officer_b
    )
    draft = make_report(
        session, unit_b, b_deadline, status="draft", answers={"ket_qua": "Nháp riêng của B"}
    )
    session.commit()
    return {
        "unit_b": unit_b.id,
        "officer_a": officer_a.id,
        "officer_b": officer_b.id,
        "shared_deadline": shared.id,
        "b_deadline": b_deadline.id,
        "b_report": submitted.id,
        "b_draft": draft.id,
        "b_campaign": only_b.id,
    }


def _b_snapshot(bot: TestBot, unit_b: int) -> list[list[tuple]]:
    """Unit B's reports, members and unit row."""
    from models.reports import Report
    from models.units import Member, Unit

    with bot.db() as db:
        reports = [
            (r.id, r.status, r.version, r.revision, r.answers, r.return_reason)
            for r in db.exec(select(Report).where(Report.unit_id == unit_b)).all()
        ]
        members = [
            (m.id, m.unit_id, m.role, m.status, m.phone)
            for m in db.exec(select(Member).order_by(Member.id)).all()
            if m.user_id == "420"
        ]
        unit = db.get(Unit, unit_b)
        assert unit is not None
    return [sorted(reports), members, [(unit.name, unit.active, unit.code)]]


def _forged_payloads(ids: dict[str, int]) -> list[str]:
    """Every routed button prefix, with each of unit B's ids in each position it could take."""
    values = sorted(set(ids.values()))
    payloads = []
    for prefix, _ in BUTTONS:
        for value in values:
            payloads += [f"{prefix}:{value}", f"{prefix}:{value}:1", f"{prefix}:{value}:{value}"]
    # The report flow's own shapes: actions on "the question shown" (serials 0..3).
    payloads += [f"rpa:{n}:{action}" for n in range(4) for action in ("sub", "e0", "c0", "y")]
    return payloads


async def test_forged_payloads_never_touch_another_units_data(bot: TestBot, two_units) -> None:
    officer = bot.person("410", "Lò Văn A")
    before = _b_snapshot(bot, two_units["unit_b"])
    for payload in _forged_payloads(two_units):
        mark = len(officer.messages)
        await officer.presses_payload(payload)
        seen = "\n".join(html_to_plain(m.text) for m in officer.messages[mark:])
        assert "Bản Bo" not in seen and "Nháp riêng" not in seen, (payload, seen)
        assert "0912345678" not in seen and "Tao Thị Bê" not in seen, (payload, seen)
        await officer.says("/huy")
    assert _b_snapshot(bot, two_units["unit_b"]) == before


async def test_a_forged_report_button_is_refused_and_audited(bot: TestBot, two_units) -> None:
    officer = bot.person("410", "Lò Văn A")
    with bot.db() as db:
        denied_before = len(db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all())
    await officer.presses_payload(f"rp:{two_units['b_deadline']}")
    assert "không còn mở cho đơn vị của bạn" in officer.last_reply
    await officer.says(f"/baocao {two_units['b_deadline']}")
    assert "không còn mở cho đơn vị của bạn" in officer.last_reply
    with bot.db() as db:
        denied = db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
    assert len(denied) == denied_before + 2
    assert all(d.actor == "memory:410" for d in denied[denied_before:])


async def test_an_officer_moved_to_another_unit_mid_report_cannot_go_on(
    bot: TestBot, two_units
) -> None:
    """Rights are re-checked on every answer and press, not only when the report opened."""
    from models.reports import Report
    from models.units import Member

    officer_b = bot.person("420", "Tao Thị Bê")
    await officer_b.says(f"/baocao {two_units['b_deadline']}")
    assert "Câu 2/12" in officer_b.new_text  # the draft already answers question 1
    with bot.db() as db:
        member = db.get(Member, two_units["officer_b"])
        member.unit_id = db.exec(select(Member).where(Member.user_id == "410")).one().unit_id
        db.commit()
    before = _b_snapshot(bot, two_units["unit_b"])
    await officer_b.says("Kết quả ghi vào báo cáo của đơn vị cũ — không được phép")
    assert "không có quyền" in officer_b.last_reply
    await officer_b.presses_payload("rpa:1:skip")
    with bot.db() as db:
        draft = db.get(Report, two_units["b_draft"])
    assert draft.answers == {"ket_qua": "Nháp riêng của B"}
    assert _b_snapshot(bot, two_units["unit_b"]) == before
    with bot.db() as db:
        denied = db.exec(
            select(AuditLog).where(AuditLog.outcome == "denied", AuditLog.actor == "memory:420")
        ).all()
    assert denied
