"""Set-ups for report scenarios: a unit with officers, an admin, an active campaign and one
deadline asking for a given form, committed so the bot sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from models.campaigns import DeadlineKind
from models.reports import Report
from models.units import Role
from tests.utils.factories import T0, make_campaign, make_deadline, make_member, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import Person, TestBot

KINDS = {
    "dang-ky-thi-dua": (DeadlineKind.REGISTRATION, "Đăng ký thi đua năm 2026"),
    "bao-cao-thanh-tich": (DeadlineKind.FINAL, "Báo cáo thành tích đợt 1"),
    "de-nghi-khen-thuong": (DeadlineKind.NOMINATION, "Hồ sơ đề nghị khen thưởng"),
}


@dataclass
class ReportWorld:
    bot: TestBot
    unit_id: int
    unit_code: str
    deadline_id: int
    officer: Person
    admin: Person

    def report(self) -> Report:
        with self.bot.db() as db:
            return db.exec(
                select(Report).where(
                    Report.unit_id == self.unit_id, Report.deadline_id == self.deadline_id
                )
            ).one()


def report_world(
    bot: TestBot,
    form_code: str = "dang-ky-thi-dua",
    *,
    due_at: datetime | None = None,
    officers: tuple[str, ...] = ("200",),
) -> ReportWorld:
    kind, title = KINDS[form_code]
    # Long scenarios type faster than a person; the flood guard is tested in test_core.py.
    bot.core.flood.limit = 10_000
    with bot.db() as db:
        unit = make_unit(db, "Xã Bình Lư", code="XA-001")
        for user_id in officers:
            make_member(db, user_id, unit=unit, name=f"Cán bộ {user_id}")
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Phòng Nội vụ")
        campaign = make_campaign(db)
        deadline = make_deadline(
            db,
            campaign,
            kind=kind,
            title=title,
            form_code=form_code,
            due_at=due_at or T0 + timedelta(days=14),
        )
        db.commit()
        unit_id, deadline_id = unit.id, deadline.id
    assert unit_id is not None and deadline_id is not None
    return ReportWorld(
        bot=bot,
        unit_id=unit_id,
        unit_code="XA-001",
        deadline_id=deadline_id,
        officer=bot.person(officers[0], f"Cán bộ {officers[0]}"),
        admin=bot.person(ADMIN_USER_ID, "Phòng Nội vụ"),
    )


async def fill_registration(officer: Person) -> None:
    """Answer every question of the registration form, ending on the review."""
    await officer.says("/baocao")
    await officer.presses("Tập thể lao động tiên tiến")
    await officer.says("25")
    await officer.says("3")
    await officer.presses("chung tay vì người nghèo")
    await officer.presses("Xong")
    await officer.says("Giảm 2% hộ nghèo; 100% thôn có nhà văn hóa")
    await officer.presses("Có")
    await officer.says("15/3/2026")


async def fill_achievements_until_scan(officer: Person) -> None:
    """Answer every question of the achievement report up to the signed scan it then asks for."""
    await officer.says("/baocao")
    await officer.says("Thu ngân sách đạt 105% kế hoạch; giảm 2,3% hộ nghèo")
    await officer.says("12")
    await officer.says("11")
    await officer.presses("Hoàn thành tốt nhiệm vụ")
    await officer.says("1.250,5")
    await officer.presses("Thêm mục")
    await officer.says("Mô hình chè VietGAP thôn Nà Khum")
    await officer.says("15 hộ tham gia, năng suất tăng 20%")
    await officer.presses("Xong")
    await officer.says("Giải ngân vốn còn chậm")
    await officer.says("Xã miền núi, 12 thôn, 8.450 nhân khẩu; còn 9,8% hộ nghèo")  # part I
    await officer.says("/boqua")  # duties: nothing beyond the general rules
    await officer.says("/boqua")  # part III: no award typed, the history fills the document
    await officer.says("20/6/2026")
