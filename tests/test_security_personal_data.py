"""Personal data: officers' names and phone numbers are shown only to admins and to the officer
concerned, and exports (which list them) only to admins.

An officer of unit A tries every command the router knows — bare, and with unit B's code, an
officer's name or a phone number as argument — and presses every button the answers offer;
nothing they receive may name unit B's officer, a pending registrant, or their phone numbers.
The admin doing the same sees them (so the check would catch a leak).
"""

from __future__ import annotations

from bot.channels.text import html_to_plain
from handlers import build_router
from models.reports import ReportStatus
from models.units import MemberStatus, Role
from tests.utils.factories import make_campaign, make_deadline, make_member, make_report, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import Person, TestBot

B_NAME, B_PHONE = "Tao Thị Bê", "0912345678"
PENDING_NAME, PENDING_PHONE = "Sần Văn Chờ", "0987000111"
SECRETS = (B_NAME, B_PHONE, PENDING_NAME, PENDING_PHONE, "0912 345 678")
COMMANDS = sorted(build_router().commands)
ARGUMENTS = ("", " XA-B", " Tao", " 0912345678", " 1")


def _world(bot: TestBot, session) -> None:
    bot.core.flood.limit = 100_000
    unit_a = make_unit(session, "Xã Bình Lư", code="XA-A")
    unit_b = make_unit(session, "Xã Bản Bo", code="XA-B")
    make_member(session, "410", unit=unit_a, name="Lò Văn A", phone="0900000410")
    officer_b = make_member(session, "420", unit=unit_b, name=B_NAME, phone=B_PHONE)
    make_member(
        session,
        "430",
        unit=unit_b,
        name=PENDING_NAME,
        phone=PENDING_PHONE,
        status=MemberStatus.PENDING,
    )
    make_member(session, ADMIN_USER_ID, role=Role.ADMIN, name="Phòng Nội vụ")
    deadline = make_deadline(session, make_campaign(session), form_code="bao-cao-thanh-tich")
    make_report(
        session,
        unit_b,
        deadline,
        status=ReportStatus.SUBMITTED,
        by=officer_b,
        answers={"ket_qua": "Kết quả của xã Bản Bo"},
    )
    session.commit()


async def _try_everything(person: Person) -> str:
    """Every command with every argument, then every button the answers offered; returns all
    the text the person received."""
    for name in COMMANDS:
        for argument in ARGUMENTS:
            mark = len(person.messages)
            await person.says(f"/{name}{argument}")
            offered = [b for m in person.messages[mark:] for row in m.buttons for b in row]
            for button in offered:
                await person.presses_payload(button.payload)
                await person.says("/huy")
            await person.says("/huy")
    texts = [html_to_plain(m.text) for m in person.messages]
    files = [m.document for m in person.messages if m.document] + [
        m.photo for m in person.messages if m.photo
    ]
    texts += [f.caption for f in files if f]
    return "\n".join(texts)


async def test_an_officer_never_sees_another_units_officers_or_their_phones(
    bot: TestBot, session
) -> None:
    _world(bot, session)
    officer = bot.person("410", "Lò Văn A")
    seen = await _try_everything(officer)
    for secret in SECRETS:
        assert secret not in seen, f"{secret!r} shown to an officer of another unit"
    # Exports (which list every officer and phone) never reach an officer.
    assert not any(m.document for m in officer.messages)
    # Their own data they may see.
    await officer.says("/toi")
    assert "0900000410" in officer.last_reply


async def test_admins_do_see_officers_and_phones(bot: TestBot, session) -> None:
    """The control: the same walk as an admin shows the data, so the check above can fail."""
    _world(bot, session)
    admin = bot.person(ADMIN_USER_ID, "Phòng Nội vụ")
    seen = await _try_everything(admin)
    assert B_NAME in seen and B_PHONE in seen
    assert PENDING_NAME in seen
    await bot.core.wait_background()  # exports are built after their update
    exports = [m.document for m in admin.messages if m.document]
    assert exports and any(B_PHONE.encode() in _xlsx_text(e.content) for e in exports if e)


def _xlsx_text(content: bytes) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        return b"".join(workbook.read(name) for name in workbook.namelist())
