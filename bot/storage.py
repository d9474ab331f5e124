"""Files officers send with a report: downloaded from the channel, checked, kept on local disk
under STORAGE_DIR and recorded as an `Attachment` row, so exports and backups never depend on
the platform keeping the file.

The type is decided by the bytes (PDF, DOCX/XLSX zip packages, JPEG, PNG), never by the name or
the MIME type the client claims; the size limit is 20 MB. A stored file is named after its
SHA-256 (`ab/ab12….pdf`): nothing a user typed or named ever reaches a path on disk, and the
same file sent twice is kept once. This module does not decide which field a file belongs to
or what to tell the user; it raises `FileRejected` with a reason.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.context import Context
from bot.events import Attachment as InboundFile
from bot.hub import DeliveryError
from domain.text import clean_text
from models.reports import Attachment

MAX_FILE_BYTES = 20 * 1024 * 1024
MIME_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "png": "image/png",
}


class FileRejected(Exception):
    """`reason`: too_big, empty, wrong_type or download_failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def detect_kind(content: bytes) -> str | None:
    """pdf, docx, xlsx, jpg or png from the file's first bytes; None for anything else."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if b"%PDF-" in content[:1024]:
        return "pdf"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as package:
                names = set(package.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" not in names:
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


@dataclass(frozen=True, slots=True)
class StoredFile:
    kind: str
    mime_type: str
    sha256: str
    stored_path: str  # relative to STORAGE_DIR, with forward slashes
    size: int


def check_and_store(
    content: bytes, *, storage_dir: Path, accept: tuple[str, ...] | list[str]
) -> StoredFile:
    """Check a downloaded file and keep it under `storage_dir`; raises `FileRejected`."""
    if not content:
        raise FileRejected("empty")
    if len(content) > MAX_FILE_BYTES:
        raise FileRejected("too_big")
    kind = detect_kind(content)
    if kind is None or kind not in accept:
        raise FileRejected("wrong_type")
    digest = hashlib.sha256(content).hexdigest()
    relative = f"{digest[:2]}/{digest}.{kind}"
    write_once(Path(storage_dir) / relative, content, prefix=".upload-")
    return StoredFile(kind, MIME_TYPES[kind], digest, relative, len(content))


def write_once(target: Path, content: bytes, *, prefix: str) -> bool:
    """Write `content` to `target` unless it is there already (files named by their digest:
    the same name is the same bytes); True when it was. Written beside the target and renamed,
    so a crash never leaves half a file under its name. Blocking (disk)."""
    if target.exists():
        return True
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=prefix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return False


def display_name(name: str | None, kind: str) -> str:
    """The name shown back to people: the user's, cleaned; never used as a path."""
    cleaned = clean_text(name or "", max_length=200, multiline=False)
    cleaned = cleaned.replace("/", "_").replace("\\", "_").strip(". ")
    return cleaned or f"tep.{kind}"


async def receive_file(
    ctx: Context,
    upload: InboundFile,
    *,
    accept: tuple[str, ...] | list[str],
    report_id: int | None,
    field_id: str,
) -> Attachment:
    """Download what the user sent, check and store it, and add its `Attachment` row."""
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise FileRejected("too_big")
    try:
        content = await ctx.download(upload)
    except DeliveryError:
        raise FileRejected("download_failed") from None
    stored = check_and_store(content, storage_dir=ctx.settings.storage_dir, accept=accept)
    row = Attachment(
        report_id=report_id,
        field_id=field_id[:64],
        channel=ctx.event.channel,
        file_id=upload.file_id,
        file_unique_id=upload.unique_id,
        file_name=display_name(upload.file_name, stored.kind),
        mime_type=stored.mime_type,
        size=stored.size,
        sha256=stored.sha256,
        stored_path=stored.stored_path,
        uploaded_by_id=ctx.member.id if ctx.member else None,
        created_at=ctx.now(),
        meta={
            "kind": stored.kind,
            "claimed_mime_type": upload.mime_type,
            "sent_as": upload.kind,
        },
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row
