"""A scripted campaign for the web desk's tests, and helpers to log in through /web.

`desk_world` builds, through the chat where it matters: three units in two blocs, an officer
each, an admin; an active campaign with one deadline; XA-001 submits the registration form by
chat (version 1, on time) with a photo attached to its report; XA-002 has a late submission;
XA-003 has not started. The expected dashboard counts are therefore 2 submitted of 3, 1 on
time, 1 late, 1 missing.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import select

from models.reports import Report
from models.units import Role
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_member,
    make_report,
    make_stored_attachment,
    make_unit,
)
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.reports import fill_registration
from tests.utils.scenario import Person, TestBot

LINK = re.compile(r"(https?://\S+/login/[A-Za-z0-9_-]+)")


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid PNG of a red rectangle (what an officer's phone photo stands for)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\xcc\x22\x22" * width
    raw = zlib.compress(row * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@dataclass
class DeskWorld:
    bot: TestBot
    admin: Person
    officer: Person  # of XA-001, in the chat
    other_officer: Person  # of XA-002
    campaign_id: int
    deadline_id: int
    report_id: int  # XA-001's
    other_report_id: int  # XA-002's
    attachment_id: int  # the photo on XA-001's report
    unit_ids: dict[str, int]


async def desk_world(bot: TestBot) -> DeskWorld:
    bot.core.flood.limit = 10_000
    with bot.db() as db:
        first = make_unit(db, "Xã Bình Lư", code="XA-001", bloc="Khối xã")
        second = make_unit(db, "Xã Bản Bo", code="XA-002", bloc="Khối xã")
        third = make_unit(db, "Thị trấn Tam Đường", code="TT-001", bloc="Khối thị trấn")
        make_member(db, "200", unit=first, name="Cán bộ Bình Lư", phone="0912345678")
        other = make_member(db, "201", unit=second, name="Cán bộ Bản Bo")
        make_member(db, "202", unit=third, name="Cán bộ Tam Đường")
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Phòng Nội vụ")
        campaign = make_campaign(db)
        deadline = make_deadline(
            db,
            campaign,
            title="Đăng ký thi đua năm 2026",
            form_code="dang-ky-thi-dua",
            due_at=T0 + timedelta(days=14),
        )
        late = make_report(db, second, deadline, submitted_at=T0 + timedelta(days=15), by=other)
        db.commit()
        ids = {"XA-001": first.id, "XA-002": second.id, "TT-001": third.id}
        campaign_id, deadline_id, other_report_id = campaign.id, deadline.id, late.id
    officer = bot.person("200", "Cán bộ Bình Lư")
    await fill_registration(officer)
    await officer.presses("Nộp báo cáo")
    assert "đã nộp" in officer.all_text.lower() or "Mã" in officer.last_reply
    with bot.db() as db:
        report = db.exec(
            select(Report).where(Report.unit_id == ids["XA-001"], Report.deadline_id == deadline_id)
        ).one()
        photo = make_stored_attachment(
            db,
            report,
            tiny_png(),
            storage_dir=bot.core.settings.storage_dir,
            accept=("png", "jpg", "pdf"),
            file_id="photo-1",
            file_name="ảnh hội nghị.png",
        )
        db.commit()
        report_id, attachment_id = report.id, photo.id
    assert report_id and attachment_id and campaign_id and deadline_id and other_report_id
    return DeskWorld(
        bot=bot,
        admin=bot.person(ADMIN_USER_ID, "Phòng Nội vụ"),
        officer=officer,
        other_officer=bot.person("201", "Cán bộ Bản Bo"),
        campaign_id=campaign_id,
        deadline_id=deadline_id,
        report_id=report_id,
        other_report_id=other_report_id,
        attachment_id=attachment_id,
        unit_ids={k: v for k, v in ids.items() if v is not None},
    )


async def login_link(person: Person) -> str:
    """The one-time link /web gives `person` in the chat."""
    await person.says("/web")
    found = LINK.search(person.last_reply)
    assert found, person.last_reply
    return found.group(1)
