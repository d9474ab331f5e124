"""Short-lived signed links to one file, for chats that cannot receive a file (Zalo) or
whoever should get a link instead of an attachment.

    url = signed_file_url(settings, "attachment", 42, timedelta(hours=1), now=clock.now())

The link carries the kind, the id and the expiry, signed with SESSION_SECRET: changing any of
them breaks the signature, so a link for one unit's file can never be turned into a link to
another's, and it stops working at expiry. Serving it (`GET /f/<token>`) needs no login — the
link is the permission — but nothing beyond the one file it names.

Kinds are resolved by `bot.web.desk` (`attachment`: a report's file; `export`: a campaign's
XLSX). Other code registers more with `register_file_kind` (a chart, a generated document,
the dossier ZIP once it exists).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from itsdangerous import BadSignature

from bot.settings import Settings
from bot.web.keys import serializer

if TYPE_CHECKING:
    from bot.core import BotCore

FILE_LINK_PATH = "/f"
DEFAULT_TTL = timedelta(hours=1)
MAX_TTL = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class FileOut:
    """A file to send back: its bytes, the name the user sees and its type."""

    content: bytes
    file_name: str
    mime_type: str


# kind -> async resolver(core, id) returning the file, or None when it does not exist.
FileResolver = Callable[["BotCore", int], Awaitable[FileOut | None]]
_RESOLVERS: dict[str, FileResolver] = {}


def register_file_kind(kind: str, resolver: FileResolver) -> None:
    """Let `GET /f/<token>` serve links of `kind` (one resolver per kind)."""
    if not kind.isidentifier():
        raise ValueError(f"bad file kind {kind!r}")
    _RESOLVERS[kind] = resolver


def file_resolver(kind: str) -> FileResolver | None:
    return _RESOLVERS.get(kind)


def signed_file_url(
    settings: Settings,
    kind: str,
    ident: int,
    ttl: timedelta = DEFAULT_TTL,
    *,
    now: datetime,
) -> str:
    """An absolute link (PUBLIC_URL…) that serves one file until `now + ttl` (at most 7 days)."""
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError("a file link lives between a second and 7 days")
    expires = int((now + ttl).timestamp())
    token = serializer(settings, "file").dumps({"k": kind, "i": int(ident), "e": expires})
    return f"{settings.web_base_url}{FILE_LINK_PATH}/{token}"


class LinkError(Exception):
    """`reason`: forged (signature or shape wrong) or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_file_token(settings: Settings, token: str, *, now: datetime) -> tuple[str, int]:
    """(kind, id) of a valid, unexpired link token; LinkError otherwise."""
    if len(token) > 512:
        raise LinkError("forged")
    try:
        data = serializer(settings, "file").loads(token)
    except BadSignature:
        raise LinkError("forged") from None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("k"), str)
        and isinstance(data.get("i"), int)
        and isinstance(data.get("e"), int)
    ):
        raise LinkError("forged")
    if now.timestamp() >= data["e"]:
        raise LinkError("expired")
    return data["k"], data["i"]
