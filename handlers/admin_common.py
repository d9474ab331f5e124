"""Small helpers the admin capabilities share (progress, report viewing, export, broadcasts):
local times, deadline arguments, audit records, pick buttons. No route lives here.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.access import in_scope, refuse_in_update
from bot.catalog import t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button
from bot.router import split_payload
from domain import audit
from domain.export import (
    ExportTexts,
    FormLike,
)
from models.campaigns import Deadline

MAX_PICK_BUTTONS = 10


# --- small helpers ----------------------------------------------------------------------------
def say_out_of_scope(ctx: Context, target_type: str, target_id: int | None) -> None:
    """Answer an id the admin's organiser does not own, the same whether it exists elsewhere
    or not at all (`bot.access.refuse_out_of_scope` audits the first)."""
    ctx.say(refuse_in_update(ctx, target_type, target_id))


def forms_of(ctx: Context) -> Mapping[str, FormLike]:
    return ctx.services.forms


def export_texts() -> ExportTexts:
    return ExportTexts.from_catalog(t)


def local_time(ctx: Context, moment: datetime) -> datetime:
    return moment.astimezone(ctx.settings.tz)


def format_when(ctx: Context, moment: datetime) -> str:
    return local_time(ctx, moment).strftime("%H:%M %d/%m/%Y")


def due_phrase(ctx: Context, deadline: Deadline) -> str:
    """How far the due instant is ("còn 3 ngày", "đã quá hạn 2 ngày"), in local days."""
    now = ctx.now()
    days = (local_time(ctx, deadline.due_at).date() - local_time(ctx, now).date()).days
    if now <= deadline.due_at:
        return t("admin.due_today") if days == 0 else t("admin.due_days_left", days=days)
    if days == 0:
        return t("admin.due_overdue_today")
    return t("admin.due_overdue_days", days=-days)


def parse_id(value: str) -> int | None:
    text = value.strip().lstrip("#")
    return int(text) if text.isdigit() else None


def deadline_arg(ctx: Context, value: str, command: str) -> Deadline:
    deadline_id = parse_id(value)
    deadline = in_scope(ctx, "deadline", deadline_id) if deadline_id is not None else None
    if deadline is None:
        raise InputError("admin.bad_deadline", example=f"/{command} 1", value=value.strip())
    return deadline


def audit_action(
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


def payload_ints(payload: str | None) -> list[int]:
    _, parts = split_payload(payload or "")
    try:
        return [int(p) for p in parts]
    except ValueError:
        return []


def deadline_buttons(
    deadlines: Sequence[Deadline],
    payload: Callable[[Deadline], str],
    label_key: str = "admin.deadline_button",
) -> list[list[Button]]:
    return [
        [Button(plain(label_key, id=d.id, title=d.title), payload(d))]
        for d in deadlines[:MAX_PICK_BUTTONS]
    ]


def plain(key: str, /, **params: object) -> str:
    """A catalog text for somewhere that is not HTML (a chart, a button label)."""
    return html.unescape(t(key, **params))
