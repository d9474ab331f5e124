"""What officers and admins see of deadlines and reminders: /hanchot (my unit's open deadlines),
the "Nhắc ngay" button (payload `nhac:<deadline_id>`, shown by /chuanop), and the wording of a
reminder and of the admins' daily digest, which the scheduler sends.

Timing and the never-twice rules live in `domain.schedule` and `domain.ledger`; this module
only decides what is said. A reminder carries the button that starts the report for its deadline (`rp:<id>`,
handled by the reports capability).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.access import Access, in_scope
from bot.catalog import Raw, has, t
from bot.context import Context
from bot.events import Button, Inbound, Outbound
from bot.router import Router, make_payload, split_payload
from domain import audit
from domain.campaigns import (
    UnitStatus,
    open_deadlines_for_unit,
    reports_by_unit,
    unit_status,
)
from domain.dates import format_date
from domain.digest import Digest, ReminderIssue
from domain.forms import base_form_code
from domain.ledger import queue_manual
from domain.schedule import SlotKind, policy_of, slot_kind
from handlers.signing import scan_note
from models.campaigns import Campaign, CampaignStatus, Deadline
from models.units import Unit

router = Router()

REPORT_PREFIX = "rp"  # the report flow's button (handlers/reports.py)
REMIND_PREFIX = "nhac"
DIGEST_LIST_LIMIT = 15
BUTTON_TITLE_LIMIT = 40


# --- formatting -------------------------------------------------------------------------------
def format_due(due_at: datetime, tz: ZoneInfo) -> str:
    """`17:00 thứ Hai, 16/03/2026`."""
    local = due_at.astimezone(tz)
    weekday = t(f"reminders.weekday_{local.weekday()}")
    return f"{local:%H:%M} {weekday}, {format_date(local.date())}"


def format_duration(delta: timedelta) -> str:
    """`6 ngày 9 giờ`, `5 giờ 30 phút`, `40 phút`."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        if hours:
            return t("reminders.duration_days_hours", days=days, hours=hours)
        return t("reminders.duration_days", days=days)
    if hours:
        if minutes:
            return t("reminders.duration_hours_minutes", hours=hours, minutes=minutes)
        return t("reminders.duration_hours", hours=hours)
    return t("reminders.duration_minutes", minutes=max(minutes, 1))


def time_left(due_at: datetime, now: datetime) -> str:
    """`còn 6 ngày 9 giờ` or `quá hạn 2 ngày`."""
    if now < due_at:
        return t("reminders.left", left=format_duration(due_at - now))
    return t("reminders.late", late=format_duration(now - due_at))


def _short(title: str) -> str:
    return title if len(title) <= BUTTON_TITLE_LIMIT else title[: BUTTON_TITLE_LIMIT - 1] + "…"


def report_button(deadline: Deadline, label: str | None = None) -> Button:
    return Button(label or t("reminders.button_report"), make_payload(REPORT_PREFIX, deadline.id))


# --- the reminder ---------------------------------------------------------------------------
def reminder_message(
    *,
    deadline: Deadline,
    campaign: Campaign,
    unit_name: str,
    now: datetime,
    reminder_slot: str = "",
    organiser: str | None = None,
) -> Outbound:
    """A reminder: names the campaign, the deadline and the time left (computed at send time),
    and the office that sends it (the campaign's organiser; None: the settings' name), with
    the button that starts the report."""
    tz = ZoneInfo(campaign.timezone)
    kind = slot_kind(reminder_slot) if reminder_slot else SlotKind.BEFORE
    if now >= deadline.due_at:
        heading = t("reminders.heading_overdue", title=deadline.title)
        left = t("reminders.body_late", late=format_duration(now - deadline.due_at))
    else:
        key = "reminders.heading_due" if kind == SlotKind.DUE else "reminders.heading_before"
        if deadline.due_at.astimezone(tz).date() == now.astimezone(tz).date():
            key = "reminders.heading_due"
        heading = t(key, title=deadline.title)
        left = t("reminders.body_left", left=format_duration(deadline.due_at - now))
    text = t(
        "reminders.body",
        heading=Raw(heading),
        campaign=campaign.name,
        number=campaign.document_number,
        unit=unit_name,
        due=format_due(deadline.due_at, tz),
        left=Raw(left),
    )
    words = {"organiser": organiser} if organiser else {}
    text += "\n" + t("office_names.reminder_from", **words)
    return Outbound(text, [[report_button(deadline)]])


# --- the admins' digest --------------------------------------------------------------------------
def _reason(issue: ReminderIssue) -> str:
    if issue.error.startswith("gave up after"):
        return t("reminders.reason_gave_up")
    if issue.error.startswith("gave up"):
        return t("reminders.reason_too_late")
    return t("reminders.reason_blocked")


def _issue_lines(issues: list[ReminderIssue], *, with_reason: bool) -> list[str]:
    lines = [
        t(
            "reminders.digest_issue_reason" if with_reason else "reminders.digest_issue",
            unit=i.unit_name,
            member=i.member_name,
            title=i.deadline_title,
            reason=_reason(i) if with_reason else "",
        )
        for i in issues[:DIGEST_LIST_LIMIT]
    ]
    if len(issues) > DIGEST_LIST_LIMIT:
        lines.append(t("reminders.digest_more", count=len(issues) - DIGEST_LIST_LIMIT))
    return lines


def digest_message(digest: Digest, *, now: datetime, tz: ZoneInfo) -> Outbound:
    """Per open deadline: submitted, late, missing; units missing 3 days after the due date by
    name; reminders with an unknown outcome (never resent automatically) and given up."""
    parts = [t("reminders.digest_title", date=format_date(digest.day))]
    buttons: list[list[Button]] = []
    if not digest.entries:
        parts.append(t("reminders.digest_no_deadlines"))
    for entry in digest.entries:
        p = entry.progress
        block = t(
            "reminders.digest_deadline",
            title=p.deadline.title,
            campaign=p.campaign.name,
            due=format_due(p.deadline.due_at, tz),
            left=time_left(p.deadline.due_at, now),
            submitted=p.submitted,
            total=p.total,
            late=p.late,
            missing=len(p.missing),
        )
        if entry.escalated:
            names = ", ".join(u.name for u in entry.escalated[:DIGEST_LIST_LIMIT])
            if len(entry.escalated) > DIGEST_LIST_LIMIT:
                names += ", " + t(
                    "reminders.digest_more", count=len(entry.escalated) - DIGEST_LIST_LIMIT
                )
            block += "\n" + t("reminders.digest_escalated", units=names)
        parts.append(block)
        if p.missing and len(buttons) < 5:
            label = t("reminders.button_remind_now", title=Raw(_short(p.deadline.title)))
            buttons.append([Button(label, make_payload(REMIND_PREFIX, p.deadline.id))])
    if digest.unknown:
        parts.append(
            "\n".join(
                [
                    t("reminders.digest_unknown", count=len(digest.unknown)),
                    *_issue_lines(digest.unknown, with_reason=False),
                ]
            )
        )
    if digest.failed:
        parts.append(
            "\n".join(
                [
                    t("reminders.digest_failed", count=len(digest.failed)),
                    *_issue_lines(digest.failed, with_reason=True),
                ]
            )
        )
    if digest.out_of_reach:
        parts.append(
            "\n".join(
                [
                    t("reminders.digest_out_of_reach", count=len(digest.out_of_reach)),
                    *_issue_lines(digest.out_of_reach, with_reason=False),
                ]
            )
        )
    parts.append(
        t("reminders.digest_totals", sent=digest.sent_last_day, waiting=digest.waiting_retry)
    )
    return Outbound("\n\n".join(parts), buttons)


# --- /hanchot ------------------------------------------------------------------------------------
DONE = {UnitStatus.SUBMITTED, UnitStatus.LATE, UnitStatus.ACCEPTED}


@router.command("hanchot", access=Access.OFFICER, help_key="help.hanchot")
async def my_deadlines(event: Inbound, ctx: Context) -> None:
    """My unit's open deadlines: what is due, when, how long is left, where we stand."""
    assert ctx.member is not None and ctx.member.unit_id is not None
    unit = ctx.session.get(Unit, ctx.member.unit_id)
    assert unit is not None
    deadlines = open_deadlines_for_unit(ctx.session, unit)
    if not deadlines:
        ctx.say("reminders.hanchot_empty", unit=unit.name)
        return
    now = ctx.now()
    lines = [t("reminders.hanchot_title", unit=unit.name)]
    buttons: list[list[Button]] = []
    for deadline in deadlines:
        campaign = ctx.session.get(Campaign, deadline.campaign_id)
        assert campaign is not None
        report = reports_by_unit(ctx.session, deadline).get(unit.id)  # type: ignore[arg-type]  # a stored row: its id is set
        status = unit_status(report, deadline, now)
        lines.append(
            t(
                "reminders.hanchot_item",
                id=deadline.id,
                title=deadline.title,
                campaign=campaign.name,
                form=t(f"campaigns.form_{base_form_code(deadline.form_code)}")
                if _has_form_label(base_form_code(deadline.form_code))
                else deadline.form_code,
                due=format_due(deadline.due_at, ZoneInfo(campaign.timezone)),
                left=time_left(deadline.due_at, now),
                status=t(f"status.{status}") + scan_note(ctx.session, report, deadline),
            )
        )
        if status not in DONE:
            label = t("reminders.button_report_for", title=Raw(_short(deadline.title)))
            buttons.append([report_button(deadline, label)])
    ctx.reply("\n\n".join(lines), buttons)


def _has_form_label(code: str) -> bool:
    return has(f"campaigns.form_{code}")


# --- "Nhắc ngay" ---------------------------------------------------------------------------------
@router.button(REMIND_PREFIX, access=Access.ADMIN)
async def remind_now(event: Inbound, ctx: Context) -> None:
    """Send a reminder now to the units still missing a deadline (admins only, audited)."""
    _, parts = split_payload(event.payload or "")
    deadline = in_scope(ctx, "deadline", int(parts[0])) if parts and parts[0].isdigit() else None
    if deadline is None:
        ctx.say("reminders.nhac_unknown")
        return
    campaign = ctx.session.get(Campaign, deadline.campaign_id)
    assert campaign is not None
    if campaign.status != CampaignStatus.ACTIVE:
        ctx.say("reminders.nhac_inactive", title=deadline.title)
        return
    now = ctx.now()
    queued = queue_manual(ctx.session, deadline, now=now, channels=ctx.services.hub.channels)
    audit.record(
        ctx.session,
        now=now,
        action="reminder.manual",
        actor=ctx.member,
        target_type="deadline",
        target_id=deadline.id,
        detail={
            "missing_units": queued.missing_units,
            "queued_members": queued.queued_members,
            "covered_members": queued.covered_members,
        },
    )
    if queued.missing_units == 0:
        ctx.say("reminders.nhac_none_missing", title=deadline.title)
        return
    lines: list[str] = []
    tz = ZoneInfo(campaign.timezone)
    if queued.queued_members:
        assert queued.send_at is not None
        if queued.send_at > now:
            policy = policy_of(deadline)
            lines.append(
                t(
                    "reminders.nhac_queued_quiet",
                    title=deadline.title,
                    members=queued.queued_members,
                    units=queued.queued_units,
                    start=policy.quiet_start.strftime("%H:%M"),
                    end=policy.quiet_end.strftime("%H:%M"),
                    at=format_due(queued.send_at, tz),
                )
            )
        else:
            lines.append(
                t(
                    "reminders.nhac_queued",
                    title=deadline.title,
                    members=queued.queued_members,
                    units=queued.queued_units,
                )
            )
    elif queued.covered_members:
        lines.append(t("reminders.nhac_all_covered", title=deadline.title))
    if queued.queued_members and queued.covered_members:
        lines.append(t("reminders.nhac_covered", count=queued.covered_members))
    if queued.units_without_officer:
        lines.append(t("reminders.nhac_no_officer", count=queued.units_without_officer))
    ctx.reply("\n".join(lines))
    scheduler = ctx.services.reminders
    if scheduler is not None and queued.queued_members:
        scheduler.wake()
