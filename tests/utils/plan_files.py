"""Plan documents as officials send them, made by the tests from the .txt plans in tests/data:
a .docx with the two-column header table Word templates use, and a PDF with the header
columns side by side and the body wrapped into lines the way a printer driver breaks them.
"""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
_COLUMNS = re.compile(r"\t+|\s{8,}")


def plan_text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _split_header(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Header rows (left, right) above the `KẾ HOẠCH` line, and the lines from it on."""
    lines = text.split("\n")
    title_at = next(i for i, line in enumerate(lines) if line.strip().startswith("KẾ HOẠCH"))
    rows: list[tuple[str, str]] = []
    for line in lines[:title_at]:
        if not line.strip():
            continue
        cells = [c.strip() for c in _COLUMNS.split(line.strip())]
        rows.append((cells[0], cells[1] if len(cells) > 1 else ""))
    return rows, lines[title_at:]


def make_docx(text: str) -> bytes:
    import docx

    rows, body = _split_header(text)
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    left = [r[0] for r in rows if not r[0].startswith("Số") and ", ngày" not in r[0]]
    right = [r[1] for r in rows if r[1] and ", ngày" not in r[1]]
    right += [c for r in rows for c in r if ", ngày" in c and c not in right]
    numbers = [c for r in rows for c in r if c.startswith("Số")]
    table.cell(0, 0).text = "\n".join(left)
    table.cell(0, 1).text = "\n".join(c for c in right if ", ngày" not in c)
    table.cell(1, 0).text = "\n".join(numbers)
    table.cell(1, 1).text = "\n".join(c for c in right if ", ngày" in c)
    for line in body:
        document.add_paragraph(line.strip())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pdf(text: str, *, width: int = 95) -> bytes:
    """A text PDF (matplotlib's PDF backend, DejaVu Sans with a ToUnicode map, so pypdf reads
    Vietnamese back with its diacritics)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    rows, body = _split_header(text)
    placed: list[tuple[str, str]] = list(rows)
    for line in body:
        wrapped = textwrap.wrap(line.strip(), width=width) or [""]
        placed += [(w, "") for w in wrapped]
    per_page = 55
    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        for first in range(0, len(placed), per_page):
            figure = Figure(figsize=(8.27, 11.69))
            for index, (left, right) in enumerate(placed[first : first + per_page]):
                y = 0.96 - index * 0.017
                if left:
                    figure.text(0.06, y, left, fontsize=8)
                if right:
                    figure.text(0.55, y, right, fontsize=8)
            pdf.savefig(figure)
    return buffer.getvalue()


def make_scanned_pdf() -> bytes:
    """A PDF with only a picture on its page, like a scanner makes: no text layer."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.27, 11.69))
    figure.figimage(np.random.default_rng(0).random((200, 150)), xo=50, yo=50)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf")
    return buffer.getvalue()
