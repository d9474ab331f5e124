"""A small streaming XLSX writer for exports: sheets of plain rows, nothing more.

Why not openpyxl here: it builds (or, write-only, still binds and serialises through lxml) a
Python object per cell, about 25–30 µs each; a province's export is half a million cells, a
quarter of an hour of a worker thread at first (its `max_row` read per row made it quadratic)
and still 15 s write-only. This writes each row's XML as one string — strings inline, numbers
as numbers, dates as Excel serial numbers with a date format — about 1 µs a cell
(bench/export.py). What it offers is what the export uses: per sheet a bold wrapped header row,
frozen panes, column widths and an autofilter; cell types str, int, float, Decimal, bool, date,
datetime (naive, wall-clock) and None. The files open in Excel, LibreOffice and openpyxl
(tests read them back with openpyxl).

Text that looks like a formula ("=…") is written as a string, never as a formula: this writer
writes no formulas at all. Characters XML 1.0 cannot carry are removed.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

_EPOCH = datetime(1899, 12, 30)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# cellXfs indexes in styles.xml below.
_STYLE_HEADER, _STYLE_DATE, _STYLE_DATETIME = 1, 2, 3


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class Sheet:
    """One worksheet: its rows are written to a temporary buffer as they are added."""

    def __init__(
        self,
        title: str,
        headers: Sequence[str],
        *,
        widths: Sequence[float] | None = None,
        frozen_columns: int = 0,
        autofilter: bool = True,
    ) -> None:
        self.title = title
        self.headers = list(headers)
        self.widths = list(widths or [])
        self.frozen_columns = frozen_columns
        self.autofilter = autofilter
        self._rows: list[str] = []
        self._count = 1  # the header
        self._columns = len(self.headers)
        self._letters = [column_letter(i) for i in range(1, self._columns + 1)]
        self._rows.append(self._row(1, self.headers, header=True))

    def append(self, values: Sequence[Any]) -> None:
        self._count += 1
        if len(values) > self._columns:
            self._columns = len(values)
            self._letters = [column_letter(i) for i in range(1, self._columns + 1)]
        self._rows.append(self._row(self._count, values))

    def _row(self, number: int, values: Sequence[Any], *, header: bool = False) -> str:
        cells = []
        letters = self._letters
        for index, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = f"{letters[index]}{number}"
            style = f' s="{_STYLE_HEADER}"' if header else ""
            if isinstance(value, str):
                text = escape(_XML_ILLEGAL.sub("", value))
                space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
                cells.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            elif isinstance(value, bool):
                cells.append(f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float | Decimal):
                cells.append(f'<c r="{ref}"{style}><v>{value}</v></c>')
            elif isinstance(value, datetime):
                serial = (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400
                cells.append(f'<c r="{ref}" s="{_STYLE_DATETIME}"><v>{serial!r}</v></c>')
            elif isinstance(value, date):
                serial = (datetime(value.year, value.month, value.day) - _EPOCH).days
                cells.append(f'<c r="{ref}" s="{_STYLE_DATE}"><v>{serial}</v></c>')
            else:
                text = escape(_XML_ILLEGAL.sub("", str(value)))
                cells.append(f'<c r="{ref}"{style} t="inlineStr"><is><t>{text}</t></is></c>')
        return f'<row r="{number}">{"".join(cells)}</row>'

    @property
    def rows(self) -> int:
        """Rows written, the header included."""
        return self._count

    def xml(self) -> str:
        last = column_letter(max(self._columns, 1))
        parts = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">',
            f'<dimension ref="A1:{last}{self._count}"/>',
        ]
        if self.frozen_columns:
            top_left = f"{column_letter(self.frozen_columns + 1)}2"
            parts.append(
                '<sheetViews><sheetView workbookViewId="0">'
                f'<pane xSplit="{self.frozen_columns}" ySplit="1" topLeftCell="{top_left}" '
                'activePane="bottomRight" state="frozen"/>'
                f'<selection pane="bottomRight" activeCell="{top_left}" sqref="{top_left}"/>'
                "</sheetView></sheetViews>"
            )
        else:
            parts.append(
                '<sheetViews><sheetView workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                "</sheetView></sheetViews>"
            )
        if self.widths:
            parts.append("<cols>")
            parts += [
                f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>'
                for i, w in enumerate(self.widths, start=1)
            ]
            parts.append("</cols>")
        parts.append("<sheetData>")
        parts += self._rows
        parts.append("</sheetData>")
        if self.autofilter and self._count > 1:
            parts.append(f'<autoFilter ref="A1:{last}{self._count}"/>')
        parts.append("</worksheet>")
        return "".join(parts)


def write_workbook(sheets: Iterable[Sheet], *, date_format: str, datetime_format: str) -> bytes:
    """The XLSX file of these sheets, in order."""
    sheets = list(sheets)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheets))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        archive.writestr("xl/styles.xml", _styles(date_format, datetime_format))
        for number, sheet in enumerate(sheets, start=1):
            archive.writestr(f"xl/worksheets/sheet{number}.xml", sheet.xml())
    return buffer.getvalue()


_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{sheets}</Types>"
    )


def _workbook(sheets: list[Sheet]) -> str:
    entries = "".join(
        f'<sheet name={quoteattr(sheet.title)} sheetId="{n}" r:id="rId{n}"/>'
        for n, sheet in enumerate(sheets, start=1)
    )
    # The filter ranges, named as Excel names them (it shows the filter buttons without, but
    # sorting by them wants the name).
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n - 1}" hidden="1">'
        f"{escape(_quoted(sheet.title))}!$A$1:${column_letter(max(sheet._columns, 1))}"
        f"${sheet.rows}</definedName>"
        for n, sheet in enumerate(sheets, start=1)
        if sheet.autofilter and sheet.rows > 1
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheets>{entries}</sheets>"
        + (f"<definedNames>{names}</definedNames>" if names else "")
        + "</workbook>"
    )


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _workbook_rels(count: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    styles = (
        f'<Relationship Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{rels}{styles}</Relationships>"
    )


def _styles(date_format: str, datetime_format: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="2">'
        f'<numFmt numFmtId="164" formatCode={quoteattr(date_format)}/>'
        f'<numFmt numFmtId="165" formatCode={quoteattr(datetime_format)}/>'
        "</numFmts>"
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="4">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
        'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
