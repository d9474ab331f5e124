"""Report review (duyệt báo cáo) for admins: accept, return or reopen a unit's report.

    /travebaocao <đơn vị> <#hạn nộp> [lý do]   return it with a reason (asked for when missing)
    /duyetbaocao <đơn vị> <#hạn nộp>           accept (tiếp nhận) a submitted report
    /mobaocao <đơn vị> <#hạn nộp>              let the unit change a handed-in report again

A typed command names the unit and the report and asks before acting (a wrong number must not
reopen another report); the buttons under a submission notice act at once, since the notice
itself names both.

Buttons under a submission notice: `rpok`/`rpret:<report_id>:<version>` (an older version is a
stale button). The officers of the unit are told. Rules live in domain/reports.py; this module
only converses. No platform import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.access import Access, in_scope
from bot.catalog import t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound, Outbound
from bot.router import Router, make_payload, split_payload
from domain.organisers import office_words
from domain.reports import (
    ReportError,
    accept_report,
    find_report,
    find_unit,
    reopen_report,
    report_with_context,
    return_report,
    unit_officers,
)
from domain.text import clean_text
from handlers.reports import status_label
from models.campaigns import Campaign, Deadline
from models.reports import Report
from models.units import Unit

log = logging.getLogger("thidua.reports")
router = Router()

RETURN_FLOW = "report_return"
STEP_REASON = "reason"
CONFIRM_FLOW = "report_review_confirm"
STEP_CONFIRM = "confirm"
P_CONFIRM = "rvc"
EXAMPLE_RETURN = "/travebaocao XA-001 3 Thiếu số liệu mục 2"
EXAMPLE_ACCEPT = "/duyetbaocao XA-001 3"
EXAMPLE_REOPEN = "/mobaocao XA-001 3"


# --- admins: accept, return, reopen ---------------------------------------------------------------
@dataclass(slots=True)
class Target:
    report: Report
    deadline: Deadline
    unit: Unit

    @property
    def title(self) -> str:
        return self.deadline.title


def _target(ctx: Context, args: str, example: str) -> tuple[Target, str]:
    """The report named by `<unit code> <deadline id> [rest]`; raises InputError otherwise."""
    parts = args.split(maxsplit=2)
    if len(parts) < 2:
        raise InputError("reports.admin_usage", example=example)
    unit = find_unit(ctx.session, parts[0], scope=ctx.admin_scope)
    if unit is None:
        raise InputError("reports.admin_unknown_unit", code=parts[0], example=example)
    number = parts[1].lstrip("#")
    deadline = in_scope(ctx, "deadline", int(number)) if number.isdigit() else None
    if deadline is None:
        raise InputError("reports.admin_unknown_deadline", id=parts[1], example=example)
    report = find_report(ctx.session, unit_id=unit.id, deadline_id=deadline.id)  # type: ignore[arg-type]  # a stored row: its id is set
    if report is None:
        raise InputError("reports.admin_no_report", unit=unit.name, title=deadline.title)
    return Target(report, deadline, unit), parts[2] if len(parts) > 2 else ""


def _target_from_button(ctx: Context, payload: str | None) -> Target | None:
    """The report under an accept/return button, if the button still shows its last version."""
    _, parts = split_payload(payload or "")
    found = (
        report_with_context(ctx.session, int(parts[0])) if parts and parts[0].isdigit() else None
    )
    if found is not None and in_scope(ctx, "report", found[0].id) is None:
        found = None
    if found is not None and in_scope(ctx, "report", found[0].id) is None:
        found = None
    if found is None:
        ctx.say("reports.stale_out")
        return None
    report, deadline, unit = found
    if len(parts) > 1 and parts[1] != str(report.version):
        ctx.say("reports.admin_old_version", version=report.version)
        return None
    return Target(report, deadline, unit)


def _refused(ctx: Context, target: Target, exc: ReportError) -> None:
    if exc.reason == "already_open":
        ctx.say("reports.admin_already_open", title=target.title, unit=target.unit.name)
        return
    ctx.say(
        "reports.admin_not_submitted",
        title=target.title,
        unit=target.unit.name,
        status=status_label(target.report, target.deadline, ctx.now()),
    )


def _tell_officers(
    ctx: Context, target: Target, key: str, *, with_button: bool, by: str = "", **params: object
) -> None:
    """Tell the unit's officers the catalog text `key`, each in their channel's wording; `by`
    (a key of office_names) adds which office did it — the campaign's organiser, a commune's
    office for a commune's campaign."""
    words: dict[str, str] = {}
    if by:
        campaign = ctx.session.get(Campaign, target.deadline.campaign_id)
        words = office_words(ctx.session, organiser_id=campaign.organiser_id) if campaign else {}

    def notice() -> Outbound:
        text = t(key, **params)
        if by:
            text += "\n" + t(f"office_names.{by}", **words)
        buttons = (
            [[Button(t("reports.button.open"), make_payload("rp", target.deadline.id))]]
            if with_button
            else []
        )
        return Outbound(text, buttons)

    for officer in unit_officers(ctx.session, target.unit.id):  # type: ignore[arg-type]  # a stored row: its id is set
        ctx.notify_member(officer, notice)


def _return(ctx: Context, target: Target, reason: str) -> None:
    assert ctx.member is not None
    reason = clean_text(reason, max_length=1000)
    if len(reason) < 3:
        raise InputError("reports.admin_reason_short", example="Thiếu số liệu ở câu 3")
    try:
        return_report(
            ctx.session, report=target.report, admin=ctx.member, reason=reason, now=ctx.now()
        )
    except ReportError as exc:
        if ctx.flow == RETURN_FLOW:
            ctx.end()
        _refused(ctx, target, exc)
        return
    if ctx.flow == RETURN_FLOW:
        ctx.end()
    ctx.say("reports.admin_returned", title=target.title, unit=target.unit.name)
    _tell_officers(
        ctx,
        target,
        "reports.officer_returned",
        with_button=True,
        by="returned_by",
        title=target.title,
        reason=reason,
    )


def _ask_reason(ctx: Context, target: Target) -> None:
    ctx.begin(RETURN_FLOW, STEP_REASON, {"report_id": target.report.id})
    ctx.ask(t("reports.admin_ask_reason", title=target.title, unit=target.unit.name))


@router.command("travebaocao", access=Access.ADMIN, help_key="help.travebaocao")
async def return_command(event: Inbound, ctx: Context) -> None:
    """/travebaocao <unit code> <deadline id> <reason>; without a reason, it is asked for."""
    target, reason = _target(ctx, event.args, EXAMPLE_RETURN)
    if reason:
        _confirm(ctx, target, "return", reason)
    else:
        _ask_reason(ctx, target)


@router.button("rpret", access=Access.ADMIN)
async def return_button(event: Inbound, ctx: Context) -> None:
    target = _target_from_button(ctx, event.payload)
    if target is not None:
        _ask_reason(ctx, target)


@router.flow(RETURN_FLOW, access=Access.ADMIN)
async def return_reason(event: Inbound, ctx: Context) -> None:
    report = in_scope(ctx, "report", ctx.data.get("report_id") or 0)
    if report is None:
        ctx.end()
        ctx.say("reports.stale_out")
        return
    deadline = ctx.session.get(Deadline, report.deadline_id)
    unit = ctx.session.get(Unit, report.unit_id)
    assert deadline is not None and unit is not None
    _return(ctx, Target(report, deadline, unit), event.text)


@router.flow_command(RETURN_FLOW, "huy")
async def cancel_return(event: Inbound, ctx: Context) -> None:
    ctx.end()
    ctx.say("reports.admin_cancelled")


def _accept(ctx: Context, target: Target) -> None:
    assert ctx.member is not None
    try:
        accept_report(ctx.session, report=target.report, admin=ctx.member, now=ctx.now())
    except ReportError as exc:
        _refused(ctx, target, exc)
        return
    reference = target.report.reference or ""
    ctx.say(
        "reports.admin_accepted", title=target.title, unit=target.unit.name, reference=reference
    )
    _tell_officers(
        ctx,
        target,
        "reports.officer_accepted",
        with_button=False,
        by="accepted_by",
        title=target.title,
        reference=reference,
    )


@router.command("duyetbaocao", access=Access.ADMIN, help_key="help.duyetbaocao")
async def accept_command(event: Inbound, ctx: Context) -> None:
    """/duyetbaocao <unit code> <deadline id>: accept (tiếp nhận) a submitted report."""
    target, _ = _target(ctx, event.args, EXAMPLE_ACCEPT)
    _confirm(ctx, target, "accept")


@router.button("rpok", access=Access.ADMIN)
async def accept_button(event: Inbound, ctx: Context) -> None:
    target = _target_from_button(ctx, event.payload)
    if target is not None:
        _accept(ctx, target)


@router.command("mobaocao", access=Access.ADMIN, help_key="help.mobaocao")
async def reopen_command(event: Inbound, ctx: Context) -> None:
    """/mobaocao <unit code> <deadline id>: let the unit change a handed-in report again."""
    target, _ = _target(ctx, event.args, EXAMPLE_REOPEN)
    _confirm(ctx, target, "reopen")


def _reopen(ctx: Context, target: Target) -> None:
    assert ctx.member is not None
    try:
        reopen_report(ctx.session, report=target.report, admin=ctx.member, now=ctx.now())
    except ReportError as exc:
        _refused(ctx, target, exc)
        return
    ctx.say("reports.admin_reopened", title=target.title, unit=target.unit.name)
    _tell_officers(
        ctx,
        target,
        "reports.officer_reopened",
        with_button=True,
        by="reopened_by",
        title=target.title,
    )


# --- asking before a typed command acts -----------------------------------------------------------
def _confirm(ctx: Context, target: Target, action: str, reason: str = "") -> None:
    ctx.begin(
        CONFIRM_FLOW,
        STEP_CONFIRM,
        {
            "action": action,
            "report_id": target.report.id,
            "version": target.report.version,
            "reason": reason,
        },
    )
    ctx.ask(
        t(
            f"hints.review_confirm_{action}",
            title=target.title,
            id=target.deadline.id,
            unit=target.unit.name,
            code=target.unit.code,
            status=status_label(target.report, target.deadline, ctx.now()),
            reason=reason,
        ),
        [
            [
                Button(t(f"hints.review_yes_{action}"), make_payload(P_CONFIRM, "yes")),
                Button(t("hints.review_no"), make_payload(P_CONFIRM, "no")),
            ]
        ],
    )


@router.button(P_CONFIRM, access=Access.ADMIN)
async def on_confirm(event: Inbound, ctx: Context) -> None:
    _confirmed(event, ctx)
    if ctx.replies:
        # The answer takes the question's place: no "Duyệt/Huỷ" keyboard left to press again.
        ctx.replies[0].replace = True


def _confirmed(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    if ctx.flow != CONFIRM_FLOW:
        ctx.say("reports.stale_out")
        return
    data = dict(ctx.data)
    ctx.end()
    if not parts or parts[0] != "yes":
        ctx.say("reports.admin_cancelled")
        return
    found = report_with_context(ctx.session, int(data.get("report_id") or 0))
    if found is None:
        ctx.say("reports.stale_out")
        return
    report, deadline, unit = found
    if report.version != data.get("version"):
        ctx.say("reports.admin_old_version", version=report.version)
        return
    target = Target(report, deadline, unit)
    action = data.get("action")
    if action == "accept":
        _accept(ctx, target)
    elif action == "reopen":
        _reopen(ctx, target)
    elif action == "return":
        _return(ctx, target, str(data.get("reason") or ""))


@router.flow(CONFIRM_FLOW, access=Access.ADMIN)
async def confirm_typed(event: Inbound, ctx: Context) -> None:
    raise InputError("hints.review_use_buttons")


@router.flow_command(CONFIRM_FLOW, "huy")
async def cancel_confirm(event: Inbound, ctx: Context) -> None:
    ctx.end()
    ctx.say("reports.admin_cancelled")
