"""Admin oversight (quản trị): progress at a glance, who is missing, one unit's report, the
Excel export and broadcasts.

    /tiendo [mốc]        counts per open deadline and a chart (photo) of one of them
    /chuanop [mốc]       units that have not handed in, their officers and phones, "Nhắc ngay"
    /xem <đơn vị> [mốc]  what a unit handed in, its files sent as documents
    /xuat [số kế hoạch]  the campaign's XLSX workbook
    /thongbao            audience → message → confirmation → sent, one progress message

Every route is admin-only (checked by the core) and every use is written to the audit log.
The "Nhắc ngay" button's payload (`nhac:<deadline id>`) is handled by the reminders
capability, not here. Rules live in domain/ (progress, chart, export, broadcast); this module
reads arguments, calls them and answers. It must not import a platform.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.access import Access, can_see_personal_data, in_scope
from bot.catalog import Raw, t
from bot.clock import Clock
from bot.context import Context
from bot.errors import InputError
from bot.events import Address, Attachment, Button, Delivery, Inbound, Outbound, OutboundFile
from bot.hub import Hub
from bot.router import Router, make_payload, split_payload
from domain import audit
from domain import scope as scoped
from domain.broadcast import (
    Audience,
    AudienceKind,
    BroadcastReport,
    Ledger,
    ProgressMessage,
    Recipient,
    blocs,
    claim_unfinished,
    finish_broadcast,
    in_thread,
    load_plan,
    record_broadcast,
    select_recipients,
    send_broadcast,
)
from domain.campaigns import missing_units
from domain.chart import BarRow, render_stacked_bars
from domain.export import (
    GROUP,
    ExportTexts,
    FieldLike,
    FormLike,
    attachment_ids,
    export_campaign,
    export_file_name,
    fields_for,
    find_campaign,
    officers_by_unit,
    submitted_answers,
    text_value,
)
from domain.progress import (
    Category,
    DeadlineProgress,
    categorize,
    deadline_progress,
    focus_deadline,
    open_deadlines,
)
from domain.scope import Scope
from domain.text import clean_text, fold, shorten
from models.campaigns import Campaign, CampaignStatus, Deadline
from models.reports import Attachment as StoredFile
from models.reports import Report
from models.units import Member, Unit

if TYPE_CHECKING:
    from bot.core import BotCore

router = Router()
log = logging.getLogger("thidua.admin")

# Button prefixes owned here. "nhac" (remind now) belongs to the reminders capability.
P_CHART = "adm-td"  # adm-td:<deadline>
P_MISSING = "adm-cn"  # adm-cn:<deadline>:<page>
P_VIEW = "adm-xem"  # adm-xem:<unit>[:<deadline>]
P_EXPORT = "adm-xuat"  # adm-xuat:<campaign>
P_BROADCAST = "adm-tb"  # adm-tb:<choice>[:<value>]
REMIND_NOW = "nhac"

FLOW_BROADCAST = "broadcast"
STEP_AUDIENCE = "audience"
STEP_BLOC = "bloc"
STEP_DEADLINE = "deadline"
STEP_MESSAGE = "message"
STEP_CONFIRM = "confirm"

MISSING_PAGE_SIZE = 15
MAX_PICK_BUTTONS = 10
MAX_BROADCAST_LENGTH = 3500  # room left under Telegram's 4096 for the heading
MAX_FAILURES_LISTED = 20
MAX_FILE_BYTES = 50 * 1024 * 1024  # what a bot may send as a document


# --- small helpers ----------------------------------------------------------------------------
def _forms(ctx: Context) -> Mapping[str, FormLike]:
    forms = ctx.services.extras.get("forms")
    return forms if isinstance(forms, Mapping) else {}


def _texts() -> ExportTexts:
    return ExportTexts.from_catalog(t)


def _local(ctx: Context, moment: datetime) -> datetime:
    return moment.astimezone(ctx.settings.tz)


def _when(ctx: Context, moment: datetime) -> str:
    return _local(ctx, moment).strftime("%H:%M %d/%m/%Y")


def _due_phrase(ctx: Context, deadline: Deadline) -> str:
    """How far the due instant is ("còn 3 ngày", "đã quá hạn 2 ngày"), in local days."""
    now = ctx.now()
    days = (_local(ctx, deadline.due_at).date() - _local(ctx, now).date()).days
    if now <= deadline.due_at:
        return t("admin.due_today") if days == 0 else t("admin.due_days_left", days=days)
    if days == 0:
        return t("admin.due_overdue_today")
    return t("admin.due_overdue_days", days=-days)


def _parse_id(value: str) -> int | None:
    text = value.strip().lstrip("#")
    return int(text) if text.isdigit() else None


def _deadline_arg(ctx: Context, value: str, command: str) -> Deadline:
    deadline_id = _parse_id(value)
    deadline = in_scope(ctx, "deadline", deadline_id) if deadline_id is not None else None
    if deadline is None:
        raise InputError("admin.bad_deadline", example=f"/{command} 1", value=value.strip())
    return deadline


def _audit(
    ctx: Context, action: str, target_type: str | None, target_id: object, **detail: Any
) -> None:
    audit.record(
        ctx.session,
        now=ctx.now(),
        action=action,
        actor=ctx.member,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
        organiser_id=ctx.scope.organiser_id if ctx.scope else None,
    )


def _payload_ints(payload: str | None) -> list[int]:
    _, parts = split_payload(payload or "")
    try:
        return [int(p) for p in parts]
    except ValueError:
        return []


def _deadline_buttons(
    deadlines: Sequence[Deadline],
    payload: Callable[[Deadline], str],
    label_key: str = "admin.deadline_button",
) -> list[list[Button]]:
    return [
        [Button(_plain(label_key, id=d.id, title=d.title), payload(d))]
        for d in deadlines[:MAX_PICK_BUTTONS]
    ]


def _plain(key: str, /, **params: object) -> str:
    """A catalog text for somewhere that is not HTML (a chart, a button label)."""
    return html.unescape(t(key, **params))


# --- /tiendo ----------------------------------------------------------------------------------
def _progress_block(ctx: Context, progress: DeadlineProgress, *, by_bloc: bool) -> str:
    deadline, counts = progress.deadline, progress.total
    lines = [
        t(
            "admin.progress_deadline",
            id=deadline.id,
            title=deadline.title,
            campaign=progress.campaign.document_number,
            due=_when(ctx, deadline.due_at),
            when=_due_phrase(ctx, deadline),
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
                bloc or _plain("admin.no_bloc"),
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
    segments = [_plain(f"admin.segment.{c}", count=counts.get(c)) for c in Category.ALL]
    title = _plain(
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
        empty_text=_plain("admin.chart_empty"),
        axis_label=_plain("admin.chart_axis") if counted else "",
        show_scale=counted,
    )
    caption = t(
        "admin.chart_caption",
        id=deadline.id,
        title=deadline.title,
        submitted=counts.submitted,
        total=counts.total,
        due=_when(ctx, deadline.due_at),
    )
    ctx.reply(photo=OutboundFile(f"tien-do-{deadline.id}.png", png, caption=caption))


async def _progress_of(ctx: Context, deadline: Deadline) -> None:
    progress = deadline_progress(deadline, now=ctx.now(), session=ctx.session)
    ctx.reply(_progress_block(ctx, progress, by_bloc=True))
    await _send_chart(ctx, progress)
    _audit(ctx, "admin.progress", "deadline", deadline.id)


@router.command("tiendo", access=Access.ADMIN, help_key="help.tiendo")
async def show_progress(event: Inbound, ctx: Context) -> None:
    if event.args:
        await _progress_of(ctx, _deadline_arg(ctx, event.args, "tiendo"))
        return
    deadlines = open_deadlines(scope=ctx.admin_scope, session=ctx.session)
    focus = focus_deadline(deadlines, now=ctx.now())
    if focus is None:
        ctx.say("admin.no_open_deadlines")
        _audit(ctx, "admin.progress", None, None)
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
        _deadline_buttons(others, lambda d: make_payload(P_CHART, d.id), "admin.chart_button"),
    )
    _audit(ctx, "admin.progress", "deadline", focus.id, deadlines=[d.id for d in deadlines])


@router.button(P_CHART, access=Access.ADMIN)
async def on_chart(event: Inbound, ctx: Context) -> None:
    ids = _payload_ints(event.payload)
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
        _audit(ctx, "admin.missing", "deadline", deadline.id, missing=0)
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
            due=_when(ctx, deadline.due_at),
            when=_due_phrase(ctx, deadline),
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
    _audit(ctx, "admin.missing", "deadline", deadline.id, missing=len(missing), page=page)


@router.command("chuanop", access=Access.ADMIN, help_key="help.chuanop")
async def show_missing(event: Inbound, ctx: Context) -> None:
    if event.args:
        _show_missing(ctx, _deadline_arg(ctx, event.args, "chuanop"), 1, replace=False)
        return
    deadlines = open_deadlines(scope=ctx.admin_scope, session=ctx.session)
    if not deadlines:
        ctx.say("admin.no_open_deadlines")
        _audit(ctx, "admin.missing", None, None)
        return
    if len(deadlines) == 1:
        _show_missing(ctx, deadlines[0], 1, replace=False)
        return
    buttons = [
        [
            Button(
                _plain(
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
    _audit(ctx, "admin.missing", None, None, deadlines=[d.id for d in deadlines])


@router.button(P_MISSING, access=Access.ADMIN)
async def on_missing_page(event: Inbound, ctx: Context) -> None:
    ids = _payload_ints(event.payload)
    deadline = in_scope(ctx, "deadline", ids[0]) if len(ids) == 2 else None
    if deadline is None:
        ctx.say("core.stale_button")
        return
    _show_missing(ctx, deadline, ids[1], replace=True)


# --- /xem -------------------------------------------------------------------------------------
def _find_units(session: Session, query: str, scope: Scope) -> list[Unit]:
    """By code (exact, any case), else every unit whose name and code hold all the words."""
    exact = session.exec(scoped.units(scope).where(func.lower(Unit.code) == query.lower())).all()
    if len(exact) == 1:
        return list(exact)
    words = fold(query).split()
    candidates = session.exec(scoped.units(scope).order_by(col(Unit.code))).all()
    return [
        u
        for u in candidates
        if all(w in (u.search_key or fold(f"{u.code} {u.name}")) for w in words)
    ]


def _render_answers(
    fields: Sequence[FieldLike], answers: Mapping[str, Any], texts: ExportTexts
) -> list[str]:
    lines: list[str] = []
    for spec in fields:
        value = answers.get(spec.id)
        if spec.type == GROUP:
            entries = [e for e in value or [] if isinstance(e, dict)]
            lines.append(t("admin.view_group", label=spec.label, count=len(entries)))
            for number, entry in enumerate(entries, start=1):
                parts = [
                    t("admin.view_entry_part", label=sub.label, value=shown)
                    for sub in spec.fields or ()
                    if (shown := text_value(sub, entry.get(sub.id), texts))
                ]
                lines.append(t("admin.view_entry", number=number, value=Raw("; ".join(parts))))
            continue
        shown = text_value(spec, value, texts) or t("admin.view_no_answer")
        lines.append(t("admin.view_line", label=spec.label, value=shown))
    return lines


async def _file_bytes(ctx: Context, stored: StoredFile) -> bytes | None:
    """The copy under STORAGE_DIR if there is one, else the channel's copy; None if neither."""
    if stored.stored_path:
        root = Path(ctx.settings.storage_dir).resolve()
        path = (root / stored.stored_path).resolve()
        if path.is_relative_to(root) and path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
            return path.read_bytes()
    if stored.channel in ctx.services.hub.channels and stored.file_id:
        try:
            return await ctx.services.hub.download(
                stored.channel, Attachment(file_id=stored.file_id, file_name=stored.file_name)
            )
        except Exception as exc:  # outlets may raise their platform's errors on download
            log.warning(
                "file %s of report %s not downloadable: %s", stored.id, stored.report_id, exc
            )
            return None
    return None


async def _show_report(ctx: Context, unit: Unit, deadline: Deadline) -> None:
    report = ctx.session.exec(
        select(Report).where(Report.unit_id == unit.id, Report.deadline_id == deadline.id)
    ).first()
    answers = submitted_answers(report, session=ctx.session)
    status = t(f"admin.status.{categorize(report)}")
    _audit(ctx, "admin.view_report", "report", report.id if report else None, unit=unit.code)
    if report is None or answers is None or report.submitted_at is None:
        ctx.say(
            "admin.view_not_submitted",
            unit=unit.name,
            id=deadline.id,
            title=deadline.title,
            status=status,
        )
        return
    texts = _texts()
    fields = fields_for(deadline, _forms(ctx), [answers])
    lines = [
        t(
            "admin.view_header",
            unit=unit.name,
            code=unit.code,
            id=deadline.id,
            title=deadline.title,
            status=t(f"admin.status.{Category.ON_TIME if report.on_time else Category.LATE}"),
            submitted_at=_when(ctx, report.submitted_at),
            version=report.version,
        )
    ]
    if categorize(report) not in (Category.ON_TIME, Category.LATE):
        lines.append(t("admin.view_current_status", status=status))
    lines += ["", *_render_answers(fields, answers, texts)]
    ctx.reply("\n".join(lines))
    ids = attachment_ids(fields, answers)
    if not ids:
        return
    stored = ctx.session.exec(
        select(StoredFile).where(col(StoredFile.id).in_(ids), StoredFile.report_id == report.id)
    ).all()
    by_id = {s.id: s for s in stored}
    for ident in ids:
        item = by_id.get(ident)
        if item is None:
            continue
        content = await _file_bytes(ctx, item)
        name = item.file_name or f"tep-{item.id}"
        if content is None:
            ctx.say("admin.view_file_missing", name=name)
        else:
            ctx.reply(document=OutboundFile(name, content))


async def _pick_report(ctx: Context, unit: Unit) -> None:
    """Show the unit's only handed-in report, or let the admin choose among them."""
    rows = ctx.session.exec(
        select(Deadline)
        .join(Report, col(Report.deadline_id) == col(Deadline.id))
        .where(Report.unit_id == unit.id, col(Report.submitted_at).is_not(None))
        .order_by(col(Deadline.due_at).desc())
    ).all()
    if not rows:
        ctx.say("admin.view_none", unit=unit.name)
        _audit(ctx, "admin.view_report", "unit", unit.id)
        return
    if len(rows) == 1:
        await _show_report(ctx, unit, rows[0])
        return
    ctx.reply(
        t("admin.view_pick_deadline", unit=unit.name),
        _deadline_buttons(list(rows), lambda d: make_payload(P_VIEW, unit.id, d.id)),
    )
    _audit(ctx, "admin.view_report", "unit", unit.id)


@router.command("xem", access=Access.ADMIN, help_key="help.xem")
async def view_report(event: Inbound, ctx: Context) -> None:
    words = event.args.split()
    if not words:
        raise InputError("admin.view_usage", example="/xem XA-001 3")
    deadline: Deadline | None = None
    last_id = _parse_id(words[-1]) if len(words) >= 2 else None
    if last_id is not None:
        # "/xem XA-001 3": a deadline; "/xem thôn 5" with no deadline 5: part of the name.
        deadline = in_scope(ctx, "deadline", last_id)
        if deadline is not None:
            words.pop()
    query = " ".join(words)
    units = _find_units(ctx.session, query, ctx.admin_scope)
    if not units:
        raise InputError("admin.unit_not_found", example="/xem XA-001", query=query)
    if len(units) > MAX_PICK_BUTTONS:
        ctx.say("admin.unit_too_many", count=len(units), query=query)
        return
    if len(units) > 1:
        extra = [deadline.id] if deadline else []
        buttons = [
            [Button(f"{u.code} — {u.name}", make_payload(P_VIEW, u.id, *extra))] for u in units
        ]
        ctx.reply(t("admin.unit_pick", query=query), buttons)
        return
    if deadline is None:
        await _pick_report(ctx, units[0])
    else:
        await _show_report(ctx, units[0], deadline)


@router.button(P_VIEW, access=Access.ADMIN)
async def on_view(event: Inbound, ctx: Context) -> None:
    ids = _payload_ints(event.payload)
    unit = in_scope(ctx, "unit", ids[0]) if ids else None
    deadline = in_scope(ctx, "deadline", ids[1]) if len(ids) == 2 else None
    if unit is None or (len(ids) == 2 and deadline is None):
        ctx.say("core.stale_button")
        return
    if deadline is None:
        await _pick_report(ctx, unit)
    else:
        await _show_report(ctx, unit, deadline)


# --- /xuat ------------------------------------------------------------------------------------
def _export(ctx: Context, campaign: Campaign) -> None:
    data = export_campaign(
        campaign,
        session=ctx.session,
        forms=_forms(ctx),
        texts=_texts(),
        default_zone=ctx.settings.tz,
    )
    now = _local(ctx, ctx.now())
    caption = t(
        "admin.export_caption",
        campaign=campaign.document_number,
        now=now.strftime("%H:%M %d/%m/%Y"),
    )
    name = export_file_name(campaign, now.date())
    ctx.reply(document=OutboundFile(name, data, caption=caption))
    _audit(ctx, "admin.export", "campaign", campaign.id, bytes=len(data))


@router.command("xuat", access=Access.ADMIN, help_key="help.xuat")
async def export(event: Inbound, ctx: Context) -> None:
    if event.args:
        campaign = find_campaign(event.args, scope=ctx.admin_scope, session=ctx.session)
        if campaign is None:
            raise InputError(
                "admin.campaign_not_found", example="/xuat 353/KH-UBND", query=event.args
            )
        _export(ctx, campaign)
        return
    active = ctx.session.exec(
        scoped.campaigns(ctx.admin_scope)
        .where(Campaign.status == CampaignStatus.ACTIVE)
        .order_by(col(Campaign.id))
    ).all()
    if len(active) == 1:
        _export(ctx, active[0])
        return
    choices = list(active) or list(
        ctx.session.exec(
            scoped.campaigns(ctx.admin_scope)
            .order_by(col(Campaign.id).desc())
            .limit(MAX_PICK_BUTTONS)
        ).all()
    )
    if not choices:
        ctx.say("admin.export_none")
        return
    buttons = [
        [
            Button(
                _plain("admin.campaign_button", number=c.document_number, name=c.name)[:60],
                make_payload(P_EXPORT, c.id),
            )
        ]
        for c in choices[:MAX_PICK_BUTTONS]
    ]
    ctx.reply(t("admin.export_pick"), buttons)


@router.button(P_EXPORT, access=Access.ADMIN)
async def on_export(event: Inbound, ctx: Context) -> None:
    ids = _payload_ints(event.payload)
    campaign = in_scope(ctx, "campaign", ids[0]) if ids else None
    if campaign is None:
        ctx.say("core.stale_button")
        return
    _export(ctx, campaign)


# --- /thongbao --------------------------------------------------------------------------------
def _audience_name(ctx: Context, audience: Audience) -> str:
    if audience.kind == AudienceKind.BLOC:
        return t("admin.audience_bloc", bloc=audience.bloc or "")
    if audience.kind == AudienceKind.MISSING:
        deadline = in_scope(ctx, "deadline", audience.deadline_id or 0)
        title = deadline.title if deadline else ""
        return t("admin.audience_missing", id=audience.deadline_id, title=title)
    return t("admin.audience_all")


def _reachable(ctx: Context) -> Callable[[Member], bool]:
    """Whether the member's platform lets the bot write to them now (Zalo's reply window)."""
    hub, now = ctx.services.hub, ctx.now()
    return lambda member: hub.can_reach(member.channel, member.last_seen_at, now)


def _ask_message(ctx: Context, audience: Audience) -> None:
    ctx.data["audience"] = audience.as_dict()
    ctx.goto(STEP_MESSAGE)
    ctx.ask(t("admin.tb_type_message", limit=MAX_BROADCAST_LENGTH))


@router.command("thongbao", access=Access.ADMIN, help_key="help.thongbao")
async def start_broadcast(event: Inbound, ctx: Context) -> None:
    ctx.begin(FLOW_BROADCAST, STEP_AUDIENCE)
    ctx.ask(
        t("admin.tb_audience"),
        [
            [Button(t("admin.tb_all"), make_payload(P_BROADCAST, "all"))],
            [Button(t("admin.tb_by_bloc"), make_payload(P_BROADCAST, "blocs"))],
            [Button(t("admin.tb_missing"), make_payload(P_BROADCAST, "late"))],
            [Button(t("core.cancel"), make_payload(P_BROADCAST, "cancel"))],
        ],
    )


@router.flow(FLOW_BROADCAST, access=Access.ADMIN)
async def on_broadcast_text(event: Inbound, ctx: Context) -> None:
    if ctx.step != STEP_MESSAGE:
        raise InputError("admin.tb_use_buttons")
    if event.attachment is not None:
        raise InputError("admin.tb_text_only")
    text = clean_text(event.text)
    if not text:
        raise InputError("admin.tb_empty")
    if len(text) > MAX_BROADCAST_LENGTH:
        raise InputError("admin.tb_too_long", length=len(text), limit=MAX_BROADCAST_LENGTH)
    audience = Audience.from_dict(ctx.data["audience"])
    selection = select_recipients(
        audience, scope=ctx.admin_scope, session=ctx.session, reachable=_reachable(ctx)
    )
    if not selection.recipients:
        ctx.say("admin.tb_nobody", audience=_audience_name(ctx, audience))
        ctx.end()
        return
    ctx.data["text"] = text
    ctx.goto(STEP_CONFIRM)
    count = len(selection.recipients)
    question = t(
        "admin.tb_confirm",
        count=count,
        units=selection.units,
        audience=_audience_name(ctx, audience),
        preview=text,
    )
    if selection.skipped_unreachable:
        question += "\n\n" + t("admin.tb_skipped", count=selection.skipped_unreachable)
    if selection.out_of_window:
        question += "\n\n" + t("admin.tb_out_of_window", count=len(selection.out_of_window))
    ctx.ask(
        question,
        [
            [
                Button(t("admin.tb_send", count=count), make_payload(P_BROADCAST, "send")),
                Button(t("core.cancel"), make_payload(P_BROADCAST, "cancel")),
            ]
        ],
    )


@router.button(P_BROADCAST, access=Access.ADMIN)
async def on_broadcast_button(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    choice = parts[0] if parts else ""
    if ctx.flow != FLOW_BROADCAST:
        ctx.say("core.stale_button")
        return
    if choice == "cancel":
        ctx.end()
        ctx.reply(t("core.cancelled"), replace=True)
    elif choice == "all" and ctx.step == STEP_AUDIENCE:
        _ask_message(ctx, Audience(AudienceKind.ALL))
    elif choice == "blocs" and ctx.step == STEP_AUDIENCE:
        names = blocs(scope=ctx.admin_scope, session=ctx.session)
        if not names:
            ctx.say("admin.tb_no_blocs")
            return
        # The payload carries an index into this list, kept in the flow: bloc names are
        # free text and may not fit Telegram's 64 bytes of callback data.
        ctx.data["blocs"] = names
        ctx.goto(STEP_BLOC)
        ctx.ask(
            t("admin.tb_pick_bloc"),
            [[Button(n, make_payload(P_BROADCAST, "bloc", i))] for i, n in enumerate(names)],
        )
    elif choice == "bloc" and ctx.step == STEP_BLOC and len(parts) == 2 and parts[1].isdigit():
        names = ctx.data.get("blocs", [])
        index = int(parts[1])
        if index >= len(names):
            ctx.say("core.stale_button")
            return
        _ask_message(ctx, Audience(AudienceKind.BLOC, bloc=names[index]))
    elif choice == "late" and ctx.step == STEP_AUDIENCE:
        deadlines = open_deadlines(scope=ctx.admin_scope, session=ctx.session)
        if not deadlines:
            ctx.say("admin.no_open_deadlines")
            return
        ctx.goto(STEP_DEADLINE)
        ctx.ask(
            t("admin.tb_pick_deadline"),
            _deadline_buttons(deadlines, lambda d: make_payload(P_BROADCAST, "miss", d.id)),
        )
    elif choice == "send" and ctx.step == STEP_CONFIRM:
        _confirm_broadcast(event, ctx)
    elif choice == "miss" and ctx.step == STEP_DEADLINE and len(parts) == 2:
        deadline = in_scope(ctx, "deadline", _parse_id(parts[1]) or 0)
        if deadline is None:
            ctx.say("core.stale_button")
            return
        _ask_message(ctx, Audience(AudienceKind.MISSING, deadline_id=deadline.id))
    else:
        ctx.say("core.stale_button")


def _confirm_broadcast(event: Inbound, ctx: Context) -> None:
    audience = Audience.from_dict(ctx.data["audience"])
    text = str(ctx.data["text"])
    # Counted again: someone may have registered or been removed since the confirmation.
    selection = select_recipients(
        audience, scope=ctx.admin_scope, session=ctx.session, reachable=_reachable(ctx)
    )
    recipients = selection.recipients
    ctx.end()
    assert ctx.member is not None and ctx.member.id is not None
    # Written with this update, before anything is sent: a crash mid-way is resumed at start-up.
    owner = uuid.uuid4().hex
    broadcast_id = record_broadcast(
        selection,
        session=ctx.session,
        admin=Address(event.channel, event.chat_id),
        actor_id=ctx.member.id,
        text=text,
        audience=audience,
        owner=owner,
        now=ctx.now(),
        organiser_id=ctx.admin_scope.organiser_id,
    )
    _audit(
        ctx,
        "admin.broadcast",
        "audience",
        audience.kind,
        audience=audience.as_dict(),
        recipients=len(recipients),
        text=text,
        broadcast=broadcast_id,
    )
    ctx.reply(t("admin.tb_started", count=len(recipients)), replace=True)
    bind = ctx.session.get_bind()
    assert isinstance(bind, Engine)
    hub, clock = ctx.services.hub, ctx.clock
    ctx.defer(lambda: _run_broadcast(hub, bind, clock, broadcast_id, owner))


# Resuming broadcasts (see `watch_broadcasts`). A sending process writes its broadcast's
# heartbeat with every send, several times a second.
BROADCAST_STARTUP_WAIT = 15.0  # seconds: a live sender elsewhere writes within this
BROADCAST_CHECK_EVERY = 60.0  # seconds between checks for broadcasts whose sender went silent
BROADCAST_STALE = timedelta(minutes=2)  # silent this long: its sender is gone


async def watch_broadcasts(
    core: BotCore,
    stopping: asyncio.Event,
    *,
    startup_wait: float = BROADCAST_STARTUP_WAIT,
    every: float = BROADCAST_CHECK_EVERY,
    stale: timedelta = BROADCAST_STALE,
) -> None:
    """While the bot runs (until `stopping` is set), resume the broadcasts a crash cut off.

    Once at start-up: those whose sender has not written since this process started — after
    `startup_wait`, so that a sender still alive in another process of a fleet has written
    meanwhile and keeps its broadcast. Then every `every` seconds: those whose sender has been
    silent for `stale` (a process of the fleet died and none restarted). A broadcast taken over
    from a sender that was only slow is still sent once to each officer (`resume_broadcasts`).
    """
    started = core.clock.now()
    if await _stopped_within(stopping, startup_wait):
        return
    await resume_broadcasts(core, before=started)
    while not await _stopped_within(stopping, every):
        await resume_broadcasts(core, before=core.clock.now() - stale)


async def _stopped_within(stopping: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def resume_broadcasts(core: BotCore, *, before: datetime | None = None) -> int:
    """Send the rest of every broadcast whose sender has not written since `before` (default
    now: it died), each taken over by one process only; returns how many, once they are all
    done. Recipients a crash left `sending` are not sent again: the admin's summary counts them
    as unknown. Called by `watch_broadcasts` once the channels are up."""
    owner = uuid.uuid4().hex
    now = core.clock.now()
    try:
        ids = await in_thread(
            core.engine,
            lambda s: claim_unfinished(s, before=before or now, now=now, owner=owner),
        )
    except Exception:
        log.exception("unfinished broadcasts could not be claimed; the next check tries again")
        return 0
    for broadcast_id in ids:
        log.info("broadcast %s cut off by a restart: resuming", broadcast_id)
    results = await asyncio.gather(
        *(_run_broadcast(core.hub, core.engine, core.clock, i, owner) for i in ids),
        return_exceptions=True,
    )
    for broadcast_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            log.error("broadcast %s: resuming failed", broadcast_id, exc_info=result)
        elif isinstance(result, BaseException):
            raise result
    return len(ids)


async def _run_broadcast(
    hub: Hub, engine: Engine, clock: Clock, broadcast_id: int, owner: str
) -> None:
    """Send a recorded broadcast to the recipients still pending, one progress message
    edited as it goes, then the summary; run by the core after the confirming update committed
    (`ctx.defer`), or by `resume_broadcasts` after a restart.

    Why a background task and not the update itself: 300 messages at Telegram's 30/s take
    ten seconds; done inside the update they would hold its database transaction (and on
    SQLite the write lock) and keep every other user waiting. Each send is recorded
    (domain.broadcast.Ledger) in short transactions of its own, in a worker thread.
    """
    plan = await in_thread(engine, lambda s: load_plan(s, broadcast_id))
    message = Outbound(t("admin.broadcast_message", text=plan.text))
    if plan.resumed:
        notice = t(
            "admin.tb_resumed",
            preview=_preview(plan.text),
            count=len(plan.pending),
            total=plan.total,
        )
        if plan.unknown:
            notice += "\n" + t("admin.tb_resumed_unknown", count=plan.unknown)
        await hub.send(Delivery(plan.admin, Outbound(notice)))
    progress = ProgressMessage(
        hub, plan.admin, lambda done, total: t("admin.tb_progress", done=done, total=total)
    )
    await progress.start(plan.total, done=plan.done)
    ledger = Ledger(engine, broadcast_id, owner=owner, now=clock.now)

    async def advance(done: int, _total: int) -> None:
        await progress.update(plan.done + done, plan.total)

    result = await send_broadcast(hub, plan.pending, message, progress=advance, ledger=ledger)
    await ledger.flush()
    if ledger.lost:
        log.info("broadcast %s was taken over by another process", broadcast_id)
        return
    await progress.finish(plan.done + result.done, plan.total)

    def finish(session: Session) -> BroadcastReport | None:
        now = clock.now()
        report = finish_broadcast(session, broadcast_id, owner=owner, now=now)
        if report is not None:
            audit.record(
                session,
                now=now,
                action="admin.broadcast.result",
                actor=session.get(Member, plan.actor_id) if plan.actor_id else None,
                target_type="broadcast",
                target_id=broadcast_id,
                detail={
                    "total": report.total,
                    "sent": report.sent,
                    "failed": len(report.failures),
                    "blocked": report.blocked,
                    "unknown": len(report.unknown),
                    "resumed": report.resumed,
                    "reasons": dict(report.reasons()),
                },
            )
        return report

    report = await in_thread(engine, finish)
    if report is not None:
        await hub.send(Delivery(plan.admin, Outbound(_broadcast_summary(report))))


def _preview(text: str, limit: int = 60) -> str:
    return shorten(" ".join(text.split()), limit)


def _named(title: str, recipients: Sequence[Recipient]) -> list[str]:
    lines = ["", title]
    lines += [
        t("admin.tb_window_line", name=r.name, unit=r.unit_name)
        for r in recipients[:MAX_FAILURES_LISTED]
    ]
    more = len(recipients) - MAX_FAILURES_LISTED
    if more > 0:
        lines.append(t("admin.tb_failed_more", count=more))
    return lines


def _broadcast_summary(report: BroadcastReport) -> str:
    lines = [t("admin.tb_done", sent=report.sent, total=report.total)]
    if report.failures:
        lines += ["", t("admin.tb_failed_title", count=len(report.failures))]
        for failure in report.failures[:MAX_FAILURES_LISTED]:
            reason = (
                t("admin.tb_reason_blocked")
                if failure.permanent
                else t("admin.tb_reason_other", reason=failure.reason)
            )
            lines.append(
                t(
                    "admin.tb_failed_line",
                    name=failure.recipient.name,
                    unit=failure.recipient.unit_name,
                    reason=Raw(reason),
                )
            )
        more = len(report.failures) - MAX_FAILURES_LISTED
        if more > 0:
            lines.append(t("admin.tb_failed_more", count=more))
    if report.blocked:
        lines += ["", t("admin.tb_marked")]
    if report.unknown:
        lines += _named(t("admin.tb_unknown_title", count=len(report.unknown)), report.unknown)
    if report.out_of_window:
        title = t("admin.tb_window_title", count=len(report.out_of_window))
        lines += _named(title, report.out_of_window)
    return "\n".join(lines)
