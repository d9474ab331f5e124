"""The council's result on paper and in the history: once the admin confirms a round, the chat
sends the biên bản (members present and absent, the rule of each title with its legal source,
the tally, the quorum, who passed, the chair and the secretary) and the tờ trình listing only
those who passed, both opened back with python-docx; no member's name stands next to a secret
vote. The dossier ZIP carries them and the bloc ranking. The decision number recorded with
/quyetdinh lands in the award history, where a later campaign's eligibility check finds it."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from sqlmodel import select

from domain import awards, scoring
from domain import dossier as docs
from handlers.dossier import dossier_texts
from models.awards import AwardRecord
from models.council import CouncilRole
from models.reports import Nomination, Report
from models.units import Role, Unit
from tests.utils.council import council_world, open_round, seat, vote
from tests.utils.dossier import document_text, unzip
from tests.utils.factories import T0, make_campaign, make_member, make_unit
from tests.utils.scenario import TestBot

AN, BINH, XA = "Nguyễn Văn An", "Trần Thị Bình", "Tập thể xã Bình Lư"
P_POINTS = ["28", "20", "18", "14", "9", "2", "0"]  # 91, then 86 after review
Q_POINTS = ["25", "20", "18", "14", "9", "2", "0"]  # 88
MEMBERS = ["Chủ tịch Hoàng", "Phó Chủ tịch Lan", "Ủy viên Hùng", "Ủy viên Nga", "Ủy viên Sơn"]


async def _confirmed_round(bot: TestBot):  # type: ignore[no-untyped-def]
    world = council_world(bot)
    with bot.db() as db:
        secretary = make_member(db, "306", name="Thư ký Mai")
        seat(db, secretary.id, CouncilRole.SECRETARY)
        db.commit()
    await open_round(world)
    m1, m2, m3, m4, _silent = world.members
    for person in (m1, m2, m3):
        for nominee in (AN, BINH, XA):
            await vote(person, nominee, "Đồng ý")
    await vote(m4, AN, "Đồng ý")
    await vote(m4, BINH, "Không đồng ý")
    await vote(m4, XA, "Không đồng ý")
    await world.admin.says("/binhxet")
    await world.admin.presses("Kết thúc sớm")
    world.admin._seen = len(world.admin.messages)
    await world.admin.presses("Xác nhận kết quả")
    await bot.core.wait_background()
    return world


def _cells(tables: list[list[list[str]]]) -> list[list[str]]:
    return [row for table in tables for row in table]


async def test_the_admin_gets_the_minutes_and_the_submission_of_those_who_passed(
    bot: TestBot,
) -> None:
    world = await _confirmed_round(bot)
    # The shares still to be checked against the decree in force: the admin is warned when
    # opening; the voters are not troubled with it.
    assert "tỷ lệ chưa đối chiếu được" in world.admin.all_text
    assert not any("chưa đối chiếu" in member.all_text for member in world.members)
    sent = {m.document.file_name: m.document for m in world.admin.new_messages if m.document}
    assert sorted(sent) == ["01-to-trinh.docx", "03-bien-ban-hop-hoi-dong.docx"]
    assert "353/KH-UBND" in sent["01-to-trinh.docx"].caption

    paragraphs, tables = document_text(sent["03-bien-ban-hop-hoi-dong.docx"].content)
    text = "\n".join(paragraphs)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in _cells(tables)[0][1]
    assert "BIÊN BẢN" in paragraphs
    # Members: four took part, one is absent; the secretary keeps the minutes, does not vote.
    assert "Tổng số thành viên có quyền biểu quyết: 5; tham gia biểu quyết: 4; vắng: 1." in text
    present = text.split("Thành viên tham gia:")[1].split("Thành viên vắng:")[0]
    absent = text.split("Thành viên vắng:")[1].split("Thư ký Hội đồng")[0]
    assert all(name in present for name in MEMBERS[:4]) and MEMBERS[4] not in present
    assert MEMBERS[4] in absent
    assert "Thư ký Hội đồng: Thư ký Mai." in text
    # The rule of each title, with its legal source.
    assert any(
        p.startswith("- Chiến sĩ thi đua cơ sở: bỏ phiếu kín, cần từ 4/5 tổng số thành viên")
        and "Căn cứ: Luật 06/2022/QH15 Điều 23; khoản 7 Điều 30 Nghị định 98/2023/NĐ-CP" in p
        for p in paragraphs
    )
    assert any(
        p.startswith("- Tập thể lao động xuất sắc: biểu quyết công khai") for p in paragraphs
    )
    assert "Số thành viên tối thiểu phải tham gia: 4; tham gia: 4 — đủ" in text
    # The tally: counts per nominee, against what was needed.
    rows = {row[1]: row for row in _cells(tables) if row[1] in (AN, BINH, XA)}
    assert rows[AN][3:] == ["Chiến sĩ thi đua cơ sở", "Kín", "4", "0", "4", "Đạt"]
    assert rows[BINH][3:] == ["Chiến sĩ thi đua cơ sở", "Kín", "3", "1", "4", "Không đạt"]
    assert rows[XA][3:] == ["Tập thể lao động xuất sắc", "Công khai", "3", "1", "3", "Đạt"]
    # Secret means counts only: no member's name anywhere near a nominee's.
    tally = [row for row in _cells(tables) if len(row) == 9]
    assert len(tally) == 4  # the header and three nominees
    for row in tally:
        assert not any(name in cell for name in MEMBERS for cell in row)
    for paragraph in paragraphs:
        if AN in paragraph or BINH in paragraph:
            assert not any(name in paragraph for name in MEMBERS)
    passed = text.split("V. DANH SÁCH ĐẠT")[1]
    assert f"1. {AN} (Xã Bản Bo) — Chiến sĩ thi đua cơ sở;" in passed
    assert f"2. {XA} (Xã Bình Lư) — Tập thể lao động xuất sắc;" in passed
    assert BINH not in passed
    signatures = _cells(tables)[-1]
    assert "Thư ký Mai" in signatures[0] and "Chủ tịch Hoàng" in signatures[1]

    # The tờ trình counts only those who passed: one individual, one collective.
    paragraphs, tables = document_text(sent["01-to-trinh.docx"].content)
    text = "\n".join(paragraphs)
    assert "khen thưởng cho 1 tập thể và 1 cá nhân" in text
    counts = {row[1]: row[2:] for row in _cells(tables) if row[0].isdigit()}
    assert counts == {"Chiến sĩ thi đua cơ sở": ["0", "1"], "Tập thể lao động xuất sắc": ["1", "0"]}

    # The button under the confirmation sends them again.
    world.admin._seen = len(world.admin.messages)
    await world.admin.presses("Biên bản, tờ trình")
    await bot.core.wait_background()
    assert len([m for m in world.admin.new_messages if m.document]) == 2


async def test_the_dossier_zip_carries_the_council_documents_instead_of_the_draft(
    bot: TestBot,
) -> None:
    world = await _confirmed_round(bot)
    with bot.db() as db:
        campaign = db.get(docs.Campaign, world.campaign_id)
        data = docs.build_dossier(
            db,
            campaign=campaign,
            forms={},
            office=bot.core.settings.office(),
            texts=dossier_texts(),
            storage_dir=bot.core.settings.storage_dir,
            today=date(2026, 12, 20),
            zone=bot.core.settings.tz,
        )
    files = unzip(data)
    root = docs.dossier_root(campaign)
    assert f"{root}/01-to-trinh.docx" in files and f"{root}/01-to-trinh-du-thao.docx" not in files
    _paragraphs, tables = document_text(files[f"{root}/03-bien-ban-hop-hoi-dong.docx"])
    assert any(row[1] == BINH and row[-1] == "Không đạt" for row in _cells(tables))
    # The danh sách still lists every nomination handed in; the tờ trình only who passed.
    assert "khen thưởng cho 1 tập thể và 1 cá nhân" in "\n".join(
        document_text(files[f"{root}/01-to-trinh.docx"])[0]
    )


async def test_the_decision_goes_into_the_award_history_and_later_checks_see_it(
    bot: TestBot,
) -> None:
    world = await _confirmed_round(bot)
    with bot.db() as db:
        # An earned Chiến sĩ thi đua cơ sở in 2024 and 2025 (imported history).
        for year in (2024, 2025):
            awards.record_award(
                db,
                unit_id=world.unit_a,
                person=AN,
                year=year,
                award="chien-si-thi-dua-co-so",
                decision_number=f"{year}/QĐ-UBND",
                source="import",
                now=T0,
            )
        db.commit()

    def province_check() -> list[awards.Violation]:
        # A later campaign proposes An for Chiến sĩ thi đua cấp tỉnh in 2027: it needs three
        # years running of Chiến sĩ thi đua cơ sở, the last being 2026.
        with bot.db() as db:
            report = db.exec(select(Report).where(Report.unit_id == world.unit_a)).first()
            unit = db.get(Unit, world.unit_a)
            nominee = Nomination(
                report_id=report.id, position=9, full_name=AN, award="chien-si-thi-dua-tinh"
            )
            found = awards.check_report(
                db, report=report, unit=unit, nominations=[nominee], year=2027
            )
            return [v for v in found if v.rule == "cstd-tinh-can-3-lan-co-so"]

    assert province_check()  # 2026 not recorded yet
    await world.admin.says("/quyetdinh")
    await world.admin.presses(AN)
    await world.admin.says("125/QĐ-UBND ngày 31/2/2026")
    assert "ngày ký viết như 20/12/2026" in world.admin.new_text  # no such day: asked again
    assert world.admin.last_reply.startswith("Số quyết định khen thưởng cho")
    await world.admin.says("125/QĐ-UBND ngày 20/12/2026")
    assert "Đã ghi quyết định 125/QĐ-UBND cho Nguyễn Văn An" in world.admin.last_reply
    await world.admin.says("/quyetdinh")
    await world.admin.presses(XA)
    await world.admin.says("126/QĐ-UBND")

    with bot.db() as db:
        rows = db.exec(select(AwardRecord).where(AwardRecord.year == 2026)).all()
        by_name = {(r.unit_id, r.person_name): r for r in rows}
    an = by_name[(world.unit_a, AN)]
    assert (an.award, an.decision_number, an.decision_date) == (
        "chien-si-thi-dua-co-so",
        "125/QĐ-UBND",
        date(2026, 12, 20),
    )
    assert an.issuer and an.campaign_id == world.campaign_id
    # A collective named otherwise than its unit is recorded by its name, in its unit.
    xa = by_name[(world.unit_b, XA)]
    assert (xa.award, xa.decision_number, xa.decision_date) == (
        "tap-the-lao-dong-xuat-sac",
        "126/QĐ-UBND",
        None,
    )
    assert (world.unit_a, BINH) not in by_name  # did not pass: nothing recorded
    assert province_check() == []


def test_the_ranking_and_its_adjustments_go_into_the_dossier(session) -> None:
    admin = make_member(session, "100", role=Role.ADMIN)
    campaign = make_campaign(session)
    bloc = "Khối xã, thị trấn"
    units = [make_unit(session, f"Xã {n}", code=f"XA-{n}", bloc=bloc) for n in ("P", "Q")]
    sheet = scoring.attach_table(
        session, campaign=campaign, bloc=bloc, table_code="khoi-xa-thi-tran", actor=admin, now=T0
    )
    criteria = scoring.table_of(sheet).criteria
    cards = []
    for unit, points in zip(units, (P_POINTS, Q_POINTS), strict=True):
        card = scoring.card_for(session, sheet=sheet, unit=unit, now=T0)
        for criterion, value in zip(criteria, points, strict=True):
            scoring.set_self_score(
                session, sheet=sheet, card=card, criterion=criterion.code, points=value, now=T0
            )
        scoring.submit_card(session, sheet=sheet, card=card, by=admin, now=T0)
        cards.append(card)
    # The council takes 5 points off Xã P's first criterion: Xã Q moves up.
    scoring.adjust_line(
        session,
        sheet=sheet,
        card=cards[0],
        criterion=criteria[0].code,
        points="23",
        reason="Thiếu xác nhận thu ngân sách quý IV",
        actor=admin,
        now=T0,
    )
    content = docs.ranking_workbook(session, campaign=campaign, texts=dossier_texts())
    book = load_workbook(io.BytesIO(content))
    ranking = [[c.value for c in row] for row in book["Xếp hạng khối"].iter_rows()]
    assert ranking[0][:4] == ["Khối thi đua", "Hạng", "Mã đơn vị", "Đơn vị"]
    assert [(row[1], row[2]) for row in ranking[1:]] == [(1, "XA-Q"), (2, "XA-P")]
    assert ranking[2][4] == 23 and ranking[1][-2] == 88 and ranking[2][-2] == 86
    adjustments = [[c.value for c in row] for row in book["Điều chỉnh điểm"].iter_rows()]
    assert adjustments[1] == [
        bloc,
        "XA-P",
        "Xã P",
        criteria[0].label,
        "28",
        "23",
        "Thiếu xác nhận thu ngân sách quý IV",
    ]
    assert len(adjustments) == 2
    # No scoring table: no ranking file in the dossier.
    other = make_campaign(session, number="1/KH-UBND")
    assert docs.ranking_workbook(session, campaign=other, texts=dossier_texts()) == b""


async def test_recording_a_campaign_decision_leaves_out_whom_the_council_turned_down(
    bot: TestBot,
) -> None:
    world = await _confirmed_round(bot)
    with bot.db() as db:
        campaign = db.get(docs.Campaign, world.campaign_id)
        count = docs.record_results(
            db,
            campaign=campaign,
            year=2026,
            decision_number="130/QĐ-UBND",
            decision_date=date(2026, 12, 22),
            issuer="Chủ tịch UBND tỉnh",
            now=T0,
        )
        db.commit()
        names = {r.person_name for r in db.exec(select(AwardRecord)).all()}
    # An and the collective passed; Lê Văn Cường's Lao động tiên tiến never went to the
    # council; Trần Thị Bình failed the vote.
    assert count == 3 and names == {AN, XA, "Lê Văn Cường"}
