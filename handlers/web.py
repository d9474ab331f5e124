"""/web: a one-time link to the office's web desk, and "/web thoat" to log out everywhere.

Who may use the desk is `bot.access.web_access` — an organiser's admins, and council members
for the council's pages — the same rule the desk applies on every request; the token rules
are `domain.web_login`. The link is built on PUBLIC_URL.
"""

from __future__ import annotations

from bot.access import Access, is_admin, web_access
from bot.context import Context
from bot.errors import InputError
from bot.events import Inbound
from bot.router import Router
from domain import audit
from domain.members import audit_refusal
from domain.text import fold
from domain.web_login import LINK_TTL, LINK_WINDOW, LoginError, end_web_sessions, issue_login_token

router = Router()

LOGOUT_WORDS = {"thoat", "dangxuat", "dang xuat", "logout"}


# Access.COUNCIL admits approved members; the desk's own rule (admins of an organiser, council
# members) is asked inside, the same one every desk page asks.
@router.command("web", access=Access.COUNCIL, help_key="help.web")
async def web_link(event: Inbound, ctx: Context) -> None:
    member = ctx.member
    assert member is not None
    rights = web_access(member, session=ctx.session)
    if rights is None:
        # Not an admin nor a council member: the council routes' own refusal. An admin who
        # administers several organisers and has not chosen one (/coquan) is told the desk's.
        audit_refusal(ctx.session, member=member, event=event, route="/web", now=ctx.now())
        ctx.say("web.not_allowed" if is_admin(member) else "access.council_only")
        return
    # An admin's entries belong to the organiser they act for, a council member's to the
    # organiser whose council they sit on: that office's /nhatky and desk log show them.
    organiser = rights.audit_organiser_id
    word = fold(event.args)
    if word in LOGOUT_WORDS:
        end_web_sessions(ctx.session, member=member, now=ctx.now())
        audit.record(
            ctx.session,
            now=ctx.now(),
            action="web.logout_all",
            actor=member,
            organiser_id=organiser,
        )
        ctx.say("web.logged_out")
        return
    if word:
        raise InputError("web.usage", example="/web thoat")
    try:
        token = issue_login_token(ctx.session, member=member, now=ctx.now())
    except LoginError:
        audit.record(
            ctx.session,
            now=ctx.now(),
            action="web.link",
            actor=member,
            outcome="refused",
            organiser_id=organiser,
        )
        ctx.say("web.too_many", minutes=int(LINK_WINDOW.total_seconds() // 60))
        return
    audit.record(
        ctx.session, now=ctx.now(), action="web.link", actor=member, organiser_id=organiser
    )
    url = f"{ctx.settings.web_base_url}/login/{token}"
    ctx.say("web.link", url=url, minutes=int(LINK_TTL.total_seconds() // 60))
