"""Logging in to the web desk with a one-time link from the chat — no passwords.

`issue_login_token` makes the link's secret (returned once, stored only as a SHA-256 hash),
refusing when a member asked for too many links lately; `consume_login_token` spends it:
unknown, used and expired tokens are told apart so the page can say which. `end_web_sessions`
bumps the member's session generation, which every session cookie carries ("/web thoat").

Who may log in at all is decided by `bot.access`, not here. Times come in as arguments.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.base import rowcount
from models.units import Member
from models.web import LoginToken

LINK_TTL = timedelta(minutes=10)
# At most this many links per member in a window: enough for a mistyped try or two, too few
# to be a way of spamming a chat or guessing.
MAX_LINKS = 5
LINK_WINDOW = timedelta(minutes=10)
TOKEN_BYTES = 32


class LoginError(Exception):
    """A login link cannot be used; `reason` is one of unknown, used, expired, refused."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_login_token(session: Session, *, member: Member, now: datetime) -> str:
    """A new one-time token for `member`, valid `LINK_TTL`; raises LoginError("too_many")
    when the member asked for `MAX_LINKS` within `LINK_WINDOW`."""
    assert member.id is not None
    recent = session.exec(
        select(func.count())
        .select_from(LoginToken)
        .where(LoginToken.member_id == member.id, col(LoginToken.created_at) > now - LINK_WINDOW)
    ).one()
    if recent >= MAX_LINKS:
        raise LoginError("too_many")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        LoginToken(
            member_id=member.id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + LINK_TTL,
        )
    )
    return token


@dataclass(frozen=True, slots=True)
class Login:
    member: Member
    generation: int


def consume_login_token(session: Session, *, token: str, now: datetime) -> Login:
    """Spend a token: the member it was made for, or LoginError (unknown, used, expired).

    The spend is one conditional UPDATE, so two tabs opening the same link at once cannot
    both log in."""
    if not token or len(token) > 128:
        raise LoginError("unknown")
    row = session.exec(select(LoginToken).where(LoginToken.token_hash == token_hash(token))).first()
    if row is None:
        raise LoginError("unknown")
    if row.used_at is not None:
        raise LoginError("used")
    if now >= row.expires_at:
        raise LoginError("expired")
    spent = session.execute(
        sa.update(LoginToken)
        .where(col(LoginToken.id) == row.id, col(LoginToken.used_at).is_(None))
        .values(used_at=now)
    )
    if rowcount(spent) != 1:
        raise LoginError("used")
    member = session.get(Member, row.member_id)
    if member is None:
        raise LoginError("unknown")
    return Login(member, member.web_generation)


def end_web_sessions(session: Session, *, member: Member, now: datetime) -> int:
    """End every web session of `member` (their cookies carry an older generation now) and
    spend the links not used yet; returns the new generation."""
    member.web_generation = (member.web_generation or 0) + 1
    session.add(member)
    session.execute(
        sa.update(LoginToken)
        .where(col(LoginToken.member_id) == member.id, col(LoginToken.used_at).is_(None))
        .values(used_at=now)
    )
    return member.web_generation
