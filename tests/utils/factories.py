"""One-line factories for tests: units, members, campaigns, deadlines, reports, files.

Each takes a session, adds and flushes the row, and returns it; the caller commits.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.storage import check_and_store
from domain.text import fold
from models.campaigns import Campaign, CampaignStatus, Deadline, DeadlineKind
from models.organisers import DEFAULT_ORGANISER_ID, Organiser, OrganiserMember, OrganiserRole
from models.reports import Attachment, Report, ReportStatus
from models.units import Member, MemberStatus, Role, Unit

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
_seq = itertools.count(1)


def make_unit(
    session: Session,
    name: str = "",
    *,
    code: str = "",
    kind: str = "xa",
    bloc: str | None = "Khối xã, thị trấn",
    active: bool = True,
    organiser: Organiser | None = None,
) -> Unit:
    n = next(_seq)
    name = name or f"Xã Thử Nghiệm {n}"
    unit = Unit(
        organiser_id=organiser.id if organiser else DEFAULT_ORGANISER_ID,
        code=code or f"XA-{n:03d}",
        name=name,
        search_key=fold(f"{code} {name}"),
        kind=kind,
        bloc=bloc,
        active=active,
        created_at=T0,
    )
    session.add(unit)
    session.flush()
    return unit


def make_member(
    session: Session,
    user_id: str,
    *,
    unit: Unit | None = None,
    name: str = "",
    role: str = Role.OFFICER,
    status: str = MemberStatus.APPROVED,
    channel: str = "memory",
    phone: str | None = None,
    organiser: Organiser | None = None,
) -> Member:
    member = Member(
        channel=channel,
        user_id=user_id,
        chat_id=user_id,
        display_name=name or f"Cán bộ {user_id}",
        phone=phone,
        role=role,
        unit_id=unit.id if unit else None,
        status=status,
        created_at=T0,
        updated_at=T0,
    )
    session.add(member)
    session.flush()
    if role == Role.ADMIN:
        # An admin administers an organiser; the default one unless the test says otherwise.
        session.add(
            OrganiserMember(
                member_id=member.id,
                organiser_id=organiser.id if organiser else DEFAULT_ORGANISER_ID,
                role=OrganiserRole.ADMIN,
                created_at=T0,
            )
        )
        session.flush()
    return member


def make_campaign(
    session: Session,
    *,
    number: str = "353/KH-UBND",
    name: str = "Đợt thi đua chào mừng Đại hội",
    status: str = CampaignStatus.ACTIVE,
    participants: str = "all",
    organiser: Organiser | None = None,
) -> Campaign:
    campaign = Campaign(
        organiser_id=organiser.id if organiser else DEFAULT_ORGANISER_ID,
        document_number=number,
        name=name,
        issuing_body="UBND huyện Tam Đường",
        issued_on=date(2026, 2, 25),
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 6, 30),
        status=status,
        participants=participants,
        created_at=T0,
        activated_at=T0 if status == CampaignStatus.ACTIVE else None,
    )
    session.add(campaign)
    session.flush()
    return campaign


def make_organiser(
    session: Session,
    name: str,
    *,
    code: str = "",
    level: str = "xa",
    parent: Organiser | None = None,
    unit: Unit | None = None,
    signing_place: str = "",
) -> Organiser:
    """An organiser under `parent` (default: the default organiser), optionally being `unit`."""
    n = next(_seq)
    organiser = Organiser(
        code=code or f"CQ-{n:03d}",
        name=name,
        level=level,
        place=name,
        signing_place=signing_place,
        parent_id=parent.id if parent else DEFAULT_ORGANISER_ID,
        unit_id=unit.id if unit else None,
        created_at=T0,
    )
    session.add(organiser)
    session.flush()
    return organiser


def make_deadline(
    session: Session,
    campaign: Campaign,
    *,
    due_at: datetime | None = None,
    kind: str = DeadlineKind.FINAL,
    title: str = "Báo cáo thành tích",
    form_code: str = "bao-cao-thanh-tich",
    policy: dict[str, Any] | None = None,
) -> Deadline:
    deadline = Deadline(
        campaign_id=campaign.id,
        kind=kind,
        title=title,
        due_at=due_at or T0 + timedelta(days=14),
        form_code=form_code,
        reminder_policy=policy or {},
        created_at=T0,
        updated_at=T0,
    )
    session.add(deadline)
    session.flush()
    return deadline


def make_report(
    session: Session,
    unit: Unit,
    deadline: Deadline,
    *,
    status: str = ReportStatus.SUBMITTED,
    answers: dict[str, Any] | None = None,
    submitted_at: datetime | None = None,
    by: Member | None = None,
) -> Report:
    submitted = status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)
    at = submitted_at or T0
    report = Report(
        unit_id=unit.id,
        deadline_id=deadline.id,
        status=status,
        version=1 if submitted else 0,
        answers=answers or {},
        submitted_at=at if submitted else None,
        submitted_by_id=by.id if by and submitted else None,
        on_time=(at <= deadline.due_at) if submitted else None,
        created_at=T0,
        updated_at=at,
    )
    session.add(report)
    session.flush()
    return report


def make_stored_attachment(
    session: Session,
    report: Report,
    content: bytes,
    *,
    storage_dir: Path,
    accept: tuple[str, ...],
    file_id: str,
    file_name: str,
    field_id: str = "",
    meta: dict[str, Any] | None = None,
) -> Attachment:
    """`content` checked and kept under `storage_dir` as an officer's upload would be, and
    its `Attachment` row on `report` (sent over the memory channel at T0); `meta` as the
    upload path records it (a signed scan: `{"version": n}`)."""
    stored = check_and_store(content, storage_dir=storage_dir, accept=accept)
    attachment = Attachment(
        report_id=report.id,
        field_id=field_id,
        channel="memory",
        file_id=file_id,
        file_name=file_name,
        mime_type=stored.mime_type,
        size=stored.size,
        sha256=stored.sha256,
        stored_path=stored.stored_path,
        created_at=T0,
        meta=dict(meta or {}),
    )
    session.add(attachment)
    session.flush()
    return attachment
