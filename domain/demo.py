"""Demo data (dữ liệu mẫu) for a first try on an empty database.

`thidua-bot console` offers it when the database has no unit and no member: the units of a
sample list, an active campaign with a registration deadline and a report deadline, the person
at the console as admin and a second officer to switch to. It must never touch a database that
already holds anything: `load_demo` refuses then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from domain.campaigns import Participants, add_deadline, create_campaign
from domain.organisers import ensure_default_admin
from domain.scope import DEFAULT_SCOPE
from domain.units import import_units
from models.campaigns import Campaign, DeadlineKind
from models.units import AdminSource, Member, MemberStatus, Role, Unit

DEMO_DOCUMENT_NUMBER = "01/KH-THU"
DEMO_OFFICER_UNIT = "XA-BINHLU"
DUE_TIME = time(17, 0)


class DemoRefused(Exception):
    """The database is not empty: demo data would mix with real data."""


@dataclass(slots=True)
class Demo:
    units: int
    campaign: Campaign
    admin: Member
    officer: Member
    officer_unit: Unit


def is_empty(session: Session) -> bool:
    """No unit and no member yet: a fresh install."""
    units = session.exec(select(sa.func.count()).select_from(Unit)).one()
    members = session.exec(select(sa.func.count()).select_from(Member)).one()
    return units == 0 and members == 0


def _working_day_after(start: date, days: int) -> date:
    """`days` calendar days after `start`, moved back to Friday when it falls on a weekend."""
    day = start + timedelta(days=days)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _member(
    channel: str, user_id: str, name: str, role: str, unit: Unit | None, now: datetime
) -> Member:
    return Member(
        channel=channel,
        user_id=user_id,
        chat_id=user_id,
        display_name=name,
        role=role,
        unit_id=unit.id if unit else None,
        status=MemberStatus.APPROVED,
        created_at=now,
        updated_at=now,
        decided_at=now,
    )


def load_demo(
    session: Session,
    *,
    units_csv: bytes,
    channel: str,
    admin_id: str,
    admin_name: str,
    officer_id: str,
    officer_name: str,
    now: datetime,
    zone: ZoneInfo,
) -> Demo:
    """Fill an empty database with the demo; the caller commits."""
    if not is_empty(session):
        raise DemoRefused
    result = import_units(session, units_csv, now=now, scope=DEFAULT_SCOPE)
    if not result.ok:
        raise ValueError(f"demo unit list is broken: {result.errors[:3]}")
    officer_unit = session.exec(select(Unit).where(Unit.code == DEMO_OFFICER_UNIT)).one()
    admin = _member(channel, admin_id, admin_name, Role.ADMIN, None, now)
    officer = _member(channel, officer_id, officer_name, Role.OFFICER, officer_unit, now)
    admin.admin_source = AdminSource.CHAT  # the demo's own admin, not one from ADMIN_IDS
    session.add(admin)
    session.add(officer)
    session.flush()
    # Admin rights are held per organiser: the demo runs in the default (top) one.
    ensure_default_admin(admin, now=now, session=session)
    today = now.astimezone(zone).date()
    campaign = create_campaign(
        session,
        document_number=DEMO_DOCUMENT_NUMBER,
        name="Đợt thi đua thử (dữ liệu mẫu)",
        issuing_body="UBND huyện Tam Đường",
        issued_on=today,
        starts_on=today,
        ends_on=today + timedelta(days=60),
        participants=Participants(),
        activate=True,
        timezone=zone.key,
        actor=admin,
        now=now,
    )
    for kind, title, form, days in (
        (DeadlineKind.REGISTRATION, "Đăng ký thi đua", "dang-ky-thi-dua", 5),
        (DeadlineKind.FINAL, "Báo cáo thành tích", "bao-cao-thanh-tich", 21),
    ):
        due = datetime.combine(_working_day_after(today, days), DUE_TIME, tzinfo=zone).astimezone(
            UTC
        )
        add_deadline(
            session,
            campaign,
            kind=kind,
            title=title,
            due_at=due,
            form_code=form,
            actor=admin,
            now=now,
        )
    return Demo(
        units=len(result.created),
        campaign=campaign,
        admin=admin,
        officer=officer,
        officer_unit=officer_unit,
    )
