"""The signed, stamped scan of a handed-in report (bản ký, đóng dấu): the one rule that says
which file it is, over rows read beforehand, and the reader that reads those rows for many
reports in one query.

Every place that says "thiếu bản ký" — the dossier, the export, /tiendo, the web desk's
matrix, the scan reminders — asks `signed_scan_among`, so they cannot disagree; none reads
attachments a report at a time (a province's dashboard would cost a query per report). Which
reports need a scan at all (printed from a Word template, handed in) is
`domain.dossier.needs_scan`; nothing here knows templates or deadlines' forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col

from models.reports import Attachment, Report

SCAN = "ban_ky"  # the form field of the scan, and the `field_id` of every scan's attachment


class ScanLike(Protocol):
    """What the rule reads of an attachment: an `Attachment` row or a `ScanFile`."""

    @property
    def id(self) -> int | None: ...
    @property
    def meta(self) -> Mapping[str, Any] | None: ...


S = TypeVar("S", bound=ScanLike)


@dataclass(frozen=True, slots=True)
class ScanFile:
    """A scan's attachment as plain values (reading thousands of ORM objects costs more than
    the query)."""

    id: int
    report_id: int
    meta: Mapping[str, Any]
    file_name: str = ""
    stored_path: str | None = None


def signed_scan_among(
    files: Sequence[S], *, answers: Mapping[str, Any] | None, version: int
) -> S | None:
    """The signed scan of the version handed in, among the report's attachments of the scan
    field (`files`): the file answered in the form (`answers`: what was handed in), or else the
    newest one sent afterwards for that version (`meta["version"]`, /banky and the reminders'
    button). A scan sent for an earlier version no longer counts once the report is handed in
    again. Both ways store the file with `field_id == SCAN` on the report itself
    (handlers/reports.py, handlers/signing.py), so a file of another report never counts."""
    answered = (answers or {}).get(SCAN)
    if isinstance(answered, dict) and isinstance(answered.get("attachment_id"), int):
        wanted = answered["attachment_id"]
        found = next((f for f in files if f.id == wanted), None)
        if found is not None:
            return found
    newest: S | None = None
    for item in files:
        if (item.meta or {}).get("version") != version:
            continue
        if newest is None or (item.id or 0) > (newest.id or 0):
            newest = item
    return newest


def scan_files(
    session: Session, *, deadline_ids: Sequence[int] = (), report_ids: Sequence[int] = ()
) -> dict[int, list[ScanFile]]:
    """The scan-field attachments, by report, of every report of `deadline_ids` (joined on the
    deadline: a province's reports are more than a query may carry parameters) or of the few
    `report_ids` (a dossier's step) — one query either way."""
    if not deadline_ids and not report_ids:
        return {}
    query = sa.select(  # type: ignore[call-overload]  # sa.select's overloads do not take SQLModel's column attributes
        Attachment.id,
        Attachment.report_id,
        Attachment.meta,
        Attachment.file_name,
        Attachment.stored_path,
    ).where(Attachment.field_id == SCAN)
    if deadline_ids:
        query = query.join(Report, col(Report.id) == col(Attachment.report_id)).where(
            col(Report.deadline_id).in_(list(deadline_ids))
        )
    if report_ids:
        query = query.where(col(Attachment.report_id).in_(list(report_ids)))
    found: dict[int, list[ScanFile]] = {}
    for ident, report_id, meta, name, path in session.execute(query).all():
        if report_id is not None:
            found.setdefault(report_id, []).append(
                ScanFile(ident, report_id, meta or {}, name or "", path)
            )
    return found
