"""Small files of each kind the bot accepts, as bytes (shared test data): just enough of each
format for the type to be read from its first bytes."""

from __future__ import annotations

import io
import zipfile


def office_package(main_part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(main_part, "<x/>")
    return buffer.getvalue()


PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
DOCX = office_package("word/document.xml")
XLSX = office_package("xl/workbook.xml")
