"""Progress (tiến độ) for admins: counts per open deadline with a chart, and who is missing.

    /tiendo [mốc]        counts per open deadline and a chart (photo) of one of them
    /chuanop [mốc]       units that have not handed in, their officers and phones, "Nhắc ngay"

Admin-only (checked by the core); every use is audited. The "Nhắc ngay" button's payload
(`nhac:<deadline id>`) is handled by the reminders capability, not here. Rules live in
domain/progress.py and domain/chart.py. It must not import a platform.
"""

from __future__ import annotations

import asyncio
import math

from bot.access import Access, can_see_personal_data, in_scope
from bot.catalog import t
from bot.context import Context
from bot.events import Button, Inbound, OutboundFile
from bot.router import Router, make_payload
from domain.campaigns import missing_units
from domain.chart import BarRow, render_stacked_bars
from domain.dossier import units_waiting_for_scan
from domain.export import (
    officers_by_unit,
)
from domain.progress import (
    Category,
    DeadlineProgress,
    deadline_progress,
    focus_deadline,
    open_deadlines,
)
from domain.text import fold
from handlers.admin_common import (
    MAX_PICK_BUTTONS,
    audit_action,
    deadline_arg,
    deadline_buttons,
    due_phrase,
    format_when,
    payload_ints,
    plain,
)
from models.campaigns import Deadline
from models.units import Member

router = Router()

# Button prefixes owned here. "nhac" (remind now) belongs to the reminders capability.
P_CHART = "adm-td"  # adm-td:<deadline>
P_MISSING = "adm-cn"  # adm-cn:<deadline>:<page>
REMIND_NOW = "nhac"


MISSING_PAGE_SIZE = 15


# --- /tiendo ----------------------------------------------------------------------------------
def _progress_block(ctx: Context, progress: DeadlineProgress, *, by_bloc: bool) -> str:
    deadline, counts = progress.deadline, progress.total
    lines = [
        t(
            "admin.progress_deadline",
            id=deadline.id,
            title=deadline.title,
            campaign=progress.campaign.document_number,
            due=format_when(ctx, deadline.due_at),
            when=due_phrase(ctx, deadline),
            submitted=counts.submitted,
            total=counts.total,
            on_time=counts.on_time,
            late=counts.late,
            missing=counts.missing,
            returned=counts.returned,
            draft=counts.draft,
            not_started=counts.not_started,
        )
    ]
    if counts.accepted:
        lines.append(t("admin.progress_accepted", count=counts.accepted))
    waiting = units_waiting_for_scan(ctx.session, deadline)
    if waiting:
        codes = ", ".join(u.code for u, _ in waiting[:10]) + ("…" if len(waiting) > 10 else "")
        lines.append(t("signing.progress_waiting", count=len(waiting), units=codes))
    if by_bloc and progress.bloc_count >= 2:
        lines.append(t("admin.progress_by_bloc"))
        for bloc, bloc_counts in progress.by_bloc.items():
            lines.append(
                t(
                    "admin.progress_bloc_line",
                    bloc=bloc or t("admin.no_bloc"),
                    submitted=bloc_counts.submitted,
                    total=bloc_counts.total,
                    late=bloc_counts.late,
                )
            )
    return "\n".join(lines)


def _chart_rows(progress: DeadlineProgress) -> tuple[list[BarRow], bool]:
    """Bars per bloc when there are several blocs, else one bar per unit, grouped by status.
    The flag says whether the bars carry counts (an axis worth showing)."""
    if progress.bloc_count >= 2:
        rows = [
            BarRow(
                bloc or plain("admin.no_bloc"),
                counts.values(),
                f"{counts.submitted}/{counts.total}",
            )
            for bloc, counts in progress.by_bloc.items()
        ]
        return rows, True
    order = {category: index for index, category in enumerate(Category.ALL)}
    units = sorted(progress.units, key=lambda u: (order[u.category], fold(u.unit.name)))
    rows = [BarRow(u.unit.name, [int(c == u.category) for c in Category.ALL]) for u in units]
    return rows, False


async def _send_chart(ctx: Context, progress: DeadlineProgress) -> None:
    deadline, counts = progress.deadline, progress.total
    rows, counted = _chart_rows(progress)
    segments = [plain(f"admin.segment.{c}", count=counts.get(c)) for c in Category.ALL]
    title = plain(
        "admin.chart_title",
        id=deadline.id,
        title=deadline.title,
        campaign=progress.campaign.document_number,
    )
    # Drawing 200 bars takes a moment: off the event loop, so other chats are not held up.
    png = await asyncio.to_thread(
        render_stacked_bars,
        rows,
        segments=segments,
        title=title,
        empty_text=plain("admin.chart_empty"),
        axis_label=plain("admin.chart_axis") if counted else "",
        show_scale=counted,
    )
    caption = t(
        "admin.chart_caption",
        id=deadline.id,
        title=deadline.title,
        submitted=counts.submitted,
        total=counts.total,
        due=format_when(ctx, deadline.due_at),
    )
    ctx.reply(photo=OutboundFile(f"tien-do-{deadline.id}.png", png, caption=caption))


async def _progress_of(ctx: Context, deadline: Deadline) -> None:
    progress = deadline_progress(deadline, now=ctx.now(), session=ctx.session)
    ctx.reply(_progress_block(ctx, progress, by_bloc=True))
    await _send_chart(ctx, progress)
    audit_action(ctx, "admin.progress", "deadline", deadline.id)


@router.command("tiendo", access=Access.ADMIN, help_key="help.tiendo")
async def show_progress(event: Inbound, ctx: Context) -> None:
    if event.args:
        await _progress_of(ctx, deadline_arg(ctx, event.args, "tiendo"))
        return
    deadlines = open_deadlines(scope=ctx.admin_scope, session=ctx.session)
    focus = focus_deadline(deadlines, now=ctx.now())
    if focus is None:
        ctx.say("admin.no_open_deadlines")
        audit_action(ctx, "admin.progress", None, None)
        return
    if len(deadlines) == 1:
        await _progress_of(ctx, focus)
        return
    now = ctx.now()
    blocks = [t("admin.progress_title")]
    focus_progress: DeadlineProgress | None = None
    for deadline in deadlines:
        progress = deadline_progress(deadline, now=now, session=ctx.session)
        blocks.append(_progress_block(ctx, progress, by_bloc=False))
        if deadline.id == focus.id:
            focus_progress = progress
    others = [d for d in deadlines if d.id != focus.id]
    ctx.reply("\n\n".join(blocks))
    assert focus_progress is not None
    await _send_chart(ctx, focus_progress)
    ctx.reply(
        t("admin.progress_more"),
        deadline_buttons(others, lambda d: make_payload(P_CHART, d.id), "admin.chart_button"),
    )
    audit_action(ctx, "admin.progress", "deadline", focus.id, deadlines=[d.id for d in deadlines])


@router.button(P_CHART, access=Access.ADMIN)
async def on_chart(event: Inbound, ctx: Context) -> None:
    ids = payload_ints(event.payload)
    deadline = in_scope(ctx, "deadline", ids[0]) if ids else None
    if deadline is None:
        ctx.say("core.stale_button")
        return
    await _progress_of(ctx, deadline)


# --- /chuanop ---------------------------------------------------------------------------------
def _officer_line(ctx: Context, officer: Member) -> str:
    if not can_see_personal_data(ctx.member, officer, scope=ctx.scope, session=ctx.session):
        return t("admin.missing_officer_hidden", name=officer.display_name)
    if officer.phone:
        return t("admin.missing_officer", name=officer.display_name, phone=officer.phone)
    return t("admin.missing_officer_no_phone", name=officer.display_name)


def _show_missing(ctx: Context, deadline: Deadline, page: int, *, replace: bool) -> None:
    progress = deadline_progress(deadline, now=ctx.now(), session=ctx.session)
    missing = missing_units(ctx.session, deadline)
    total = progress.total.total
    if not missing:
        ctx.reply(
            t("admin.missing_none", total=total, id=deadline.id, title=deadline.title),
            replace=replace,
        )
        audit_action(ctx, "admin.missing", "deadline", deadline.id, missing=0)
        return
    pages = math.ceil(len(missing) / MISSING_PAGE_SIZE)
    page = min(max(page, 1), pages)
    shown = missing[(page - 1) * MISSING_PAGE_SIZE : page * MISSING_PAGE_SIZE]
    officers = officers_by_unit([u.id for u in shown if u.id is not None], session=ctx.session)
    category = {u.unit.id: u.category for u in progress.units}
    lines = [
        t(
            "admin.missing_title",
            id=deadline.id,
            title=deadline.title,
            missing=len(missing),
            total=total,
            due=format_when(ctx, deadline.due_at),
            when=due_phrase(ctx, deadline),
        ),
        "",
    ]
    first = (page - 1) * MISSING_PAGE_SIZE
    for number, unit in enumerate(shown, start=first + 1):
        status = category.get(unit.id, Category.NOT_STARTED)
        lines.append(
            t(
                "admin.missing_unit",
                number=number,
                unit=unit.name,
                code=unit.code,
                status=t(f"admin.status.{status}"),
            )
        )
        people = officers.get(unit.id or 0, [])
        lines += [_officer_line(ctx, m) for m in people] or [t("admin.missing_no_officer")]
    if pages > 1:
        lines += ["", t("core.page", page=page, pages=pages)]
    buttons: list[list[Button]] = []
    nav = []
    if page > 1:
        nav.append(Button(t("core.prev"), make_payload(P_MISSING, deadline.id, page - 1)))
    if page < pages:
        nav.append(Button(t("core.next"), make_payload(P_MISSING, deadline.id, page + 1)))
    if nav:
        buttons.append(nav)
    buttons.append([Button(t("admin.remind_now"), make_payload(REMIND_NOW, deadline.id))])
    ctx.reply("\n".join(lines), buttons, replace=replace)
    audit_action(ctx, "admin.missing", "deadline", deadline.id, missing=len(missing), page=page)


@router.command("chuanop", access=Access.ADMIN, help_key="help.chuanop")
async def show_missing(event: Inbound, ctx: Context) -> None:
    if event.args:
        _show_missing(ctx, deadline_arg(ctx, event.args, "chuanop"), 1, replace=False)
        return
    deadlines = open_deadlines(scope=ctx.admin_scope, session=ctx.session)
    if not deadlines:
        ctx.say("admin.no_open_deadlines")
        audit_action(ctx, "admin.missing", None, None)
        return
    if len(deadlines) == 1:
        _show_missing(ctx, deadlines[0], 1, replace=False)
        return
    buttons = [
        [
            Button(
                plain(
                    "admin.missing_pick_button",
                    id=d.id,
                    title=d.title,
                    missing=len(missing_units(ctx.session, d)),
                ),
                make_payload(P_MISSING, d.id, 1),
            )
        ]
        for d in deadlines[:MAX_PICK_BUTTONS]
    ]
    ctx.reply(t("admin.missing_pick"), buttons)
    audit_action(ctx, "admin.missing", None, None, deadlines=[d.id for d in deadlines])


@router.button(P_MISSING, access=Access.ADMIN)
async def on_missing_page(event: Inbound, ctx: Context) -> None:
    ids = payload_ints(event.payload)
    deadline = in_scope(ctx, "deadline", ids[0]) if len(ids) == 2 else None
    if deadline is None:
        ctx.say("core.stale_button")
        return
    _show_missing(ctx, deadline, ids[1], replace=True)
