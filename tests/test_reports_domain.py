"""Report rules without a channel: revision-checked saves, submitting on time or late, versions
kept on amendment, nominations as rows, and the admin's return / accept / reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.errors import ConcurrentUpdate
from domain.forms import DEFAULT_FORMS_DIR, load_forms
from domain.reports import (
    ReportError,
    accept_report,
    edit_refusal,
    get_or_create_report,
    reopen_report,
    return_report,
    set_answer,
    submit,
    submitted_answers,
)
from models.audit import AuditLog
from models.reports import Nomination, Report, ReportStatus, ReportVersion
from models.units import Role
from tests.utils.factories import T0, make_campaign, make_deadline, make_member, make_unit

FORMS = load_forms(DEFAULT_FORMS_DIR)
NOMINATIONS = FORMS["de-nghi-khen-thuong"]
ENTRY = {
    "doi_tuong": "individual",
    "ho_ten": "Lò Thị Mai",
    "chuc_vu": "Công chức Văn phòng – Thống kê",
    "don_vi": "UBND xã Bình Lư",
    "hinh_thuc": "giay-khen",
    "thanh_tich": "Hoàn thành xuất sắc nhiệm vụ năm 2026",
    "minh_chung": None,
}


@pytest.fixture
def world(session: Session):
    unit = make_unit(session, "Xã Bình Lư", code="XA-001")
    officer = make_member(session, "200", unit=unit)
    admin = make_member(session, "100", role=Role.ADMIN)
    deadline = make_deadline(
        session,
        make_campaign(session),
        form_code="de-nghi-khen-thuong",
        due_at=T0 + timedelta(days=7),
    )
    report = get_or_create_report(session, unit=unit, deadline=deadline, now=T0)
    session.commit()
    return unit, officer, admin, deadline, report


def fill(session: Session, report: Report, entries: list[dict], now=T0) -> None:
    set_answer(session, report=report, path=["de_nghi"], value=entries, now=now)
    set_answer(session, report=report, path=["ghi_chu"], value=None, now=now)


def test_a_save_from_a_stale_revision_is_refused_not_lost(world, engine) -> None:
    _, _, _, _, report = world
    with Session(engine, expire_on_commit=False) as first, Session(engine) as second:
        mine = first.get(Report, report.id)
        first.commit()  # the officer read the report in an earlier update
        theirs = second.get(Report, report.id)
        assert mine is not None and theirs is not None
        set_answer(second, report=theirs, path=["ghi_chu"], value="Của đồng nghiệp", now=T0)
        second.commit()
        with pytest.raises(ConcurrentUpdate):
            set_answer(first, report=mine, path=["ghi_chu"], value="Của tôi", now=T0)
        first.rollback()
        # Handled again on fresh data (what the core does), the later answer wins.
        fresh = first.get(Report, report.id)
        first.refresh(fresh)
        set_answer(first, report=fresh, path=["ghi_chu"], value="Của tôi", now=T0)
        first.commit()
        assert fresh.answers["ghi_chu"] == "Của tôi" and fresh.revision == 2


def test_submitting_keeps_a_version_and_rebuilds_nominations(session: Session, world) -> None:
    _, officer, _, deadline, report = world
    second = {**ENTRY, "doi_tuong": "collective", "ho_ten": "Thôn Nà Khum", "chuc_vu": None}
    second["hinh_thuc"] = "tap-the-lao-dong-tien-tien"
    fill(session, report, [ENTRY, second])
    result = submit(
        session, report=report, deadline=deadline, form=NOMINATIONS, member=officer, now=T0
    )
    session.commit()
    assert (result.version, result.on_time, result.reference) == (1, True, "BC-00001-1")
    rows = session.exec(select(Nomination).order_by(Nomination.position)).all()
    assert [(r.nominee_type, r.full_name, r.award) for r in rows] == [
        ("individual", "Lò Thị Mai", "Giấy khen"),
        ("collective", "Thôn Nà Khum", "Tập thể lao động tiên tiến"),
    ]
    assert rows[0].job_title == "Công chức Văn phòng – Thống kê" and rows[1].job_title == ""
    # Amend before the deadline: version 2, version 1 kept, nominations follow the new answers.
    fill(session, report, [ENTRY], now=T0 + timedelta(days=1))
    result = submit(
        session,
        report=report,
        deadline=deadline,
        form=NOMINATIONS,
        member=officer,
        now=T0 + timedelta(days=1),
    )
    session.commit()
    assert result.amended and result.version == 2
    versions = session.exec(select(ReportVersion).order_by(ReportVersion.version)).all()
    assert [len(v.answers["de_nghi"]) for v in versions] == [2, 1]
    assert len(session.exec(select(Nomination)).all()) == 1
    assert submitted_answers(session, report) == versions[1].answers


def test_an_incomplete_report_cannot_be_submitted(session: Session, world) -> None:
    _, officer, _, deadline, report = world
    fill(session, report, [{**ENTRY, "ho_ten": None}])
    with pytest.raises(ReportError) as error:
        submit(session, report=report, deadline=deadline, form=NOMINATIONS, member=officer, now=T0)
    assert error.value.reason == "incomplete"
    assert [p.label for p in error.value.params["problems"]] == [
        "Danh sách đề nghị 1 – Họ tên / tên tập thể"
    ]


def test_late_submission_and_the_closed_door_after_the_deadline(session: Session, world) -> None:
    _, officer, admin, deadline, report = world
    late = deadline.due_at + timedelta(hours=3)
    fill(session, report, [ENTRY])
    assert edit_refusal(report, deadline, late) is None  # a draft may still be handed in late
    result = submit(
        session, report=report, deadline=deadline, form=NOMINATIONS, member=officer, now=late
    )
    assert not result.on_time and report.on_time is False
    assert edit_refusal(report, deadline, late) == "closed"
    reopen_report(session, report=report, admin=admin, now=late)
    assert report.status == ReportStatus.REOPENED and edit_refusal(report, deadline, late) is None
    submit(session, report=report, deadline=deadline, form=NOMINATIONS, member=officer, now=late)
    assert report.version == 2 and report.on_time is False


def test_return_accept_and_reopen_are_audited(session: Session, world) -> None:
    _, officer, admin, deadline, report = world
    fill(session, report, [ENTRY])
    submit(session, report=report, deadline=deadline, form=NOMINATIONS, member=officer, now=T0)
    return_report(session, report=report, admin=admin, reason="Thiếu minh chứng", now=T0)
    assert report.status == ReportStatus.RETURNED and report.return_reason == "Thiếu minh chứng"
    with pytest.raises(ReportError):
        accept_report(session, report=report, admin=admin, now=T0)
    submit(session, report=report, deadline=deadline, form=NOMINATIONS, member=officer, now=T0)
    assert report.return_reason is None and report.on_time is True
    accept_report(session, report=report, admin=admin, now=T0)
    assert edit_refusal(report, deadline, T0) == "accepted"
    reopen_report(session, report=report, admin=admin, now=T0)
    session.commit()
    actions = [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]
    assert actions == ["report.return", "report.accept", "report.reopen"]
