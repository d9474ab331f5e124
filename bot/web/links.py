"""Short-lived signed links to one file, for chats that cannot receive a file (Zalo) or
whoever should get a link instead of an attachment.

    url = signed_file_url(
        settings, "attachment", 42, timedelta(hours=1), organiser_id=1, unit_id=7, now=now
    )

The link carries the kind, the id, the organiser (and unit) it was made for and the expiry,
signed with SESSION_SECRET: changing any of them breaks the signature, so a link for one
unit's file can never be turned into a link to another's, and it stops working at expiry.
Serving it (`GET /f/<token>`) needs no login — the link is the permission — but nothing beyond
the one file it names, and only while that file still belongs to the organiser (and unit) the
link names: the resolver says whose the file is (`FileOut.organiser_id`, `unit_id`) and the
desk compares, so a link made with a wrong id, or one leaked from another office's chat,
opens nothing of another organiser or unit.

Kinds are resolved by `bot.web.desk` (`attachment`: a report's file; `export`: a campaign's
XLSX; `chart`: a deadline's progress chart; `dossier`: a campaign's dossier ZIP as /hoso built
it). Other code registers more with `register_file_kind` (a generated document). Bytes made on
the spot for one chat (what a channel cannot upload) go through `publish_file` instead — or,
when they belong to an organiser and are too big to copy for nothing (the dossier), through
`keep_for_link`: kept under the kind and id, named in the link by their digest, served only by
the kind's resolver, which checks the organiser like any other kind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from itsdangerous import BadSignature

from bot.settings import Settings
from bot.storage import write_once
from bot.web.keys import serializer

if TYPE_CHECKING:
    from bot.core import BotCore

FILE_LINK_PATH = "/f"
PUBLISHED = "published"
KEPT = "kept"
DOSSIER = "dossier"  # a campaign's dossier ZIP (kept by /hoso, served by the desk)
_DIGEST = re.compile(r"[0-9a-f]{64}")
DEFAULT_TTL = timedelta(hours=1)
MAX_TTL = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class FileOut:
    """A file to send back: its bytes, the name the user sees and its type; a resolver also
    says whose it is (the organiser, and the unit for a unit's file) for the link check."""

    content: bytes
    file_name: str
    mime_type: str
    organiser_id: int | None = None
    unit_id: int | None = None


# kind -> async resolver(core, link) returning the file the link names, looked up within the
# link's organiser (and unit), or None when there is no such file there.
FileResolver = Callable[["BotCore", "FileLink"], Awaitable[FileOut | None]]
_RESOLVERS: dict[str, FileResolver] = {}


def register_file_kind(kind: str, resolver: FileResolver) -> None:
    """Let `GET /f/<token>` serve links of `kind` (one resolver per kind)."""
    if not kind.isidentifier() or kind == PUBLISHED:
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
    organiser_id: int,
    unit_id: int | None = None,
    now: datetime,
    digest: str | None = None,
) -> str:
    """An absolute link (PUBLIC_URL…) that serves one file of `organiser_id` (and of `unit_id`,
    for a unit's file) until `now + ttl` (at most 7 days). `digest`: which kept copy of the
    kind's file (`keep_for_link`)."""
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError("a file link lives between a second and 7 days")
    expires = int((now + ttl).timestamp())
    data: dict[str, object] = {"k": kind, "i": int(ident), "o": int(organiser_id), "e": expires}
    if unit_id is not None:
        data["u"] = int(unit_id)
    if digest is not None:
        if not _DIGEST.fullmatch(digest):
            raise ValueError("a digest is 64 hex digits")
        data["h"] = digest
    token = serializer(settings, "file").dumps(data)
    return f"{settings.web_base_url}{FILE_LINK_PATH}/{token}"


def publish_file(
    settings: Settings, out: FileOut, ttl: timedelta = DEFAULT_TTL, *, now: datetime
) -> str:
    """Keep bytes made for a chat (a chart, an export, a generated document) under
    STORAGE_DIR/published/ and return a signed link to them — what a channel that cannot upload
    (Zalo: sendPhoto takes a URL, there is no sendDocument) sends instead of the file.

    The file is named by its SHA-256; its shown name and type travel inside the signed link.
    Published files older than `MAX_TTL` are removed on the way (no link to them still works).
    Blocking (disk): call it from a thread.
    """
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError("a file link lives between a second and 7 days")
    digest = hashlib.sha256(out.content).hexdigest()
    root = published_dir(settings)
    target = root / digest[:2] / digest
    if write_once(target, out.content, prefix=".publish-"):
        os.utime(target)  # kept as long as its newest link
    _prune(root, now)
    expires = int((now + ttl).timestamp())
    token = serializer(settings, "file").dumps(
        {
            "k": PUBLISHED,
            "h": digest,
            "n": out.file_name[:200],
            "t": out.mime_type[:120],
            "e": expires,
        }
    )
    return f"{settings.web_base_url}{FILE_LINK_PATH}/{token}"


def published_dir(settings: Settings) -> Path:
    return Path(settings.storage_dir) / "published"


def keep_for_link(
    settings: Settings, kind: str, ident: int, content: bytes, *, now: datetime
) -> str:
    """Keep bytes of one object of a registered kind (a campaign's dossier) for links made with
    `signed_file_url(..., digest=)` and return their digest. Kept under STORAGE_DIR/kept/<kind>/
    <id>/, so a link's resolver reads only the copies of the object it checked; removed after
    `MAX_TTL` (no link to them still works). Blocking (disk): call it from a thread."""
    if not kind.isidentifier():
        raise ValueError(f"bad file kind {kind!r}")
    digest = hashlib.sha256(content).hexdigest()
    root = Path(settings.storage_dir) / KEPT / kind
    target = root / str(int(ident)) / digest
    if write_once(target, content, prefix=".keep-"):
        os.utime(target)  # kept as long as its newest link
    _prune(root, now, pattern="*/*")
    return digest


def read_kept(settings: Settings, link: FileLink) -> bytes | None:
    """The kept bytes a link of a registered kind names by digest (blocking); None when gone or
    the link names none. The caller has checked the object (`link.ident`) is the link's."""
    if link.digest is None or link.ident is None or not _DIGEST.fullmatch(link.digest):
        return None
    if not link.kind.isidentifier() or link.kind == PUBLISHED:
        return None
    path = Path(settings.storage_dir) / KEPT / link.kind / str(int(link.ident)) / link.digest
    return path.read_bytes() if path.is_file() else None


def _prune(root: Path, now: datetime, *, pattern: str = "??/*") -> None:
    oldest = now.timestamp() - MAX_TTL.total_seconds()
    for path in root.glob(pattern):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < oldest:
                path.unlink()


def read_published(settings: Settings, link: FileLink) -> FileOut | None:
    """The bytes of a published file (blocking); None when gone. The digest is checked for
    shape before it names a path, so a link can only ever open a file of that directory."""
    if link.digest is None or not _DIGEST.fullmatch(link.digest):
        return None
    path = published_dir(settings) / link.digest[:2] / link.digest
    if not path.is_file():
        return None
    return FileOut(
        path.read_bytes(), link.name or "tep", link.mime_type or "application/octet-stream"
    )


class LinkError(Exception):
    """`reason`: forged (signature or shape wrong) or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FileLink:
    """What a valid link names: a registered kind and id, or a published file's digest."""

    kind: str
    ident: int | None = None
    digest: str | None = None
    name: str = ""
    mime_type: str = ""
    organiser_id: int | None = None
    unit_id: int | None = None

    def owns(self, out: FileOut) -> bool:
        """Whether the file a resolver found belongs to the organiser (and unit) this link
        was made for — a registered kind's file only; a published file is its digest."""
        if self.kind == PUBLISHED:
            return True
        if self.organiser_id is None or out.organiser_id != self.organiser_id:
            return False
        return self.unit_id is None or out.unit_id == self.unit_id


def read_file_token(settings: Settings, token: str, *, now: datetime) -> FileLink:
    """What a valid, unexpired link token names; LinkError otherwise."""
    if len(token) > 1024:
        raise LinkError("forged")
    try:
        data = serializer(settings, "file").loads(token)
    except BadSignature:
        raise LinkError("forged") from None
    if not (
        isinstance(data, dict) and isinstance(data.get("k"), str) and isinstance(data.get("e"), int)
    ):
        raise LinkError("forged")
    if now.timestamp() >= data["e"]:
        raise LinkError("expired")
    if data["k"] == PUBLISHED:
        fields = (data.get("h"), data.get("n"), data.get("t"))
        if not all(isinstance(value, str) for value in fields):
            raise LinkError("forged")
        return FileLink(PUBLISHED, digest=data["h"], name=data["n"], mime_type=data["t"])
    if not isinstance(data.get("i"), int) or not isinstance(data.get("o"), int):
        raise LinkError("forged")
    unit, digest = data.get("u"), data.get("h")
    if unit is not None and not isinstance(unit, int):
        raise LinkError("forged")
    if digest is not None and not (isinstance(digest, str) and _DIGEST.fullmatch(digest)):
        raise LinkError("forged")
    return FileLink(data["k"], ident=data["i"], digest=digest, organiser_id=data["o"], unit_id=unit)
