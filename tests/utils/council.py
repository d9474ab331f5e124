"""Set-ups for council scenarios: an admin, five council members, two units with officers, an
active campaign whose nomination reports were accepted, committed so the bot sees them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from models.campaigns import DeadlineKind
from models.council import CouncilMember, CouncilRole
from models.reports import Nomination, ReportStatus
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
from tests.utils.scenario import Person, TestBot

COUNCIL_IDS = ("301", "302", "303", "304", "305")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class CouncilWorld:
    bot: TestBot
    admin: Person
    members: list[Person]
    officer_a: Person
    officer_b: Person
    stranger: Person
    campaign_id: int
    unit_a: int
    unit_b: int


def seat(session: Session, member_id: int, role: str = CouncilRole.MEMBER) -> None:
    session.add(CouncilMember(member_id=member_id, role=role, added_at=T0, active=True))


def council_world(
    bot: TestBot, *, seats: bool = True, storage_file: bytes | None = PDF
) -> CouncilWorld:
    bot.core.flood.limit = 10_000  # five members vote on three nominees within a second
    with bot.db() as db:
        make_member(db, ADMIN_USER_ID, name="Quản trị Nội vụ", role=Role.ADMIN)
        unit_a = make_unit(db, "Xã Bản Bo", code="XA-BB")
        unit_b = make_unit(db, "Xã Bình Lư", code="XA-BL")
        make_member(db, "201", unit=unit_a, name="Lò Văn Tâm")
        make_member(db, "202", unit=unit_b, name="Tẩn Thị Mai")
        names = ["Chủ tịch Hoàng", "Phó Chủ tịch Lan", "Ủy viên Hùng", "Ủy viên Nga", "Ủy viên Sơn"]
        roles = [CouncilRole.CHAIR, CouncilRole.VICE_CHAIR, *[CouncilRole.MEMBER] * 3]
        for user_id, name, role in zip(COUNCIL_IDS, names, roles, strict=True):
            member = make_member(db, user_id, name=name)
            if seats:
                seat(db, member.id, role)
        campaign = make_campaign(db)
        deadline = make_deadline(
            db,
            campaign,
            kind=DeadlineKind.NOMINATION,
            title="Hồ sơ đề nghị khen thưởng",
            form_code="de-nghi-khen-thuong",
        )
        report_a = make_report(db, unit_a, deadline, status=ReportStatus.ACCEPTED)
        report_a.reference = "BC-7-1"
        report_b = make_report(db, unit_b, deadline, status=ReportStatus.ACCEPTED)
        db.add_all(
            [
                Nomination(
                    report_id=report_a.id,
                    position=0,
                    full_name="Nguyễn Văn An",
                    job_title="Công chức văn hoá",
                    unit_name="Xã Bản Bo",
                    award="Chiến sĩ thi đua cơ sở",
                    summary="Sáng kiến số hoá hồ sơ",
                ),
                Nomination(
                    report_id=report_a.id,
                    position=1,
                    full_name="Trần Thị Bình",
                    award="Chiến sĩ thi đua cơ sở",
                    summary="Hoàn thành xuất sắc",
                ),
                Nomination(
                    report_id=report_a.id,
                    position=2,
                    full_name="Lê Văn Cường",
                    award="Lao động tiên tiến",
                    summary="Không đưa ra Hội đồng",
                ),
                Nomination(
                    report_id=report_b.id,
                    position=0,
                    nominee_type="collective",
                    full_name="Tập thể xã Bình Lư",
                    award="Tập thể lao động xuất sắc",
                    summary="Dẫn đầu khối",
                ),
            ]
        )
        if storage_file is not None:
            make_stored_attachment(
                db,
                report_a,
                storage_file,
                storage_dir=bot.core.settings.storage_dir,
                accept=("pdf",),
                field_id="minh_chung",
                file_id="f1",
                file_name="bao-cao-thanh-tich-An.pdf",
            )
        db.commit()
        ids = (campaign.id, unit_a.id, unit_b.id)
    return CouncilWorld(
        bot=bot,
        admin=bot.person(ADMIN_USER_ID, "Quản trị Nội vụ"),
        members=[bot.person(uid) for uid in COUNCIL_IDS],
        officer_a=bot.person("201", "Lò Văn Tâm"),
        officer_b=bot.person("202", "Tẩn Thị Mai"),
        stranger=bot.person("999", "Người lạ"),
        campaign_id=ids[0],
        unit_a=ids[1],
        unit_b=ids[2],
    )


async def open_round(world: CouncilWorld, hours: int = 48) -> None:
    admin = world.admin
    await admin.says("/binhxet")
    await admin.presses("Mở đợt bình xét")
    await admin.presses("353/KH-UBND")
    await admin.presses(f"{hours} giờ nữa")
    await admin.presses("Xác nhận")
    assert "Đã mở đợt bình xét: 3 trường hợp, 5 thành viên" in admin.new_text


async def vote(person: Person, nominee: str, choice: str) -> None:
    """Open the nominee's card from /binhxet and press the choice."""
    await person.says("/binhxet")
    await person.presses(nominee)
    await person.presses(choice)
