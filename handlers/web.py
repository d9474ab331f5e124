"""/web: a one-time link to the office's web desk, and "/web thoat" to log out everywhere.

Who may use the desk is `bot.access.can_use_web_desk` (the same rule the desk applies on every
request); the token rules are `domain.web_login`. The link is built on PUBLIC_URL.
"""

from __future__ import annotations

from bot.access import Access, can_use_web_desk
from bot.context import Context
from bot.errors import InputError
from bot.events import Inbound
from bot.router import Router
from domain import audit
from domain.text import fold
from domain.web_login import LINK_TTL, LINK_WINDOW, LoginError, end_web_sessions, issue_login_token

router = Router()

LOGOUT_WORDS = {"thoat", "dangxuat", "dang xuat", "logout"}


@router.command("web", access=Access.ADMIN, help_key="help.web")
async def web_link(event: Inbound, ctx: Context) -> None:
    member = ctx.member
    assert member is not None
    if not can_use_web_desk(member, session=ctx.session):
        ctx.say("web.not_allowed")
        return
    word = fold(event.args)
    if word in LOGOUT_WORDS:
        end_web_sessions(ctx.session, member=member, now=ctx.now())
        audit.record(ctx.session, now=ctx.now(), action="web.logout_all", actor=member)
        ctx.say("web.logged_out")
        return
    if word:
        raise InputError("web.usage", example="/web thoat")
    try:
        token = issue_login_token(ctx.session, member=member, now=ctx.now())
    except LoginError:
        audit.record(ctx.session, now=ctx.now(), action="web.link", actor=member, outcome="refused")
        ctx.say("web.too_many", minutes=int(LINK_WINDOW.total_seconds() // 60))
        return
    audit.record(ctx.session, now=ctx.now(), action="web.link", actor=member)
    url = f"{ctx.settings.web_base_url}/login/{token}"
    ctx.say("web.link", url=url, minutes=int(LINK_TTL.total_seconds() // 60))
