"""The rules of a unit's report (báo cáo) for a deadline: drafts saved answer by answer,
submitting (who, when, on time or late, a reference code, a kept version), amending before the
deadline, returning for correction, accepting and reopening, and the nominations a submitted
report carries.

One `Report` per (unit, deadline) is shared by the unit's officers. Every write goes through
`_write`, which checks `Report.revision`: a writer that read an older revision raises
`ConcurrentUpdate` and the core handles the whole update again on fresh data, so two officers
answering at once never lose each other's answers — the later answer to the same field wins.
`Report.answers` is the working copy; what was handed in is the latest `ReportVersion`
(`submitted_answers`). No channel, no catalog text here: callers turn `ReportError.reason`
into words.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from domain import audit
from domain import scope as scoped
from domain.errors import ConcurrentUpdate
from domain.forms import Form, format_answer, problems
from domain.scope import Scope
from models.base import rowcount, table_of
from models.campaigns import Campaign, CampaignStatus, Deadline
from models.reports import Attachment, Nomination, Report, ReportStatus, ReportVersion
from models.units import Member, MemberStatus, Unit

EDITABLE = (ReportStatus.DRAFT, ReportStatus.RETURNED, ReportStatus.REOPENED)
# Lengths of the Nomination columns (models/reports.py).
_COLUMN_LIMITS = {
    "full_name": 200,
    "job_title": 200,
    "unit_name": 200,
    "award": 120,
    "summary": 4000,
}


class ReportError(Exception):
    """A report cannot do what was asked; `reason` says why (closed, accepted, incomplete…)."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


# --- finding ----------------------------------------------------------------------------------
_REPORT_WITH_CONTEXT = (
    select(Report, Deadline, Unit)
    .join(Deadline, col(Deadline.id) == col(Report.deadline_id))
    .join(Unit, col(Unit.id) == col(Report.unit_id))
    .where(col(Report.id) == sa.bindparam("r_id"))
)


def report_with_context(session: Session, report_id: int) -> tuple[Report, Deadline, Unit] | None:
    """A report with its deadline and unit, read in one query (every answer in a report
    conversation reads them again, so one round trip instead of three, with the statement
    built once)."""
    row = session.exec(_REPORT_WITH_CONTEXT, params={"r_id": report_id}).first()
    return None if row is None else (row[0], row[1], row[2])


def find_report(session: Session, *, unit_id: int, deadline_id: int) -> Report | None:
    return session.exec(
        select(Report).where(Report.unit_id == unit_id, Report.deadline_id == deadline_id)
    ).first()


def get_or_create_report(
    session: Session, *, unit: Unit, deadline: Deadline, now: datetime
) -> Report:
    """The unit's report for the deadline, created as an empty draft the first time.

    Two officers opening it at the same instant both insert; the unique key makes one of the
    transactions fail and the core runs that update again, which then finds the row.
    """
    report = find_report(session, unit_id=unit.id, deadline_id=deadline.id)  # type: ignore[arg-type]  # a stored row: its id is set
    if report is None:
        report = Report(
            unit_id=unit.id,  # type: ignore[arg-type]  # a stored row: its id is set
            deadline_id=deadline.id,  # type: ignore[arg-type]  # a stored row: its id is set
            status=ReportStatus.DRAFT,
            answers={},
            created_at=now,
            updated_at=now,
        )
        session.add(report)
        session.flush()
    return report


# --- who may change what ----------------------------------------------------------------------
def edit_refusal(report: Report, deadline: Deadline, now: datetime) -> str | None:
    """None when the unit may change the answers now, else the reason.

    Drafts, returned and reopened reports are open (a late report is still wanted). A
    submitted report may be amended until the due instant; after it an admin must reopen it.
    An accepted report is closed.
    """
    if report.status in EDITABLE:
        return None
    if report.status == ReportStatus.SUBMITTED:
        return None if now <= deadline.due_at else "closed"
    return "accepted"


def campaign_refusal(session: Session, deadline: Deadline) -> str | None:
    """None while the deadline's campaign is active; else its name (it was closed, or put back
    to a draft, since the officer opened the report). Every answer and the submission ask it
    again: a report must not be handed in to a campaign that /baocao no longer offers."""
    campaign = session.get(Campaign, deadline.campaign_id)
    if campaign is not None and campaign.status == CampaignStatus.ACTIVE:
        return None
    return campaign.name if campaign is not None else ""


def is_on_time(deadline: Deadline, at: datetime) -> bool:
    return at <= deadline.due_at


# --- saving answers ---------------------------------------------------------------------------
@functools.cache
def _revision_checked_update(columns: tuple[str, ...]) -> sa.Update:
    """UPDATE report SET <columns>, revision, updated_at WHERE id and revision match; built once
    per set of columns, values bound at run time."""
    table = table_of(Report)
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("w_id"), table.c.revision == sa.bindparam("w_revision"))
        .values(
            revision=sa.bindparam("w_next", type_=table.c.revision.type),
            updated_at=sa.bindparam("w_now", type_=table.c.updated_at.type),
            **{name: sa.bindparam(f"v_{name}", type_=table.c[name].type) for name in columns},
        )
    )


def _write(session: Session, report: Report, now: datetime, **values: Any) -> None:
    """One revision-checked UPDATE of the report; the object in memory follows it."""
    session.flush()
    result = session.execute(
        _revision_checked_update(tuple(sorted(values))),
        {
            "w_id": report.id,
            "w_revision": report.revision,
            "w_next": report.revision + 1,
            "w_now": now,
            **{f"v_{name}": value for name, value in values.items()},
        },
    )
    if rowcount(result) != 1:
        raise ConcurrentUpdate(f"report {report.id}")
    for name, value in {**values, "revision": report.revision + 1, "updated_at": now}.items():
        set_committed_value(report, name, value)


def _answers(report: Report) -> dict[str, Any]:
    return copy.deepcopy(report.answers or {})


def set_answer(
    session: Session, *, report: Report, path: Sequence[str | int], value: Any, now: datetime
) -> None:
    """Store one answer: `[field_id]` or `[group_id, entry_index, sub_field_id]`.

    Only that answer changes; whatever a colleague saved meanwhile in other fields stays.
    """
    answers = _answers(report)
    if len(path) == 1:
        answers[str(path[0])] = value
    else:
        group_id, index, sub_id = str(path[0]), int(path[1]), str(path[2])
        entries = answers.get(group_id)
        if not isinstance(entries, list) or not 0 <= index < len(entries):
            # The entry went away (a colleague deleted it): the core re-asks from fresh data.
            raise ConcurrentUpdate(f"report {report.id}: entry {group_id}[{index}] is gone")
        entries[index][sub_id] = value
    _write(session, report, now, answers=answers)


def add_entry(session: Session, *, report: Report, group_id: str, now: datetime) -> int:
    """Start a new entry of a group; returns its index."""
    answers = _answers(report)
    entries = answers.get(group_id)
    if not isinstance(entries, list):
        entries = answers[group_id] = []
    entries.append({})
    _write(session, report, now, answers=answers)
    return len(entries) - 1


def remove_entry(
    session: Session, *, report: Report, group_id: str, index: int, now: datetime
) -> None:
    answers = _answers(report)
    entries = answers.get(group_id)
    if isinstance(entries, list) and 0 <= index < len(entries):
        del entries[index]
        _write(session, report, now, answers=answers)


def close_group(session: Session, *, report: Report, group_id: str, now: datetime) -> None:
    """Mark a group as visited even when it has no entry (an optional list left empty)."""
    if not isinstance((report.answers or {}).get(group_id), list):
        set_answer(session, report=report, path=[group_id], value=[], now=now)


# --- submitting -------------------------------------------------------------------------------
def reference_code(report_id: int, version: int) -> str:
    """The short code on the receipt: report and version, e.g. BC-00042-2."""
    return f"BC-{report_id:05d}-{version}"


@dataclass(frozen=True, slots=True)
class Submission:
    version: int
    reference: str
    on_time: bool
    amended: bool


def submit(
    session: Session,
    *,
    report: Report,
    deadline: Deadline,
    form: Form,
    member: Member,
    now: datetime,
) -> Submission:
    """Hand the report in: a new `ReportVersion`, nominations rebuilt, receipt data returned.

    `Report.on_time` keeps whether the unit first handed in by the due instant: corrections an
    admin asked for do not make a unit late. Each version records its own punctuality.
    """
    refusal = edit_refusal(report, deadline, now)
    if refusal is not None:
        raise ReportError(refusal)
    inactive = campaign_refusal(session, deadline)
    if inactive is not None:
        raise ReportError("campaign_inactive", campaign=inactive)
    # The whole report against every rule of the form, cross-field ones included.
    missing = problems(form, report.answers or {})
    if missing:
        raise ReportError("incomplete", problems=missing)
    on_time = is_on_time(deadline, now)
    version = report.version + 1
    reference = reference_code(report.id, version)  # type: ignore[arg-type]  # a stored row: its id is set
    answers = _answers(report)
    session.add(
        ReportVersion(
            report_id=report.id,  # type: ignore[arg-type]  # a stored row: its id is set
            version=version,
            answers=answers,
            submitted_at=now,
            submitted_by_id=member.id,
            on_time=on_time,
        )
    )
    _write(
        session,
        report,
        now,
        status=ReportStatus.SUBMITTED,
        version=version,
        reference=reference,
        submitted_at=now,
        submitted_by_id=member.id,
        on_time=on_time if report.version == 0 else bool(report.on_time),
        return_reason=None,
    )
    rebuild_nominations(session, report=report, form=form)
    # The receipt says what every screen says: the report's punctuality (first hand-in).
    return Submission(version, reference, bool(report.on_time), amended=version > 1)


def rebuild_nominations(session: Session, *, report: Report, form: Form) -> list[Nomination]:
    """Replace the report's `Nomination` rows with one per entry of the form's nomination group.

    Choices are stored by label (what the proposal says), except the nominee type, which keeps
    its value (individual / collective) for counting.
    """
    session.execute(sa.delete(Nomination).where(col(Nomination.report_id) == report.id))
    mapping = form.nominations
    if mapping is None:
        return []
    group = form.field(mapping.group)
    rows: list[Nomination] = []
    for position, entry in enumerate((report.answers or {}).get(mapping.group) or []):
        values: dict[str, Any] = {}
        for column, sub_id in mapping.columns.items():
            sub = group.sub(sub_id)
            raw = entry.get(sub_id)
            if column == "nominee_type":
                values[column] = raw or "individual"
            else:
                values[column] = format_answer(sub, raw)[: _COLUMN_LIMITS[column]]
        row = Nomination(report_id=report.id, position=position, **values)  # type: ignore[arg-type]  # a stored row: its id is set
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def submitted_answers(session: Session, report: Report) -> dict[str, Any] | None:
    """What the unit last handed in (None when never submitted) — exports read this."""
    latest = session.exec(
        select(ReportVersion)
        .where(ReportVersion.report_id == report.id)
        .order_by(col(ReportVersion.version).desc())
    ).first()
    return latest.answers if latest else None


def has_unsent_changes(session: Session, report: Report) -> bool:
    """A submitted report whose working copy differs from what was handed in."""
    if report.version == 0:
        return False
    return submitted_answers(session, report) != (report.answers or {})


# --- admin decisions --------------------------------------------------------------------------
def return_report(
    session: Session, *, report: Report, admin: Member, reason: str, now: datetime
) -> None:
    """Send a submitted report back to the unit for correction, with the reason."""
    if report.status not in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED):
        raise ReportError("not_submitted")
    _write(session, report, now, status=ReportStatus.RETURNED, return_reason=reason)
    audit.record(
        session,
        now=now,
        action="report.return",
        actor=admin,
        target_type="report",
        target_id=report.id,
        detail={"reason": reason, "version": report.version},
    )


def accept_report(session: Session, *, report: Report, admin: Member, now: datetime) -> None:
    """Accept (tiếp nhận) the submitted report: it is closed to changes."""
    if report.status != ReportStatus.SUBMITTED:
        raise ReportError("accepted" if report.status == ReportStatus.ACCEPTED else "not_submitted")
    _write(session, report, now, status=ReportStatus.ACCEPTED)
    audit.record(
        session,
        now=now,
        action="report.accept",
        actor=admin,
        target_type="report",
        target_id=report.id,
        detail={"version": report.version},
    )


def reopen_report(session: Session, *, report: Report, admin: Member, now: datetime) -> None:
    """Let the unit change a handed-in report again (after the deadline, or once accepted)."""
    if report.version == 0 or report.status == ReportStatus.DRAFT:
        raise ReportError("not_submitted")
    if report.status in (ReportStatus.REOPENED, ReportStatus.RETURNED):
        raise ReportError("already_open")
    _write(session, report, now, status=ReportStatus.REOPENED)
    audit.record(
        session,
        now=now,
        action="report.reopen",
        actor=admin,
        target_type="report",
        target_id=report.id,
        detail={"version": report.version},
    )


# --- people to tell ---------------------------------------------------------------------------
def reachable(members: Sequence[Member]) -> list[Member]:
    return [m for m in members if m.unreachable_at is None]


def admins_of_deadline(session: Session, deadline: Deadline) -> list[Member]:
    """The admins of the organiser whose campaign asks for the report."""
    campaign = session.get(Campaign, deadline.campaign_id)
    return [] if campaign is None else scoped.admins_of(campaign.organiser_id, session=session)


def unit_officers(session: Session, unit_id: int) -> list[Member]:
    return reachable(
        session.exec(
            select(Member).where(Member.unit_id == unit_id, Member.status == MemberStatus.APPROVED)
        ).all()
    )


def find_unit(session: Session, code: str, *, scope: Scope) -> Unit | None:
    """A unit of the scope by its code, case aside."""
    return session.exec(
        scoped.units(scope).where(sa.func.upper(Unit.code) == code.strip().upper())
    ).first()


def submitted_deadlines(unit_id: int, *, session: Session) -> list[Deadline]:
    """The deadlines a unit has handed a report in for, latest due first."""
    return list(
        session.exec(
            select(Deadline)
            .join(Report, col(Report.deadline_id) == col(Deadline.id))
            .where(Report.unit_id == unit_id, col(Report.submitted_at).is_not(None))
            .order_by(col(Deadline.due_at).desc())
        ).all()
    )


def report_files(report_id: int, ids: Sequence[int], *, session: Session) -> list[Attachment]:
    """The stored files of a report among `ids` (ids from another report are left out)."""
    return list(
        session.exec(
            select(Attachment).where(col(Attachment.id).in_(ids), Attachment.report_id == report_id)
        ).all()
    )
