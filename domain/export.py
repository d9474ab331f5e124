"""Getting reports out: the XLSX workbook of a campaign (the form the office files) and the
plain-text view of one answer, both driven by the report forms.

The workbook has a status sheet (every unit of every deadline: bloc, officers, when it was
handed in, on time or not), a sheet per deadline (one row per unit, one column per form
field) and a sheet per repeated group (e.g. every nomination with its unit). Header rows are
frozen, columns sized, dates are real Excel dates in the campaign's local time, and text that
looks like a formula stays text. Only what a unit handed in is exported, never a draft.

Forms are read through the small `FormLike`/`FieldLike` protocols (the loaded forms in
`Services.forms` satisfy them); without a form, columns follow the stored answers.
Texts (headers, statuses, yes/no) are passed in as `ExportTexts`: no sentence lives here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from domain import scope as scoped
from domain.campaigns import (
    SUBMITTED_STATES,
    UnitStatus,
    participating_units,
    unit_ids,
    unit_status,
)
from domain.dates import format_number
from domain.reports import reference_code
from domain.scans import SCAN, ScanFile, signed_scan_among
from domain.scope import Scope
from domain.text import fold
from domain.xlsx import PageLayout, Sheet, write_workbook
from models.campaigns import Campaign, Deadline
from models.reports import Attachment, Report, ReportStatus, ReportVersion
from models.units import Member, MemberStatus, Unit

# The workbook is written by domain.xlsx (a small streaming writer: openpyxl cost 25–30 µs a
# cell, 15 s for a province; see bench/export.py). openpyxl stays a dependency for reading
# spreadsheets (unit imports) and in the tests, which open exports back with it.

GROUP = "group"
SHEET_NAME_LIMIT = 31
CELL_TEXT_LIMIT = 32_767
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
MIN_WIDTH, MAX_WIDTH = 6, 60
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


# --- what we need of a form -------------------------------------------------------------------
class FieldLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def fields(self) -> Sequence[FieldLike]: ...


class FormLike(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def fields(self) -> Sequence[FieldLike]: ...


@dataclass(frozen=True, slots=True)
class GuessedField:
    """A column made up from stored answers when a deadline's form is not loaded."""

    id: str
    type: str
    label: str
    fields: tuple[GuessedField, ...] = ()


def _guess_type(value: object) -> str:
    if isinstance(value, bool):
        return "yes_no"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, list):
        return GROUP if value and all(isinstance(v, dict) for v in value) else "multi_choice"
    if isinstance(value, dict) and "attachment_id" in value:
        return "file"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return "date"
    return "short_text"


def guess_fields(answer_sets: Iterable[Mapping[str, Any]]) -> list[GuessedField]:
    """Fields in order of first appearance over the answer sets; groups get sub-fields."""
    seen: dict[str, list[Any]] = {}
    for answers in answer_sets:
        for key, value in answers.items():
            seen.setdefault(key, []).append(value)
    result: list[GuessedField] = []
    for key, values in seen.items():
        kind = next((_guess_type(v) for v in values if v not in (None, "", [])), "short_text")
        subfields: tuple[GuessedField, ...] = ()
        if kind == GROUP:
            entries = [e for v in values if isinstance(v, list) for e in v if isinstance(e, dict)]
            subfields = tuple(guess_fields(entries))
        result.append(GuessedField(key, kind, key, subfields))
    return result


# --- texts -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ExportTexts:
    """Every word the workbook shows, taken from the catalog by the caller."""

    status_sheet: str
    deadline: str
    due: str
    code: str
    unit: str
    bloc: str
    officers: str
    phones: str
    status: str
    submitted_at: str
    on_time: str
    index: str
    answer_yes: str
    answer_no: str
    no_bloc: str
    entries: str  # "{count} mục": a group's cell in the deadline sheet
    # The signed scan of reports printed from a Word template (domain.dossier).
    signed_scan: str = ""
    scan_present: str = ""
    scan_waiting: str = ""
    statuses: Mapping[str, str] = field(default_factory=dict)
    # Words of the bloc ranking sheet; None leaves the sheet out.
    ranking: RankingTexts | None = None
    # Layout and the columns added for the office's file (catalog file export.yaml).
    title: str = "{number} — {name}"  # the title row of every sheet
    exported_at: str = "{at}"
    receipt: str = "Receipt"
    approval: str = "Approval"
    approved: str = "Approved"
    awaiting: str = "Awaiting"
    file_at: str = "{name} ({path})"
    footer_page: str = "&P/&N"

    @classmethod
    def from_catalog(cls, t: Callable[..., str], prefix: str = "admin.export") -> ExportTexts:
        names = [n for n in cls.__dataclass_fields__ if n not in ("statuses", "ranking")]
        values = {
            name: t(f"export.{name}") if name in _LAYOUT_TEXTS else t(f"{prefix}.{name}")
            for name in names
        }
        # The same words as every screen, capitalised as a cell starts.
        statuses = {s.value: _capitalised(t(f"status.{s.value}")) for s in UnitStatus}
        return cls(**values, statuses=statuses, ranking=RankingTexts.from_catalog(t))


@dataclass(frozen=True, slots=True)
class RankingTexts:
    """Headers of the bloc ranking sheet (xếp hạng khối), from the scoring catalog."""

    sheet: str
    bloc: str
    rank: str
    code: str
    unit: str
    total: str
    proposed: str

    @classmethod
    def from_catalog(cls, t: Callable[..., str], prefix: str = "scoring.export") -> RankingTexts:
        return cls(**{name: t(f"{prefix}.{name}") for name in cls.__dataclass_fields__})


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


_LAYOUT_TEXTS = frozenset(
    {
        "title",
        "exported_at",
        "receipt",
        "approval",
        "approved",
        "awaiting",
        "file_at",
        "footer_page",
    }
)


# --- values ------------------------------------------------------------------------------------
def _subfields(spec: FieldLike) -> Sequence[FieldLike]:
    return getattr(spec, "fields", None) or ()


def _choice_text(spec: FieldLike, value: object) -> str:
    """A stored choice as its label, when the field can say it (`choice_label`, as the loaded
    forms do); the stored value otherwise."""
    label_of = getattr(spec, "choice_label", None)
    return str(label_of(value)) if callable(label_of) else str(value)


_ILLEGAL_IN_CELLS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _clean(text: str) -> str:
    return _ILLEGAL_IN_CELLS.sub("", text)[:CELL_TEXT_LIMIT]


def _as_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _as_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def cell_value(spec: FieldLike, value: Any, texts: ExportTexts) -> Any:
    """What a spreadsheet cell holds for an answer: numbers as numbers, dates as dates, choices
    by their labels, lists joined, yes/no in words, a file by its name, a group by its number
    of entries."""
    if value is None or value == "" or value == []:
        return None
    kind = spec.type
    if kind == GROUP:
        return texts.entries.format(count=len(value)) if isinstance(value, list) else None
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "number" and (number := _as_decimal(value)) is not None:
        return number
    if kind == "date" and (day := _as_date(value)) is not None:
        return day
    if kind == "yes_no" and isinstance(value, bool):
        return texts.answer_yes if value else texts.answer_no
    if kind == "file" and isinstance(value, dict):
        return _clean(str(value.get("file_name") or ""))
    if kind in ("choice", "multi_choice"):
        items = value if isinstance(value, list) else [value]
        return _clean("; ".join(_choice_text(spec, v) for v in items))
    if isinstance(value, list):
        return _clean("; ".join(str(v) for v in value))
    if isinstance(value, dict):
        return _clean(json.dumps(value, ensure_ascii=False))
    return _clean(str(value))


def text_value(spec: FieldLike, value: Any, texts: ExportTexts) -> str:
    """An answer as a person reads it in a message: dates dd/mm/yyyy, decimal comma."""
    shown = cell_value(spec, value, texts)
    if shown is None:
        return ""
    if isinstance(shown, date):
        return shown.strftime("%d/%m/%Y")
    if isinstance(shown, int | Decimal):
        return format_number(shown)
    return str(shown)


def attachment_ids(fields: Sequence[FieldLike], answers: Mapping[str, Any]) -> list[int]:
    """Ids of the files an answer set refers to, groups included, in form order."""
    found: list[int] = []
    for spec in fields:
        value = answers.get(spec.id)
        if spec.type == "file" and isinstance(value, dict):
            ident = value.get("attachment_id")
            if isinstance(ident, int) and not isinstance(ident, bool):
                found.append(ident)
        elif spec.type == GROUP and isinstance(value, list):
            for entry in value:
                if isinstance(entry, dict):
                    found += attachment_ids(_subfields(spec), entry)
    return found


def fields_for(
    deadline: Deadline, forms: Mapping[str, FormLike], answer_sets: Iterable[Mapping[str, Any]]
) -> Sequence[FieldLike]:
    form = forms.get(deadline.form_code)
    return form.fields if form is not None else guess_fields(answer_sets)


# --- reading -----------------------------------------------------------------------------------
def submitted_answers(report: Report | None, *, session: Session) -> dict[str, Any] | None:
    """The answers the unit last handed in: the report's own while submitted or accepted, the
    last submitted version while it is returned or reopened; None if never handed in."""
    if report is None:
        return None
    if report.status in SUBMITTED_STATES:
        return dict(report.answers or {})
    if report.version >= 1:
        version = session.exec(
            select(ReportVersion).where(
                ReportVersion.report_id == report.id, ReportVersion.version == report.version
            )
        ).first()
        if version is not None:
            return dict(version.answers or {})
    return None


def officers_by_unit(unit_ids: Sequence[int], *, session: Session) -> dict[int, list[Any]]:
    """Approved members of each unit (id, unit_id, display_name, phone), by name without
    diacritics (the same order on SQLite and PostgreSQL, whatever their collation).

    Plain rows, not Member objects: a province has 15,000 officers, and building an ORM object
    each cost more than the rest of the export."""
    if not unit_ids:
        return {}
    wanted = set(unit_ids)
    # The id: /chuanop asks `bot.access.can_see_personal_data` about each (organiser scope).
    query = sa.select(Member.id, Member.unit_id, Member.display_name, Member.phone).where(  # type: ignore[call-overload]  # sa.select's overloads do not take SQLModel's column attributes
        Member.status == MemberStatus.APPROVED, col(Member.unit_id).is_not(None)
    )
    if len(wanted) <= 500:  # a page of /chuanop: ask for those units only
        query = query.where(col(Member.unit_id).in_(wanted))
    members = session.execute(query.order_by(col(Member.id))).all()
    result: dict[int, list[Any]] = {}
    for member in sorted(members, key=lambda m: fold(m.display_name)):
        if member.unit_id in wanted:
            result.setdefault(member.unit_id, []).append(member)
    return result


_REPORT_COLUMNS = sa.select(
    Report.id,  # type: ignore[call-overload]  # sa.select's overloads do not take SQLModel's column attributes
    Report.unit_id,
    Report.status,
    Report.version,
    Report.answers,
    Report.submitted_at,
    Report.on_time,
).where(Report.deadline_id == sa.bindparam("deadline_id"))


def _reports_of(deadline: Deadline, *, session: Session) -> dict[int, Any]:
    """The deadline's reports by unit, as rows carrying what the export reads (status,
    version, answers, submitted_at, on_time), not Report objects (see officers_by_unit)."""
    rows = session.execute(_REPORT_COLUMNS, {"deadline_id": deadline.id}).all()
    return {row.unit_id: row for row in rows}


def find_campaign(query: str, *, scope: Scope, session: Session) -> Campaign | None:
    """A campaign of the scope by its document number (latest if several share it) or id."""
    text = query.strip().lstrip("#")
    if not text:
        return None
    by_number = session.exec(
        scoped.campaigns(scope)
        .where(func.lower(Campaign.document_number) == text.lower())
        .order_by(col(Campaign.id).desc())
    ).first()
    if by_number is not None or not text.isdigit():
        return by_number
    return scoped.campaign(int(text), scope=scope, session=session)


def deadlines_of(campaign: Campaign, *, session: Session) -> list[Deadline]:
    return list(
        session.exec(
            select(Deadline)
            .where(Deadline.campaign_id == campaign.id)
            .order_by(col(Deadline.due_at), col(Deadline.id))
        ).all()
    )


# --- writing -----------------------------------------------------------------------------------
def sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique sheet name: no []:*?/\\, at most 31 characters, not quoted."""
    base = _BAD_SHEET_CHARS.sub("-", _clean(name)).strip().strip("'") or "Sheet"
    candidate = base[:SHEET_NAME_LIMIT].strip()
    number = 2
    while candidate.casefold() in used:
        suffix = f" ({number})"
        candidate = base[: SHEET_NAME_LIMIT - len(suffix)].strip() + suffix
        number += 1
    used.add(candidate.casefold())
    return candidate


@dataclass(frozen=True, slots=True)
class _Heading:
    """What every sheet shows above its header and in its footer."""

    title: str
    footer_left: str
    footer_right: str


HEADER_ROW = 2  # row 1 is the title (campaign and export time), row 2 the column headers


class _Sheet:
    """A worksheet filled row by row: a title row (campaign and export time), a bold frozen
    header, widths from the content, long text wrapped, and a page layout an office can print
    as it is (landscape, one page wide, title and header repeated on every page, campaign and
    page numbers in the footer).

    Rows go straight into the XLSX writer's buffer (domain.xlsx); the widths, known only once
    every row was seen, are set at the end. (Appending to an openpyxl sheet and reading its
    `max_row` per row made an export quadratic: 15,000 units took minutes.)"""

    def __init__(
        self,
        book: list[Sheet],
        title: str,
        headers: Sequence[str],
        frozen_columns: int,
        heading: _Heading | None,
    ):
        """`heading` None: no title row and no print layout (a sheet of another workbook, e.g.
        the dossier's ranking, whose other sheets have none)."""
        self.sheet = Sheet(
            title,
            [_clean(h) for h in headers],
            frozen_columns=frozen_columns,
            caption=_clean(heading.title) if heading else None,
            # Wider than a column may grow: wrap inside it instead of running off.
            wrap_over=MAX_WIDTH,
            layout=PageLayout(
                footer_left=_footer_text(heading.footer_left), footer_right=heading.footer_right
            )
            if heading
            else None,
        )
        assert heading is None or self.sheet.header_row == HEADER_ROW
        book.append(self.sheet)
        self.widths = [len(h) for h in headers]

    def add(self, values: Sequence[Any]) -> None:
        widths = self.widths
        for index, value in enumerate(values):
            if isinstance(value, str):
                width = max(map(len, value.split("\n"))) if "\n" in value else len(value)
            elif isinstance(value, datetime):
                width = 16
            elif isinstance(value, date):
                width = 10
            else:
                width = len(str(value)) if value is not None else 0
            if width > widths[index]:
                widths[index] = width
        self.sheet.append(values)

    def finish(self) -> None:
        self.sheet.widths = [min(max(w + 2, MIN_WIDTH), MAX_WIDTH) for w in self.widths]


def _footer_text(text: str) -> str:
    # "&" starts a header/footer code in Excel: a literal one is written "&&".
    return _clean(text).replace("&", "&&")[:200]


def _zone(campaign: Campaign, default: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(campaign.timezone) if campaign.timezone else default
    except (ZoneInfoNotFoundError, ValueError):
        return default


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Excel has no time zones: the wall-clock time where the campaign runs."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment is not None else None


@dataclass(slots=True)
class _Row:
    unit: Unit
    report: Report | None
    answers: dict[str, Any] | None


def build_workbook(
    campaign: Campaign,
    *,
    session: Session,
    forms: Mapping[str, FormLike],
    texts: ExportTexts,
    default_zone: ZoneInfo,
    now: datetime | None = None,
) -> list[Sheet]:
    zone = _zone(campaign, default_zone)
    title = texts.title.format(number=campaign.document_number, name=campaign.name)
    if now is not None:
        title += " " + texts.exported_at.format(at=f"{_local(now, zone):%H:%M %d/%m/%Y}")
    heading = _Heading(
        title=title,
        footer_left=f"{campaign.document_number} — {campaign.name}",
        footer_right=texts.footer_page,
    )
    book: list[Sheet] = []
    used: set[str] = set()
    units = participating_units(session, campaign)
    deadlines = deadlines_of(campaign, session=session)
    all_reports = {d.id: _reports_of(d, session=session) for d in deadlines}
    # Units no longer taking part still appear where they handed something in.
    taking_part = set(unit_ids(units))
    extra_ids = {uid for reports in all_reports.values() for uid in reports} - taking_part
    extra = [session.get(Unit, uid) for uid in sorted(extra_ids)]
    units += [u for u in extra if u is not None]
    officers = officers_by_unit([u.id for u in units if u.id is not None], session=session)
    files = _attachments([d.id for d in deadlines if d.id is not None], session=session)

    status = _Sheet(
        book,
        sheet_title(texts.status_sheet, used),
        [
            texts.deadline,
            texts.due,
            texts.code,
            texts.unit,
            texts.bloc,
            texts.officers,
            texts.phones,
            texts.status,
            texts.submitted_at,
            texts.on_time,
            texts.receipt,
            texts.approval,
            texts.signed_scan,
        ],
        frozen_columns=4,
        heading=heading,
    )
    for deadline in deadlines:
        reports = all_reports[deadline.id]
        rows = [
            _Row(
                unit, reports.get(unit.id), submitted_answers(reports.get(unit.id), session=session)
            )
            for unit in units
            if unit.id is not None
        ]
        for row in rows:
            people = officers.get(row.unit.id or 0, [])
            status.add(
                [
                    deadline.title,
                    _local(deadline.due_at, zone),
                    row.unit.code,
                    row.unit.name,
                    row.unit.bloc or texts.no_bloc,
                    "; ".join(m.display_name for m in people),
                    "; ".join(m.phone for m in people if m.phone),
                    texts.statuses.get(unit_status(row.report, deadline, now), ""),
                    *_submission(row.report, texts, zone),
                    _scan(row, deadline, texts, files),
                ]
            )
        _deadline_sheets(book, used, deadline, rows, forms, texts, zone, heading, files, now)
    status.finish()
    if texts.ranking is not None:
        ranking_sheet(book, used, campaign, session=session, texts=texts.ranking, heading=heading)
    return book


def ranking_sheet(
    book: list[Sheet],
    used: set[str],
    campaign: Campaign,
    *,
    session: Session,
    texts: RankingTexts,
    heading: _Heading | None = None,
) -> None:
    """One sheet with every bloc's ranking: rank, unit, each criterion's points after review,
    the total and the title proposed. Left out when no scoring table is attached."""
    from domain.council import award_labels
    from domain.scoring import campaign_rankings, centi_text, table_of

    rankings = campaign_rankings(session, campaign=campaign)
    if not rankings:
        return
    criteria: list[tuple[str, str]] = []
    for sheet, _rows in rankings:
        for criterion in table_of(sheet).criteria:
            if criterion.code not in {code for code, _ in criteria}:
                criteria.append((criterion.code, criterion.label))
    out = _Sheet(
        book,
        sheet_title(texts.sheet, used),
        [
            texts.bloc,
            texts.rank,
            texts.code,
            texts.unit,
            *[label for _, label in criteria],
            texts.total,
            texts.proposed,
        ],
        frozen_columns=4,
        heading=heading,
    )
    labels = award_labels()
    for sheet, rows in rankings:
        for row in rows:
            out.add(
                [
                    sheet.bloc,
                    row.rank,
                    row.unit.code,
                    row.unit.name,
                    *[
                        Decimal(centi_text(row.points[code]).replace(",", "."))
                        if code in row.points
                        else None
                        for code, _ in criteria
                    ],
                    Decimal(centi_text(row.total).replace(",", ".")),
                    labels.get(row.proposed, row.proposed) if row.proposed else "",
                ]
            )
    out.finish()


def _submission(report: Report | None, texts: ExportTexts, zone: ZoneInfo) -> list[Any]:
    """[submitted at, on time, receipt code, approval] of a report handed in at least once."""
    if report is None or report.submitted_at is None or report.id is None:
        return [None, None, None, None]
    on_time = (
        None
        if report.on_time is None
        else (texts.answer_yes if report.on_time else texts.answer_no)
    )
    receipt = reference_code(report.id, report.version) if report.version >= 1 else None
    if report.status == ReportStatus.ACCEPTED:
        approval = texts.approved
    elif report.status == ReportStatus.SUBMITTED:
        approval = texts.awaiting
    else:
        approval = None  # returned or reopened: the status column says so
    return [_local(report.submitted_at, zone), on_time, receipt, approval]


@dataclass(slots=True)
class _Files:
    """The attachments of the exported deadlines' reports, read once (a query a row cost more
    than the rest of a province's export)."""

    paths: dict[int, str]  # attachment id → where it is kept (relative to the files directory)
    scans: dict[int, list[ScanFile]]  # report id → its attachments of the scan field


def _attachments(deadline_ids: Sequence[int], *, session: Session) -> _Files:
    """Joined on the deadline, not a list of report ids: a province has 12,000 reports, more
    than a query may carry parameters."""
    files = _Files({}, {})
    if not deadline_ids:
        return files
    rows = session.execute(
        sa.select(  # type: ignore[call-overload]  # sa.select's overloads do not take SQLModel's column attributes
            Attachment.id,
            Attachment.report_id,
            Attachment.field_id,
            Attachment.stored_path,
            Attachment.meta,
        )
        .join(Report, col(Report.id) == col(Attachment.report_id))
        .where(col(Report.deadline_id).in_(list(deadline_ids)))
    ).all()
    for ident, report_id, field_id, path, meta in rows:
        if path:
            files.paths[ident] = path
        if field_id == SCAN and report_id is not None:
            files.scans.setdefault(report_id, []).append(ScanFile(ident, report_id, meta or {}))
    return files


def _with_paths(
    fields: Sequence[FieldLike],
    answers: Mapping[str, Any],
    values: list[Any],
    files: _Files,
    texts: ExportTexts,
) -> list[Any]:
    """File cells say where the file is, not only its name."""
    result = list(values)
    for index, spec in enumerate(fields):
        value = answers.get(spec.id)
        if spec.type == "file" and isinstance(value, dict) and result[index]:
            path = files.paths.get(value.get("attachment_id"))  # type: ignore[arg-type]  # a stored answer's JSON: the attachment id is an int, or absent
            if path:
                result[index] = _clean(texts.file_at.format(name=result[index], path=path))
    return result


def _scan(row: _Row, deadline: Deadline, texts: ExportTexts, files: _Files) -> Any:
    """Whether a handed-in report printed from a template has its signed scan yet: the one
    rule (`domain.scans.signed_scan_among`) over the attachments loaded once."""
    from domain.dossier import needs_scan  # dossier builds on this module

    report = row.report
    if report is None or report.id is None or not needs_scan(report, deadline):
        return None
    scan = signed_scan_among(
        files.scans.get(report.id, ()), answers=row.answers, version=report.version
    )
    return texts.scan_present if scan is not None else texts.scan_waiting


def _deadline_sheets(
    book: list[Sheet],
    used: set[str],
    deadline: Deadline,
    rows: list[_Row],
    forms: Mapping[str, FormLike],
    texts: ExportTexts,
    zone: ZoneInfo,
    heading: _Heading,
    files: _Files,
    now: datetime | None,
) -> None:
    fields = fields_for(deadline, forms, (r.answers for r in rows if r.answers))
    sheet = _Sheet(
        book,
        sheet_title(deadline.title, used),
        [
            texts.code,
            texts.unit,
            texts.bloc,
            texts.status,
            texts.submitted_at,
            texts.on_time,
            texts.receipt,
            texts.approval,
            *(f.label for f in fields),
        ],
        frozen_columns=2,
        heading=heading,
    )
    for row in rows:
        answers = row.answers or {}
        values = [cell_value(f, answers.get(f.id), texts) for f in fields]
        sheet.add(
            [
                row.unit.code,
                row.unit.name,
                row.unit.bloc or texts.no_bloc,
                texts.statuses.get(unit_status(row.report, deadline, now), ""),
                *_submission(row.report, texts, zone),
                *_with_paths(fields, answers, values, files, texts),
            ]
        )
    sheet.finish()
    for group in (f for f in fields if f.type == GROUP):
        _group_sheet(book, used, group, rows, texts, heading, files)


def _group_sheet(
    book: list[Sheet],
    used: set[str],
    group: FieldLike,
    rows: list[_Row],
    texts: ExportTexts,
    heading: _Heading,
    files: _Files,
) -> None:
    """Every entry of a repeated group, one row each, with the unit it came from."""
    subfields = [f for f in _subfields(group) if f.type != GROUP]
    sheet = _Sheet(
        book,
        sheet_title(group.label, used),
        [texts.code, texts.unit, texts.bloc, texts.index, *(f.label for f in subfields)],
        frozen_columns=2,
        heading=heading,
    )
    for row in rows:
        entries = (row.answers or {}).get(group.id)
        if not isinstance(entries, list):
            continue
        for number, entry in enumerate((e for e in entries if isinstance(e, dict)), start=1):
            sheet.add(
                [
                    row.unit.code,
                    row.unit.name,
                    row.unit.bloc or texts.no_bloc,
                    number,
                    *_with_paths(
                        subfields,
                        entry,
                        [cell_value(f, entry.get(f.id), texts) for f in subfields],
                        files,
                        texts,
                    ),
                ]
            )
    sheet.finish()


def export_campaign(
    campaign: Campaign,
    *,
    session: Session,
    forms: Mapping[str, FormLike],
    texts: ExportTexts,
    default_zone: ZoneInfo,
    now: datetime | None = None,
) -> bytes:
    """The campaign's workbook as XLSX bytes; `now` (the export time) goes in the title row."""
    book = build_workbook(
        campaign, session=session, forms=forms, texts=texts, default_zone=default_zone, now=now
    )
    return write_workbook(book, date_format=DATE_FORMAT, datetime_format=DATETIME_FORMAT)


def export_file_name(campaign: Campaign, today: date) -> str:
    """e.g. thi-dua-353-KH-UBND-2026-03-02.xlsx: ASCII, no slash."""
    number = re.sub(r"[^A-Za-z0-9]+", "-", campaign.document_number).strip("-") or str(campaign.id)
    return f"thi-dua-{number}-{today.isoformat()}.xlsx"
