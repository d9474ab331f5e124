"""Officers joining and leaving: invite links, /dangky, /duyet, /xoacanbo, /capquyen,
/thuhoiquyen (admins listed, rights revoked), /toi.

`/start <token>` (routed from handlers/start.py) binds the user to the invite's unit at once.
/dangky without an invite: type part of the unit's name, pick it from buttons, give a name and
optionally a phone; the registration waits for an admin, and every admin gets it with
Approve/Reject buttons. Admins remove officers and grant admin rights by picking from buttons
and confirming. Rules live in `domain.registration`; nothing here knows a platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.access import Access, refuse_in_update
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound, Outbound
from bot.router import Router, make_payload, split_payload
from bot.steps import Flow, Step
from domain import organisers, registration
from domain import scope as scoped
from domain import units as registry
from domain.registration import InviteProblem, InviteRefused
from models.organisers import DEFAULT_ORGANISER_ID
from models.units import AdminSource, Member, MemberStatus, Role, Unit

router = Router()

REGISTER_FLOW = "registration"
STEP_UNIT, STEP_NAME, STEP_PHONE = "unit", "name", "phone"
MAX_CANDIDATES = 8
MAX_PENDING_SHOWN = 10
MAX_MEMBER_BUTTONS = 10


def _unit_name(ctx: Context, unit_id: int | None) -> str:
    unit = ctx.session.get(Unit, unit_id) if unit_id else None
    return unit.name if unit else t("registration.no_unit")


def _account(member: Member) -> str:
    return f"{member.channel}:{member.user_id}"


def _payload_id(event: Inbound) -> int | None:
    _, parts = split_payload(event.payload or "")
    return int(parts[0]) if parts and parts[0].isdigit() else None


# --- /start <token> ------------------------------------------------------------------------
async def open_invite(event: Inbound, ctx: Context) -> bool:
    """Bind the user through the invite token in `/start <token>`.

    True when the token was dealt with: bound and greeted, or refused with one message saying
    why and what to do; False only when there was no token to try.
    """
    words = event.args.split()
    # "/start ABCD 2345": a short code typed with a space is one code.
    token = "".join(words[:2]) if len(words) >= 2 and len(words[0]) == 4 else words[0]
    try:
        binding = registration.redeem_invite(
            ctx.session,
            token=token,
            channel=event.channel,
            user_id=event.user_id,
            chat_id=event.chat_id,
            display_name=event.display_name,
            member=ctx.member,
            now=ctx.now(),
        )
    except InviteRefused as refused:
        # One message says it all: why, what to ask for, and how to register without a code.
        newcomer = ctx.member is None or ctx.member.status != MemberStatus.APPROVED
        lines = [t("core.welcome", name=event.display_name or event.user_id)] if newcomer else []
        lines.append(t(f"registration.invite_problem.{refused.problem}"))
        if refused.problem != InviteProblem.TOO_MANY:
            lines.append(t("registration.invite_problem_hint"))
        if newcomer:
            lines.append(t("hints.invite_refused_next"))
        ctx.reply("\n".join(lines))
        return True
    member, unit = binding.member, binding.unit
    ctx.member = member
    if ctx.flow == REGISTER_FLOW:
        ctx.end()  # a registration typed half-way is moot now
    name = member.display_name or event.display_name
    if binding.already:
        ctx.say("registration.invite_already", unit=unit.name)
        return True
    if binding.previous_unit_id not in (None, unit.id):
        previous = _unit_name(ctx, binding.previous_unit_id)
        ctx.say("registration.invite_moved", name=name, unit=unit.name, previous=previous)
    else:
        ctx.say("registration.invite_ok", name=name, unit=unit.name)
    creator = ctx.session.get(Member, member.decided_by_id) if member.decided_by_id else None
    if creator is not None and creator.id != member.id and creator.role == Role.ADMIN:
        ctx.tell(creator, "registration.invite_used_notice", name=name, unit=unit.name)
    return True


@router.text(r"[A-Za-z0-9_-]{32}", access=Access.PUBLIC)
@router.text(r"\s*[A-Za-z0-9]{4}[-\s]?[A-Za-z0-9]{4}\s*", access=Access.PUBLIC)
async def pasted_invite(event: Inbound, ctx: Context) -> None:
    """An invite code typed or pasted on its own: channels without deep links (Zalo) need it.
    An 8-character word with no digit is not a code: it gets the ordinary "not understood"."""
    if len(event.text.strip()) != 32 and registration.normalise_short_code(event.text) is None:
        ctx.say("core.not_understood")
        return
    event.args = re.sub(r"\s+", "", event.text)
    if not await open_invite(event, ctx):
        ctx.say("core.welcome_unregistered")


# --- /dangky -------------------------------------------------------------------------------
@router.command("dangky", access=Access.PUBLIC, help_key="help.dangky")
async def register(event: Inbound, ctx: Context) -> None:
    member = ctx.member
    if member is not None and member.status == MemberStatus.APPROVED:
        ctx.say(
            "registration.register.already",
            role=_role(member),
            unit=_unit_name(ctx, member.unit_id),
        )
        return
    if not registry.has_active_units(ctx.session):
        # Searching an empty registry would only ever answer "no unit matches".
        ctx.say("registration.register.no_units_yet")
        return
    REGISTER.start(ctx)


@dataclass(slots=True)
class Registration:
    """What /dangky has gathered so far (kept in the conversation state)."""

    unit_id: int | None = None
    name: str = ""


def _ask_unit(ctx: Context, data: Registration) -> None:
    ctx.ask(t("registration.register.ask_unit") + "\n" + t("core.example", example="Bình Lư"))


def _take_unit(ctx: Context, data: Registration, event: Inbound) -> bool:
    """A typed name offers the matching units as buttons; the step waits for the press."""
    _offer_units(ctx, event.text)
    return False


def _ask_name(ctx: Context, data: Registration) -> None:
    ctx.ask(t("registration.register.ask_name", unit=_unit_name(ctx, data.unit_id)))


def _take_name(ctx: Context, data: Registration, event: Inbound) -> None:
    data.name = registration.check_person_name(event.text)


def _ask_phone(ctx: Context, data: Registration) -> None:
    ctx.ask(t("registration.register.ask_phone"))


def _take_phone(ctx: Context, data: Registration, event: Inbound) -> bool:
    _submit(ctx, data, registration.check_phone(event.text))
    return False


def _offer_units(ctx: Context, query: str) -> None:
    # A newcomer may belong to any organiser's unit: the search spans them all (scope None).
    found = registry.search_units(
        ctx.session, query, scope=None, active_only=True, limit=MAX_CANDIDATES + 1
    )
    if not found:
        raise InputError("registration.register.no_unit", example="Bình Lư", query=query)
    if len(found) > MAX_CANDIDATES:
        total = len(registry.search_units(ctx.session, query, scope=None, active_only=True))
        raise InputError("registration.register.too_many", count=total, query=query)
    buttons = [[Button(_unit_label(ctx, unit), make_payload("rg-u", unit.id))] for unit in found]
    ctx.reply(t("registration.register.pick_unit"), buttons)


REGISTER: Flow[Registration] = Flow(
    REGISTER_FLOW,
    Registration,
    [
        Step(STEP_UNIT, _ask_unit, _take_unit),
        Step(STEP_NAME, _ask_name, _take_name),
        # Skipping the phone submits without one.
        Step(STEP_PHONE, _ask_phone, _take_phone, optional=True),
    ],
    required_key="registration.register.required",
    file_refusal="registration.register.text_please",
    finish=lambda ctx, data: _submit(ctx, data, None),
)
REGISTER.register(router, access=Access.PUBLIC)


@router.button("rg-u", access=Access.PUBLIC)
async def register_unit_picked(event: Inbound, ctx: Context) -> None:
    unit_id = _payload_id(event)
    unit = ctx.session.get(Unit, unit_id) if unit_id else None
    if ctx.flow != REGISTER_FLOW or ctx.step != STEP_UNIT or unit is None or not unit.active:
        ctx.say("core.stale_button")
        return
    data = REGISTER.data(ctx)
    data.unit_id = unit.id
    REGISTER.advance(ctx, data)


def _submit(ctx: Context, data: Registration, phone: str | None) -> None:
    event = ctx.event
    unit = ctx.session.get(Unit, data.unit_id or 0)
    full_name = data.name or event.display_name
    ctx.end()
    member = ctx.member
    if member is not None and member.status == MemberStatus.APPROVED:
        ctx.say(
            "registration.register.already",
            role=_role(member),
            unit=_unit_name(ctx, member.unit_id),
        )
        return
    if unit is None or not unit.active:
        ctx.say("core.stale_button")
        return
    member = registration.submit_registration(
        ctx.session,
        channel=event.channel,
        user_id=event.user_id,
        chat_id=event.chat_id,
        member=member,
        unit=unit,
        full_name=full_name,
        phone=phone,
        now=ctx.now(),
    )
    ctx.member = member
    ctx.say("registration.register.submitted", unit=unit.name)
    for admin in registration.admins_of_unit(ctx.session, member.unit_id):
        ctx.notify_member(admin, lambda: _pending_card(member, unit))


def _pending_card(member: Member, unit: Unit | None) -> Outbound:
    text = t(
        "registration.new_pending",
        name=member.display_name,
        unit=unit.name if unit else t("registration.no_unit"),
        phone=member.phone or t("registration.no_phone"),
        account=_account(member),
    )
    buttons = [
        [
            Button(t("registration.approve_button"), make_payload("rg-ok", member.id)),
            Button(t("registration.reject_button"), make_payload("rg-no", member.id)),
        ]
    ]
    return Outbound(text, buttons)


# --- /duyet --------------------------------------------------------------------------------
@router.command("duyet", access=Access.ADMIN, help_key="help.duyet")
async def pending(event: Inbound, ctx: Context) -> None:
    waiting = registration.pending_registrations(
        ctx.session, scope=ctx.admin_scope, limit=MAX_PENDING_SHOWN
    )
    if not waiting:
        ctx.say("registration.pending_none")
        return
    total = registration.count_pending(ctx.session, scope=ctx.admin_scope)
    ctx.say("registration.pending_title", count=total)
    for member in waiting:
        card = _pending_card(member, ctx.session.get(Unit, member.unit_id or 0))
        ctx.reply(card.text, card.buttons)
    if total > len(waiting):
        ctx.say("registration.pending_more", count=total - len(waiting))


@router.button("rg-ok", access=Access.ADMIN)
async def approve(event: Inbound, ctx: Context) -> None:
    _decide(event, ctx, approve=True)


@router.button("rg-no", access=Access.ADMIN)
async def reject(event: Inbound, ctx: Context) -> None:
    _decide(event, ctx, approve=False)


def _decide(event: Inbound, ctx: Context, *, approve: bool) -> None:
    member_id = _payload_id(event)
    assert ctx.member is not None  # Access.ADMIN
    decided = (
        registration.decide_registration(
            ctx.session,
            member_id=member_id,
            approve=approve,
            scope=ctx.admin_scope,
            by=ctx.member,
            now=ctx.now(),
        )
        if member_id is not None
        else None
    )
    if decided is None:
        target = scoped.member(member_id, scope=ctx.admin_scope, session=ctx.session)
        if target is None:
            ctx.say(_out_of_scope(ctx, member_id))
        else:
            status = t(f"registration.status.{target.status}")
            ctx.reply(
                t("registration.already_decided", name=target.display_name, status=status),
                replace=True,
            )
        return
    unit = _unit_name(ctx, decided.unit_id)
    if approve:
        ctx.reply(
            t("registration.approved_admin", name=decided.display_name, unit=unit), replace=True
        )
        ctx.tell(decided, "registration.approved_notice", unit=unit)
    else:
        ctx.reply(
            t("registration.rejected_admin", name=decided.display_name, unit=unit), replace=True
        )
        ctx.tell(decided, "registration.rejected_notice", unit=unit)


# --- /xoacanbo, /capquyen ------------------------------------------------------------------
@router.command("xoacanbo", access=Access.ADMIN, help_key="help.xoacanbo")
async def remove_officer(event: Inbound, ctx: Context) -> None:
    _pick_member(ctx, event, prefix="mb-rm", pick_key="registration.remove.pick")


@router.command("capquyen", access=Access.ADMIN, help_key="help.capquyen")
async def grant_admin(event: Inbound, ctx: Context) -> None:
    _pick_member(ctx, event, prefix="mb-ad", pick_key="registration.grant.pick")


def _pick_member(ctx: Context, event: Inbound, *, prefix: str, pick_key: str) -> None:
    query = event.args.strip()
    found = registration.find_members(
        ctx.session, query, scope=ctx.admin_scope, limit=MAX_MEMBER_BUTTONS + 1
    )
    if not found:
        if query:
            ctx.say("registration.member_none", query=query)
        else:
            ctx.say("registration.member_none_all")
        return
    if len(found) > MAX_MEMBER_BUTTONS:
        total = len(
            registration.find_members(ctx.session, query, scope=ctx.admin_scope, limit=10_000)
        )
        ctx.say("registration.member_too_many", count=total, command=event.command or "")
        return
    buttons = [
        [Button(f"{m.display_name} — {_unit_name(ctx, m.unit_id)}", make_payload(prefix, m.id))]
        for m in found
    ]
    ctx.say(pick_key, buttons)


def _confirm(ctx: Context, event: Inbound, *, confirm_key: str, prefix: str) -> None:
    member_id = _payload_id(event)
    target = scoped.member(member_id, scope=ctx.admin_scope, session=ctx.session)
    if target is None:
        ctx.say(_out_of_scope(ctx, member_id))
        return
    if target.status != MemberStatus.APPROVED or target.role != Role.OFFICER:
        ctx.reply(t("registration.member_gone"), replace=True)
        return
    text = t(confirm_key, name=target.display_name, unit=_unit_name(ctx, target.unit_id))
    buttons = [
        [
            Button(t("core.confirm"), make_payload(prefix, target.id)),
            Button(t("core.cancel"), make_payload("mb-no")),
        ]
    ]
    ctx.reply(text, buttons, replace=True)


@router.button("mb-rm", access=Access.ADMIN)
async def remove_officer_picked(event: Inbound, ctx: Context) -> None:
    _confirm(ctx, event, confirm_key="registration.remove.confirm", prefix="mb-rmok")


@router.button("mb-ad", access=Access.ADMIN)
async def grant_admin_picked(event: Inbound, ctx: Context) -> None:
    _confirm(ctx, event, confirm_key="registration.grant.confirm", prefix="mb-adok")


@router.button("mb-no", access=Access.ADMIN)
async def member_action_cancelled(event: Inbound, ctx: Context) -> None:
    ctx.reply(t("registration.cancelled"), replace=True)


def _confirmed_change(
    event: Inbound, ctx: Context, change: Callable[..., Member | None]
) -> Member | None:
    """Apply a confirmed change to the member on the button (`registration.remove_officer`,
    `grant_admin`); None, after saying so, when that member is no longer there to change."""
    member_id = _payload_id(event)
    assert ctx.member is not None
    changed = (
        change(
            ctx.session, member_id=member_id, scope=ctx.admin_scope, by=ctx.member, now=ctx.now()
        )
        if member_id is not None
        else None
    )
    if changed is None:
        if scoped.member(member_id, scope=ctx.admin_scope, session=ctx.session) is None:
            ctx.say(_out_of_scope(ctx, member_id))
        else:
            ctx.reply(t("registration.member_gone"), replace=True)
    return changed


def _out_of_scope(ctx: Context, member_id: int | None) -> str:
    return refuse_in_update(ctx, "member", member_id)


@router.button("mb-rmok", access=Access.ADMIN)
async def remove_officer_confirmed(event: Inbound, ctx: Context) -> None:
    removed = _confirmed_change(event, ctx, registration.remove_officer)
    if removed is None:
        return
    unit = _unit_name(ctx, removed.unit_id)
    ctx.reply(t("registration.remove.done", name=removed.display_name, unit=unit), replace=True)
    ctx.tell(removed, "registration.remove.notice", unit=unit)


@router.button("mb-adok", access=Access.ADMIN)
async def grant_admin_confirmed(event: Inbound, ctx: Context) -> None:
    granted = _confirmed_change(event, ctx, registration.grant_admin)
    if granted is None:
        return
    ctx.reply(t("registration.grant.done", name=granted.display_name), replace=True)
    ctx.tell(granted, "registration.grant.notice")


def _unit_label(ctx: Context, unit: Unit) -> str:
    """A unit as a newcomer picks it: with its organiser when it is not the default one (two
    communes may both have a "Thôn 1")."""
    if unit.organiser_id == DEFAULT_ORGANISER_ID:
        return unit.name
    organiser = scoped.organiser_of_unit(unit, session=ctx.session)
    return f"{unit.name} — {organiser.name}"


# --- /thuhoiquyen: admins listed, rights revoked --------------------------------------------
def _admin_line(ctx: Context, member: Member) -> str:
    unit = _unit_name(ctx, member.unit_id) if member.unit_id else t("admins.no_unit")
    source = "config" if member.admin_source == AdminSource.CONFIG else "chat"
    return t(
        "admins.list_line", name=member.display_name, unit=unit, source=t(f"admins.source_{source}")
    )


def _admin_in_scope(ctx: Context, member_id: int | None) -> Member | None:
    """An admin of the organiser acted for, named by a button; an admin of another organiser
    only (a forged payload) is audited as out of scope and answered like a stale button."""
    if member_id is None:
        return None
    admins = registration.list_admins(ctx.session, scope=ctx.admin_scope)
    found = next((m for m in admins if m.id == member_id), None)
    if found is None:
        other = ctx.session.get(Member, member_id)
        if other is not None and other.role == Role.ADMIN:
            refuse_in_update(ctx, "member", member_id)
    return found


@router.command("thuhoiquyen", access=Access.ADMIN, help_key="admins.help_thuhoiquyen")
async def list_admins(event: Inbound, ctx: Context) -> None:
    admins = registration.list_admins(ctx.session, scope=ctx.admin_scope)
    lines = [t("admins.list_title", count=len(admins))]
    lines += [_admin_line(ctx, m) for m in admins]
    ctx.reply("\n".join(lines))
    revocable = [m for m in admins if m.admin_source != AdminSource.CONFIG]
    if revocable and len(admins) > 1:
        buttons = [
            [Button(m.display_name or str(m.id), make_payload("ad-rv", m.id))]
            for m in revocable[:MAX_MEMBER_BUTTONS]
        ]
        ctx.say("admins.pick", buttons)


@router.button("ad-rv", access=Access.ADMIN)
async def revoke_admin_picked(event: Inbound, ctx: Context) -> None:
    member_id = _payload_id(event)
    target = _admin_in_scope(ctx, member_id)
    if target is None:
        ctx.reply(t("admins.gone"), replace=True)
        return
    assert ctx.member is not None
    others = [
        o
        for o in organisers.administered(target, session=ctx.session)
        if o.id != ctx.admin_scope.organiser_id
    ]
    if others:
        after = t("admins.after_other")
    elif target.unit_id:
        after = t("admins.after_officer", unit=_unit_name(ctx, target.unit_id))
    else:
        after = t("admins.after_none")
    key = "admins.confirm_self" if target.id == ctx.member.id else "admins.confirm"
    buttons = [
        [
            Button(t("core.confirm"), make_payload("ad-rvok", target.id)),
            Button(t("core.cancel"), make_payload("mb-no")),
        ]
    ]
    ctx.reply(t(key, name=target.display_name, after=Raw(after)), buttons, replace=True)


@router.button("ad-rvok", access=Access.ADMIN)
async def revoke_admin_confirmed(event: Inbound, ctx: Context) -> None:
    member_id = _payload_id(event)
    assert ctx.member is not None
    target = _admin_in_scope(ctx, member_id)
    try:
        revoked = (
            registration.revoke_admin(
                ctx.session,
                member_id=target.id,
                scope=ctx.admin_scope,
                by=ctx.member,
                now=ctx.now(),
            )
            if target is not None and target.id is not None
            else None
        )
    except registration.RevokeRefused as refused:
        name = target.display_name if target is not None else ""
        ctx.reply(t(f"admins.refused_{refused.reason}", name=name), replace=True)
        return
    if revoked is None:
        ctx.reply(t("admins.gone"), replace=True)
        return
    ctx.reply(t("admins.done", name=revoked.display_name), replace=True)
    if revoked.id != ctx.member.id:
        ctx.tell(revoked, "admins.notice")


# --- /toi ----------------------------------------------------------------------------------
def _role(member: Member) -> str:
    return t(f"registration.role.{member.role}")


@router.command("toi", access=Access.MEMBER, help_key="help.toi")
async def whoami(event: Inbound, ctx: Context) -> None:
    member = ctx.member
    assert member is not None  # Access.MEMBER
    unit = ctx.session.get(Unit, member.unit_id) if member.unit_id else None
    ctx.say(
        "registration.me",
        # The member's own name and phone: shown only to themself.
        name=member.display_name or event.display_name,
        phone=member.phone or t("registration.no_phone"),
        unit=f"{unit.name} ({unit.code})" if unit else t("registration.no_unit"),
        role=_role(member),
        status=t(f"registration.status.{member.status}"),
        account=_account(member),
    )
    administered = organisers.administered(member, session=ctx.session)
    if administered:
        ctx.say("organisers.me", names=", ".join(o.name for o in administered))
