"""Plan documents as officials send them, made by the tests from the .txt plans in tests/data:
a .docx with the two-column header table Word templates use, and a PDF with the header
columns side by side and the body wrapped into lines the way a printer driver breaks them.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
import zipfile
from dataclasses import dataclass, field
from datetime import date
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


def make_pdf(text: str, *, width: int = 95, header_width: int | None = None) -> bytes:
    """A text PDF (matplotlib's PDF backend, DejaVu Sans with a ToUnicode map, so pypdf reads
    Vietnamese back with its diacritics). `header_width` wraps each header column to that many
    characters, as narrow table cells do ("… CHỦ NGHĨA VIỆT" / "NAM", "… tháng 01 năm" / "2026")."""
    import itertools

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    rows, body = _split_header(text)
    placed: list[tuple[str, str]] = []
    for left, right in rows:
        if header_width is None:
            placed.append((left, right))
            continue
        lefts = textwrap.wrap(left, width=header_width) or [""]
        rights = textwrap.wrap(right, width=header_width) or [""]
        placed += list(itertools.zip_longest(lefts, rights, fillvalue=""))
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


# --- scoring the parser against the corpus of real documents (tests/data/plans) -------------

CORPUS = DATA / "plans"


@dataclass
class Score:
    """Facts a human reads in a document, judged against what the parser proposed."""

    right: int = 0
    wrong: int = 0
    missed: int = 0
    lines: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.right += other.right
        self.wrong += other.wrong
        self.missed += other.missed
        self.lines += other.lines

    @property
    def total(self) -> int:
        return self.right + self.wrong + self.missed

    def summary(self) -> str:
        return f"{self.right} đúng / {self.wrong} sai / {self.missed} thiếu (trên {self.total} dữ kiện)"


def corpus_documents() -> list[Path]:
    return sorted(CORPUS.glob("*.txt"))


def _norm(text: str | None) -> str:
    from domain.text import fold

    return re.sub(r"[\s,.;:\"“”()\-–—|]+", " ", fold(text or "")).strip()


def score_document(path: Path, *, today: date) -> Score:
    """Compare `parse_plan` on one corpus text with the facts written by hand beside it."""
    from domain.plan_parser import parse_plan

    facts = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    plan = parse_plan(path.read_text(encoding="utf-8"), today=today)
    score = Score()

    def judge(label: str, ok: bool, got: object) -> None:
        if ok:
            score.right += 1
        elif got in (None, "", [], False):
            score.missed += 1
            score.lines.append(f"{path.stem}: thiếu {label}")
        else:
            score.wrong += 1
            score.lines.append(f"{path.stem}: sai {label}: {got!r}")

    if "number" in facts:
        judge("số", plan.document_number == facts["number"], plan.document_number)
    if "issued_on" in facts:
        judge("ngày ban hành", _iso(plan.issued_on) == facts["issued_on"], plan.issued_on)
    if "issuer" in facts:
        ok = _norm(plan.issuing_body) in {_norm(i) for i in facts["issuer"]}
        judge("cơ quan", ok, plan.issuing_body)
    if "title" in facts:
        judge("tên", _norm(plan.title) == _norm(facts["title"]), plan.title)
    found = list(plan.basis)
    for basis in facts["basis"]:
        match = next((b for b in found if _basis_matches(b, basis)), None)
        if match is not None:
            found.remove(match)
        judge(f"căn cứ {basis}", match is not None, None)
    for extra in found:
        judge("căn cứ thừa", False, f"{extra.kind} {extra.number} {extra.issued_on}")
    proposed = list(plan.deadlines)
    for deadline in facts["deadlines"]:
        same_day = [d for d in proposed if _same_day(d, deadline)]
        if not same_day:
            judge(f"mốc {deadline.get('date') or deadline.get('month_day')}", False, None)
            continue
        match = next((d for d in same_day if _deadline_right(d, deadline)), same_day[0])
        proposed.remove(match)
        judge(
            f"mốc {deadline.get('date') or deadline.get('month_day')}",
            _deadline_right(match, deadline),
            f"{match.kind} «{match.title}» dự kiến={match.tentative} hằng năm={match.recurring}",
        )
    for extra in proposed:
        judge("mốc thừa", False, f"{extra.due_on} {extra.kind} «{extra.title}»")
    notes = list(plan.notes)
    for note in facts["notes"]:
        words = [_norm(w) for w in note["words"]]
        match = next((n for n in notes if all(w in _norm(n.text) for w in words)), None)
        if match is not None:
            notes.remove(match)
        judge(f"ghi chú {note['words']}", match is not None, None)
    for extra in notes:
        judge("ghi chú thừa", False, extra.text)
    return score


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _basis_matches(found: object, expected: dict[str, str]) -> bool:
    if "number" in expected:
        return getattr(found, "number", None) == expected["number"]
    return (
        _norm(getattr(found, "kind", "")) == _norm(expected["kind"])
        and _iso(getattr(found, "issued_on", None)) == expected["issued_on"]
    )


def _same_day(found: object, expected: dict[str, object]) -> bool:
    due: date = found.due_on  # type: ignore[attr-defined]
    if "month_day" in expected:
        return due.strftime("%m-%d") == expected["month_day"]
    return due.isoformat() == expected["date"]


def _deadline_right(found: object, expected: dict[str, object]) -> bool:
    title = _norm(found.title)  # type: ignore[attr-defined]
    words = expected.get("title_words") or []
    return (
        found.kind == expected["kind"]  # type: ignore[attr-defined]
        and found.recurring == expected["recurring"]  # type: ignore[attr-defined]
        and found.tentative == expected["tentative"]  # type: ignore[attr-defined]
        and all(_norm(str(w)) in title for w in words)  # type: ignore[union-attr]
    )


def score_corpus(*, today: date) -> Score:
    total = Score()
    for path in corpus_documents():
        total.add(score_document(path, today=today))
    return total


def zip_bomb_docx(part: str = "customXml/item9.xml", size: int = 300 * 1024 * 1024) -> bytes:
    """A valid .docx plus one part that inflates to `size` bytes of zeros (a few hundred KB
    compressed), written in chunks so the test itself never holds it in memory."""
    buffer = io.BytesIO(make_docx(plan_text("ke-hoach-353-KH-UBND-2019.txt")))
    with (
        zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open(part, "w", force_zip64=True) as stream,
    ):
        chunk = b"\0" * (1024 * 1024)
        for _ in range(size // len(chunk)):
            stream.write(chunk)
    return buffer.getvalue()
