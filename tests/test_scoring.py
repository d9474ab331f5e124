"""Bloc scoring: the admin attaches a scoring table to a bloc, an officer scores their unit in the
chat (bounds enforced, evidence file kept), a council member reviews and adjusts a line with a
reason the unit reads, /xephang ranks the bloc with the tie-break rule and proposes the top unit
for the flag; officers never see another unit's score."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
from sqlmodel import select

from domain import scoring
from models.audit import AuditLog
from models.council import ScoreCard, ScoringSheet
from models.units import Member, Role, Unit
from tests.utils.council import PDF, seat
from tests.utils.factories import T0, make_campaign, make_member, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import TestBot

BLOC = "Khối xã, thị trấn"
A_POINTS = ["28", "20", "18", "14", "9", "2", "0"]  # 91
B_POINTS = ["27", "21", "18", "14", "9", "2", "0"]  # 91: a tie, kinh-te decides
C_POINTS = ["25", "20", "15", "12", "8", "0", "0"]  # 80


def _world(bot: TestBot) -> dict[str, int]:
    bot.core.flood.limit = 10_000  # a whole season of scoring in a second
    with bot.db() as db:
        make_member(db, ADMIN_USER_ID, name="Quản trị", role=Role.ADMIN)
        units = {
            code: make_unit(db, name, code=code, bloc=BLOC)
            for code, name in (
                ("XA-A", "Xã An Phú"),
                ("XA-B", "Xã Bình Minh"),
                ("XA-C", "Xã Cẩm Lý"),
            )
        }
        agency = make_unit(db, "Phòng Nội vụ", code="PH-NV", bloc="Khối cơ quan")
        make_member(db, "203", unit=agency, name="Cán bộ Nội vụ")
        make_member(db, "201", unit=units["XA-A"], name="Cán bộ An Phú")
        make_member(db, "202", unit=units["XA-B"], name="Cán bộ Bình Minh")
        council_member = make_member(db, "301", name="Ủy viên Hùng")
        seat(db, council_member.id)
        make_campaign(db)
        db.commit()
        return {code: unit.id for code, unit in units.items()}  # type: ignore[misc]


def _score_directly(bot: TestBot, unit_id: int, points: list[str], at_minutes: int) -> None:
    with bot.db() as db:
        sheet = db.exec(select(ScoringSheet)).one()
        unit = db.get(Unit, unit_id)
        officer = db.exec(select(Member).where(Member.role == Role.ADMIN)).first()
        card = scoring.card_for(db, sheet=sheet, unit=unit, now=T0)
        for criterion, value in zip(scoring.table_of(sheet).criteria, points, strict=True):
            scoring.set_self_score(
                db, sheet=sheet, card=card, criterion=criterion.code, points=value, now=T0
            )
        scoring.submit_card(
            db, sheet=sheet, card=card, by=officer, now=T0 + timedelta(minutes=at_minutes)
        )
        db.commit()


async def test_units_score_council_adjusts_with_reason_and_ranking_proposes_the_top_unit(
    bot: TestBot,
) -> None:
    units = _world(bot)
    admin, officer, other = bot.person(ADMIN_USER_ID), bot.person("201"), bot.person("202")
    reviewer = bot.person("301")

    await admin.says("/chamdiem")
    await admin.presses("Gắn bảng chấm điểm")
    await admin.presses("Đợt thi đua chào mừng")
    await admin.presses(BLOC)
    await admin.presses("khối xã, thị trấn")
    await admin.presses("Xác nhận")
    assert (
        "Đã gắn «Bảng chấm điểm thi đua khối xã, thị trấn» cho Khối xã, thị trấn"
        in admin.last_reply
    )

    await officer.says("/chamdiem")
    await officer.presses("Khối xã")
    assert (
        "Tiêu chí 1/7: Phát triển kinh tế" in officer.last_reply
        and "Điểm tối đa: 30" in officer.last_reply
    )
    await officer.says("35")
    assert "Điểm phải từ 0 đến 30" in officer.new_text and "Tiêu chí 1/7" in officer.last_reply
    await officer.says("nhiều")
    assert "Điểm phải là một số" in officer.new_text
    await officer.says("28")
    await officer.sends_file(PDF, "bao-cao-kinh-te.pdf", "application/pdf")
    assert "Đã nhận tệp minh chứng" in officer.last_reply
    await officer.presses("Tiếp")
    for value in A_POINTS[1:5]:
        await officer.says(value)
        await officer.presses("Tiếp")
    await officer.says("2")  # bonus
    await officer.presses("Tiếp")
    await officer.presses("Không có")  # penalty
    assert "Tổng: 91 điểm" in officer.last_reply
    await officer.presses("Nộp bảng điểm")
    assert "tổng 91 điểm" in officer.last_reply

    _score_directly(bot, units["XA-B"], B_POINTS, at_minutes=-60)  # earlier, but less on kinh-te
    _score_directly(bot, units["XA-C"], C_POINTS, at_minutes=5)

    await reviewer.says("/xephang")
    ranking = reviewer.last_reply
    assert "1. Xã An Phú: 91 điểm (bằng điểm) → đề nghị Cờ thi đua của UBND tỉnh" in ranking
    assert (
        "2. Xã Bình Minh: 91 điểm (bằng điểm) → đề nghị Bằng khen của Chủ tịch UBND tỉnh" in ranking
    )
    assert "3. Xã Cẩm Lý: 80 điểm" in ranking and "Phòng Nội vụ" not in ranking
    assert "Phát triển kinh tế" in ranking  # the tie rule is said

    await reviewer.presses("Thẩm định Xã An Phú")
    assert "(tệp minh chứng: 1)" in reviewer.last_reply
    await reviewer.presses("Xem tệp minh chứng")
    assert [m.document.file_name for m in reviewer.new_messages if m.document] == [
        "bao-cao-kinh-te.pdf"
    ]
    await reviewer.presses("Điều chỉnh: Phát triển kinh tế")
    await reviewer.says("31")
    assert "Điểm phải từ 0 đến 30" in reviewer.new_text
    await reviewer.says("26")
    await reviewer.says("Thiếu xác nhận thu ngân sách quý IV")
    assert "Đã điều chỉnh" in reviewer.last_reply
    notice = officer.last_reply
    assert "Đơn vị tự chấm: 28 → thẩm định: 26" in notice
    assert (
        "Lý do: Thiếu xác nhận thu ngân sách quý IV" in notice
        and "Tổng điểm hiện tại: 89" in notice
    )

    await admin.says("/xephang")
    assert "1. Xã Bình Minh: 91 điểm → đề nghị Cờ thi đua của UBND tỉnh" in admin.last_reply
    assert "2. Xã An Phú: 89 điểm → đề nghị Bằng khen" in admin.last_reply

    # The ranking, with the reviewed points, is a sheet of the campaign's workbook.
    await admin.says("/xuat")
    await admin.bot.core.wait_background()  # the workbook is built after the update
    document = admin.new_messages[-1].document
    assert document is not None
    sheet = openpyxl.load_workbook(io.BytesIO(document.content))["Xếp hạng khối"]
    header = [c.value for c in sheet[2]]  # row 1 is the sheet's title
    rows = [
        dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(min_row=3)
    ]
    assert [(r["Hạng"], r["Mã đơn vị"], r["Tổng điểm"]) for r in rows] == [
        (1, "XA-B", 91),
        (2, "XA-A", 89),
        (3, "XA-C", 80),
    ]
    assert rows[1]["Phát triển kinh tế, hoàn thành chỉ tiêu thu ngân sách"] == 26
    assert rows[0]["Đề nghị khen thưởng"] == "Cờ thi đua của UBND tỉnh"

    # The officer sees their own card with the reason, never the ranking or another unit.
    await officer.says("/xephang")
    own = officer.last_reply
    assert "Bảng điểm của Xã An Phú" in own and "Thiếu xác nhận thu ngân sách quý IV" in own
    assert "Bình Minh" not in officer.new_text and "Xếp hạng" not in officer.new_text
    with bot.db() as db:
        card_b = db.exec(select(ScoreCard).where(ScoreCard.unit_id == units["XA-B"])).one()
        adjusted = db.exec(select(AuditLog).where(AuditLog.action == "scoring.adjust")).one()
        assert adjusted.detail["reason"] == "Thiếu xác nhận thu ngân sách quý IV"
    await officer.presses_payload(f"sr:{card_b.id}")
    await officer.presses_payload(f"sj:{card_b.id}:0")
    assert "dành cho thành viên Hội đồng" in officer.last_reply
    await other.says("/xephang")
    assert "Bảng điểm của Xã Bình Minh" in other.new_text and "An Phú" not in other.new_text
    with bot.db() as db:
        sheet_id = db.exec(select(ScoringSheet)).one().id
    await bot.person("203").presses_payload(f"ss:{sheet_id}")  # a unit of another bloc
    assert "không có quyền" in bot.person("203").last_reply
    await bot.person("999").says("/xephang")
    with bot.db() as db:
        denied = {
            a.target_id for a in db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        }
    assert {"sr", "sj", "ss", "/xephang"} <= denied


def test_ties_broken_by_the_data_rule_then_shared_when_nothing_separates(session) -> None:
    admin = make_member(session, ADMIN_USER_ID, role=Role.ADMIN)
    campaign = make_campaign(session)
    units = [make_unit(session, f"Xã {n}", code=f"XA-{n}", bloc=BLOC) for n in ("P", "Q", "R", "S")]
    sheet = scoring.attach_table(
        session, campaign=campaign, bloc=BLOC, table_code="khoi-xa-thi-tran", actor=admin, now=T0
    )
    same = ["20", "20", "15", "10", "5", "0", "0"]
    plan = {
        "XA-P": (same, 10),
        "XA-Q": (same, 5),
        "XA-R": (same, 5),
        "XA-S": (["20", "20", "15", "10", "5", "0", "3"], 0),
    }
    for unit in units:
        points, minutes = plan[unit.code]
        card = scoring.card_for(session, sheet=sheet, unit=unit, now=T0)
        for criterion, value in zip(scoring.table_of(sheet).criteria, points, strict=True):
            scoring.set_self_score(
                session, sheet=sheet, card=card, criterion=criterion.code, points=value, now=T0
            )
        scoring.submit_card(
            session, sheet=sheet, card=card, by=admin, now=T0 + timedelta(minutes=minutes)
        )
    rows = scoring.ranking(session, sheet=sheet)
    assert [(r.unit.code, r.rank, r.total) for r in rows] == [
        ("XA-Q", 1, 7000),
        ("XA-R", 1, 7000),
        ("XA-P", 3, 7000),
        ("XA-S", 4, 6700),
    ]
    # Rank 1 is shared: no flag proposed automatically; rank 2 is nobody's.
    assert [r.proposed for r in rows] == [None, None, None, None]
    # A unit that changes a submitted score leaves the ranking until it submits again.
    card_s = rows[-1].card
    scoring.set_self_score(
        session, sheet=sheet, card=card_s, criterion="kinh-te", points="21", now=T0
    )
    assert [r.unit.code for r in scoring.ranking(session, sheet=sheet)] == ["XA-Q", "XA-R", "XA-P"]


def test_points_are_bounded_and_exact() -> None:
    assert scoring.to_centi("12,5") == 1250 and scoring.centi_text(1250) == "12,5"
    for bad in ("1e3", "nan", "12.345", "", "abc", "9" * 20):
        try:
            scoring.to_centi(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
