"""Text hygiene: NFC, control characters, bounds, escaping, command parsing never raising."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.catalog import t
from bot.channels.parsing import parse_command
from bot.channels.text import html_to_plain, split_text
from bot.core import MAX_TEXT_LENGTH, sanitize
from bot.events import Inbound
from domain.text import clean_text, fold, matches, shorten


def test_decomposed_vietnamese_is_normalised_before_handlers_see_it() -> None:
    decomposed = unicodedata.normalize("NFD", "Bình Lư")
    event = Inbound("memory", "1", "1", display_name=decomposed, text=f"  {decomposed}\x00\u200b ")
    sanitize(event)
    assert event.text == "Bình Lư" and unicodedata.is_normalized("NFC", event.text)
    assert event.display_name == "Bình Lư"


def test_long_text_is_bounded() -> None:
    event = Inbound("memory", "1", "1", text="a" * (MAX_TEXT_LENGTH + 5_000))
    sanitize(event)
    assert len(event.text) == MAX_TEXT_LENGTH


def test_diacritics_insensitive_matching() -> None:
    assert fold("Đoàn Thị Thuỷ") == "doan thi thuy"
    assert matches("binh lu", "Xã Bình Lư")
    assert matches(unicodedata.normalize("NFD", "bình lư"), "Xã Bình Lư")
    assert not matches("binh lu", "Xã Bản Bo")


def test_shorten_keeps_short_text_and_cuts_long_text_with_an_ellipsis() -> None:
    assert shorten("Xã Bình Lư", 10) == "Xã Bình Lư"
    assert shorten("Xã Bình Lư, huyện Tam Đường", 10) == "Xã Bình L…"
    assert shorten("Xã Bình Lư, huyện", 9) == "Xã Bình…"  # no space before the ellipsis
    assert len(shorten("thi đua " * 20, 30)) <= 30


def test_names_are_escaped_when_rendered() -> None:
    text = t("core.welcome", name="<b>x</b> & co")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; co" in text
    assert "<b>x</b> & co" in html_to_plain(text)


@given(st.text())
def test_command_parser_never_raises(text: str) -> None:
    command, _args = parse_command(text)
    assert command is None or command.isascii()


@given(
    st.from_regex(r"[a-z]{1,20}", fullmatch=True),
    st.text(alphabet=st.characters(categories=["L", "N"]), max_size=30),
)
def test_commands_round_trip(name: str, args: str) -> None:
    assert parse_command(f"/{name} {args}") == (name, unicodedata.normalize("NFC", args).strip())


@given(st.text())
def test_clean_text_is_idempotent_and_has_no_control_characters(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert not any(unicodedata.category(c) == "Cc" and c != "\n" for c in once)


@given(st.text(min_size=1, max_size=3000), st.integers(min_value=50, max_value=500))
def test_split_text_respects_the_limit_and_loses_nothing(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(len(c) <= limit for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


def test_no_merge_conflict_markers_are_left_in_the_tree() -> None:
    """A half-resolved merge once left `>>>>>>> main` in README; nothing tracked may carry one."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    listed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    if listed.returncode == 0:
        files = listed.stdout.split()
    else:  # not a git checkout: every file outside hidden folders and the virtualenv
        files = [
            str(path.relative_to(root))
            for path in root.rglob("*")
            if not any(part.startswith(".") for part in path.relative_to(root).parts)
        ]
    markers = ("<<<<<<< ", ">>>>>>> ", "||||||| ")
    found = [
        f"{name}:{number}"
        for name in files
        if (root / name).suffix in {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".csv", ""}
        and (root / name).is_file()
        for number, line in enumerate(
            (root / name).read_text(encoding="utf-8", errors="replace").splitlines(), start=1
        )
        if line.startswith(markers)
    ]
    assert found == []


# --- bidirectional controls (U+202E and friends) ----------------------------------------------
BIDI_AND_INVISIBLE = [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings, overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
    "\u200e", "\u200f", "\u061c",  # LRM, RLM, ALM
    "\u2060", "\u206a",  # word joiner, a deprecated format character
]  # fmt: skip


def test_bidirectional_controls_are_removed_like_zero_width_characters() -> None:
    for mark in BIDI_AND_INVISIBLE:
        assert clean_text(f"Xã Bình{mark} Lư{mark}") == "Xã Bình Lư", hex(ord(mark))
        assert fold(f"Bình{mark} Lư") == "binh lu"
    event = Inbound(
        channel="memory", chat_id="1", user_id="1", text="Lò\u202e Văn Tâm",
        display_name="\u2067Lò Văn Tâm\u2069",
    )  # fmt: skip
    sanitize(event)
    assert (event.text, event.display_name) == ("Lò Văn Tâm", "Lò Văn Tâm")


async def test_a_spoofed_name_never_reaches_the_admins_approval_notice(bot) -> None:
    from tests.utils.factories import make_unit
    from tests.utils.units import admin_of, member

    with bot.db() as db:
        make_unit(db, "Xã Bình Lư", code="XA-BINHLU")
        db.commit()
    admin = admin_of(bot)
    await admin.says("/start")
    visitor = bot.person("300", "Lò Thị Mai\u202e")
    await visitor.says("/dangky")
    await visitor.says("binh\u200f lu")
    await visitor.presses("Xã Bình Lư")
    await visitor.says("Lò Thị \u202eiaM")  # would show as "Lò Thị Mai" reversed tail
    await visitor.says("0912 345 678")
    card = admin.last_reply
    assert "Đăng ký mới chờ duyệt" in card
    assert not any(mark in card for mark in BIDI_AND_INVISIBLE)
    assert "Lò Thị iaM — Xã Bình Lư" in card
    stored = member(bot, "300")
    assert stored is not None
    assert not any(mark in stored.display_name for mark in BIDI_AND_INVISIBLE)


def test_a_look_alike_unit_cannot_be_imported_or_found(session) -> None:
    from datetime import UTC, datetime

    from domain.scope import Scope
    from domain.units import import_units, search_units
    from models.organisers import DEFAULT_ORGANISER_ID

    scope = Scope.of(DEFAULT_ORGANISER_ID)
    csv = "ma,ten,loai,khoi\nXA-001,Xã Bình Lư,xa,\nXA-002,Xã Bình Lư\u202e\u2066,xa,\n"
    result = import_units(session, csv.encode(), scope=scope, now=datetime(2026, 3, 2, tzinfo=UTC))
    session.commit()
    names = [u.name for u in search_units(session, "binh lu", scope=scope)]
    assert not any(mark in name for name in names for mark in BIDI_AND_INVISIBLE)
    # The two rows are now the same name: shown as such, not as two look-alikes.
    assert names.count("Xã Bình Lư") == len(names) or not result.ok
