"""The unit registry (danh sách đơn vị): kinds, codes, search, adding one unit and importing many.

Unit kinds are reference data (refdata/unit_kinds.yaml), matched by code, label or alias.
Searching is diacritics-insensitive: `Unit.search_key` holds the folded code and name, and a
query matches when every folded word appears in it ("binh lu" finds "Bình Lư"). An import
(CSV or XLSX, columns ma, ten, loai, khoi and optionally ma_cap_tren) is validated row by row
first; if any row is wrong nothing is written, otherwise every row is created or updated by
code in the caller's one transaction. This module answers with data and reason keys; it does
not render messages, send anything or commit.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from domain import audit
from domain import scope as scoped
from domain.errors import InputError
from domain.safe_zip import UnsafeArchive, check_archive
from domain.scope import Scope
from domain.text import clean_text, fold, matches
from domain.yamlfile import load_yaml
from models.units import Member, MemberStatus, Unit

REFDATA_DIR = Path(__file__).resolve().parent.parent / "refdata"
CODE_MAX = 32
NAME_MAX = 200
BLOC_MAX = 120
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")


# --- kinds ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UnitKindInfo:
    code: str
    label: str
    aliases: tuple[str, ...] = ()


@cache
def unit_kinds(path: Path | None = None) -> tuple[UnitKindInfo, ...]:
    """The kinds in refdata, in file order."""
    source = path or REFDATA_DIR / "unit_kinds.yaml"
    data = load_yaml(source.read_text(encoding="utf-8")) or {}
    kinds = tuple(
        UnitKindInfo(
            code=str(item["code"]),
            label=clean_text(str(item["label"])),
            aliases=tuple(clean_text(str(a)) for a in item.get("aliases") or ()),
        )
        for item in data.get("kinds") or ()
    )
    codes = [k.code for k in kinds]
    if not kinds or len(set(codes)) != len(codes):
        raise ValueError(f"{source}: unit kinds missing or codes repeated")
    return kinds


def kind_label(code: str) -> str:
    """The label of a kind; an organiser's own code not in refdata is shown as it is."""
    for kind in unit_kinds():
        if kind.code == code:
            return kind.label
    return code


def resolve_kind(text: str) -> str | None:
    """The kind code for what a user wrote (code, label or alias), or None.

    Exact spellings (case aside) win; only then are diacritics ignored, and a folded spelling
    shared by two kinds ("bản" village vs "ban" board) counts as unknown rather than a guess.
    """
    value = clean_text(text, multiline=False).lower()
    if not value:
        return None
    exact = {
        k.code
        for k in unit_kinds()
        for name in (k.code, k.label, *k.aliases)
        if name.lower() == value
    }
    if len(exact) == 1:
        return exact.pop()
    folded = {
        k.code
        for k in unit_kinds()
        for name in (k.code, k.label, *k.aliases)
        if fold(name) == fold(value)
    }
    if len(folded) == 1:
        return folded.pop()
    return _resolve_kind_loosely(value)


# Words officials put around a kind that do not change it: "UBND xã", "cấp xã".
_KIND_NOISE = re.compile(r"^(?:ubnd|uy ban nhan dan|dang uy|cap)\s+")
_KIND_SEPARATORS = re.compile(r"\s*(?:/|,|;|\+|&|\bva\b|\bhoac\b)\s*")


def _resolve_kind_loosely(value: str) -> str | None:
    """ "xã/thị trấn", "cơ quan/phòng ban", "UBND xã": every part names the same kind, once
    the words around it are dropped; parts naming two kinds stay unknown."""
    found: set[str] = set()
    for part in _KIND_SEPARATORS.split(fold(value)):
        part = _KIND_NOISE.sub("", part.strip())
        if not part:
            continue
        codes = {
            k.code
            for k in unit_kinds()
            for name in (k.code, k.label, *k.aliases)
            if fold(name) == part
        }
        if len(codes) != 1:
            return None
        found |= codes
    return found.pop() if len(found) == 1 else None


# --- codes, names, search ------------------------------------------------------------------
def normalise_code(text: str) -> str:
    """Codes are upper-case ASCII: "xã bình lư" becomes "XA-BINH-LU"."""
    return fold(text).upper().replace(" ", "-")


def code_problem(code: str) -> str | None:
    """Reason key when `code` (already normalised) cannot be a unit code."""
    if not code:
        return "empty_code"
    if len(code) > CODE_MAX or not _CODE.match(code):
        return "bad_code"
    return None


def search_key_for(code: str, name: str) -> str:
    return fold(f"{code} {name}")


def find_unit_by_code(session: Session, code: str, *, scope: Scope) -> Unit | None:
    """The unit of the organiser acted for with this code (codes are unique per organiser)."""
    query = select(Unit).where(
        Unit.code == normalise_code(code), Unit.organiser_id == scope.organiser_id
    )
    return session.exec(query).first()


def _search_query(query: str, *, active_only: bool, scope: Scope | None) -> SelectOfScalar[Unit]:
    statement = select(Unit) if scope is None else scoped.units(scope)
    for word in fold(query).split():
        # The database narrows with LIKE on the folded key; `matches` below has the last word.
        statement = statement.where(col(Unit.search_key).contains(word, autoescape=True))
    if active_only:
        statement = statement.where(Unit.active == True)  # noqa: E712
    return statement


def search_units(
    session: Session,
    query: str,
    *,
    scope: Scope | None,
    active_only: bool = False,
    limit: int | None = None,
) -> list[Unit]:
    """Units whose code or name contains every word of `query`, diacritics aside: of the
    scope, or of every organiser when `scope` is None (a newcomer registering looks for
    their unit wherever it is)."""
    statement = _search_query(query, active_only=active_only, scope=scope)
    statement = statement.order_by(Unit.name, Unit.code)
    units = [u for u in session.exec(statement).all() if matches(query, u.search_key)]
    return units[:limit] if limit is not None else units


def has_active_units(session: Session) -> bool:
    """False on a fresh install: nobody can register before an admin lists the units."""
    return session.exec(select(Unit.id).where(Unit.active == True).limit(1)).first() is not None  # noqa: E712


@dataclass(slots=True)
class UnitPage:
    units: list[Unit]
    page: int  # 1-based
    pages: int
    total: int


def unit_page(
    session: Session, *, scope: Scope, query: str = "", page: int = 1, per_page: int = 8
) -> UnitPage:
    """One page of the scope's registry (all units, or those matching `query`), by code."""
    if query.strip():
        units = sorted(search_units(session, query, scope=scope), key=lambda u: u.code)
        total = len(units)
    else:
        total = session.exec(
            select(func.count())
            .select_from(Unit)
            .where(col(Unit.organiser_id).in_(scope.organiser_ids))
        ).one()
        units = []
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    if query.strip():
        chosen = units[start : start + per_page]
    else:
        chosen = list(
            session.exec(
                scoped.units(scope).order_by(Unit.code).offset(start).limit(per_page)
            ).all()
        )
    return UnitPage(chosen, page, pages, total)


def members_by_unit(
    session: Session,
    unit_ids: Sequence[int],
    statuses: Iterable[str] = (MemberStatus.APPROVED, MemberStatus.PENDING),
) -> dict[int, list[Member]]:
    """Members bound to each unit (officers, and admins who act for a unit)."""
    if not unit_ids:
        return {}
    rows = session.exec(
        select(Member)
        .where(col(Member.unit_id).in_(list(unit_ids)), col(Member.status).in_(list(statuses)))
        .order_by(col(Member.created_at), col(Member.id))
    ).all()
    grouped: dict[int, list[Member]] = {}
    for member in rows:
        if member.unit_id is not None:
            grouped.setdefault(member.unit_id, []).append(member)
    return grouped


def blocs(session: Session, *, scope: Scope) -> list[str]:
    """The emulation blocs (khối thi đua) the scope's units already belong to."""
    rows = session.exec(
        select(Unit.bloc)
        .where(col(Unit.bloc).is_not(None), col(Unit.organiser_id).in_(scope.organiser_ids))
        .distinct()
    ).all()
    return sorted((b for b in rows if b), key=fold)


# --- adding one unit -----------------------------------------------------------------------
def check_new_code(session: Session, text: str, *, scope: Scope) -> str:
    """A normalised code for a new unit, or InputError (bad shape, already used)."""
    code = normalise_code(text)
    problem = code_problem(code)
    if problem is not None:
        raise InputError(f"units.{problem}", example="XA-BINHLU", max=CODE_MAX)
    existing = find_unit_by_code(session, code, scope=scope)
    if existing is not None:
        raise InputError("units.code_taken", example="XA-BINHLU", code=code, name=existing.name)
    return code


def check_name(text: str) -> str:
    name = clean_text(text, multiline=False)
    if not name:
        raise InputError("units.empty_name", example="Xã Bình Lư")
    if len(name) > NAME_MAX:
        raise InputError("units.name_too_long", example="Xã Bình Lư", max=NAME_MAX)
    return name


def check_bloc(text: str) -> str:
    bloc = clean_text(text, multiline=False)
    if not bloc:
        raise InputError("units.empty_bloc", example="Khối xã, thị trấn")
    if not any(ch.isalpha() for ch in bloc):
        # "2" is a number typed for a listed bloc, not the name of a new one.
        raise InputError("hints.bloc_needs_letters", example="Khối xã, thị trấn")
    if len(bloc) > BLOC_MAX:
        raise InputError("units.bloc_too_long", example="Khối xã, thị trấn", max=BLOC_MAX)
    return bloc


def create_unit(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    bloc: str | None,
    now: datetime,
    organiser_id: int,
    parent_id: int | None = None,
) -> Unit:
    """Add a unit; the caller has validated the values (check_new_code, check_name…)."""
    unit = Unit(
        organiser_id=organiser_id,
        code=code,
        name=name,
        search_key=search_key_for(code, name),
        kind=kind,
        bloc=bloc or None,
        parent_id=parent_id,
        active=True,
        created_at=now,
    )
    session.add(unit)
    session.flush()
    return unit


# --- importing many ------------------------------------------------------------------------
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# Column → accepted headers, compared folded and without spaces, dashes or underscores.
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("ma", "madonvi", "code"),
    "name": ("ten", "tendonvi", "name"),
    "kind": ("loai", "loaidonvi", "kind"),
    "bloc": ("khoi", "khoithidua", "bloc"),
    "parent": ("macaptren", "captren", "madonvicaptren", "parent"),
}
REQUIRED_COLUMNS = ("code", "name", "kind")
# The header as the sample file and the messages write it.
COLUMN_TITLES = {
    "code": "ma",
    "name": "ten",
    "kind": "loai",
    "bloc": "khoi",
    "parent": "ma_cap_tren",
}
# Magic numbers of files people send by mistake: none of them is a table we can read.
_NOT_TABLES = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"Rar!", b"\x1f\x8b", b"7z\xbc\xaf")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls / .doc


@dataclass(frozen=True, slots=True)
class RowError:
    """Why row `row` (1 = the first line of the file; 0 = the file as a whole) is refused."""

    row: int
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class UnitRow:
    row: int
    code: str
    name: str
    kind: str
    bloc: str | None
    parent_code: str | None


@dataclass(slots=True)
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class TableError(Exception):
    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def read_table(content: bytes) -> list[tuple[int, list[str]]]:
    """Rows of a CSV or XLSX file as (row number, cells), judged by content, not file name."""
    if len(content) > MAX_FILE_BYTES:
        raise TableError("too_big", max_mb=MAX_FILE_BYTES // (1024 * 1024))
    if not content.strip(b" \t\r\n\xef\xbb\xbf"):
        raise TableError("empty")
    if content.startswith(_OLE2):
        raise TableError("old_xls")
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content)
    if content.startswith(_NOT_TABLES):
        raise TableError("not_table")
    return _read_csv(_decode(content))


def _read_xlsx(content: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    # openpyxl inflates whole parts (shared strings, styles): refuse a zip bomb before it does.
    try:
        check_archive(content)
    except UnsafeArchive as exc:
        raise TableError("not_table" if exc.reason == "not_zip" else "zip_bomb") from None
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        # A zip that is not a workbook (a .docx, a .zip of photos) or a damaged one: openpyxl
        # fails with many different exception types, and every one means the same to the user.
        raise TableError("not_table") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise TableError("empty")
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + 20:
                raise TableError("too_many_rows", max=MAX_ROWS)
            rows.append((number, [_cell_text(v) for v in values]))
        return rows
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed as a number comes back as 12.0
    return str(value)


def _decode(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16")  # Excel's "Unicode Text"
    if b"\x00" in content:
        raise TableError("not_table")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Vietnamese Windows exports; cp1258 composes tones with combining marks, which
        # clean_text later normalises to NFC.
        text = content.decode("cp1258", errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > max(2, len(text) // 100):
        raise TableError("not_table")
    return text


def _read_csv(text: str) -> list[tuple[int, list[str]]]:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # Vietnamese Excel uses ";" as list separator (the comma is the decimal mark); tab-separated
    # text comes from copy-paste. The header line tells which one this file uses.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    try:
        for number, cells in enumerate(reader, start=1):
            if number > MAX_ROWS + 20:
                raise TableError("too_many_rows", max=MAX_ROWS)
            rows.append((number, cells))
    except csv.Error:
        raise TableError("not_table") from None
    return rows


def header_key(text: str) -> str:
    """A column title (or a level word) as compared: folded, without spaces, "_", "-", "."."""
    return re.sub(r"[\s_\-.]", "", fold(text))


def filled_rows(content: bytes) -> tuple[list[tuple[int, list[str]]], list[RowError]]:
    """The numbered non-blank lines of an import file, or the one problem that makes it
    unreadable (not a table, nothing in it). Shared by every import (units, organisers)."""
    try:
        table = read_table(content)
    except TableError as exc:
        return [], [RowError(0, exc.reason, exc.params)]
    filled = [(n, cells) for n, cells in table if any(c.strip() for c in cells)]
    if not filled:
        return [], [RowError(0, "empty")]
    return filled, []


def _map_header(cells: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = header_key(cell)
        for column, names in COLUMNS.items():
            if key in names and column not in positions:
                positions[column] = index
    return positions


@dataclass(frozen=True, slots=True)
class Sheet:
    """The data rows of an import table below its header, and its columns by name."""

    rows: list[tuple[int, list[str]]]
    positions: dict[str, int]

    def cell(self, cells: list[str], column: str) -> str:
        index = self.positions.get(column)
        if index is None or index >= len(cells):
            return ""
        return clean_text(cells[index], multiline=False)


def read_sheet(
    filled: list[tuple[int, list[str]]],
    *,
    header_at: int,
    positions: dict[str, int],
    missing_titles: Callable[[dict[str, int]], list[str]],
    max_rows: int = MAX_ROWS,
) -> tuple[Sheet | None, list[RowError]]:
    """The rows below the header line `filled[header_at]` (whose columns are `positions`),
    or the one problem that makes the table unusable: required columns missing (named by
    `missing_titles`), no data row, too many rows. Shared by every import (units,
    organisers)."""
    missing = missing_titles(positions)
    if missing:
        header_row = filled[header_at][0]
        return None, [RowError(header_row, "missing_columns", {"columns": ", ".join(missing)})]
    data = filled[header_at + 1 :]
    if not data:
        return None, [RowError(0, "empty")]
    if len(data) > max_rows:
        return None, [RowError(0, "too_many_rows", {"max": max_rows})]
    return Sheet(data, positions), []


def parse_unit_rows(content: bytes) -> tuple[list[UnitRow], list[RowError]]:
    """The rows of an import file, and every problem found in them (none → rows are usable)."""
    filled, problems = filled_rows(content)
    if not filled:
        return [], problems
    # A title line above the header is common in spreadsheets: look a few rows down for it.
    header_at = next(
        (
            i
            for i, (_, cells) in enumerate(filled[:10])
            if {"code", "name"} <= _map_header(cells).keys()
        ),
        0,
    )
    header = filled[header_at][1]
    while header and not header[-1].strip():
        header = header[:-1]
    sheet, problems = read_sheet(
        filled,
        header_at=header_at,
        positions=_map_header(header),
        missing_titles=lambda found: [COLUMN_TITLES[c] for c in REQUIRED_COLUMNS if c not in found],
    )
    if sheet is None:
        return [], problems
    cell, data = sheet.cell, sheet.rows

    rows: list[UnitRow] = []
    errors: list[RowError] = []
    first_row_of: dict[str, int] = {}
    for number, cells in data:
        code_text, name, kind_text = cell(cells, "code"), cell(cells, "name"), cell(cells, "kind")
        bloc, parent_text = cell(cells, "bloc"), cell(cells, "parent")
        code = normalise_code(code_text)
        row_errors: list[RowError] = []
        extra = [c.strip() for c in cells[len(header) :] if c.strip()]
        if extra:
            # An unquoted comma ("Khối xã, thị trấn") shifts the row: refuse it rather than
            # keep "Khối xã" and drop the rest.
            row_errors.append(
                RowError(
                    number,
                    "extra_columns",
                    {"cells": len(header) + len(extra), "columns": len(header), "extra": extra[0]},
                )
            )
        problem = code_problem(code)
        if problem is not None:
            row_errors.append(RowError(number, problem, {"code": code_text, "max": CODE_MAX}))
        elif code in first_row_of:
            row_errors.append(
                RowError(number, "duplicate_code", {"code": code, "first": first_row_of[code]})
            )
        else:
            first_row_of[code] = number
        if not name:
            row_errors.append(RowError(number, "empty_name"))
        elif len(name) > NAME_MAX:
            row_errors.append(RowError(number, "name_too_long", {"max": NAME_MAX}))
        kind = resolve_kind(kind_text)
        if not kind_text:
            row_errors.append(RowError(number, "empty_kind"))
        elif kind is None:
            row_errors.append(RowError(number, "unknown_kind", {"kind": kind_text}))
        if len(bloc) > BLOC_MAX:
            row_errors.append(RowError(number, "bloc_too_long", {"max": BLOC_MAX}))
        parent_code = normalise_code(parent_text) if parent_text else None
        if parent_code is not None and parent_code == code:
            row_errors.append(RowError(number, "self_parent"))
        errors += row_errors
        if not row_errors:
            rows.append(UnitRow(number, code, name, kind or "", bloc or None, parent_code))
    return rows, errors


def _check_parents(session: Session, rows: list[UnitRow], scope: Scope) -> list[RowError]:
    """Parents must exist (in the file or the registry) and not make a loop."""
    wanted = {r.parent_code for r in rows if r.parent_code}
    if not wanted:
        return []
    in_file = {r.code: r for r in rows}
    existing = {
        u.code: u
        for u in session.exec(_by_code(scope).where(col(Unit.code).in_(list(wanted)))).all()
    }
    errors = [
        RowError(r.row, "unknown_parent", {"code": r.parent_code})
        for r in rows
        if r.parent_code and r.parent_code not in in_file and r.parent_code not in existing
    ]
    if errors:
        return errors
    # The parent of each code after the import: the file's word where it has one, else the
    # registry's (walked lazily, only for the units reached from the file).
    by_id: dict[int, Unit] = {}

    def parent_of(code: str) -> str | None:
        if code in in_file:
            return in_file[code].parent_code
        unit = existing.get(code) or session.exec(_by_code(scope).where(Unit.code == code)).first()
        if unit is None or unit.parent_id is None:
            return None
        parent = by_id.get(unit.parent_id) or session.get(Unit, unit.parent_id)
        if parent is None:
            return None
        by_id[parent.id] = parent  # type: ignore[index]  # a stored row: its id is set
        return parent.code

    for row in rows:
        seen = {row.code}
        current = row.parent_code
        while current is not None:
            if current in seen:
                errors.append(RowError(row.row, "parent_cycle", {"code": row.parent_code}))
                break
            seen.add(current)
            current = parent_of(current)
    return errors


def _by_code(scope: Scope) -> SelectOfScalar[Unit]:
    # An import writes the units of the organiser acted for: codes are looked up there only.
    return select(Unit).where(Unit.organiser_id == scope.organiser_id)


def import_units(session: Session, content: bytes, *, scope: Scope, now: datetime) -> ImportResult:
    """Validate every row, then create or update all units by code — or change nothing.

    The writes happen in the caller's transaction, so the import is all-or-nothing; the
    caller commits (the core after a handler, the CLI after printing).
    """
    rows, errors = parse_unit_rows(content)
    if not errors:
        errors = _check_parents(session, rows, scope)
    if errors:
        return ImportResult(errors=errors)
    result = ImportResult()
    existing = {
        u.code: u
        for u in session.exec(_by_code(scope).where(col(Unit.code).in_([r.code for r in rows])))
    }
    units: dict[str, Unit] = {}
    before: dict[str, tuple[object, ...]] = {}
    for row in rows:
        unit = existing.get(row.code)
        if unit is None:
            unit = create_unit(
                session,
                code=row.code,
                name=row.name,
                kind=row.kind,
                bloc=row.bloc,
                now=now,
                organiser_id=scope.organiser_id,
            )
            result.created.append(row.code)
        else:
            before[row.code] = (unit.name, unit.kind, unit.bloc, unit.parent_id)
            unit.name, unit.kind, unit.bloc = row.name, row.kind, row.bloc
            unit.search_key = search_key_for(unit.code, unit.name)
            session.add(unit)
        units[row.code] = unit
    session.flush()
    parents = [r.parent_code for r in rows if r.parent_code and r.parent_code not in units]
    outside = {
        u.code: u for u in session.exec(_by_code(scope).where(col(Unit.code).in_(parents))).all()
    }
    for row in rows:
        unit = units[row.code]
        # An empty parent cell (or no such column) keeps what the registry says.
        if row.parent_code:
            unit.parent_id = (units.get(row.parent_code) or outside[row.parent_code]).id
        if row.code in before:
            after = (unit.name, unit.kind, unit.bloc, unit.parent_id)
            (result.updated if after != before[row.code] else result.unchanged).append(row.code)
    session.flush()
    return result


def record_import(
    session: Session,
    result: ImportResult,
    *,
    now: datetime,
    scope: Scope,
    actor: Member | None = None,
    actor_label: str | None = None,
) -> None:
    """The audit line of an import, refused or done."""
    audit.record(
        session,
        now=now,
        action="unit.import",
        organiser_id=scope.organiser_id,
        actor=actor,
        actor_label=actor_label,
        target_type="unit",
        outcome="ok" if result.ok else "refused",
        detail={
            "created": len(result.created),
            "updated": len(result.updated),
            "unchanged": len(result.unchanged),
            "errors": len(result.errors),
        },
    )


def find_units(query: str, *, scope: Scope, session: Session) -> list[Unit]:
    """The scope's units: by code (exact, any case), else every unit whose name and code hold
    all the words."""
    exact = session.exec(scoped.units(scope).where(func.lower(Unit.code) == query.lower())).all()
    if len(exact) == 1:
        return list(exact)
    words = fold(query).split()
    candidates = session.exec(scoped.units(scope).order_by(col(Unit.code))).all()
    return [
        u
        for u in candidates
        if all(w in (u.search_key or fold(f"{u.code} {u.name}")) for w in words)
    ]
