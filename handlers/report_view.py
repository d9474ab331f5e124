"""Viewing one unit's report (xem báo cáo) for admins.

    /xem <đơn vị> [mốc]  what a unit handed in, its files sent as documents

Admin-only (checked by the core); every use is audited. It must not import a platform.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.access import Access, in_scope
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Attachment, Button, Inbound, OutboundFile
from bot.router import Router, make_payload
from domain.campaigns import UnitStatus, unit_status
from domain.export import (
    GROUP,
    ExportTexts,
    FieldLike,
    attachment_ids,
    fields_for,
    submitted_answers,
    text_value,
)
from domain.reports import find_report, report_files, submitted_deadlines
from domain.units import find_units
from handlers.admin_common import (
    MAX_PICK_BUTTONS,
    audit_action,
    deadline_buttons,
    export_texts,
    format_when,
    forms_of,
    parse_id,
    payload_ints,
)
from models.campaigns import Deadline
from models.reports import Attachment as StoredFile
from models.units import Unit

router = Router()
log = logging.getLogger("thidua.admin")

# Button prefixes owned here. "nhac" (remind now) belongs to the reminders capability.
P_VIEW = "adm-xem"  # adm-xem:<unit>[:<deadline>]


MAX_FILE_BYTES = 50 * 1024 * 1024  # what a bot may send as a document


# --- /xem -------------------------------------------------------------------------------------
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
    report = find_report(ctx.session, unit_id=unit.id, deadline_id=deadline.id)  # type: ignore[arg-type]  # a stored row: its id is set
    answers = submitted_answers(report, session=ctx.session)
    state = unit_status(report, deadline, ctx.now())
    status = t(f"status.{state}")
    audit_action(ctx, "admin.view_report", "report", report.id if report else None, unit=unit.code)
    if report is None or answers is None or report.submitted_at is None:
        ctx.say(
            "admin.view_not_submitted",
            unit=unit.name,
            id=deadline.id,
            title=deadline.title,
            status=status,
        )
        return
    texts = export_texts()
    fields = fields_for(deadline, forms_of(ctx), [answers])
    lines = [
        t(
            "admin.view_header",
            unit=unit.name,
            code=unit.code,
            id=deadline.id,
            title=deadline.title,
            status=status,
            submitted_at=format_when(ctx, report.submitted_at),
            version=report.version,
        )
    ]
    if state not in (UnitStatus.SUBMITTED, UnitStatus.LATE, UnitStatus.ACCEPTED):
        lines.append(t("admin.view_current_status", status=status))
    lines += ["", *_render_answers(fields, answers, texts)]
    ctx.reply("\n".join(lines))
    ids = attachment_ids(fields, answers)
    if not ids:
        return
    stored = report_files(report.id, ids, session=ctx.session)  # type: ignore[arg-type]  # a stored row: its id is set
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
    rows = submitted_deadlines(unit.id, session=ctx.session)  # type: ignore[arg-type]  # a stored row: its id is set
    if not rows:
        ctx.say("admin.view_none", unit=unit.name)
        audit_action(ctx, "admin.view_report", "unit", unit.id)
        return
    if len(rows) == 1:
        await _show_report(ctx, unit, rows[0])
        return
    ctx.reply(
        t("admin.view_pick_deadline", unit=unit.name),
        deadline_buttons(list(rows), lambda d: make_payload(P_VIEW, unit.id, d.id)),
    )
    audit_action(ctx, "admin.view_report", "unit", unit.id)


@router.command("xem", access=Access.ADMIN, help_key="help.xem")
async def view_report(event: Inbound, ctx: Context) -> None:
    words = event.args.split()
    if not words:
        raise InputError("admin.view_usage", example="/xem XA-001 3")
    deadline: Deadline | None = None
    last_id = parse_id(words[-1]) if len(words) >= 2 else None
    if last_id is not None:
        # "/xem XA-001 3": a deadline; "/xem thôn 5" with no deadline 5: part of the name.
        deadline = in_scope(ctx, "deadline", last_id)
        if deadline is not None:
            words.pop()
    query = " ".join(words)
    units = find_units(scope=ctx.admin_scope, session=ctx.session, query=query)
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
    ids = payload_ints(event.payload)
    unit = in_scope(ctx, "unit", ids[0]) if ids else None
    deadline = in_scope(ctx, "deadline", ids[1]) if len(ids) == 2 else None
    if unit is None or (len(ids) == 2 and deadline is None):
        ctx.say("core.stale_button")
        return
    if deadline is None:
        await _pick_report(ctx, unit)
    else:
        await _show_report(ctx, unit, deadline)
