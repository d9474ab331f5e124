"""Shared campaign queries: participants, open deadlines, unit status, missing units."""

from __future__ import annotations

from datetime import timedelta

from domain.campaigns import (
    UnitStatus,
    missing_units,
    open_deadlines_for_unit,
    participating_units,
    takes_part,
    unit_status,
)
from models.campaigns import CampaignParticipant, CampaignStatus
from models.reports import ReportStatus
from tests.utils.factories import T0, make_campaign, make_deadline, make_report, make_unit


def test_participants_all_or_chosen_blocs_and_units(session) -> None:
    a = make_unit(session, "Xã Bình Lư", bloc="Khối xã")
    b = make_unit(session, "Phòng Giáo dục", kind="coquan", bloc="Khối cơ quan")
    c = make_unit(session, "Trường THCS", kind="truong", bloc="Khối trường học")
    make_unit(session, "Xã đã giải thể", active=False)
    everyone = make_campaign(session)
    assert {u.id for u in participating_units(session, everyone)} == {a.id, b.id, c.id}
    chosen = make_campaign(session, participants="selected")
    session.add(CampaignParticipant(campaign_id=chosen.id, bloc="Khối cơ quan"))
    session.add(CampaignParticipant(campaign_id=chosen.id, unit_id=c.id))
    session.flush()
    assert {u.id for u in participating_units(session, chosen)} == {b.id, c.id}


def test_a_unit_takes_part_exactly_when_it_is_among_the_participants(session) -> None:
    in_bloc = make_unit(session, "Phòng Giáo dục", kind="coquan", bloc="Khối cơ quan")
    chosen_unit = make_unit(session, "Trường THCS", kind="truong", bloc="Khối trường học")
    no_bloc = make_unit(session, "Xã Bình Lư", bloc=None)
    other = make_unit(session, "Xã Nà Tăm", bloc="Khối xã")
    closed = make_unit(session, "Xã đã giải thể", bloc="Khối cơ quan", active=False)
    units = [in_bloc, chosen_unit, no_bloc, other, closed]
    everyone = make_campaign(session)
    chosen = make_campaign(session, participants="selected")
    session.add(CampaignParticipant(campaign_id=chosen.id, bloc="Khối cơ quan"))
    session.add(CampaignParticipant(campaign_id=chosen.id, unit_id=chosen_unit.id))
    nobody = make_campaign(session, participants="selected")
    session.flush()
    for campaign, expected in [
        (everyone, [in_bloc, chosen_unit, no_bloc, other]),
        (chosen, [in_bloc, chosen_unit]),
        (nobody, []),
    ]:
        assert {u.id for u in participating_units(session, campaign)} == {u.id for u in expected}
        assert [u for u in units if takes_part(session, campaign, u)] == expected


def test_open_deadlines_only_of_active_campaigns(session) -> None:
    unit = make_unit(session)
    active = make_campaign(session)
    draft = make_campaign(session, status=CampaignStatus.DRAFT)
    late = make_deadline(session, active, due_at=T0 + timedelta(days=2))
    soon = make_deadline(session, active, due_at=T0 + timedelta(days=1))
    make_deadline(session, draft)
    assert [d.id for d in open_deadlines_for_unit(session, unit)] == [soon.id, late.id]


def test_unit_status_and_missing_units(session) -> None:
    campaign = make_campaign(session)
    deadline = make_deadline(session, campaign, due_at=T0 + timedelta(days=1))
    on_time, late, draft, nothing = (make_unit(session) for _ in range(4))
    r1 = make_report(session, on_time, deadline, submitted_at=T0)
    r2 = make_report(session, late, deadline, submitted_at=T0 + timedelta(days=2))
    r3 = make_report(session, draft, deadline, status=ReportStatus.DRAFT, answers={"x": 1})
    assert unit_status(r1, deadline, T0) == UnitStatus.SUBMITTED
    assert unit_status(r2, deadline, T0) == UnitStatus.LATE
    assert unit_status(r3, deadline, T0) == UnitStatus.DRAFT
    assert unit_status(None, deadline, T0) == UnitStatus.NOT_STARTED
    assert unit_status(None, deadline, T0 + timedelta(days=3)) == UnitStatus.OVERDUE
    r1.status = ReportStatus.REOPENED
    assert unit_status(r1, deadline, T0 + timedelta(days=3)) == UnitStatus.REOPENED
    r1.status = ReportStatus.SUBMITTED
    assert {u.id for u in missing_units(session, deadline)} == {draft.id, nothing.id}
