"""A commune's report to the province starts from its villages' accepted figures (issue 23, "results
roll up"): the province (Sở Nội vụ, the default organiser) runs a campaign for commune An Bình;
An Bình takes it on for its two villages (/yeucauxa, /dotcaptren, /nhandot); one village's
report is accepted, the other's is still waiting. When Lò Văn Hải — An Bình's officer in the
province's campaign and its admin — opens the commune's report, the bot offers the sums
("1/2 thôn đã duyệt", one village missing); nothing goes in unless he says so, an answer he
already gave stays, every pre-filled answer is shown back to keep or change, and what he
submits says which figures came from the villages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from bot.catalog import t
from bot.channels.text import html_to_plain
from domain import organisers as offices
from domain.rollup import PrefillOffer, prefill_values
from models.audit import AuditLog
from models.campaigns import Campaign, Deadline
from models.organisers import DEFAULT_ORGANISER_ID, Organiser
from models.reports import Report, ReportStatus
from models.units import Role, Unit
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_member,
    make_organiser,
    make_report,
    make_unit,
)
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.reminders import scheduler_for
from tests.utils.scenario import TestBot

HAI = "201"
VILLAGE = "301"  # the officer of Thôn Nà Hiềng
# Every answer of the achievement report, optional ones skipped: the report opens on its review.
COMPLETE = {
    "ket_qua": "Thu ngân sách đạt 105% kế hoạch; giảm 2,3% hộ nghèo",
    "tong_chi_tieu": 12,
    "chi_tieu_dat": 11,
    "xep_loai": "Hoàn thành tốt nhiệm vụ",
    "kinh_phi": None,
    "mo_hinh": [],
    "han_che": "Giải ngân vốn còn chậm",
    "dac_diem": "Thôn vùng cao, 120 hộ",
    "chuc_nang": None,
    "khen_thuong": [],
    "ngay_bao_cao": "2026-06-20",
    "ban_ky": None,
}


@dataclass
class Cascade:
    province_deadline: int
    commune_unit: int


@pytest.fixture
def cascade(bot: TestBot, session: Session) -> Cascade:
    bot.core.flood.limit = 10_000
    top = session.get(Organiser, DEFAULT_ORGANISER_ID)
    assert top is not None
    top.name, top.level = "Sở Nội vụ tỉnh Lai Châu", "tinh"
    xa = make_unit(session, "Xã An Bình", code="XA-ANBINH")
    an_binh = make_organiser(session, "UBND xã An Bình", code="CQ-ANBINH", parent=top, unit=xa)
    na_hieng = make_unit(session, "Thôn Nà Hiềng", code="T01", kind="thon", organiser=an_binh)
    make_unit(session, "Thôn Pác Ngòi", code="T02", kind="thon", organiser=an_binh)
    make_member(session, ADMIN_USER_ID, role=Role.ADMIN)
    hai = make_member(session, HAI, unit=xa, name="Lò Văn Hải")
    offices.grant_admin(hai, an_binh, by=None, now=T0, session=session)
    make_member(session, VILLAGE, unit=na_hieng, name="Hoàng Văn Thôn")
    tinh = make_campaign(session, number="12/KH-SNV", name="Đợt thi đua của tỉnh 2026")
    deadline = make_deadline(
        session, tinh, title="Báo cáo của xã gửi tỉnh", due_at=T0 + timedelta(days=20)
    )
    session.commit()
    return Cascade(deadline.id, xa.id)  # type: ignore[arg-type]  # stored rows


async def _commune_takes_on_the_campaign(bot: TestBot) -> Deadline:
    admin, hai = bot.person(ADMIN_USER_ID), bot.person(HAI, "Lò Văn Hải")
    await admin.says("/yeucauxa 12/KH-SNV")
    await hai.says("/dotcaptren")
    await hai.presses("Đợt thi đua của tỉnh 2026")
    await hai.presses("Nhận đợt")
    with bot.db() as db:
        mine = db.exec(select(Campaign).where(col(Campaign.parent_campaign_id).is_not(None))).one()
        (deadline,) = db.exec(select(Deadline).where(Deadline.campaign_id == mine.id)).all()
        return deadline


def _villages_report(bot: TestBot, deadline: Deadline, *, accepted: int) -> None:
    """Nà Hiềng's report (and Pác Ngòi's when `accepted` is 2) accepted; the rest waiting."""
    with bot.db() as db:
        na_hieng, pac_ngoi = (
            db.exec(select(Unit).where(Unit.name == n)).one()
            for n in ("Thôn Nà Hiềng", "Thôn Pác Ngòi")
        )
        if accepted:
            make_report(
                db,
                na_hieng,
                deadline,
                status=ReportStatus.ACCEPTED,
                answers={"tong_chi_tieu": 12, "chi_tieu_dat": 11, "kinh_phi": "1250.5"},
            )
        make_report(
            db,
            pac_ngoi,
            deadline,
            status=ReportStatus.ACCEPTED if accepted == 2 else ReportStatus.SUBMITTED,
            answers={"tong_chi_tieu": 10, "chi_tieu_dat": 9},
        )
        db.commit()


def _commune_report(bot: TestBot, cascade: Cascade) -> Report | None:
    with bot.db() as db:
        return db.exec(
            select(Report).where(
                Report.unit_id == cascade.commune_unit,
                Report.deadline_id == cascade.province_deadline,
            )
        ).first()


def _draft(bot: TestBot, cascade: Cascade, answers: dict[str, object]) -> None:
    with bot.db() as db:
        unit = db.get(Unit, cascade.commune_unit)
        deadline = db.get(Deadline, cascade.province_deadline)
        assert unit is not None and deadline is not None
        make_report(db, unit, deadline, status=ReportStatus.DRAFT, answers=answers)
        db.commit()


async def test_the_commune_report_starts_from_the_accepted_village_sums_only_when_asked(
    bot: TestBot, cascade: Cascade
) -> None:
    deadline = await _commune_takes_on_the_campaign(bot)
    _villages_report(bot, deadline, accepted=1)
    # Hải had already given the number of targets himself.
    _draft(bot, cascade, {"tong_chi_tieu": 30})
    hai, admin = bot.person(HAI, "Lò Văn Hải"), bot.person(ADMIN_USER_ID)
    await hai.says("/baocao")
    assert "• Tổng số chỉ tiêu được giao: 30" in hai.new_text  # what he had answered
    offer = hai.last_reply
    assert "1/2 thôn đã duyệt" in offer
    assert "Còn 1/2 thôn chưa được duyệt" in offer
    assert (
        "Số chỉ tiêu đạt và vượt: 11" in offer
        and "Kinh phí huy động (triệu đồng): 1.250,5" in offer
    )
    assert "Tổng số chỉ tiêu được giao" not in offer  # answered: not offered, not overwritten
    assert "Điền sẵn số liệu" in hai.buttons and "Tự nhập" in hai.buttons
    report = _commune_report(bot, cascade)
    assert report is not None and report.answers == {"tong_chi_tieu": 30}  # nothing yet
    await hai.presses("Điền sẵn số liệu")
    assert "Đã điền sẵn 2 số liệu từ 1/2 thôn đã duyệt" in hai.new_text
    report = _commune_report(bot, cascade)
    assert report is not None
    assert report.answers == {"tong_chi_tieu": 30, "chi_tieu_dat": 11, "kinh_phi": "1250.5"}
    # The walk asks what is open and shows each pre-filled answer back in its turn.
    assert "Kết quả so với chỉ tiêu" in hai.last_reply
    await hai.says("Thu ngân sách đạt 105% kế hoạch; giảm 2,3% hộ nghèo")
    shown = hai.last_reply
    assert "Số chỉ tiêu đạt và vượt" in shown and "Đang có: 11" in shown
    assert "Số liệu điền sẵn: tổng của 1/2 thôn đã duyệt" in shown
    await hai.says("15")  # he changes it
    await hai.presses("Hoàn thành tốt nhiệm vụ")
    shown = hai.last_reply
    assert "Kinh phí huy động" in shown and "Số liệu điền sẵn" in shown
    await hai.presses("Giữ nguyên")  # he keeps that one
    await hai.says("/boqua")  # no models
    await hai.says("Giải ngân vốn còn chậm")
    await hai.says("Xã miền núi, 12 thôn, 8.450 nhân khẩu; còn 9,8% hộ nghèo")
    await hai.says("/boqua")
    await hai.says("/boqua")
    await hai.says("20/6/2026")
    await hai.says("/boqua")  # no signed copy yet
    review = hai.last_reply
    assert "2. Tổng số chỉ tiêu được giao: 30" in review
    assert "3. Số chỉ tiêu đạt và vượt: 15" in review and "15 (điền sẵn" not in review
    assert "5. Kinh phí huy động (triệu đồng): 1.250,5 (điền sẵn: tổng 1/2 thôn)" in review
    await hai.presses("Nộp báo cáo")
    # The receipt names the office the report went to: the province's, for its campaign.
    assert "Báo cáo đã gửi tới Sở Nội vụ tỉnh Lai Châu." in hai.new_text
    report = _commune_report(bot, cascade)
    assert report is not None and report.status == ReportStatus.SUBMITTED
    assert report.answers["tong_chi_tieu"] == 30 and report.answers["chi_tieu_dat"] == 15
    assert report.answers["kinh_phi"] == "1250.5"
    # The province's admin sees which figure came from the villages.
    notice = html_to_plain(admin.messages[-1].text)
    assert "Xã An Bình" in notice
    assert "1.250,5 (điền sẵn: tổng 1/2 thôn)" in notice and "15 (điền sẵn" not in notice
    with bot.db() as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "report.prefilled")).one()
        assert entry.detail["values"] == {"chi_tieu_dat": 11, "kinh_phi": "1250.5"}
        assert entry.organiser_id == DEFAULT_ORGANISER_ID


async def test_the_officer_may_decline_and_types_every_figure(
    bot: TestBot, cascade: Cascade
) -> None:
    deadline = await _commune_takes_on_the_campaign(bot)
    _villages_report(bot, deadline, accepted=2)
    hai = bot.person(HAI, "Lò Văn Hải")
    await hai.says("/baocao")
    assert "2/2 thôn đã duyệt" in hai.new_text and "chưa được duyệt" not in hai.new_text
    assert "Tổng số chỉ tiêu được giao: 22" in hai.last_reply
    await hai.presses("Tự nhập")
    assert "Không điền sẵn" in hai.new_text and "Kết quả so với chỉ tiêu" in hai.last_reply
    await hai.says("Thu ngân sách đạt 105% kế hoạch; giảm 2,3% hộ nghèo")
    assert "Đang có" not in hai.last_reply  # the next question is open, not pre-filled
    report = _commune_report(bot, cascade)
    assert report is not None and set(report.answers) == {"ket_qua"}


async def test_no_accepted_village_report_says_what_is_missing_and_offers_nothing(
    bot: TestBot, cascade: Cascade
) -> None:
    deadline = await _commune_takes_on_the_campaign(bot)
    _villages_report(bot, deadline, accepted=0)
    hai = bot.person(HAI, "Lò Văn Hải")
    await hai.says("/baocao")
    text = hai.new_text
    assert "0/2 thôn đã duyệt" in text and "Còn 2/2 thôn chưa được duyệt" in text
    assert "Điền sẵn số liệu" not in hai.buttons
    assert "Kết quả so với chỉ tiêu" in hai.last_reply


async def test_a_report_without_a_linked_campaign_is_filled_as_before(
    bot: TestBot, cascade: Cascade
) -> None:
    hai = bot.person(HAI, "Lò Văn Hải")
    await hai.says("/baocao")
    assert "thôn đã duyệt" not in hai.new_text
    assert "Kết quả so với chỉ tiêu" in hai.last_reply


def test_prefill_values_never_overwrite_and_keep_the_forms_types(bot: TestBot) -> None:
    form = bot.core.services.forms["bao-cao-thanh-tich"]
    offer = PrefillOffer(
        Deadline(campaign_id=1, title="x", due_at=T0),
        accepted=2,
        total=3,
        sums={"tong_chi_tieu": 22, "chi_tieu_dat": 20, "kinh_phi": Decimal("3.5")},
    )
    assert prefill_values(offer, form=form, answers={"tong_chi_tieu": 5}) == {
        "chi_tieu_dat": 20,
        "kinh_phi": "3.5",
    }
    assert prefill_values(offer, form=form, answers={"chi_tieu_dat": None}) == {
        "tong_chi_tieu": 22,
        "chi_tieu_dat": 20,
        "kinh_phi": "3.5",
    }


# --- texts that name the office running the campaign ----------------------------------------------
async def test_a_communes_campaign_speaks_in_the_communes_name(
    bot: TestBot, cascade: Cascade
) -> None:
    """The village's reminder, receipt and return notice of An Bình's campaign name UBND xã An
    Bình — not the province, not the settings' ORGANISER_NAME."""
    deadline = await _commune_takes_on_the_campaign(bot)
    hai, village = bot.person(HAI, "Lò Văn Hải"), bot.person(VILLAGE, "Hoàng Văn Thôn")
    await hai.presses_payload(f"nhac:{deadline.id}")
    assert (await scheduler_for(bot.core).tick()).reminders.sent == 1
    reminder = village.last_reply
    assert deadline.title in reminder and "— UBND xã An Bình" in reminder
    assert "Sở Nội vụ" not in reminder and bot.core.settings.organiser_name not in reminder
    with bot.db() as db:
        unit = db.exec(select(Unit).where(Unit.name == "Thôn Nà Hiềng")).one()
        make_report(
            db, unit, db.get(Deadline, deadline.id), status=ReportStatus.DRAFT, answers=COMPLETE
        )
        db.commit()
    await village.says(f"/baocao {deadline.id}")
    await village.presses("Nộp báo cáo")
    assert "Báo cáo đã gửi tới UBND xã An Bình." in village.new_text
    assert "Sở Nội vụ" not in village.new_text
    with bot.db() as db:
        report = db.exec(select(Report).where(Report.deadline_id == deadline.id)).one()
    await hai.presses_payload(f"rpret:{report.id}:1")
    await hai.says("Thiếu số liệu ở câu 3")
    notice = village.last_reply
    assert "Thiếu số liệu ở câu 3" in notice and "Cơ quan trả lại: UBND xã An Bình." in notice


def test_the_default_organiser_left_unnamed_speaks_with_the_settings_name(
    bot: TestBot, session: Session
) -> None:
    top = session.get(Organiser, DEFAULT_ORGANISER_ID)
    assert top is not None
    assert offices.office_words(session, organiser_id=DEFAULT_ORGANISER_ID) == {}
    assert t("office_names.receipt_to") == f"Báo cáo đã gửi tới {bot.core.settings.organiser_name}."
    top.name = "Sở Nội vụ tỉnh Lai Châu"
    session.flush()
    words = offices.office_words(session, organiser_id=DEFAULT_ORGANISER_ID)
    assert words == {"organiser": "Sở Nội vụ tỉnh Lai Châu"}
