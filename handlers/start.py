"""Greeting and help: /start, /trogiup and the global /huy.

/trogiup is built from the routing table, so a new command shows up in help by declaring a
`help_key` where it is routed; admins see the admin commands in a section of their own.
"""

from __future__ import annotations

from bot.access import Access, check, council_refusal, is_admin
from bot.catalog import Raw, t
from bot.context import Context
from bot.events import Inbound
from bot.router import Router
from domain.council import seat_of
from handlers.registration import open_invite
from models.units import MemberStatus, Role, Unit

router = Router()


@router.command("start", access=Access.PUBLIC, help_key="help.start")
async def start(event: Inbound, ctx: Context) -> None:
    # `/start <token>` comes from an invite link. A token that cannot be used is explained
    # there, then the normal welcome follows.
    if event.args and await open_invite(event, ctx):
        return
    member = ctx.member
    if member is None or check(member, Access.MEMBER) is not None:
        ctx.say("core.welcome", name=event.display_name or event.user_id)
        pending = member is not None and member.status == MemberStatus.PENDING
        ctx.say("core.welcome_pending" if pending else "core.welcome_unregistered")
        return
    unit = ctx.session.get(Unit, member.unit_id) if member.unit_id else None
    admin = member.role == Role.ADMIN
    if unit is None:
        role = t("core.role_admin" if admin else "core.role_officer_no_unit")
    else:
        role = t("core.role_admin_of" if admin else "core.role_officer", unit=unit.name)
    ctx.say("core.welcome_member", name=member.display_name or event.display_name, role=Raw(role))


@router.command("trogiup", "help", access=Access.PUBLIC, help_key="help.trogiup")
async def show_help(event: Inbound, ctx: Context) -> None:
    general: list[str] = []
    admin: list[str] = []
    seat = seat_of(ctx.session, member_id=ctx.member.id if ctx.member else None)
    for entry in ctx.services.help:
        if check(ctx.member, entry.access) is not None:
            continue
        if entry.access is Access.COUNCIL and council_refusal(ctx.member, seat) is not None:
            continue
        line = t("core.help_line", command=entry.command, description=t(entry.help_key))
        (admin if entry.access is Access.ADMIN else general).append(line)
    parts = [t("core.help_title"), *general]
    if admin and is_admin(ctx.member):
        parts += ["", t("core.help_admin_title"), *admin]
    parts += ["", t("core.help_footer")]
    ctx.reply("\n".join(parts))


@router.command("huy", access=Access.PUBLIC)
async def cancel(event: Inbound, ctx: Context) -> None:
    """Leave whatever flow the chat is in; what it saved (drafts) stays saved."""
    if ctx.flow is None:
        ctx.say("core.nothing_to_cancel")
        return
    ctx.end()
    ctx.say("core.cancelled")
