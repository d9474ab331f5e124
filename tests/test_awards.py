"""Award history and the eligibility of nominations: the import (all rows or none, each bad row
named), every mechanical rule of refdata/awards.yaml with a case that passes and one that is
refused (naming its article), and the admin's override with its reason, audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot import cli
from bot.catalog import t
from domain.awards import Rule, catalog, check_report, history, import_awards, record_award
from domain.reports import rebuild_nominations
from domain.scope import DEFAULT_SCOPE
from models.audit import AuditLog
from models.awards import AwardRecord, EligibilityOverride
from models.campaigns import DeadlineKind
from models.reports import Nomination, Report
from models.units import Role, Unit
from tests.utils.dossier import FORMS
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_member,
    make_report,
    make_unit,
)
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import TestBot

GOOD = """ma_don_vi,ho_ten,nam,danh_hieu,so_quyet_dinh,ngay_quyet_dinh,co_quan
XA-001,,2025,Tập thể lao động tiên tiến,125/QĐ-UBND,15/01/2026,Chủ tịch UBND xã
XA-001,Lò Thị Mai,2025,lao động tiên tiến,12/QĐ-UBND,10/01/2026,Chủ tịch UBND xã
XA-002,Giàng A Páo,2024,Chiến sĩ thi đua cơ sở,7/QĐ-UBND,,
"""


@pytest.fixture
def units(session: Session) -> list[Unit]:
    made = [make_unit(session, f"Xã Bình Lư {n}", code=f"XA-00{n}") for n in (1, 2)]
    made.append(make_unit(session, "Thôn Nà Khum", code="TH-001", kind="thon"))
    session.commit()
    return made


# --- import -----------------------------------------------------------------------------------
def test_a_good_file_is_imported_and_a_second_import_updates(
    session: Session, units: list[Unit]
) -> None:
    result = import_awards(session, GOOD.encode(), now=T0)
    assert result.ok and (result.created, result.updated) == (3, 0)
    session.commit()
    mai = history(session, unit_id=units[0].id or 0, person="LÒ THỊ MAI")
    assert [(r.year, r.award, r.award_label, r.decision_number) for r in mai] == [
        (2025, "lao-dong-tien-tien", "Lao động tiên tiến", "12/QĐ-UBND")
    ]
    assert history(session, unit_id=units[0].id or 0)[0].award == "tap-the-lao-dong-tien-tien"
    again = import_awards(session, GOOD.replace("7/QĐ-UBND", "8/QĐ-UBND").encode(), now=T0)
    assert (again.created, again.updated) == (0, 3)
    session.commit()
    paos = history(session, unit_id=units[1].id or 0, person="Giàng A Páo")
    assert paos[0].decision_number == "8/QĐ-UBND"


def test_bad_rows_are_all_named_and_nothing_is_imported(
    session: Session, units: list[Unit]
) -> None:
    bad = GOOD + (
        "XA-999,,2025,Giấy khen,,,\n"
        "XA-001,,năm ngoái,Giấy khen,,,\n"
        "XA-001,An,2025,,,,\n"
        "XA-002,Páo,2025,Giấy khen,1/QĐ,32/13/2025,\n"
        "XA-001,Lò Thị Mai,2025,Lao động tiên tiến,,,\n"
    )
    result = import_awards(session, bad.encode(), now=T0)
    assert [(e.row, e.reason) for e in result.errors] == [
        (5, "award_unknown_unit"),
        (6, "award_bad_year"),
        (7, "award_no_award"),
        (8, "award_bad_date"),
        (9, "award_duplicate"),
    ]
    session.rollback()
    assert session.exec(select(AwardRecord)).all() == []


def test_the_cli_import_prints_each_bad_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, session: Session, units: list[Unit]
) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the CLI opens DATABASE_URL itself; SQLite is enough here")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", str(session.get_bind().url))
    path = tmp_path / "khen-thuong.csv"
    path.write_text(GOOD + "XA-999,,2025,Giấy khen,,,\n", encoding="utf-8")
    assert cli.main(["awards", "import", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Chưa nhập dòng nào" in out and "Dòng 5: mã đơn vị XA-999" in out
    path.write_text(GOOD, encoding="utf-8")
    assert cli.main(["awards", "import", str(path)]) == 0
    assert "thêm mới 3" in capsys.readouterr().out
    # A file that is not there: the reason in Vietnamese, not the OS's English text.
    assert cli.main(["awards", "import", str(tmp_path / "khong-co.csv")]) != 0
    err = capsys.readouterr().err
    assert "Không đọc được tệp" in err and "No such file" not in err


# --- eligibility ------------------------------------------------------------------------------
def nominate(
    session: Session, unit: Unit, entries: list[tuple[str, str, str]], *, number: str = "1/KH"
) -> tuple[Report, list[Nomination]]:
    """A handed-in nomination report of `unit`: (type, name, award code) per entry."""
    campaign = make_campaign(session, number=number)
    deadline = make_deadline(
        session, campaign, kind=DeadlineKind.NOMINATION, form_code="de-nghi-khen-thuong"
    )
    answers = {
        "de_nghi": [
            {
                "doi_tuong": kind,
                "ho_ten": name,
                "don_vi": unit.name,
                "hinh_thuc": award,
                "thanh_tich": "Hoàn thành xuất sắc nhiệm vụ",
            }
            for kind, name, award in entries
        ]
    }
    report = make_report(session, unit, deadline, answers=answers)
    nominations = rebuild_nominations(session, report=report, form=FORMS["de-nghi-khen-thuong"])
    session.commit()
    return report, nominations


def rules_broken(session: Session, unit: Unit, report: Report, nominations) -> list[str]:
    found = check_report(session, report=report, unit=unit, nominations=nominations, year=2026)
    return [f"{v.nominee}:{v.rule}" for v in found]


def test_chien_si_thi_dua_co_so_needs_lao_dong_tien_tien(
    session: Session, units: list[Unit]
) -> None:
    unit = units[0]
    report, nominations = nominate(
        session,
        unit,
        [
            ("individual", "Lò Thị Mai", "chien-si-thi-dua-co-so"),
            ("individual", "Lò Văn Hùng", "chien-si-thi-dua-co-so"),
            ("individual", "Lò Văn Hùng", "lao-dong-tien-tien"),
        ]
        + [("individual", f"Người {i}", "lao-dong-tien-tien") for i in range(12)],
    )
    # Mai holds no Lao động tiên tiến this year; Hùng is nominated for it in the same list.
    assert rules_broken(session, unit, report, nominations) == ["Lò Thị Mai:cstd-co-so-can-ldtt"]
    found = check_report(session, report=report, unit=unit, nominations=nominations, year=2026)
    message = t(f"awards.rule.{found[0].kind}", **found[0].params)
    assert "Lò Thị Mai" in message and "Lao động tiên tiến" in message
    # Luật 06/2022/QH15 Điều 23 khoản 1 (Điều 24 is Lao động tiên tiến's own standard).
    assert "Điều 23 khoản 1 Luật Thi đua, khen thưởng 2022" in message
    record_award(session, unit_id=unit.id or 0, person="Lò Thị Mai", year=2026,
                 award="lao-dong-tien-tien", now=T0)  # fmt: skip
    session.commit()
    assert rules_broken(session, unit, report, nominations) == []


def test_no_national_quota_on_chien_si_thi_dua_co_so(session: Session, units: list[Unit]) -> None:
    """The 15% cap of khoản 3 Điều 9 Nghị định 91/2017/NĐ-CP ended with it: Luật 2022 Điều 23
    and its decrees set none, so the reference data must not refuse 2 of 10."""
    unit = units[0]
    people = [f"Người {i}" for i in range(10)]
    entries = [("individual", p, "lao-dong-tien-tien") for p in people]
    entries += [("individual", p, "chien-si-thi-dua-co-so") for p in people[:2]]
    report, nominations = nominate(session, unit, entries)
    assert rules_broken(session, unit, report, nominations) == []
    assert all(rule.kind != "quota" for rule in catalog().rules)


def test_a_quota_set_by_a_local_regulation_is_enforced(session: Session, units: list[Unit]) -> None:
    """A province's or sector's own cap, added to the data as a `quota` rule, still works."""
    local = Rule(
        code="cstd-co-so-ty-le",
        kind="quota",
        award="chien-si-thi-dua-co-so",
        base="lao-dong-tien-tien",
        percent=15,
        article="Điều 5 Quy chế thi đua, khen thưởng của tỉnh",
    )
    unit = units[0]
    people = [f"Người {i}" for i in range(10)]
    entries = [("individual", p, "lao-dong-tien-tien") for p in people]
    entries += [("individual", p, "chien-si-thi-dua-co-so") for p in people[:2]]
    report, nominations = nominate(session, unit, entries)
    found = check_report(
        session, report=report, unit=unit, nominations=nominations, year=2026, rules=[local]
    )
    # 2 of 10 is 20% > 15% (at most 1): both nominations are named.
    assert [f"{v.nominee}:{v.rule}" for v in found] == [
        "Người 0:cstd-co-so-ty-le",
        "Người 1:cstd-co-so-ty-le",
    ]
    message = t("awards.rule.quota", **found[0].params)
    assert "tối đa 1" in message and "Quy chế thi đua, khen thưởng của tỉnh" in message
    report2, nominations2 = nominate(session, unit, entries[:11], number="2/KH")
    assert not check_report(
        session, report=report2, unit=unit, nominations=nominations2, year=2026, rules=[local]
    )


def test_the_provincial_title_needs_three_consecutive_basic_ones(
    session: Session, units: list[Unit]
) -> None:
    unit = units[1]
    for year in (2023, 2025, 2026):
        record_award(session, unit_id=unit.id or 0, person="Giàng A Páo", year=year,
                     award="chien-si-thi-dua-co-so", now=T0)  # fmt: skip
    report, nominations = nominate(
        session, unit, [("individual", "Giàng A Páo", "chien-si-thi-dua-tinh")]
    )
    assert rules_broken(session, unit, report, nominations) == [
        "Giàng A Páo:cstd-tinh-can-3-lan-co-so"
    ]
    found = check_report(session, report=report, unit=unit, nominations=nominations, year=2026)
    assert found[0].article.startswith("Điều 22 khoản 1 Luật")  # Điều 23 is the basic title
    record_award(session, unit_id=unit.id or 0, person="Giàng A Páo", year=2024,
                 award="chien-si-thi-dua-co-so", now=T0)  # fmt: skip
    session.commit()
    assert rules_broken(session, unit, report, nominations) == []


def test_titles_for_individuals_and_collectives_and_kinds_of_unit(
    session: Session, units: list[Unit]
) -> None:
    commune, village = units[0], units[2]
    report, nominations = nominate(
        session,
        commune,
        [
            ("collective", "Tổ văn thư", "lao-dong-tien-tien"),
            ("individual", "Lò Văn Hùng", "tap-the-lao-dong-tien-tien"),
            ("collective", "Tổ một cửa", "tap-the-lao-dong-tien-tien"),
            ("collective", "Xã Bình Lư 2", "thon-to-dan-pho-van-hoa"),
            ("collective", "Thôn Nà Khum", "thon-to-dan-pho-van-hoa"),
        ],
    )
    assert rules_broken(session, commune, report, nominations) == [
        "Tổ văn thư:danh-hieu-ca-nhan",
        "Lò Văn Hùng:danh-hieu-tap-the",
        "Xã Bình Lư 2:loai-don-vi",
    ]
    assert village.kind == "thon"


async def test_the_admin_overrides_a_refusal_with_a_reason(bot: TestBot) -> None:
    with bot.db() as db:
        unit = make_unit(db, "Xã Bình Lư", code="XA-001")
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Văn phòng")
        db.commit()
        report, _ = nominate(db, unit, [("individual", "Lò Thị Mai", "chien-si-thi-dua-co-so")])
    admin = bot.person(ADMIN_USER_ID, "Văn phòng")
    await admin.says("/dieukien 1/KH")
    # No Lao động tiên tiến this year; no national quota to break besides (see refdata).
    assert "1 đề nghị chưa đạt điều kiện" in admin.last_reply
    assert "1. Lò Thị Mai" in admin.last_reply and "Điều 23 khoản 1 Luật" in admin.last_reply
    assert "15%" not in admin.last_reply
    await admin.presses("Chấp nhận #1")
    assert "Gõ lý do" in admin.last_reply
    await admin.says("ok")
    assert "Lý do cần từ 5" in admin.new_text and "Gõ lý do" in admin.last_reply
    await admin.says("Đã có quyết định công nhận, lịch sử chưa cập nhật")
    assert "Đã chấp nhận: Lò Thị Mai" in admin.last_reply
    with bot.db() as db:
        kept = db.exec(select(EligibilityOverride)).one()
        assert kept.report_id == report.id and kept.rule == "cstd-co-so-can-ldtt"
        entry = db.exec(select(AuditLog).where(AuditLog.action == "nomination.override")).one()
        assert entry.detail["reason"] == "Đã có quyết định công nhận, lịch sử chưa cập nhật"
    await admin.says("/dieukien 1/KH")
    assert "không vi phạm điều kiện nào" in admin.last_reply


async def test_officers_cannot_check_or_override(bot: TestBot) -> None:
    with bot.db() as db:
        unit = make_unit(db, "Xã Bình Lư", code="XA-001")
        make_member(db, "200", unit=unit)
        db.commit()
    officer = bot.person("200")
    await officer.says("/dieukien")
    assert "quản trị viên" in officer.last_reply


def test_decided_results_of_a_campaign_go_into_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, session: Session, settings
) -> None:
    from tests.utils.dossier import dossier_world

    dossier_world(session, settings.storage_dir)
    if session.get_bind().dialect.name == "sqlite":
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("DATABASE_URL", str(session.get_bind().url))
        argv = ["awards", "decide", "--campaign", "353/KH-UBND", "--decision", "125/QĐ-UBND"]
        assert cli.main([*argv, "--date", "15/01/2027", "--issuer", "Chủ tịch UBND tỉnh"]) == 0
        assert "Đã ghi 6 khen thưởng năm 2026" in capsys.readouterr().out
    else:
        from datetime import date

        from domain.dossier import record_results
        from domain.export import find_campaign

        campaign = find_campaign("353/KH-UBND", scope=DEFAULT_SCOPE, session=session)
        assert campaign is not None
        count = record_results(
            session,
            campaign=campaign,
            year=2026,
            decision_number="125/QĐ-UBND",
            decision_date=date(2027, 1, 15),
            issuer="Chủ tịch UBND tỉnh",
            now=T0,
        )
        assert count == 6
        session.commit()
    session.expire_all()
    unit = session.exec(select(Unit).where(Unit.code == "XA-002")).one()
    own = history(session, unit_id=unit.id or 0)
    assert [(r.year, r.award, r.decision_number, r.source) for r in own] == [
        (2026, "tap-the-lao-dong-tien-tien", "125/QĐ-UBND", "campaign")
    ]
    person = history(session, unit_id=unit.id or 0, person="Lò Thị Mai 2")
    assert [(r.award, str(r.decision_date)) for r in person] == [
        ("lao-dong-tien-tien", "2027-01-15")
    ]


def test_an_excel_file_is_read_like_a_csv(session: Session, units: list[Unit]) -> None:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(["LỊCH SỬ KHEN THƯỞNG XÃ BÌNH LƯ"])  # a title line above the header
    sheet.append(["Mã đơn vị", "Họ tên", "Năm", "Danh hiệu", "Số quyết định", "Ngày quyết định"])
    sheet.append(
        ["XA-001", "Lò Thị Mai", 2025, "Chiến sĩ thi đua cơ sở", "9/QĐ-UBND", "20/01/2026"]
    )
    sheet.append(["XA-001", None, "2025", "Giấy khen", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_awards(session, buffer.getvalue(), now=T0)
    assert result.ok and result.created == 2
    session.commit()
    mai = history(session, unit_id=units[0].id or 0, person="Lò Thị Mai")
    assert [(r.year, r.award, str(r.decision_date)) for r in mai] == [
        (2025, "chien-si-thi-dua-co-so", "2026-01-20")
    ]
