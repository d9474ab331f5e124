"""Broadcasts (thông báo) from an admin to officers.

    /thongbao            audience → message → confirmation → sent, one progress message
                         (declared steps, `BROADCAST`: /quaylai goes back, /huy leaves)

Admin-only (checked by the core); every use is audited. Recipients and the recorded broadcast
live in domain/broadcast.py; sending, retries and resuming after a crash in bot/broadcasts.py,
which gets this module's wording (`BROADCAST_TEXTS`) at build time. It must not import a
platform.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.access import Access, in_scope
from bot.broadcasts import BroadcastTexts, run_broadcast
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Address, Button, Inbound, Outbound
from bot.router import Router, make_payload, split_payload
from bot.steps import Flow, Step
from domain.broadcast import (
    Audience,
    AudienceKind,
    BroadcastReport,
    Plan,
    Recipient,
    record_broadcast,
    select_recipients,
)
from domain.campaigns import blocs
from domain.progress import (
    open_deadlines,
)
from domain.text import clean_text, shorten
from handlers.admin_common import audit_action, deadline_buttons, parse_id
from models.units import Member

router = Router()

# Button prefixes owned here. "nhac" (remind now) belongs to the reminders capability.
P_BROADCAST = "adm-tb"  # adm-tb:<choice>[:<value>]

FLOW_BROADCAST = "broadcast"
STEP_AUDIENCE = "audience"
STEP_BLOC = "bloc"
STEP_DEADLINE = "deadline"
STEP_MESSAGE = "message"
STEP_CONFIRM = "confirm"

MAX_BROADCAST_LENGTH = 3500  # room left under Telegram's 4096 for the heading
MAX_FAILURES_LISTED = 20


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


@dataclass(slots=True)
class BroadcastDraft:
    """What /thongbao has gathered so far (kept in the conversation state)."""

    audience: dict[str, object] | None = None  # `Audience.as_dict()`
    blocs: list[str] = field(default_factory=list)  # the bloc buttons offered, by index
    text: str = ""


def _audience(draft: BroadcastDraft) -> Audience:
    """The chosen audience; callers check one was chosen (never "everyone" by default)."""
    if draft.audience is None:
        raise ValueError("no audience chosen")
    return Audience.from_dict(draft.audience)


def _ask_audience(ctx: Context, draft: BroadcastDraft) -> None:
    ctx.ask(
        t("admin.tb_audience"),
        [
            [Button(t("admin.tb_all"), make_payload(P_BROADCAST, "all"))],
            [Button(t("admin.tb_by_bloc"), make_payload(P_BROADCAST, "blocs"))],
            [Button(t("admin.tb_missing"), make_payload(P_BROADCAST, "late"))],
            [Button(t("core.cancel"), make_payload(P_BROADCAST, "cancel"))],
        ],
    )


def _ask_bloc(ctx: Context, draft: BroadcastDraft) -> None:
    # The payload carries an index into this list, kept in the flow: bloc names are free text
    # and may not fit Telegram's 64 bytes of callback data.
    ctx.ask(
        t("admin.tb_pick_bloc"),
        [[Button(n, make_payload(P_BROADCAST, "bloc", i))] for i, n in enumerate(draft.blocs)],
    )


def _ask_deadline(ctx: Context, draft: BroadcastDraft) -> None:
    deadlines = open_deadlines(scope=ctx.admin_scope, session=ctx.session)
    ctx.ask(
        t("admin.tb_pick_deadline"),
        deadline_buttons(deadlines, lambda d: make_payload(P_BROADCAST, "miss", d.id)),
    )


def _ask_message(ctx: Context, draft: BroadcastDraft) -> None:
    ctx.ask(t("admin.tb_type_message", limit=MAX_BROADCAST_LENGTH))


def _take_message(ctx: Context, draft: BroadcastDraft, event: Inbound) -> bool:
    if event.attachment is not None:
        raise InputError("admin.tb_text_only")
    text = clean_text(event.text)
    if not text:
        raise InputError("admin.tb_empty")
    if len(text) > MAX_BROADCAST_LENGTH:
        raise InputError("admin.tb_too_long", length=len(text), limit=MAX_BROADCAST_LENGTH)
    if draft.audience is None:  # a state with no audience chosen: choose it first
        BROADCAST.goto(ctx, STEP_AUDIENCE, draft)
        return False
    audience = _audience(draft)
    selection = select_recipients(
        audience, scope=ctx.admin_scope, session=ctx.session, reachable=_reachable(ctx)
    )
    if not selection.recipients:
        ctx.say("admin.tb_nobody", audience=_audience_name(ctx, audience))
        ctx.end()
        return False
    draft.text = text
    return True


def _ask_confirm(ctx: Context, draft: BroadcastDraft) -> None:
    audience = _audience(draft)
    selection = select_recipients(
        audience, scope=ctx.admin_scope, session=ctx.session, reachable=_reachable(ctx)
    )
    count = len(selection.recipients)
    question = t(
        "admin.tb_confirm",
        count=count,
        units=selection.units,
        audience=_audience_name(ctx, audience),
        preview=draft.text,
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


# Declared steps (bot/steps.py): /quaylai goes back from the message to the audience and from
# the confirmation to the message; nothing here may be skipped with /boqua.
BROADCAST = Flow(
    FLOW_BROADCAST,
    BroadcastDraft,
    [
        Step(STEP_AUDIENCE, _ask_audience),
        Step(STEP_BLOC, _ask_bloc, back=STEP_AUDIENCE),
        Step(STEP_DEADLINE, _ask_deadline, back=STEP_AUDIENCE),
        Step(STEP_MESSAGE, _ask_message, _take_message, back=STEP_AUDIENCE),
        Step(STEP_CONFIRM, _ask_confirm, back=STEP_MESSAGE),
    ],
    required_key="admin.tb_cannot_skip",
    typed_refusal="admin.tb_use_buttons",
)
BROADCAST.register(router, access=Access.ADMIN)


def _to_message(ctx: Context, draft: BroadcastDraft, audience: Audience) -> None:
    draft.audience = audience.as_dict()
    BROADCAST.goto(ctx, STEP_MESSAGE, draft)


@router.command("thongbao", access=Access.ADMIN, help_key="help.thongbao")
async def start_broadcast(event: Inbound, ctx: Context) -> None:
    BROADCAST.start(ctx)


@router.button(P_BROADCAST, access=Access.ADMIN)
async def on_broadcast_button(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    choice = parts[0] if parts else ""
    if ctx.flow != FLOW_BROADCAST:
        ctx.say("core.stale_button")
        return
    draft = BROADCAST.data(ctx)
    if choice == "cancel":
        ctx.end()
        ctx.reply(t("core.cancelled"), replace=True)
    elif choice == "all" and ctx.step == STEP_AUDIENCE:
        _to_message(ctx, draft, Audience(AudienceKind.ALL))
    elif choice == "blocs" and ctx.step == STEP_AUDIENCE:
        names = blocs(ctx.session, scope=ctx.admin_scope)
        if not names:
            ctx.say("admin.tb_no_blocs")
            return
        draft.blocs = names
        BROADCAST.goto(ctx, STEP_BLOC, draft)
    elif choice == "bloc" and ctx.step == STEP_BLOC and len(parts) == 2 and parts[1].isdigit():
        index = int(parts[1])
        if index >= len(draft.blocs):
            ctx.say("core.stale_button")
            return
        _to_message(ctx, draft, Audience(AudienceKind.BLOC, bloc=draft.blocs[index]))
    elif choice == "late" and ctx.step == STEP_AUDIENCE:
        if not open_deadlines(scope=ctx.admin_scope, session=ctx.session):
            ctx.say("admin.no_open_deadlines")
            return
        BROADCAST.goto(ctx, STEP_DEADLINE, draft)
    elif choice == "send" and ctx.step == STEP_CONFIRM:
        if draft.audience is None or not draft.text:  # nothing chosen to send: start over
            ctx.say("core.stale_button")
            BROADCAST.goto(ctx, STEP_AUDIENCE, draft)
            return
        _confirm_broadcast(event, ctx, draft)
    elif choice == "miss" and ctx.step == STEP_DEADLINE and len(parts) == 2:
        deadline = in_scope(ctx, "deadline", parse_id(parts[1]) or 0)
        if deadline is None:
            ctx.say("core.stale_button")
            return
        _to_message(ctx, draft, Audience(AudienceKind.MISSING, deadline_id=deadline.id))
    else:
        ctx.say("core.stale_button")


def _confirm_broadcast(event: Inbound, ctx: Context, draft: BroadcastDraft) -> None:
    audience, text = _audience(draft), draft.text
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
        # Signed, so officers know who wrote to them (kept with the text: a resumed broadcast
        # says the same).
        text=text + "\n\n" + t("hints.signature", name=ctx.member.display_name or "—"),
        audience=audience,
        owner=owner,
        now=ctx.now(),
        organiser_id=ctx.admin_scope.organiser_id,
    )
    audit_action(
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
    delivery, clock = ctx.services.delivery, ctx.clock
    ctx.defer(lambda: run_broadcast(delivery, bind, clock, BROADCAST_TEXTS, broadcast_id, owner))


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


def _resumed_notice(plan: Plan) -> str:
    notice = t(
        "admin.tb_resumed",
        preview=_preview(plan.text),
        count=len(plan.pending),
        total=plan.total,
    )
    if plan.unknown:
        notice += "\n" + t("admin.tb_resumed_unknown", count=plan.unknown)
    return notice


# How a broadcast's messages are worded; bot/broadcasts.py sends them (given at build time).
BROADCAST_TEXTS = BroadcastTexts(
    message=lambda text: Outbound(t("admin.broadcast_message", text=text)),
    progress=lambda done, total: t("admin.tb_progress", done=done, total=total),
    resumed=_resumed_notice,
    summary=_broadcast_summary,
)
