"""Bulk seeding shared by the benchmarks that need a campaign of many units (bench/export.py,
bench/desk_dashboard.py): the same campaign, the same numbered communes and the same share of
reports handed in, so their figures describe the same data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.text import fold
from models.campaigns import Campaign, CampaignStatus
from models.reports import Report, ReportStatus
from models.units import Unit


def add_campaign(session: Session, *, at: datetime) -> Campaign:
    """Kế hoạch 353/KH-UBND, active, for every unit; flushed (its id is set)."""
    campaign = Campaign(
        document_number="353/KH-UBND",
        name="Đợt thi đua chào mừng Đại hội",
        issuing_body="UBND tỉnh",
        issued_on=date(2026, 2, 25),
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 6, 30),
        status=CampaignStatus.ACTIVE,
        participants="all",
        created_at=at,
        activated_at=at,
    )
    session.add(campaign)
    session.flush()
    return campaign


def insert_units(session: Session, count: int, *, at: datetime) -> list[int]:
    """`count` communes XA-00001… in twelve blocs, in one INSERT; their ids in order."""
    session.execute(
        sa.insert(Unit),
        [
            {
                "code": f"XA-{n:05d}",
                "name": f"Xã Thử Nghiệm {n}",
                "search_key": fold(f"XA-{n:05d} Xã Thử Nghiệm {n}"),
                "kind": "xa",
                "bloc": f"Khối {n % 12 + 1}",
                "active": True,
                "created_at": at,
            }
            for n in range(1, count + 1)
        ],
    )
    return list(session.execute(sa.select(Unit.id).order_by(Unit.id)).scalars().all())  # type: ignore[arg-type]  # a column, typed as int | None


def insert_reports(
    session: Session,
    deadline_ids: Sequence[int],
    unit_ids: Sequence[int],
    *,
    answers: dict[str, Any],
    at: datetime,
) -> datetime:
    """Four units in five hand in to every deadline, on time, three days after `at` (the fifth
    of each five stays missing), in one INSERT; when they handed in."""
    submitted_at = at + timedelta(days=3)
    session.execute(
        sa.insert(Report),
        [
            {
                "unit_id": uid,
                "deadline_id": deadline_id,
                "status": ReportStatus.SUBMITTED,
                "version": 1,
                "answers": answers,
                "submitted_at": submitted_at,
                "on_time": True,
                "created_at": at,
                "updated_at": submitted_at,
            }
            for deadline_id in deadline_ids
            for index, uid in enumerate(unit_ids)
            if index % 5 != 0
        ],
    )
    return submitted_at
