"""Progress of a deadline at a glance (tiến độ): how many units handed in on time, late, were
sent back, are drafting, or have not started — overall, per bloc (khối thi đua) and per unit.

Plain counting over the shared campaign queries; nothing is rendered here (texts and charts
are built by the caller from these numbers) and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col

from domain import scope as scoped
from domain.campaigns import participating_units, reports_by_unit
from domain.scope import Scope
from models.campaigns import Campaign, CampaignStatus, Deadline
from models.reports import Report, ReportStatus
from models.units import Unit


class Category:
    """Where a unit stands on one deadline, for counting. The order of `ALL` is the order of
    the segments in charts and of the columns in texts: done first, nothing last."""

    ON_TIME = "on_time"  # handed in by the due instant (accepted ones included)
    LATE = "late"  # handed in after it
    RETURNED = "returned"  # sent back or reopened for correction: not in until sent again
    DRAFT = "draft"  # answers saved, not sent
    NOT_STARTED = "not_started"  # nothing saved yet

    ALL = (ON_TIME, LATE, RETURNED, DRAFT, NOT_STARTED)


def categorize(report: Report | None) -> str:
    """The category of a unit's report (None: the unit has no report row)."""
    if report is None:
        return Category.NOT_STARTED
    if report.status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED):
        return Category.ON_TIME if report.on_time else Category.LATE
    if report.status in (ReportStatus.RETURNED, ReportStatus.REOPENED):
        # The same rule as domain.campaigns.unit_status: reopened is being corrected, like
        # returned, whatever answers it holds.
        return Category.RETURNED
    if report.answers:
        return Category.DRAFT
    return Category.NOT_STARTED


@dataclass(slots=True)
class Counts:
    on_time: int = 0
    late: int = 0
    returned: int = 0
    draft: int = 0
    not_started: int = 0
    # Of the handed-in ones, how many the office has already accepted (đã duyệt).
    accepted: int = 0

    def add(self, category: str, *, accepted: bool = False) -> None:
        setattr(self, category, getattr(self, category) + 1)
        if accepted:
            self.accepted += 1

    def get(self, category: str) -> int:
        return int(getattr(self, category))

    @property
    def submitted(self) -> int:
        return self.on_time + self.late

    @property
    def total(self) -> int:
        return sum(self.get(c) for c in Category.ALL)

    @property
    def missing(self) -> int:
        return self.total - self.submitted

    def values(self) -> list[int]:
        """The counts in `Category.ALL` order (a chart's stacked segments)."""
        return [self.get(c) for c in Category.ALL]


@dataclass(slots=True)
class UnitProgress:
    unit: Unit
    category: str
    report: Report | None


@dataclass(slots=True)
class DeadlineProgress:
    deadline: Deadline
    campaign: Campaign
    overdue: bool
    units: list[UnitProgress] = field(default_factory=list)
    total: Counts = field(default_factory=Counts)
    # Bloc name (None: units without a bloc) -> counts, in order of bloc name.
    by_bloc: dict[str | None, Counts] = field(default_factory=dict)

    @property
    def bloc_count(self) -> int:
        return len(self.by_bloc)


def deadline_progress(deadline: Deadline, *, session: Session, now: datetime) -> DeadlineProgress:
    """Counts for one deadline over the units taking part in its campaign."""
    campaign = session.get(Campaign, deadline.campaign_id)
    if campaign is None:
        raise ValueError(f"deadline {deadline.id} has no campaign")
    reports = reports_by_unit(session, deadline)
    progress = DeadlineProgress(deadline=deadline, campaign=campaign, overdue=now > deadline.due_at)
    blocs: dict[str | None, Counts] = {}
    for unit in participating_units(session, campaign):
        report = reports.get(unit.id) if unit.id is not None else None
        category = categorize(report)
        accepted = report is not None and report.status == ReportStatus.ACCEPTED
        progress.units.append(UnitProgress(unit, category, report))
        progress.total.add(category, accepted=accepted)
        blocs.setdefault(unit.bloc, Counts()).add(category, accepted=accepted)
    # Named blocs alphabetically, units without a bloc last.
    progress.by_bloc = dict(sorted(blocs.items(), key=lambda kv: (kv[0] is None, kv[0] or "")))
    return progress


def open_deadlines(*, scope: Scope, session: Session) -> list[Deadline]:
    """Deadlines of the scope's active campaigns, soonest due first. Past ones stay: late
    reports are still wanted, and the office follows them up."""
    return list(
        session.exec(
            scoped.deadlines(scope)
            .where(Campaign.status == CampaignStatus.ACTIVE)
            .order_by(col(Deadline.due_at), col(Deadline.id))
        ).all()
    )


def focus_deadline(deadlines: list[Deadline], *, now: datetime) -> Deadline | None:
    """The deadline most worth a chart: the next one due, else the one that passed last."""
    upcoming = [d for d in deadlines if d.due_at >= now]
    if upcoming:
        return min(upcoming, key=lambda d: d.due_at)
    return max(deadlines, key=lambda d: d.due_at) if deadlines else None
