"""Every answer and the submission look again at what may have changed under the officer:

- the campaign closed (or put back to a draft) while the officer was mid-report: the answer
  or the submission is refused with a clear message, the draft stays;
- a rule across answers ("targets met ≤ targets set") broken by an edit after the fact
  (/quaylai, ✏️ from the review): submission re-validates the whole report, says which
  answer breaks which rule and takes the officer to that question.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from domain.forms import DEFAULT_FORMS_DIR, load_forms
from domain.reports import ReportError, submit
from models.campaigns import Campaign, CampaignStatus, Deadline
from models.reports import ReportStatus
from models.units import Member, Unit
from tests.utils.factories import make_report
from tests.utils.reports import ReportWorld, report_world
from tests.utils.scenario import TestBot

MET_QUESTION = "Đơn vị đạt và vượt bao nhiêu chỉ tiêu?"
ANSWERS = {
    "ket_qua": "Thu ngân sách đạt 105% kế hoạch; giảm 2,3% hộ nghèo",
    "tong_chi_tieu": 12,
    "chi_tieu_dat": 11,
    "xep_loai": "Hoàn thành tốt nhiệm vụ",
    "han_che": "Giải ngân vốn còn chậm",
    "dac_diem": "Xã miền núi, 12 thôn, 8.450 nhân khẩu; còn 9,8% hộ nghèo",
    "ngay_bao_cao": "2026-06-20",
}


async def fill_until_review(officer, *, targets: str = "30", met: str = "25") -> None:
    await officer.says("/baocao")
    await officer.says("Thu ngân sách đạt 105% kế hoạch; giảm 2,3% hộ nghèo")
    await officer.says(targets)
    await officer.says(met)
    await officer.presses("Hoàn thành tốt nhiệm vụ")
    await officer.says("/boqua")  # no funds figure
    await officer.presses("Bỏ qua")  # no model to name
    await officer.says("Giải ngân vốn còn chậm")
    await rest_of_the_report(officer)
    assert "Xem lại" in officer.last_reply


async def rest_of_the_report(officer) -> None:
    """From part I of the form to the review (nothing optional typed)."""
    await officer.says("Xã miền núi, 12 thôn, 8.450 nhân khẩu; còn 9,8% hộ nghèo")  # part I
    await officer.says("/boqua")  # duties
    await officer.says("/boqua")  # part III: awards
    await officer.says("20/6/2026")
    await officer.says("/boqua")  # the signed scan


def close_campaign(world: ReportWorld, status: str = CampaignStatus.CLOSED) -> None:
    with world.bot.db() as db:
        deadline = db.get(Deadline, world.deadline_id)
        assert deadline is not None
        campaign = db.get(Campaign, deadline.campaign_id)
        assert campaign is not None
        campaign.status = status
        db.add(campaign)
        db.commit()


# --- the campaign closed mid-report -----------------------------------------------------------
async def test_an_answer_after_the_campaign_closed_is_refused_and_the_draft_kept(
    bot: TestBot,
) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await officer.says("/baocao")
    await officer.says("Thu ngân sách đạt 105% kế hoạch; giảm 2,3% hộ nghèo")
    await officer.says("30")
    close_campaign(world)
    await officer.says("25")
    assert "đã kết thúc hoặc tạm dừng" in officer.last_reply
    assert "Bản nháp của đơn vị vẫn được giữ" in officer.last_reply
    answers = world.report().answers
    assert answers["tong_chi_tieu"] == 30 and "chi_tieu_dat" not in answers
    # Out of the flow: a number typed now is not an answer.
    await officer.says("25")
    assert "chi_tieu_dat" not in world.report().answers


@pytest.mark.parametrize("status", [CampaignStatus.CLOSED, CampaignStatus.DRAFT])
async def test_a_submission_after_the_campaign_closed_gets_no_receipt(
    bot: TestBot, status: str
) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await fill_until_review(officer)
    close_campaign(world, status)
    await officer.presses("Nộp báo cáo")
    assert "đã kết thúc hoặc tạm dừng" in officer.last_reply
    assert "mã" not in officer.last_reply.lower() or "Đã nộp" not in officer.last_reply
    report = world.report()
    assert report.status == ReportStatus.DRAFT and report.version == 0
    assert report.answers["chi_tieu_dat"] == 25  # the draft is kept


def test_the_domain_refuses_a_submission_to_a_closed_campaign(bot: TestBot) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    close_campaign(world)
    forms = load_forms(DEFAULT_FORMS_DIR)
    with bot.db() as db:
        deadline = db.get(Deadline, world.deadline_id)
        unit = db.get(Unit, world.unit_id)
        assert deadline is not None and unit is not None
        report = make_report(db, unit, deadline, status=ReportStatus.DRAFT, answers=ANSWERS)
        member = db.exec(select(Member).where(Member.user_id == "200")).one()
        with pytest.raises(ReportError) as refused:
            submit(
                db,
                report=report,
                deadline=deadline,  # type: ignore[arg-type]
                form=forms["bao-cao-thanh-tich"],
                member=member,
                now=bot.core.clock.now(),
            )
    assert refused.value.reason == "campaign_inactive"


# --- a rule across answers broken by an edit --------------------------------------------------
async def test_an_edit_from_the_review_that_breaks_met_le_set_is_caught_at_submission(
    bot: TestBot,
) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await fill_until_review(officer, targets="30", met="25")
    await officer.presses("✏️ 2")
    await officer.says("10")  # fewer targets than those already met: allowed at this question
    assert "Xem lại" in officer.last_reply
    await officer.presses("Nộp báo cáo")
    said = officer.new_text
    assert "Chưa nộp được" in said
    assert "Số chỉ tiêu đạt và vượt là 25, lớn hơn Tổng số chỉ tiêu được giao (10)" in said
    assert MET_QUESTION in officer.last_reply  # taken to the answer that breaks the rule
    assert world.report().status == ReportStatus.DRAFT
    await officer.says("9")
    assert "Xem lại" in officer.last_reply  # back to the review
    await officer.presses("Nộp báo cáo")
    assert world.report().status == ReportStatus.SUBMITTED
    assert world.report().answers["chi_tieu_dat"] == 9


async def test_going_back_with_quaylai_and_lowering_the_targets_is_caught_too(
    bot: TestBot,
) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await officer.says("/baocao")
    await officer.says("Thu ngân sách đạt 105% kế hoạch; giảm 2,3% hộ nghèo")
    await officer.says("10")
    await officer.says("10")
    await officer.says("/quaylai")
    await officer.says("/quaylai")
    assert "Kế hoạch giao cho đơn vị bao nhiêu chỉ tiêu?" in officer.last_reply
    await officer.says("8")
    # On to the rest of the report; met (10) stays above the new target (8).
    assert "Tự đánh giá" in officer.last_reply
    await officer.presses("Hoàn thành tốt nhiệm vụ")
    await officer.says("/boqua")
    await officer.presses("Bỏ qua")
    await officer.says("Giải ngân vốn còn chậm")
    await rest_of_the_report(officer)
    assert "Xem lại" in officer.last_reply
    await officer.presses("Nộp báo cáo")
    assert "lớn hơn Tổng số chỉ tiêu được giao (8)" in officer.new_text
    assert MET_QUESTION in officer.last_reply
    assert world.report().status == ReportStatus.DRAFT
