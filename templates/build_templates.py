"""Lay out the Word templates of the dossier (hồ sơ) once, with python-docx, as Jinja-tagged
.docx files that docxtpl fills in (`domain/documents.py`).

    uv run python templates/build_templates.py       # rewrites templates/*.docx

The produced .docx files are committed next to this script: an office edits them directly in
Word (fonts, wording, the signer's title) and drops them back here — or in TEMPLATES_DIR —
without a release. This script is only the starting point; run it again and local edits to the
.docx files are lost. Every `{{ name }}` a template uses must be declared in
`templates/templates.yaml`, which the bot checks at start-up.

Layout follows the administrative document style of Nghị định 30/2020/NĐ-CP (Times New Roman,
the national heading at the top right, the issuing body at the top left, the place-and-date
line in italics, the signature block at the bottom right) and the three parts of the
achievement report of the decree detailing the Law on Emulation and Commendation (see
refdata/awards.yaml, `report_templates`).
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table

HERE = Path(__file__).resolve().parent
FONT = "Times New Roman"


def new_document() -> DocumentType:
    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin = section.bottom_margin = Cm(2.0)
    section.left_margin, section.right_margin = Cm(3.0), Cm(2.0)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    # East-Asian font slot too, or Word falls back to another face for some glyphs.
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(3)
    return document


def para(
    container: object,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    size: int | None = None,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent: bool = False,
) -> None:
    paragraph = container.add_paragraph()  # type: ignore[attr-defined]
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Cm(1)
    if text:
        # One run per paragraph: a Jinja tag never straddles two runs.
        run = paragraph.add_run(text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)


def title(document: DocumentType, name: str, subject: str) -> None:
    """The document's name (BÁO CÁO, TỜ TRÌNH…) and, under it, what it is about."""
    para(document, name, bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(document, subject, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)


def each(container: object, loop: str, text: str, **style: bool) -> None:
    """A paragraph repeated for every item of `loop` (docxtpl {%p for %})."""
    para(container, "{%p for " + loop + " %}")
    para(container, text, **style)  # type: ignore[arg-type]
    para(container, "{%p endfor %}")


def unless(container: object, condition: str, text: str, **style: bool) -> None:
    """A paragraph shown only when `condition` is false (docxtpl {%p if not %})."""
    para(container, "{%p if not " + condition + " %}")
    para(container, text, **style)  # type: ignore[arg-type]
    para(container, "{%p endif %}")


def first_paragraph(cell: object, text: str, *, bold: bool = False, size: int = 13) -> None:
    paragraph = cell.paragraphs[0]  # type: ignore[attr-defined]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.size = Pt(size)


def no_borders(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def heading(document: DocumentType, *, number_line: str) -> None:
    """Issuing body on the left, the national heading and the date line on the right."""
    table = document.add_table(rows=1, cols=2)
    no_borders(table)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = table.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    first_paragraph(left, "{{ parent_body }}", size=12)
    para(left, "{{ issuing_unit | upper }}", bold=True, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(left, number_line, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    first_paragraph(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12)
    para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(
        right,
        "{{ place }}, ngày {{ day }} tháng {{ month }} năm {{ year }}",
        italic=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    para(document)


def grid(document: DocumentType, headers: list[str], cells: list[str], loop: str) -> None:
    """A bordered table: a header row and one row per item of `loop` (docxtpl {%tr %})."""
    table = document.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        first_paragraph(cell, text, bold=True, size=12)
    table.rows[1].cells[0].paragraphs[0].add_run("{%tr for " + loop + " %}")
    for cell, text in zip(table.rows[2].cells, cells, strict=True):
        run = cell.paragraphs[0].add_run(text)
        run.font.size = Pt(12)
    table.rows[3].cells[0].paragraphs[0].add_run("{%tr endfor %}")


def signature(
    document: DocumentType,
    *,
    left_title: str,
    right_title: str,
    right_note: str = "(Ký, ghi rõ họ tên, đóng dấu)",
    left_name: str | None = None,
    right_name: str = "{{ signer_name }}",
) -> None:
    """Two signers side by side; a side with a name gets room to sign above it."""
    para(document)
    table = document.add_table(rows=1, cols=2)
    no_borders(table)
    left, right = table.rows[0].cells
    first_paragraph(left, left_title, bold=True, size=12)
    para(left, "(Ký, ghi rõ họ tên)", italic=True, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    first_paragraph(right, right_title, bold=True)
    para(right, right_note, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for cell, name in ((left, left_name), (right, right_name)):
        if name is not None:
            for _ in range(3):
                para(cell)
            para(cell, name, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)


def form_number(document: DocumentType) -> None:
    para(document, "{{ form_number }}", italic=True, size=11, align=WD_ALIGN_PARAGRAPH.RIGHT)


def achievements(document: DocumentType) -> None:
    """Part II: every answer of the form under its label, repeated groups as sub-items."""
    para(document, "II. THÀNH TÍCH ĐẠT ĐƯỢC", bold=True)
    para(document, "{%p for item in achievements %}")
    para(document, "{{ item.number }}. {{ item.label }}: {{ item.text }}", indent=True)
    each(document, "line in item.lines", "- {{ line }}", indent=True)
    para(document, "{%p endfor %}")


def past_awards(document: DocumentType) -> None:
    para(document, "III. CÁC HÌNH THỨC KHEN THƯỞNG ĐÃ ĐƯỢC GHI NHẬN", bold=True)
    grid(
        document,
        [
            "Năm",
            "Danh hiệu thi đua / hình thức khen thưởng",
            "Số, ngày quyết định",
            "Cơ quan ban hành",
        ],
        ["{{ a.year }}", "{{ a.award }}", "{{ a.decision }}", "{{ a.issuer }}"],
        "a in past_awards",
    )
    none = "Chưa có hình thức khen thưởng nào được ghi nhận."
    unless(document, "past_awards", none, italic=True, indent=True)


def achievement_report(
    part_one: list[tuple[str, bool]], *, left_title: str, right_title: str
) -> DocumentType:
    """The achievement report: part I (who reports: lines, each bold or not, indented unless
    it is a part heading), then parts II and III and the signatures."""
    document = new_document()
    form_number(document)
    heading(document, number_line="")
    title(document, "BÁO CÁO THÀNH TÍCH", "{{ report_title }}")
    for text, bold in part_one:
        para(document, text, bold=bold, indent=not text.startswith("I. "))
    achievements(document)
    past_awards(document)
    signature(document, left_title=left_title, right_title=right_title)
    return document


def collective_report() -> DocumentType:
    return achievement_report(
        [
            ("Tên tập thể đề nghị: {{ unit }}", True),
            ("Đợt thi đua: {{ campaign }} ({{ campaign_number }})", False),
            ("I. SƠ LƯỢC ĐẶC ĐIỂM, TÌNH HÌNH", True),
            ("1. Đặc điểm, tình hình: {{ features }}", False),
            ("2. Chức năng, nhiệm vụ: {{ duties }}", False),
        ],
        left_title="XÁC NHẬN CỦA CẤP TRÌNH KHEN THƯỞNG",
        right_title="THỦ TRƯỞNG ĐƠN VỊ",
    )


def individual_report() -> DocumentType:
    return achievement_report(
        [
            ("I. SƠ LƯỢC LÝ LỊCH", True),
            ("- Họ tên: {{ person.name }}", False),
            ("- Năm sinh: {{ person.birth_year }}", False),
            ("- Chức vụ, đơn vị công tác: {{ person.job_title }}, {{ unit }}", False),
            ("- Quá trình công tác: {{ features }}", False),
            ("- Nhiệm vụ được giao: {{ duties }}", False),
        ],
        left_title="THỦ TRƯỞNG ĐƠN VỊ XÁC NHẬN",
        right_title="NGƯỜI BÁO CÁO THÀNH TÍCH",
    )


def nomination_list() -> DocumentType:
    document = new_document()
    heading(document, number_line="")
    title(document, "DANH SÁCH", "Đề nghị khen thưởng {{ campaign }}")
    para(
        document,
        "(Kèm theo Tờ trình của {{ issuing_unit }})",
        italic=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    grid(
        document,
        ["TT", "Tập thể / cá nhân", "Chức vụ", "Đơn vị", "Hình thức đề nghị", "Tóm tắt thành tích"],
        [
            "{{ r.no }}",
            "{{ r.name }}",
            "{{ r.job_title }}",
            "{{ r.unit_name }}",
            "{{ r.award }}",
            "{{ r.summary }}",
        ],
        "r in rows",
    )
    para(document, "Tổng cộng: {{ total_collectives }} tập thể, {{ total_individuals }} cá nhân.")
    signature(document, left_title="NGƯỜI LẬP BIỂU", right_title="{{ signer_title | upper }}")
    return document


def submission() -> DocumentType:
    document = new_document()
    heading(document, number_line="Số: …/TTr-{{ issuing_short }}")
    title(document, "TỜ TRÌNH", "Về việc đề nghị khen thưởng {{ campaign }}")
    para(document, "Kính gửi: {{ recipient }}.", align=WD_ALIGN_PARAGRAPH.CENTER)
    each(document, "b in basis", "Căn cứ {{ b }};", italic=True, indent=True)
    para(
        document,
        "Căn cứ Kế hoạch số {{ campaign_number }} về {{ campaign }};",
        italic=True,
        indent=True,
    )
    para(
        document,
        "Qua tổng hợp báo cáo thành tích của {{ units_reported }}/{{ units_total }} đơn vị, "
        "{{ issuing_unit }} kính trình {{ recipient }} xem xét, khen thưởng cho "
        "{{ total_collectives }} tập thể và {{ total_individuals }} cá nhân, cụ thể:",
        indent=True,
    )
    grid(
        document,
        ["TT", "Hình thức khen thưởng / danh hiệu", "Tập thể", "Cá nhân"],
        ["{{ c.no }}", "{{ c.award }}", "{{ c.collectives }}", "{{ c.individuals }}"],
        "c in counts",
    )
    para(document, "(Có danh sách và báo cáo thành tích kèm theo)", italic=True, indent=True)
    para(document, "Kính trình {{ recipient }} xem xét, quyết định./.", indent=True)
    signature(document, left_title="Nơi nhận:", right_title="{{ signer_title | upper }}")
    return document


def council_minutes() -> DocumentType:
    """Biên bản họp Hội đồng Thi đua – Khen thưởng: who sat, the rule of each title with its
    legal source, the tally of each nominee (counts only: a secret ballot names nobody), the
    quorum, who passed; signed by the chair and the secretary."""
    document = new_document()
    heading(document, number_line="Số: …/BB-HĐTĐKT")
    subject = "Họp Hội đồng Thi đua – Khen thưởng xét khen thưởng {{ campaign }}"
    title(document, "BIÊN BẢN", subject)
    para(document, "I. THỜI GIAN, ĐỊA ĐIỂM, HÌNH THỨC", bold=True)
    para(
        document,
        "Hội đồng Thi đua – Khen thưởng {{ issuing_unit }} bình xét theo Kế hoạch số "
        "{{ campaign_number }}, biểu quyết qua hệ thống từ {{ opened_at }} đến {{ closed_at }}, "
        "tại {{ place }}.",
        indent=True,
    )
    para(document, "II. THÀNH PHẦN", bold=True)
    para(
        document,
        "Tổng số thành viên có quyền biểu quyết: {{ members_total }}; tham gia biểu quyết: "
        "{{ members_present }}; vắng: {{ members_absent }}.",
        indent=True,
    )
    para(document, "Thành viên tham gia:", indent=True)
    each(document, "m in present_members", "- {{ m.name }}, {{ m.role }};", indent=True)
    para(document, "Thành viên vắng:", indent=True)
    each(document, "m in absent_members", "- {{ m.name }}, {{ m.role }};", indent=True)
    unless(document, "absent_members", "- Không có.", indent=True)
    para(document, "Thư ký Hội đồng: {{ secretary_name }}.", indent=True)
    para(document, "III. QUY TẮC BIỂU QUYẾT", bold=True)
    rule = (
        "- {{ r.award }}: {{ 'bỏ phiếu kín' if r.secret else 'biểu quyết công khai' }}, cần "
        "{{ 'từ' if r.at_least else 'trên' }} {{ r.share }} "
        "{{ 'tổng số thành viên Hội đồng' if r.of_all_members else 'số thành viên biểu quyết' }}"
        " đồng ý; ít nhất {{ r.quorum }} thành viên tham gia. Căn cứ: {{ r.source }}."
    )
    each(document, "r in rules", rule, indent=True)
    para(document, "IV. KẾT QUẢ BIỂU QUYẾT", bold=True)
    para(
        document,
        "Số thành viên tối thiểu phải tham gia: {{ quorum_needed }}; tham gia: "
        "{{ members_present }} — {{ 'đủ' if quorum_met else 'KHÔNG đủ' }} số thành viên để "
        "kết quả có giá trị.",
        indent=True,
    )
    grid(
        document,
        [
            "TT",
            "Tập thể / cá nhân",
            "Đơn vị",
            "Đề nghị",
            "Hình thức",
            "Đồng ý",
            "Không đồng ý",
            "Cần",
            "Kết quả",
        ],
        [
            "{{ i.position }}",
            "{{ i.name }}",
            "{{ i.unit }}",
            "{{ i.award }}",
            "{{ 'Kín' if i.secret else 'Công khai' }}",
            "{{ i.yes }}",
            "{{ i.no }}",
            "{{ i.needed }}",
            "{{ 'Đạt' if i.passed else 'Không đạt' }}",
        ],
        "i in items",
    )
    para(document, "V. DANH SÁCH ĐẠT", bold=True)
    one = "{{ loop.index }}. {{ p.name }} ({{ p.unit }}) — {{ p.award }};"
    each(document, "p in passed", one, indent=True)
    unless(document, "passed", "Không có tập thể, cá nhân nào đạt.", italic=True, indent=True)
    para(
        document,
        "Biên bản lập lúc {{ closed_at }}, gồm số phiếu từng trường hợp; phiếu kín chỉ ghi số "
        "phiếu, không ghi tên người bỏ phiếu./.",
        italic=True,
        indent=True,
    )
    signature(
        document,
        left_title="THƯ KÝ HỘI ĐỒNG",
        right_title="CHỦ TỊCH HỘI ĐỒNG",
        right_note="(Ký, ghi rõ họ tên)",
        left_name="{{ secretary_name }}",
        right_name="{{ chair_name }}",
    )
    return document


TEMPLATES = {
    "bao-cao-thanh-tich-tap-the.docx": collective_report,
    "bao-cao-thanh-tich-ca-nhan.docx": individual_report,
    "danh-sach-de-nghi.docx": nomination_list,
    "to-trinh.docx": submission,
    "bien-ban-hop-hoi-dong.docx": council_minutes,
}


def main() -> None:
    for name, build in TEMPLATES.items():
        path = HERE / name
        build().save(str(path))
        print(f"{path.name}")


if __name__ == "__main__":
    main()
