"""The message catalog reads as written by one careful person: no doubled words once real
values fill the placeholders ("Báo cáo Báo cáo thành tích", "khối Khối cơ quan huyện"), one
spelling of a word, one name for one thing."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import yaml

from bot.catalog import load_catalog, t
from bot.channels.text import html_to_plain
from domain.dates import format_number
from domain.export import ExportTexts
from tests.utils.factories import make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.reports import fill_achievements_until_scan, report_world

ROOT = Path(__file__).resolve().parent.parent
FORM_TITLES = [
    yaml.safe_load(p.read_text(encoding="utf-8"))["title"]
    for p in sorted((ROOT / "forms").glob("*.yaml"))
]
# Real values of the placeholders where doubling happens: deadline and form titles (the same
# words: a deadline "Đăng ký thi đua" asks for the form "Đăng ký thi đua"), bloc names.
REAL = {
    "title": FORM_TITLES,
    "deadline": FORM_TITLES,
    "form": FORM_TITLES,
    "forms": FORM_TITLES,
    "bloc": ["Khối cơ quan huyện"],
    "blocs": ["Khối cơ quan huyện"],
    "unit": ["Xã Bình Lư"],
}
_DOUBLED = re.compile(r"(?<!\w)(\w+(?: \w+){0,3})(?: — | · | )\1(?!\w)", re.IGNORECASE)
# Reduplication that Vietnamese uses on purpose.
_ALLOWED = {"từng từng", "ngày ngày"}


def _renderings(template: str) -> list[str]:
    names = [n for _, n, _, _ in string.Formatter().parse(template) if n]
    variants = max((len(REAL.get(n, [""])) for n in names), default=1)
    result = []
    for index in range(variants):
        values = {
            n: (REAL[n][index % len(REAL[n])] if n in REAL else f"v{position}")
            for position, n in enumerate(names)
        }
        result.append(template.format(**values))
    return result


def test_no_doubled_words_once_placeholders_are_filled() -> None:
    doubled = []
    for key, template in load_catalog().items():
        for text in _renderings(template):
            plain = html_to_plain(text).replace("«", "").replace("»", "")
            for match in _DOUBLED.finditer(plain):
                if match.group(0).lower() not in _ALLOWED:
                    doubled.append(f"{key}: …{match.group(0)}…")
    assert doubled == []


@pytest.mark.parametrize(("wrong", "right"), [("văn hoá", "văn hóa")])
def test_one_spelling(wrong: str, right: str) -> None:
    tracked = [
        *(ROOT / "bot" / "messages" / "vi").glob("*.yaml"),
        *(ROOT / "forms").glob("*.yaml"),
        *(ROOT / "refdata").glob("*.yaml"),
        ROOT / "README.md",
    ]
    found = [p.name for p in tracked if wrong in p.read_text(encoding="utf-8").lower()]
    assert found == [], f"{wrong!r} where the project writes {right!r}"


def test_deadlines_have_one_name() -> None:
    """A deadline is "hạn nộp" everywhere: not "mốc", "hạn số", "số hạn"."""
    found = [
        f"{key}: {text}"
        for key, text in load_catalog().items()
        if re.search(r"\bmốc\b|hạn số|số hạn", text, re.IGNORECASE)
        and not key.startswith("plans.")  # a plan's dated items before they become deadlines
    ]
    assert found == []


# --- the same, as people read it ------------------------------------------------------------
async def test_a_deadline_named_like_its_form_is_named_once(bot) -> None:
    world = report_world(bot)  # deadline "Đăng ký thi đua", form "Đăng ký thi đua"
    await world.officer.says("/baocao")
    assert "Đăng ký thi đua — Đăng ký thi đua" not in world.officer.new_text
    assert "Đăng ký thi đua" in world.officer.new_text


async def test_a_file_question_names_the_types_it_takes(bot) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    await fill_achievements_until_scan(world.officer)
    await world.officer.says("đây là bản quét")
    said = world.officer.new_text
    assert "cần gửi một tệp (PDF, JPG, PNG)" in said and "Word" not in said


async def test_a_broadcast_says_who_sent_it(bot) -> None:
    world = report_world(bot)
    await world.admin.says("/thongbao")
    await world.admin.presses("Tất cả cán bộ")
    await world.admin.says("Họp giao ban thi đua lúc 14h thứ Sáu.")
    await world.admin.presses("Gửi cho")
    await bot.core.wait_background()
    received = world.officer.all_text
    assert (
        f"Họp giao ban thi đua lúc 14h thứ Sáu.\n\n— {world.admin.name}, quản trị viên" in received
    )


async def test_a_registration_without_a_phone_reads_naturally(bot) -> None:
    with bot.db() as db:
        make_unit(db, "Xã Bình Lư")
        db.commit()
    admin = bot.person(ADMIN_USER_ID)
    await admin.says("/start")  # ADMIN_IDS: the admin exists once they have written
    newcomer = bot.person("300", "Lò Thị Mai")
    await newcomer.says("/dangky")
    await newcomer.says("binh lu")
    await newcomer.presses("Xã Bình Lư")
    await newcomer.says("Lò Thị Mai")
    await newcomer.says("/boqua")
    assert "Điện thoại: (không để lại số)" in admin.all_text


def test_numbers_read_the_same_in_messages_and_exports() -> None:
    from decimal import Decimal

    from domain.export import text_value
    from tests.utils.admin_forms import FakeField

    texts = ExportTexts.from_catalog(t)
    assert text_value(FakeField("k", "number", "Kinh phí"), "1250.5", texts) == "1.250,5"
    assert text_value(FakeField("n", "integer", "Số"), 12500, texts) == "12.500"
    assert format_number(Decimal("1250.5")) == "1.250,5"


def test_form_help_does_not_repeat_what_the_bot_adds_to_every_question() -> None:
    """The bot adds "Không bắt buộc — bấm «Bỏ qua»…" to optional questions and "Gửi tệp (…),
    tối đa 20 MB." to file questions: a help text saying it again makes one message say it
    twice."""
    repeated = []
    for path in sorted((ROOT / "forms").glob("*.yaml")):
        form = yaml.safe_load(path.read_text(encoding="utf-8"))
        stack = list(form["fields"])
        while stack:
            field = stack.pop()
            stack += field.get("fields") or []
            text = f"{field.get('prompt', '')} {field.get('help', '')}"
            if re.search(r"«Bỏ qua»|/boqua|20 MB", text):
                repeated.append(f"{path.name}: {field['id']}")
    assert repeated == []
