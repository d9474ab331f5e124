"""Reading a plan document (kế hoạch) into a campaign proposal.

Two pure steps. `extract_text` turns the bytes of a .txt, .docx or .pdf file into text, checking
the type by content (not by the file name) and refusing what it cannot read with a
`PlanFileError` whose `reason` names the problem (a scanned PDF without a text layer, an old
.doc, a broken file…). `parse_plan` reads Vietnamese administrative text with readable patterns:
the document number and type (`353 /KH-UBND`), the issuing body, place and date, the title
after `KẾ HOẠCH`, the documents it is based on (`Căn cứ …`), the campaign period and every
dated obligation (`trước ngày 15/5/2019`, `chậm nhất ngày …`, `từ ngày … đến ngày …`,
`hoàn thành trong tháng 6/2019`, `trước tháng 12/2019`) as a proposed deadline with its source sentence and a guessed
kind. Dates that do not exist (31/4) are reported as problems, never taken.

No database, no catalog, no network, no clock here: what the parser cannot decide is left for
the admin to confirm. Matching is done on a diacritics-folded copy of the text of the same
length, so every match maps back to the original words.
"""

from __future__ import annotations

import bisect
import calendar
import contextlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import lru_cache
from typing import Any

from domain.dates import ParseError, parse_date, parse_time
from domain.safe_zip import UnsafeArchive, check_archive
from domain.text import clean_text, fold
from models.campaigns import DeadlineKind

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PDF_PAGES = 200
# word/document.xml is inflated by python-docx in memory: refuse zip bombs before that.
MAX_DOCX_XML_BYTES = 64 * 1024 * 1024
# Plans run to tens of thousands of characters; the bound keeps parsing time predictable.
MAX_TEXT_CHARS = 300_000
MAX_DEADLINES = 20
MAX_PROBLEMS = 10
DEFAULT_DUE_TIME = time(17, 0)
SOURCE_MAX_CHARS = 300


class PlanFileError(Exception):
    """The file cannot be read as a plan. `reason`: empty, too_large, scanned_pdf,
    encrypted_pdf, corrupt_pdf, corrupt_docx, legacy_doc, not_text, unsupported, zip_bomb,
    too_slow (set by the caller that bounds the time)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- the proposal ------------------------------------------------------------------------------


@dataclass(slots=True)
class BasisDocument:
    """A document the plan is based on (căn cứ), as written: `Kế hoạch số 524/KH-UBND …`."""

    kind: str
    number: str | None = None
    issued_on: date | None = None
    issuer: str = ""


@dataclass(slots=True)
class ProposedDeadline:
    """A dated obligation found in the text. `no` is its number in the first proposal and
    stays the same when others are dropped, so "Bỏ mốc 2" always means the same one."""

    no: int
    kind: str
    title: str
    due_on: date
    source: str
    due_time: time = DEFAULT_DUE_TIME
    starts_on: date | None = None
    # The text gave no year ("trước ngày 15/6"): the issue year (or the next) was assumed.
    year_assumed: bool = False
    # "dự kiến": the plan itself says the date may move.
    tentative: bool = False
    # A standing yearly rule ("chậm nhất ngày 15/3 năm sau", "trước ngày 10/8 hằng năm"):
    # `due_on` is its next occurrence after the plan's (or today's) date.
    recurring: bool = False


@dataclass(slots=True)
class RelativeNote:
    """A deadline counted from an event the plan does not date ("trước ngày trao thưởng ít
    nhất 07 ngày", "trong thời hạn 10 ngày làm việc kể từ ngày đăng tin"): shown to the admin,
    who may give it a date; never a deadline by itself."""

    no: int
    text: str
    source: str


@dataclass(slots=True)
class Problem:
    """Something dated the parser did not take: `code` is invalid_date, no_year, or too_many
    (`text` then says how many deadlines past the first MAX_DEADLINES were left out)."""

    code: str
    text: str
    source: str


@dataclass(slots=True)
class PlanProposal:
    document_number: str | None = None  # "353/KH-UBND"
    document_type: str | None = None  # "KH-UBND"
    issuing_body: str | None = None
    place: str | None = None
    issued_on: date | None = None
    title: str | None = None
    basis: list[BasisDocument] = field(default_factory=list)
    starts_on: date | None = None
    ends_on: date | None = None
    deadlines: list[ProposedDeadline] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[RelativeNote] = field(default_factory=list)

    def is_useful(self) -> bool:
        """Enough to start a campaign from: a number, a title or at least one deadline."""
        return bool(self.document_number or self.title or self.deadlines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, kept in the conversation state."""
        return {
            "document_number": self.document_number,
            "document_type": self.document_type,
            "issuing_body": self.issuing_body,
            "place": self.place,
            "issued_on": _iso(self.issued_on),
            "title": self.title,
            "basis": [
                {
                    "kind": b.kind,
                    "number": b.number,
                    "issued_on": _iso(b.issued_on),
                    "issuer": b.issuer,
                }
                for b in self.basis
            ],
            "starts_on": _iso(self.starts_on),
            "ends_on": _iso(self.ends_on),
            "deadlines": [
                {
                    "no": d.no,
                    "kind": d.kind,
                    "title": d.title,
                    "due_on": d.due_on.isoformat(),
                    "due_time": d.due_time.strftime("%H:%M"),
                    "starts_on": _iso(d.starts_on),
                    "source": d.source,
                    "year_assumed": d.year_assumed,
                    "tentative": d.tentative,
                    "recurring": d.recurring,
                }
                for d in self.deadlines
            ],
            "notes": [{"no": n.no, "text": n.text, "source": n.source} for n in self.notes],
            "problems": [
                {"code": p.code, "text": p.text, "source": p.source} for p in self.problems
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanProposal:
        return cls(
            document_number=data.get("document_number"),
            document_type=data.get("document_type"),
            issuing_body=data.get("issuing_body"),
            place=data.get("place"),
            issued_on=_from_iso(data.get("issued_on")),
            title=data.get("title"),
            basis=[
                BasisDocument(
                    kind=b["kind"],
                    number=b.get("number"),
                    issued_on=_from_iso(b.get("issued_on")),
                    issuer=b.get("issuer", ""),
                )
                for b in data.get("basis", [])
            ],
            starts_on=_from_iso(data.get("starts_on")),
            ends_on=_from_iso(data.get("ends_on")),
            deadlines=[
                ProposedDeadline(
                    no=d["no"],
                    kind=d["kind"],
                    title=d["title"],
                    due_on=date.fromisoformat(d["due_on"]),
                    due_time=time.fromisoformat(d.get("due_time", "17:00")),
                    starts_on=_from_iso(d.get("starts_on")),
                    source=d.get("source", ""),
                    year_assumed=d.get("year_assumed", False),
                    tentative=d.get("tentative", False),
                    recurring=d.get("recurring", False),
                )
                for d in data.get("deadlines", [])
            ],
            notes=[RelativeNote(n["no"], n["text"], n["source"]) for n in data.get("notes", [])],
            problems=[Problem(p["code"], p["text"], p["source"]) for p in data.get("problems", [])],
        )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _from_iso(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# Flags on a deadline, derived when shown (the issue date can be edited meanwhile).
FLAG_BEFORE_ISSUE = "before_issue"
FLAG_PAST = "past"
FLAG_YEAR_ASSUMED = "year_assumed"
FLAG_TENTATIVE = "tentative"
FLAG_RECURRING = "recurring"
# Flags the admin must confirm before the deadline is created.
CONFIRM_FLAGS = frozenset({FLAG_BEFORE_ISSUE, FLAG_PAST})


def deadline_flags(
    deadline: ProposedDeadline, *, issued_on: date | None, today: date | None = None
) -> list[str]:
    flags: list[str] = []
    if issued_on is not None and deadline.due_on < issued_on:
        flags.append(FLAG_BEFORE_ISSUE)
    if today is not None and deadline.due_on < today:
        flags.append(FLAG_PAST)
    if deadline.year_assumed:
        flags.append(FLAG_YEAR_ASSUMED)
    if deadline.recurring:
        flags.append(FLAG_RECURRING)
    if deadline.tentative:
        flags.append(FLAG_TENTATIVE)
    return flags


# --- reading files -----------------------------------------------------------------------------

_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc / .xls
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def extract_text(content: bytes, file_name: str | None = None) -> str:
    """The text of a .txt, .docx or .pdf file, NFC-normalised; `PlanFileError` otherwise."""
    if len(content) > MAX_FILE_BYTES:
        raise PlanFileError("too_large")
    if not content.strip():
        raise PlanFileError("empty")
    suffix = (file_name or "").lower().rpartition(".")[2] if file_name and "." in file_name else ""
    if _PDF_MAGIC in content[:1024]:
        text = _pdf_text(content)
    elif content.startswith(_ZIP_MAGIC):
        text = _docx_text(content)
    elif content.startswith(_OLE_MAGIC):
        raise PlanFileError("legacy_doc")
    elif suffix == "pdf":
        raise PlanFileError("corrupt_pdf")
    elif suffix == "docx":
        raise PlanFileError("corrupt_docx")
    elif suffix == "doc":
        raise PlanFileError("legacy_doc")
    else:
        text = _decode_text(content)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise PlanFileError("empty")
    return text


def read_plan_file(
    content: bytes, file_name: str | None = None, today: date | None = None
) -> dict[str, Any]:
    """`extract_text` then `parse_plan`, as plain data: what a child process hands back."""
    return parse_plan(extract_text(content, file_name), today=today).to_dict()


def _decode_text(content: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1258 (old Vietnamese
    Windows files); anything that does not read as text is refused."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    elif b"\x00" in content:
        raise PlanFileError("not_text")
    else:
        candidates = ["utf-8-sig", "cp1258"]
    for encoding in candidates:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Binary data decodes in cp1258 too; real text has next to no control characters.
        if len(_TEXT_CONTROL.findall(text)) <= len(text) // 200:
            return text
    raise PlanFileError("not_text")


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PlanFileError("encrypted_pdf")
        pages = [_pdf_page_text(page) for page in reader.pages[:MAX_PDF_PAGES]]
    except PlanFileError:
        raise
    except Exception:
        # pypdf reports broken files with a spread of exception types (PdfReadError,
        # zlib.error, KeyError, RecursionError…); to the admin they all mean the same.
        raise PlanFileError("corrupt_pdf") from None
    text = "\n".join(pages)
    if sum(ch.isalpha() for ch in text) < 20:
        raise PlanFileError("scanned_pdf")
    return text


def _pdf_page_text(page: Any) -> str:
    """The page's text with its layout kept (pypdf's layout mode): the two header columns of a
    plan stay apart, separated by wide gaps, instead of a narrow column's wrapped "VIỆT / NAM"
    gluing onto the issuer or "năm / 2025" leaving the date. Plain extraction is the fallback
    for pages layout mode cannot place."""
    try:
        text = page.extract_text(extraction_mode="layout", layout_mode_space_vertically=False)
    except Exception:
        text = ""
    return text or page.extract_text() or ""


def _docx_text(content: bytes) -> str:
    """Paragraphs and table cells in reading order (the header of a plan is usually a
    two-column table: issuing body on the left, the national motto on the right)."""
    import docx
    from docx.table import Table

    try:
        check_archive(content)
    except UnsafeArchive as exc:
        raise PlanFileError("corrupt_docx" if exc.reason == "not_zip" else "zip_bomb") from None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_DOCX_XML_BYTES:
                raise PlanFileError("zip_bomb")
    except KeyError:
        raise PlanFileError("unsupported") from None  # a zip, but not a Word document
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise PlanFileError("corrupt_docx") from None
    try:
        document = docx.Document(io.BytesIO(content))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_table_lines(block))
            else:
                lines.append(block.text)
    except Exception:
        # python-docx and lxml raise many types on broken XML (KeyError, ValueError,
        # XMLSyntaxError…); to the admin they all mean the same: the file is broken.
        raise PlanFileError("corrupt_docx") from None
    return "\n".join(lines)


def _table_lines(table: Any) -> list[str]:
    lines: list[str] = []
    for row in table.rows:
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is repeated in row.cells
                continue
            seen.add(id(cell._tc))
            lines.extend(p.text for p in cell.paragraphs)
        lines.append("")
    return lines


# --- matching helpers --------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    folded = fold(ch)
    if len(folded) == 1:
        return folded
    lower = ch.lower()
    return lower if len(lower) == 1 else ch


def _shadow(text: str) -> str:
    """`fold` character by character: same length as `text`, so match positions carry over."""
    return "".join(_fold_char(ch) for ch in text)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# A date as officials write it (on folded text): 15/5/2019, 15-05-2019, 15.5.2019, 15/5,
# 15 tháng 5 năm 2019. Validated afterwards by domain.dates.parse_date.
_DATE = (
    r"(?<![\d/.\-])\d{1,2}\s*[/.\-]\s*\d{1,2}(?:\s*[/.\-]\s*(?:\d{4}|\d{2}))?(?![\d/])"
    r"|(?<!\d)\d{1,2}\s+thang\s+\d{1,2}(?:\s*(?:nam|,)?\s*\d{4})?(?!\d)"
)
_TIME = r"\d{1,2}\s*(?:h|gio|:)\s*(?:\d{2})?(?:\s*phut)?"


def _month(name: str) -> str:
    """`tháng 6/2019`, `tháng 6 năm 2019` or `tháng 6`, in groups `<name>m` and `<name>y`."""
    return rf"thang\s+(?P<{name}m>\d{{1,2}})(?:\s*(?:[/.\-]|nam)\s*(?P<{name}y>\d{{4}}))?(?![\d/])"


_RANGE = re.compile(
    rf"\btu\s+(?:ngay\s+)?(?P<a>{_DATE}|\d{{1,2}})\s*(?:den|toi|-|–)\s*(?:het\s+)?(?:ngay\s+)?"
    rf"(?P<b>{_DATE})"
)
_FROM_NOW = re.compile(
    r"\btu\s+(?:nay|ngay\s+ban\s+hanh(?:\s+ke\s+hoach)?(?:\s+nay)?)\s*,?\s*(?:den|toi)\s*"
    rf"(?:het\s+)?(?:ngay\s+)?(?P<b>{_DATE})"
)
_MONTH_RANGE = re.compile(rf"\btu\s+{_month('a')}\s*(?:den|toi|-|–)\s*(?:het\s+)?{_month('b')}")
_BEFORE = re.compile(
    r"\b(?:truoc|cham\s+nhat|han\s+cuoi|han\s+chot|khong\s+qua|den\s+het)\b[\s:,]*"
    r"(?:(?:la|vao|den|het|trong|ngay)\b[\s:,]*)*"
    rf"(?:(?P<time>{_TIME})\s*,?\s*(?:ngay\b\s*)?)?(?P<d>{_DATE})"
)
_IN_MONTH = re.compile(rf"\btrong\s+{_month('')}")
# "hoàn thành trong quý I/2025", "quý II năm 2025", "trước quý III/2025" (folded: "quy i").
_QUARTER = re.compile(
    r"\b(?:(?P<pre>truoc|trong|cuoi|het|vao)\s+)?quy\s+(?P<q>iv|iii|ii|i|[1-4])\b"
    r"\s*(?:[/.\-]|nam)\s*(?P<y>\d{4})(?![\d/])"
)
_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
# A date without a year that recurs: "15/3 năm sau", "10/8 hằng năm", "15 tháng 3 hàng năm".
_YEARLY = re.compile(r"\s*(?:cua\s+)?(?:nam\s+sau|hang\s+nam|moi\s+nam|nam\s+ke\s+tiep)\b")
# Deadlines counted from an undated event: "trước ngày trao thưởng ít nhất 07 ngày",
# "trong thời hạn 10 ngày làm việc (kể từ ngày đăng tin)", "trường hợp đột xuất trước 03 ngày".
_RELATIVE = re.compile(
    r"\btruoc\s+ngay\s+(?!\d)(?:[a-z]+\s+){1,6}?(?:it\s+nhat|toi\s+thieu)\s+\d{1,3}\s+ngay"
    r"(?:\s+lam\s+viec)?"
    r"|\b(?:trong\s+thoi\s+han|trong\s+vong|truoc|cham\s+nhat|sau)\s+\d{1,3}\s+ngay"
    r"(?:\s+lam\s+viec)?(?:\s*\(?\s*(?:ke\s+)?tu\s+ngay\s+[a-z ]{2,40}\)?)?"
)
_TENTATIVE = re.compile(r"\bdu\s+kien\b")
_SEND = re.compile(r"\b(?:gui|goi|nop|trinh|bao cao|dang ky)\b")
# "trước tháng 12/2019": before the month begins, so due on the last day of the month before
# (30/11/2019), not at the end of the month named; "trước tháng 1 năm 2027" is 31/12/2026.
_BEFORE_MONTH = re.compile(rf"\b(?:truoc|cham\s+nhat\s+(?:la\s+)?truoc)\s+{_month('')}")

# 353/KH-UBND, 98/2023/NĐ-CP, 06/2022/QH15 (folded): number, optional year, type.
# 1.205/KH-SGDĐT: a thousands dot as officials write it; "TB – HTS": an en dash with spaces.
_NUMBER = re.compile(
    r"(?<![\w/.])(?P<n>\d{1,3}(?:\.\d{3})+|\d{1,6})\s*/\s*(?:(?P<y>\d{4})\s*/\s*)?"
    r"(?P<t>[a-z]{1,10}\d{0,3}(?:\s*[-–]\s*[a-z0-9]{1,12}){0,3})\b"
)
# Party documents number the other way round: 34-CT/TW, 1160-KL/TU.
_PARTY_NUMBER = re.compile(
    r"(?<![\w/])(?P<n>\d{1,5})\s*-\s*(?P<t>[a-z]{1,6})\s*/\s*(?P<o>[a-z]{1,6})\b"
)
_HEADER_NUMBER = re.compile(r"^\s*so\s*[:.]?\s*(?=\d)")
# The document's own number in its body: "Kế hoạch số 138/KH-UBND, ngày 10/6/2024".
_BODY_NUMBER = re.compile(
    r"\b(?P<kind>ke hoach|huong dan|thong bao|cong van|quyet dinh|van ban)\s+so\s*[:.]?\s*"
)
# Headings that stand above a document's title (a plain first line is the fallback).
_HEADINGS = (
    "ke hoach",
    "huong dan",
    "thong bao",
    "cong van",
    "quyet dinh",
    "bao cao",
    "chuong trinh",
    "to trinh",
    "chi thi",
)
_PLACE_DATE = re.compile(r",\s*ngay\s+(?P<d>\d{1,2})\s+thang\s+(?P<m>\d{1,2})\s+nam\s+(?P<y>\d{4})")
_COLUMNS = re.compile(r"\t+|\s{3,}|\s*\|\s*")
_NUMBERING = re.compile(r"^\s*(?:[IVXLC]{1,5}|\d{1,2}(?:\.\d{1,2})*|[a-zđ])\s*[.)/]\s+")
_BULLET = re.compile(r"^\s*[-–—+•*]\s*")

_DOC_KINDS = (
    "ke hoach|quyet dinh|cong van|chi thi|nghi dinh|thong tu|luat|huong dan|nghi quyet"
    "|van ban|thong bao|ket luan|chuong trinh|de an"
)
_DOC_REF = re.compile(rf"\b(?P<kind>{_DOC_KINDS})\b")
# "xã hội" (Sở Lao động - Thương binh và Xã hội) is not a commune.
_LOCALITY = r"tinh|thanh pho|huyen|quan|thi xa|xa(?!\s+hoi)|phuong|thi tran|dac khu"
_UBND_TEXT = re.compile(rf"\b(?:uy ban nhan dan|ubnd)\s+(?P<loc>{_LOCALITY})\s+")
_ORGAN_WORDS = (
    "so",
    "phong",
    "ban",
    "cuc",
    "chi cuc",
    "van phong",
    "hoi dong",
    "trung tam",
    "bo",
    "truong",
    "uy ban",
)

# Kind of a deadline by the words around it, checked in this order (a nomination file often
# includes an achievement report, so nomination words win).
_KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        DeadlineKind.NOMINATION,
        (
            "de nghi khen thuong",
            "ho so khen thuong",
            "ho so de nghi",
            "de xuat khen thuong",
            "trinh khen thuong",
            "de nghi tang",
        ),
    ),
    (DeadlineKind.REGISTRATION, ("dang ky",)),
    (DeadlineKind.PRELIMINARY, ("so ket",)),
    (DeadlineKind.FINAL, ("tong ket", "bao cao thanh tich", "bao cao ket qua")),
)
# Titles given to deadlines of a known kind (data: what officers see in reminders).
KIND_TITLES = {
    DeadlineKind.REGISTRATION: "Đăng ký thi đua",
    DeadlineKind.PRELIMINARY: "Báo cáo sơ kết",
    DeadlineKind.FINAL: "Báo cáo tổng kết, thành tích",
    DeadlineKind.NOMINATION: "Hồ sơ đề nghị khen thưởng",
}
# A date range or month with one of these words asks something of the units.
_DUTY_WORDS = re.compile(
    r"\b(?:hoan thanh|gui|nop|bao cao|dang ky|so ket|tong ket|trinh|de nghi|xong|ho so|lay y kien)\b"
)
_PERIOD_WORDS = re.compile(r"\b(?:thoi gian|thi dua|phat dong|dot)\b")


# --- parsing -----------------------------------------------------------------------------------


def parse_plan(text: str, *, today: date | None = None) -> PlanProposal:
    """Everything a plan's text says about the campaign; never raises on any text. `today`
    places yearly rules without a year ("trước ngày 10/8 hằng năm") at their next occurrence
    when the plan has no date of its own, or an old one."""
    text = unicodedata.normalize("NFC", text[:MAX_TEXT_CHARS]).replace("\xa0", " ")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Ð (U+00D0, Icelandic eth) stands for Đ in text converted from old Vietnamese fonts.
    text = text.replace("Ð", "Đ").replace("ð", "đ")
    lines = [line.rstrip() for line in text.split("\n")]
    title_at = _title_line(lines)
    header = lines[: title_at if title_at is not None else 30]
    proposal = PlanProposal()
    proposal.document_number, proposal.document_type = _document_number(header)
    proposal.place, proposal.issued_on = _place_and_date(lines[:40])
    body_at = 0
    if title_at is not None:
        proposal.title, body_at = _title(lines, title_at)
    else:
        proposal.title, body_at = _subject_title(lines)
    body = lines[body_at:]
    sentences = _sentences(body)
    if proposal.document_number is None:
        _number_from_body(lines[:40], sentences[:8], proposal)
    proposal.basis = _basis(sentences)
    proposal.issuing_body = (
        _issuer_from_header(header)
        or _issuer_from_text(sentences, proposal.place)
        or _issuer_from_first_line(lines)
        or _department_from_text(sentences)
    )
    if _shadow(proposal.issuing_body or "") in {"ubnd", "uy ban nhan dan"}:
        # "ỦY BAN NHÂN DÂN |" with the province lost when the header was flattened: the
        # body names the full organ ("ỦY BAN NHÂN DÂN TỈNH LẠNG SƠN" above "Căn cứ …").
        proposal.issuing_body = _full_ubnd(lines[:80]) or proposal.issuing_body
    _dated_obligations(sentences, proposal, today=today)
    return proposal


def _title_line(lines: list[str]) -> int | None:
    """The heading above the title (`KẾ HOẠCH`, `HƯỚNG DẪN`, `THÔNG BÁO`…), looked for only
    above the body: a decision's "QUYẾT ĐỊNH:" after its `Căn cứ` lines is not a heading."""
    for index, line in enumerate(lines[:80]):
        stripped = line.strip().strip("|").strip()
        shadow = _shadow(stripped)
        if _body_starts(stripped):
            return None
        for heading in _HEADINGS:
            size = len(heading)
            head = stripped[:size]
            if (
                shadow.startswith(heading)
                and head.isupper()
                and (len(stripped) == size or not stripped[size].isalpha())
                and not stripped.endswith(":")
            ):
                return index
    return None


def _body_starts(line: str) -> bool:
    return bool(line) and _shadow(line).startswith(
        ("can cu", "thuc hien", "kinh gui", "dieu 1", "theo de nghi")
    )


def _subject_title(lines: list[str]) -> tuple[str | None, int]:
    """A title without a heading: the `V/v …` subject of an official letter (công văn), or
    else a plain first line ("Thông báo: Lấy ý kiến …", "Quy định thời gian trình khen
    thưởng") that is not part of the header."""
    for index, line in enumerate(lines[:40]):
        stripped = line.strip().strip("|").strip()
        vv = re.match(r"[“\"(]*\s*v\s*/\s*v\s*[:.]?\s*", _shadow(stripped))
        if vv and stripped[: vv.end()].strip('“"( ').lower().startswith("v"):
            parts = [stripped[vv.end() :]]
            end = index + 1
            for follow in lines[index + 1 : index + 4]:
                follow = follow.strip()
                if not follow or (not follow[0].islower() and not follow.startswith("và")):
                    break
                parts.append(follow)
                end += 1
            title = clean_text(" ".join(parts), max_length=500, multiline=False).strip('“”" ')
            return title or None, end
    for index, line in enumerate(lines[:10]):
        stripped = _squash(line).strip("|").strip()
        if not stripped:
            continue
        shadow = _shadow(stripped)
        if (
            len(stripped) > 200
            or stripped.isupper()
            or _HEADER_NUMBER.match(shadow)
            or _MOTTO.search(shadow)
            or _PLACE_DATE.search(shadow)
            or _body_starts(stripped)
            or _NUMBERING.match(stripped)
            or stripped.endswith((".", ";", ":"))
        ):
            return None, 0
        kind = re.match(rf"(?:{'|'.join(_HEADINGS)})\s*:\s*", shadow)
        title = stripped[kind.end() :] if kind else stripped
        return clean_text(title, max_length=500, multiline=False) or None, index + 1
    return None, 0


def _number_from_body(lines: list[str], sentences: list[_Sentence], proposal: PlanProposal) -> None:
    """No `Số:` in the header: the document's own number as its body states it ("Kế hoạch số
    138/KH-UBND, ngày 10/6/2024" — not under `Căn cứ`, which names other documents), or a
    number in a first line that names the document ("Điều 22 Thông tư 57/2020/TT-BQP …")."""
    for sentence in sentences:
        if sentence.shadow.startswith(("can cu", "thuc hien", "theo", "tren co so")):
            continue
        match = _BODY_NUMBER.search(sentence.shadow)
        if match is None:
            continue
        before = sentence.shadow[max(0, match.start() - 40) : match.start()]
        if re.search(r"\b(?:can cu|thuc hien|theo|tai|cua)\s*$", before):
            continue
        found = _NUMBER.match(sentence.shadow, match.end())
        if found is None:
            continue
        proposal.document_number, proposal.document_type = _number_from(sentence.text, found)
        if proposal.issued_on is None:
            when = re.match(rf"\s*,?\s*ngay\s+(?P<d>{_DATE})", sentence.shadow[found.end() :])
            if when:
                with contextlib.suppress(ParseError):
                    proposal.issued_on = parse_date(when["d"])
        return
    first = next((line.strip() for line in lines if line.strip()), "")
    shadow = _shadow(first)
    ref = re.search(r"\b(?:thong tu|nghi dinh|quyet dinh|ke hoach|huong dan)\s+(?:so\s*)?", shadow)
    if ref and len(first) <= 250:
        found = _NUMBER.match(shadow, ref.end())
        if found:
            proposal.document_number, proposal.document_type = _number_from(first, found)


def _title(lines: list[str], title_at: int) -> tuple[str | None, int]:
    """The line(s) after the heading (`KẾ HOẠCH`, `HƯỚNG DẪN`…), and the index of the first
    line after them."""
    heading = lines[title_at].strip().strip("|").strip()
    size = next(len(h) for h in _HEADINGS if _shadow(heading).startswith(h))
    rest = heading[size:].strip(" :-–")
    parts = [rest] if rest else []
    end = title_at + 1
    for index in range(title_at + 1, min(len(lines), title_at + 12)):
        stripped = lines[index].strip()
        if not stripped or re.fullmatch(r"[-_*=.…\s]+", stripped):
            if parts:
                break
            continue
        if parts:
            # A title is a phrase: a line ending a sentence is the body starting; so is the
            # organ's name repeated above a decision's `Căn cứ` lines.
            if len(parts) >= 4 or stripped.endswith((".", ";")):
                break
            if stripped.isupper() and re.match(
                r"(?:uy ban nhan dan|ubnd|chu tich)\b", _shadow(stripped)
            ):
                break
            if not _continues(parts[-1], stripped):
                break
        elif _starts_paragraph(stripped) and not stripped.isupper():
            break
        parts.append(stripped)
        end = index + 1
    title = clean_text(" ".join(parts), max_length=500, multiline=False)
    return title or None, end


def _document_number(header: list[str]) -> tuple[str | None, str | None]:
    """The `Số: 353 /KH-UBND` of the header (the numbers in the body belong to other
    documents)."""
    for index, line in enumerate(header):
        if re.fullmatch(r"\s*so\s*[:.]?\s*", _shadow(line)):
            # "Số:" alone, the number wrapped onto the next line of a narrow column.
            line = f"{line.strip()} {' '.join(_next_cells(header, index, 1))}"
        # The whole line first: `Số:   27 / KH-UBND` has wide gaps of its own.
        for column in [line, *_COLUMNS.split(line)]:
            shadow = _shadow(column)
            prefix = _HEADER_NUMBER.match(shadow)
            if prefix:
                match = _NUMBER.match(shadow, prefix.end())
                if match:
                    return _number_from(column, match)
    return None, None


def parse_document_number(text: str) -> tuple[str, str] | None:
    """(`353/KH-UBND`, `KH-UBND`) from what an admin types: `353 / kh-ubnd`, `Số: 353/KH-UBND`."""
    value = _squash(text).upper()
    shadow = _shadow(value)
    prefix = re.match(r"so\s*[:.]?\s*", shadow)
    match = _NUMBER.match(shadow, prefix.end() if prefix else 0)
    if match is None or shadow[match.end() :].strip(" ."):
        return None
    number, doc_type = _number_from(value, match)
    if number is None or doc_type is None or len(number) > 64:
        return None
    return number, doc_type


def _number_from(original: str, match: re.Match[str]) -> tuple[str | None, str | None]:
    raw = original[match.start("t") : match.end("t")]
    tokens = [t.strip() for t in re.split(r"[-–]", raw)]
    kept: list[str] = []
    for token in tokens:
        # "TTg" (Thủ tướng) is written in mixed case; a lowercase word is the sentence going on.
        if not token or not (token.isupper() or token.isdigit() or token[0].isupper()):
            break
        kept.append(token)
    if not kept:
        return None, None
    doc_type = "-".join(kept)
    year = f"{match['y']}/" if match["y"] else ""
    return f"{original[match.start('n') : match.end('n')]}/{year}{doc_type}", doc_type


def _place_and_date(lines: list[str]) -> tuple[str | None, date | None]:
    for index, line in enumerate(lines):
        columns = _COLUMNS.split(line)
        if columns and re.search(r",\s*ngay\b", _shadow(columns[-1])):
            # "Sơn La, ngày 02" / "tháng 01 năm 2025": a narrow column wrapped the date.
            columns[-1] = _squash(" ".join([columns[-1], *_next_cells(lines, index, 2)]))
        for column in columns:
            shadow = _shadow(column)
            match = _PLACE_DATE.search(shadow)
            if not match:
                continue
            place = _place(column[: match.start()])
            try:
                issued = parse_date(f"{match['d']}/{match['m']}/{match['y']}")
            except ParseError:
                issued = None
            return place, issued
    return None, None


def _next_cells(lines: list[str], index: int, count: int) -> list[str]:
    """The last cells of the next non-empty lines (what a wrapped header column goes on with:
    with two columns side by side, the right one is last)."""
    cells: list[str] = []
    for line in lines[index + 1 : index + 1 + 2 * count]:
        parts = [p for p in _COLUMNS.split(line) if p.strip()]
        if parts:
            cells.append(parts[-1])
        if len(cells) == count:
            break
    return cells


def _place(text: str) -> str | None:
    """`Tam Đường` from `Tam Đường` — or from `Số: 353/KH-UBND  Tam Đường` when the two
    header columns were flattened onto one line with too few spaces to split them."""
    text = _squash(_BULLET.sub("", text)).strip(" ,")
    if any(ch.isdigit() for ch in text):
        words: list[str] = []
        for word in reversed(text.split()):
            if not word[0].isupper() or any(ch.isdigit() or ch == "/" for ch in word):
                break
            words.insert(0, word)
        text = " ".join(words)
    return text[:80] or None


# --- sentences -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Sentence:
    text: str  # original words, single-spaced
    shadow: str  # folded, same length
    heading: str  # folded heading of the section it sits in (for guessing kinds)


# A line this long that ends without punctuation was probably wrapped (PDF text, hard-wrapped
# .txt), even when the next one starts with a capital (a name: "… về" / "Sở Nội vụ …").
_WRAPPED_LINE = 60


def _starts_paragraph(line: str) -> bool:
    return bool(
        _NUMBERING.match(line)
        or _BULLET.match(line)
        or (line[0].isupper() and _shadow(line).startswith(("can cu", "thuc hien", "kinh gui")))
    )


def _continues(previous: str, line: str) -> bool:
    """Whether `line` carries on the sentence the line before it left open."""
    if not previous or previous[-1] in ".:;!?" or _starts_paragraph(line):
        return False
    if previous.isupper():  # a heading in capitals goes on only in capitals
        return line.isupper()
    return not line[0].isupper() or len(previous) >= _WRAPPED_LINE


def _paragraphs(lines: list[str]) -> list[str]:
    """Lines joined back into paragraphs: PDF text and hard-wrapped .txt files break lines in
    the middle of sentences ("… trước" / "ngày 15/5/2019")."""
    paragraphs: list[str] = []
    previous = ""
    for raw in lines:
        line = _squash(raw)
        if line and paragraphs and _continues(previous, line):
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line)
        previous = line
    return [p for p in paragraphs if p]


def _sentences(lines: list[str]) -> list[_Sentence]:
    sentences: list[_Sentence] = []
    heading = ""
    for paragraph in _paragraphs(lines):
        body = _BULLET.sub("", _NUMBERING.sub("", paragraph, count=1), count=1)
        if _looks_like_heading(paragraph, body):
            heading = _shadow(body)
        for piece in _split_sentences(body):
            sentences.append(_Sentence(piece, _shadow(piece), heading))
    return sentences


def _looks_like_heading(paragraph: str, body: str) -> bool:
    if len(body) > 120 or body.endswith((".", ";")):
        return False
    letters = [ch for ch in body if ch.isalpha()]
    return bool(letters) and (_NUMBERING.match(paragraph) is not None or body.isupper())


def _split_sentences(paragraph: str) -> list[str]:
    """Split after `;`, `!`, `?` and after `.` when a new sentence starts (a capital letter,
    a digit or a dash), so `08/4/2019. Ủy ban …` splits and `TP. Lai Châu` mostly does not."""
    pieces: list[str] = []
    start = 0
    for match in re.finditer(r"[.;!?]\s+", paragraph):
        following = paragraph[match.end() : match.end() + 1]
        if match.group()[0] == "." and not (following.isupper() or following in "-–+•"):
            continue
        if paragraph[max(0, match.start() - 3) : match.start()].lstrip().upper() in {"TP", "TX"}:
            continue
        pieces.append(paragraph[start : match.start() + 1].strip())
        start = match.end()
    pieces.append(paragraph[start:].strip())
    return [p for p in pieces if p]


# --- basis ---------------------------------------------------------------------------------------


def _basis(sentences: list[_Sentence]) -> list[BasisDocument]:
    """The documents named in `Căn cứ …` and `Thực hiện <document> …` sentences (and in the
    `; Luật …` pieces that go on after them), each listed once."""
    basis: list[BasisDocument] = []
    seen: set[tuple[str, ...]] = set()
    going_on = False
    for sentence in sentences:
        shadow = sentence.shadow
        starts = shadow.startswith("can cu") or re.match(rf"thuc hien\s+(?:{_DOC_KINDS})\b", shadow)
        going_on = bool(starts or (going_on and _DOC_REF.match(shadow)))
        if not going_on:
            continue
        refs = list(_DOC_REF.finditer(shadow))
        for index, ref in enumerate(refs):
            end = refs[index + 1].start() if index + 1 < len(refs) else len(sentence.text)
            document = _basis_document(sentence, ref.start(), end)
            if document is None:
                continue
            key = (
                (fold(document.number),)
                if document.number
                else (fold(document.kind), str(document.issued_on))
            )
            if key not in seen:
                seen.add(key)
                basis.append(document)
        if not shadow.rstrip().endswith(";"):
            going_on = starts is not None and starts is not False and shadow.endswith(";")
    return basis


def _basis_document(sentence: _Sentence, start: int, end: int) -> BasisDocument | None:
    shadow = sentence.shadow[start:end]
    text = sentence.text[start:end]
    kind_match = _DOC_REF.match(shadow)
    if kind_match is None:
        return None
    number = None
    number_match = re.match(r"\S+(?:\s+\S+){0,6}?\s+so\s+", shadow)
    direct = re.compile(r"\s*(?:so\s*)?").match(shadow, kind_match.end())
    for candidate in (direct, number_match):
        if candidate is None:
            continue
        found = _NUMBER.match(shadow, candidate.end())
        if found:
            number = _number_from(text, found)[0]
            break
        party = _PARTY_NUMBER.match(shadow, candidate.end())
        if party:
            number = _squash(text[party.start() : party.end()]).replace(" ", "")
            break
    issued = None
    date_match = re.search(rf"\bngay\s+(?P<d>{_DATE})", shadow)
    if date_match:
        try:
            issued = parse_date(date_match["d"])
        except ParseError:
            issued = None
    if number is None and issued is None:
        return None  # a mention ("Luật …") without anything to identify it
    issuer = ""
    by = re.search(r"\bcua\s+", shadow)
    if by:
        stop = re.compile(r"\s+(?:ve\s+viec|ve|quy dinh|huong dan|ban hanh)\b|[,;.]")
        end_by = stop.search(shadow, by.end())
        issuer = _squash(text[by.end() : end_by.start() if end_by else len(text)])[:120]
    kind = text[kind_match.start() : kind_match.end()]
    return BasisDocument(
        kind=kind[0].upper() + kind[1:], number=number, issued_on=issued, issuer=issuer
    )


# --- issuing body --------------------------------------------------------------------------------

_MOTTO = re.compile(r"cong hoa xa hoi|chu nghia viet nam|doc lap|tu do|hanh phuc")
_MOTTO_WRAP = re.compile(
    rf"\s*(?:(?:viet\s+)?nam|phuc)\s*(?:$|(?=(?:uy ban|ubnd|so|ban|{_LOCALITY})\b))"
)
_RIGHT_COLUMN_ONLY = re.compile(r"\s{20,}\S")


def _issuer_from_header(header: list[str]) -> str | None:
    """The organ lines at the top left (above `Số: …`), e.g. `UBND TỈNH LAI CHÂU` over
    `SỞ NỘI VỤ`: the lowest line is the issuer, the one above names its locality."""
    organs: list[str] = []
    for line in header:
        shadow_line = _shadow(line)
        if _HEADER_NUMBER.match(shadow_line.strip()) or _PLACE_DATE.search(shadow_line):
            break
        if _RIGHT_COLUMN_ONLY.match(line):
            continue  # PDF layout text: a line of the right column alone (the motto wrapped)
        for column in _COLUMNS.split(line):
            # PDF text puts both header columns on one line: keep what is left of the motto.
            motto = _MOTTO.search(_shadow(column))
            column = column[: motto.start() if motto else None].strip(" _-–=*")
            # The motto's wrapped "VIỆT / NAM" alone, or glued before the organ's next line.
            wrapped = _MOTTO_WRAP.match(_shadow(column))
            if wrapped:
                column = column[wrapped.end() :]
            shadow = _shadow(column)
            letters = [ch for ch in column if ch.isalpha()]
            if (
                len(letters) < 2
                or len(column) > 90
                or _NUMBER.search(shadow)
                or sum(ch.isupper() for ch in letters) < 0.7 * len(letters)
            ):
                continue
            organs.append(_squash(column))
    if not organs:
        return None
    # "ỦY BAN NHÂN DÂN" on one line and "HUYỆN TAM ĐƯỜNG" on the next are one name; so are
    # "HỘI TRUYỀN THỐNG TRƯỜNG SƠN" and "ĐƯỜNG HỒ CHÍ MINH VIỆT NAM" (a name wrapped in its
    # column: the second line does not start a new organ).
    merged: list[str] = []
    for organ in organs:
        if merged and (
            _shadow(merged[-1]) in {"uy ban nhan dan", "ubnd"} or not _starts_organ(organ)
        ):
            merged[-1] = f"{merged[-1]} {organ}"
        else:
            merged.append(organ)
    issuer = _pretty_organ(merged[-1])
    if len(merged) > 1 and not _has_locality(_shadow(merged[-1])):
        superior = _shadow(merged[-2])
        locality = re.search(rf"\b(?:{_LOCALITY})\s+\S.*$", superior)
        if locality:
            issuer += " " + _pretty_locality(merged[-2][locality.start() :])
    return issuer


_ORGAN_START = re.compile(
    r"(?:uy ban|ubnd|hdnd|so|phong|ban|cuc|chi cuc|van phong|hoi|trung tam|bo|truong|"
    r"cong doan|doan|dang uy|khoi|cum|benh vien|cong an|bch|thanh uy|tinh uy|huyen uy|"
    rf"{_LOCALITY})\b"
)


def _starts_organ(name: str) -> bool:
    return _ORGAN_START.match(_shadow(name)) is not None


_SO_ACTS = re.compile(
    r"\b(?:so|vu|ban|cuc|bo)\s+(?P<name>(?:[a-z.\-–]+\s+){1,7}?)(?:\([^)]{0,80}\)\s*)?"
    r"(?:(?:vua|da)\s+)?(?:thong bao|lay y kien|huong dan|ban hanh|de nghi cac|co van ban|"
    r"to chuc lay y kien)\b"
)


def _department_from_text(sentences: list[_Sentence]) -> str | None:
    """A notice's issuer named as the subject of its verb: "Sở Nội vụ thông báo …",
    "Sở Nội vụ (cơ quan Thường trực …) lấy ý kiến …", "Ban Thi đua - Khen thưởng T.Ư vừa có
    Văn bản số …"."""
    for sentence in sentences[:12]:
        if sentence.shadow.startswith("can cu"):
            continue
        match = _SO_ACTS.search(sentence.shadow)
        if match:
            name = _squash(sentence.text[match.start() : match.end("name")])
            return name[0].upper() + name[1:]
    return None


def _issuer_from_first_line(lines: list[str]) -> str | None:
    """ "… do Bộ trưởng Bộ Quốc phòng ban hành" in a first line that names the document."""
    first = next((line.strip() for line in lines if line.strip()), "")
    match = re.search(r"\bdo\s+(?P<who>.{3,80}?)\s+ban\s+hanh\b", _shadow(first))
    if match is None:
        return None
    who = first[match.start("who") : match.end("who")]
    return who[0].upper() + who[1:]


def _full_ubnd(lines: list[str]) -> str | None:
    """The first line in capitals that names a people's committee with its locality."""
    for line in lines:
        stripped = _squash(line).strip("|").strip()
        if stripped.isupper() and re.match(
            rf"(?:uy ban nhan dan|ubnd)\s+(?:{_LOCALITY})\s+\S", _shadow(stripped)
        ):
            return _pretty_organ(stripped)
    return None


def _has_locality(shadow: str) -> bool:
    return re.search(rf"\b(?:{_LOCALITY})\s+\S", shadow) is not None


def _pretty_organ(name: str) -> str:
    """`ỦY BAN NHÂN DÂN HUYỆN TAM ĐƯỜNG` → `UBND huyện Tam Đường`;
    `SỞ GIÁO DỤC VÀ ĐÀO TẠO` → `Sở Giáo dục và Đào tạo`. Mixed-case names are kept."""
    shadow = _shadow(name)
    ubnd = re.match(r"(?:uy ban nhan dan|ubnd)\s+", shadow)
    if ubnd:
        return "UBND " + _pretty_locality(name[ubnd.end() :])
    if not name.isupper():
        return name
    locality = re.search(rf"\s(?:{_LOCALITY})\s+\S", shadow)
    organ_part = name[: locality.start()] if locality else name
    result = _sentence_case_organ(organ_part)
    if locality:
        result += " " + _pretty_locality(name[locality.start() + 1 :])
    return result


def _sentence_case_organ(name: str) -> str:
    words = name.split()
    shadows = [_shadow(w) for w in words]
    organ_len = 0
    for organ in sorted(_ORGAN_WORDS, key=len, reverse=True):
        size = len(organ.split())
        if " ".join(shadows[:size]) == organ:
            organ_len = size
            break
    out: list[str] = []
    capitalise_next = True
    if organ_len == 0:
        # Not an organ of a known shape ("HỘI TRUYỀN THỐNG TRƯỜNG SƠN"): most words are a proper
        # name, so each is capitalised; the function words are not.
        return " ".join(
            word
            if not re.search(r"[aeiouy]", shadow)
            else word.lower()
            if shadow in {"va", "cua", "cac", "ve"} and index
            else word[0].upper() + word[1:].lower()
            for index, (word, shadow) in enumerate(zip(words, shadows, strict=True))
        )
    for index, word in enumerate(words):
        if not re.search(r"[aeiouy]", shadows[index]):
            out.append(word)  # an acronym: UBND, HĐND
        elif capitalise_next or index < organ_len + 1:
            out.append(word[0].upper() + word[1:].lower())
        else:
            out.append(word.lower())
        capitalise_next = word in {"-", "–"} or word.endswith(",") or shadows[index] == "va"
    return " ".join(out)


def _pretty_locality(text: str) -> str:
    """`HUYỆN TAM ĐƯỜNG` → `huyện Tam Đường` (mixed case is kept)."""
    text = _squash(text)
    if not text.isupper():
        return text
    shadow = _shadow(text)
    match = re.match(rf"(?:{_LOCALITY})\b", shadow)
    if not match:
        return " ".join(w.capitalize() for w in text.split())
    name = " ".join(w.capitalize() for w in text[match.end() :].split())
    return f"{text[: match.end()].lower()} {name}".strip()


def _issuer_from_text(sentences: list[_Sentence], place: str | None) -> str | None:
    """`Ủy ban nhân dân huyện Tam Đường xây dựng kế hoạch …` in the body, outside the
    `Căn cứ` sentences (those name the superior's documents)."""
    candidates: list[str] = []
    for sentence in sentences:
        if sentence.shadow.startswith("can cu"):
            continue
        for match in _UBND_TEXT.finditer(sentence.shadow):
            words: list[str] = []
            for word in sentence.text[match.end("loc") :].split()[:5]:
                clean = word.strip(",.;:()")
                if not clean or not clean[0].isupper():
                    break
                words.append(clean)
                if clean != word:
                    break
            if words:
                locality = sentence.text[match.start("loc") : match.end("loc")].lower()
                candidates.append(f"UBND {locality} {' '.join(words)}")
    if not candidates:
        return None
    if place:
        for candidate in candidates:
            if fold(place) in fold(candidate):
                return candidate
    return candidates[0]


# --- period and deadlines ------------------------------------------------------------------------


@dataclass(slots=True)
class _Found:
    start: int
    end: int
    due_text: str  # the date (or month) that is due, as folded text
    start_text: str | None = None  # the start of a range
    from_issue: bool = False  # "từ nay đến …": the range starts with the plan
    month: bool = False  # "trong tháng 6/2019": due at the end of the month
    before_month: bool = False  # "trước tháng 6/2019": due the day before it, 31/5/2019
    start_month: str | None = None
    time_text: str | None = None
    before_word: bool = False  # "trước", "chậm nhất"…: always an obligation
    quarter: bool = False  # "trong quý I/2025": due_text is "1/2025", due its last day
    recurring: bool = False  # "trước ngày 10/8 hằng năm", "chậm nhất ngày 15/3 năm sau"


def _find_dates(shadow: str) -> list[_Found]:
    found: list[_Found] = []
    for match in _RANGE.finditer(shadow):
        found.append(_Found(match.start(), match.end(), match["b"], start_text=match["a"]))
    for match in _FROM_NOW.finditer(shadow):
        found.append(_Found(match.start(), match.end(), match["b"], from_issue=True))
    for match in _MONTH_RANGE.finditer(shadow):
        found.append(
            _Found(
                match.start(),
                match.end(),
                _month_text(match["bm"], match["by"] or match["ay"]),
                month=True,
                start_month=_month_text(match["am"], match["ay"]),
            )
        )
    for match in _BEFORE.finditer(shadow):
        found.append(
            _Found(
                match.start(), match.end(), match["d"], time_text=match["time"], before_word=True
            )
        )
    for match in _BEFORE_MONTH.finditer(shadow):
        due_text = _month_text(match["m"], match["y"])
        found.append(
            _Found(
                match.start(),
                match.end(),
                due_text,
                month=True,
                before_month=True,
                before_word=True,
            )
        )
    for match in _IN_MONTH.finditer(shadow):
        found.append(
            _Found(match.start(), match.end(), _month_text(match["m"], match["y"]), month=True)
        )
    for match in _QUARTER.finditer(shadow):
        found.append(
            _Found(
                match.start(),
                match.end(),
                f"{_QUARTERS[match['q']]}/{match['y']}",
                quarter=True,
                before_month=match["pre"] == "truoc",
                before_word=match["pre"] == "truoc",
            )
        )
    for item in found:
        yearly = _YEARLY.match(shadow, item.end)
        if not item.month and not item.quarter and yearly:
            item.recurring = True
            item.end = yearly.end()
    # Earlier patterns win where matches overlap ("từ … đến hết ngày X" is one range).
    kept: list[_Found] = []
    starts: list[int] = []
    for item in found:
        at = bisect.bisect_left(starts, item.start)
        if (at > 0 and kept[at - 1].end > item.start) or (
            at < len(kept) and kept[at].start < item.end
        ):
            continue
        starts.insert(at, item.start)
        kept.insert(at, item)
    return kept


def _month_text(month: str, year: str | None) -> str:
    return f"{month}/{year}" if year else month


def _dated_obligations(
    sentences: list[_Sentence], proposal: PlanProposal, *, today: date | None = None
) -> None:
    deadlines: list[ProposedDeadline] = []
    phrases: list[frozenset[str]] = []
    # Yearly rules fall due next after the later of the plan's date and today.
    anchors = [d for d in (proposal.issued_on, today) if d is not None]
    yearly_anchor = max(anchors) if anchors else None
    carried_kind: str | None = None
    for sentence in sentences:
        if sentence.shadow.startswith(("can cu", "thuc hien ke hoach")):
            continue
        _relative_notes(sentence, proposal)
        # A piece after ";" that starts in lower case goes on with the one before it ("Hồ sơ
        # đề nghị … chậm nhất ngày 15/3 năm sau; khen thưởng theo năm học … trước ngày 10/8").
        if not sentence.text[:1].islower():
            carried_kind = _kind_of(sentence.shadow)
        found = _find_dates(sentence.shadow)
        for index, item in enumerate(found):
            before = sentence.shadow[found[index - 1].end if index else 0 : item.end]
            after = sentence.shadow[
                item.start : found[index + 1].start if index + 1 < len(found) else None
            ]
            kind = _kind_of(before) or _kind_of(after)
            sentence_kind = _kind_of(sentence.shadow) or carried_kind
            is_range = item.start_text is not None or item.from_issue or item.start_month
            window = before + after
            if is_range and re.search(r"\bso lieu\b|\btinh tu\b", window):
                continue  # "số liệu từ tháng 1 đến tháng 6": what a report covers, not a due date
            if (
                is_range
                and kind is None
                and (_PERIOD_WORDS.search(window) or _PERIOD_WORDS.search(sentence.heading))
                and not _DUTY_WORDS.search(window)
            ):
                if proposal.starts_on is None and proposal.ends_on is None:
                    _take_period(item, sentence, proposal)
                continue
            if not (item.before_word or kind or _DUTY_WORDS.search(window)):
                continue
            deadline = _deadline(
                item,
                sentence,
                kind or sentence_kind or _kind_of(sentence.heading),
                proposal,
                yearly_anchor=yearly_anchor,
            )
            if deadline is None:
                continue
            deadline.tentative = _TENTATIVE.search(before) is not None
            # The same obligation is often repeated (in the body and in a closing summary);
            # several obligations due the same day are not: "hồ sơ Tập thể lao động xuất
            # sắc" and "hồ sơ Cờ thi đua" both before 31/7 stay two deadlines. Two are the
            # same when the words of one are all among the words of the other.
            phrase = _significant_words(_other_title(sentence, item))
            if any(
                (d.kind, d.due_on, d.recurring)
                == (deadline.kind, deadline.due_on, deadline.recurring)
                and (p <= phrase or phrase <= p)
                for d, p in zip(deadlines, phrases, strict=True)
            ):
                continue
            deadlines.append(deadline)
            phrases.append(phrase)
    # Same kind and day, different obligations: each titled from its own sentence.
    for deadline in deadlines:
        twins = [d for d in deadlines if (d.kind, d.due_on) == (deadline.kind, deadline.due_on)]
        # A yearly rule is titled from its sentence too: the title says which rule it is.
        if len(twins) > 1 or deadline.recurring:
            for twin in twins if len(twins) > 1 else [deadline]:
                twin.title = _other_title_from_source(twin)
    deadlines.sort(key=lambda d: (d.due_on, d.due_time))
    for number, deadline in enumerate(deadlines[:MAX_DEADLINES], start=1):
        deadline.no = number
    proposal.deadlines = deadlines[:MAX_DEADLINES]
    if len(deadlines) > MAX_DEADLINES:
        extra = deadlines[MAX_DEADLINES]
        proposal.problems.append(
            Problem("too_many", str(len(deadlines) - MAX_DEADLINES), extra.source)
        )


_STOP_WORDS = frozenset(
    [
        "cac",
        "don",
        "vi",
        "co",
        "quan",
        "dia",
        "phuong",
        "gui",
        "ve",
        "truoc",
        "ngay",
        "luu",
        "y",
        "va",
        "cua",
        "cho",
        "den",
        "het",
        "cham",
        "nhat",
        "nop",
        "tai",
        "la",
        "vao",
        "trong",
        "thoi",
        "han",
        "chot",
        "khong",
        "qua",
        "dong",
        "thoi",
        "de",
        "nghi",
        "tong",
        "hop",
    ]
)


def _significant_words(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z0-9]+", fold(text))
    return frozenset(w for w in words if w not in _STOP_WORDS and not w.isdigit())


def _other_title_from_source(deadline: ProposedDeadline) -> str:
    """A deadline's title from the words of its own sentence before its date (what, for which
    title or level, where to send)."""
    shadow = _shadow(deadline.source)
    found = _find_dates(shadow)
    due = deadline.due_on
    for item in found:
        text = _other_title(_Sentence(deadline.source, shadow, ""), item)
        try:
            same = item.month or item.quarter or _same_day_month(item.due_text, due)
        except ParseError:
            same = False
        if text and same:
            return text
    return (
        _other_title(_Sentence(deadline.source, shadow, ""), found[0]) if found else deadline.title
    )


def _same_day_month(text: str, due: date) -> bool:
    value = parse_date(text, default_year=due.year)
    return (value.day, value.month) == (due.day, due.month)


def _relative_notes(sentence: _Sentence, proposal: PlanProposal) -> None:
    """Deadlines counted from an undated event, kept as notes for the admin to date."""
    if not _DUTY_WORDS.search(sentence.shadow) and "goi" not in sentence.shadow:
        return
    for match in _RELATIVE.finditer(sentence.shadow):
        if not _SEND.search(sentence.shadow, 0, match.start()):
            continue  # "trong thời hạn 10 ngày làm việc, Cục … thông báo": not the units' duty
        text = sentence.text
        start = max(text.rfind(",", 0, match.start()), text.rfind(";", 0, match.start())) + 1
        if match.start() - start < 20:
            start = 0
        note = _squash(text[start : match.end()]).strip(" ,;:-–")
        if len(note) > 160:
            note = "…" + note[-159:]
        if len(proposal.notes) >= MAX_DEADLINES or any(n.text == note for n in proposal.notes):
            continue
        note = note[0].upper() + note[1:] if note else note
        proposal.notes.append(RelativeNote(len(proposal.notes) + 1, note, _source(sentence)))


def _kind_of(shadow: str) -> str | None:
    for kind, words in _KIND_WORDS:
        if any(re.search(rf"\b{word}\b", shadow) for word in words):
            return kind
    return None


def _parse_when(
    text: str, *, month: bool, end_of_month: bool, year: int | None, before_month: bool = False
) -> date:
    """A date, or a month (its last day, or its first with `end_of_month=False`); `year` fills
    a date written without one. With `before_month` the month is one the obligation must come
    before ("trước tháng 12/2019"): the day before its first day, i.e. the last day of the
    month before it (30/11/2019; "trước tháng 1/2027" is 31/12/2026). Raises `ParseError`
    like `domain.dates.parse_date`."""
    if not month:
        return parse_date(text, default_year=year)
    month_text, _, year_text = text.partition("/")
    if not year_text:
        if year is None:
            raise ParseError("format")
        year_text = str(year)
    first = parse_date(f"1/{month_text}/{year_text}")
    if before_month:
        return first - timedelta(days=1)
    if not end_of_month:
        return first
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _resolve(
    text: str,
    sentence: _Sentence,
    proposal: PlanProposal,
    *,
    anchor: date | None,
    after_anchor: bool = True,
    month: bool = False,
    end_of_month: bool = True,
    before_month: bool = False,
) -> tuple[date | None, bool]:
    """A validated date, and whether its year was assumed. A date without a year takes the
    year that puts it after `anchor` (a deadline after the issue date: "trước ngày 10/01" in a
    plan of November is next January) or, with `after_anchor=False`, before it (the start of a
    range before its end). Dates that do not exist are recorded as problems."""

    def when(year: int | None) -> date:
        return _parse_when(
            text, month=month, end_of_month=end_of_month, year=year, before_month=before_month
        )

    try:
        try:
            return when(None), False
        except ParseError as exc:
            if exc.reason != "format" or anchor is None:
                raise
        value = when(anchor.year)
        if after_anchor and value < anchor:
            value = when(anchor.year + 1)
        elif not after_anchor and value > anchor:
            value = when(anchor.year - 1)
        return value, True
    except ParseError as exc:
        if len(proposal.problems) < MAX_PROBLEMS:
            code = "no_year" if exc.reason == "format" else "invalid_date"
            proposal.problems.append(Problem(code, _squash(text), _source(sentence)))
        return None, False


def _take_period(item: _Found, sentence: _Sentence, proposal: PlanProposal) -> None:
    ends, _ = _resolve(
        item.due_text, sentence, proposal, anchor=proposal.issued_on, month=item.month
    )
    if ends is not None:
        proposal.starts_on = _range_start(item, ends, sentence, proposal)
        proposal.ends_on = ends


def _range_start(
    item: _Found, ends: date, sentence: _Sentence, proposal: PlanProposal
) -> date | None:
    """Where `từ … đến …` starts: the plan's own date for `từ nay`/`từ ngày ban hành`, else the
    first date, which may leave out the year or even the month (`từ ngày 02 đến ngày 15/5`)."""
    if item.from_issue:
        return proposal.issued_on
    if item.start_month is not None:
        text, month = item.start_month, True
    elif item.start_text is not None:
        text, month = item.start_text.strip(), False
    else:
        return None
    if not month and text.isdigit():
        # The day of the end's month, or of the month before when that would come after it.
        previous = (ends.replace(day=1) - timedelta(days=1)) if int(text) > ends.day else ends
        text = f"{text}/{previous.month}/{previous.year}"
    value, _ = _resolve(
        text,
        sentence,
        proposal,
        anchor=ends,
        after_anchor=False,
        month=month,
        end_of_month=False,
    )
    return value


def _deadline(
    item: _Found,
    sentence: _Sentence,
    kind: str | None,
    proposal: PlanProposal,
    *,
    yearly_anchor: date | None = None,
) -> ProposedDeadline | None:
    due: date | None
    if item.quarter:
        try:
            due, year_assumed = _quarter_due(item), False
        except ValueError:  # "quý I/0000"
            return None
    elif item.recurring:
        due, year_assumed = _resolve(
            item.due_text, sentence, proposal, anchor=yearly_anchor, month=item.month
        )
        year_assumed = False  # shown as "hằng năm", not as a guessed year
    else:
        due, year_assumed = _resolve(
            item.due_text,
            sentence,
            proposal,
            anchor=proposal.issued_on,
            month=item.month,
            before_month=item.before_month,
        )
    if due is None:
        return None
    due_time = DEFAULT_DUE_TIME
    if item.time_text:
        try:
            due_time = parse_time(item.time_text)
        except ParseError:
            due_time = DEFAULT_DUE_TIME
    kind = kind or DeadlineKind.OTHER
    return ProposedDeadline(
        no=0,
        kind=kind,
        title=KIND_TITLES.get(kind) or _other_title(sentence, item),
        due_on=due,
        due_time=due_time,
        starts_on=_range_start(item, due, sentence, proposal),
        source=_source(sentence),
        year_assumed=year_assumed,
        recurring=item.recurring,
    )


def _quarter_due(item: _Found) -> date:
    """The last day of the quarter, or with "trước quý …" the last day before it."""
    quarter, year = (int(part) for part in item.due_text.split("/"))
    first = date(year, 3 * quarter - 2, 1)
    if item.before_month:
        return first - timedelta(days=1)
    last_month = 3 * quarter
    return date(year, last_month, calendar.monthrange(year, last_month)[1])


def _other_title(sentence: _Sentence, item: _Found) -> str:
    """The words of the obligation before its date: `Hoàn thành việc rà soát …`."""
    text = sentence.text[: item.start].strip(" ,:;-–") or sentence.text[item.end :].strip(" ,:;.-–")
    text = _squash(text) or sentence.text
    if len(text) > 120:
        text = text[:120].rsplit(" ", 1)[0] + "…"
    return text[0].upper() + text[1:] if text else text


def _source(sentence: _Sentence) -> str:
    text = sentence.text
    return text if len(text) <= SOURCE_MAX_CHARS else text[: SOURCE_MAX_CHARS - 1] + "…"
