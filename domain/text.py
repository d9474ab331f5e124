"""Text hygiene for Vietnamese input: NFC normalisation, control characters, length bounds,
and the diacritics-insensitive form used for search ("binh lu" finds "Bình Lư").
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t]+")


def clean_text(value: str, *, max_length: int | None = None, multiline: bool = True) -> str:
    """NFC, no control characters, trimmed, inner runs of spaces folded, bounded in length."""
    text = unicodedata.normalize("NFC", value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if not multiline:
        text = text.replace("\n", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    if max_length is not None and len(text) > max_length:
        text = text[:max_length].rstrip()
    return text


def fold(value: str) -> str:
    """Lower-case, without diacritics, đ→d, single spaces: the form compared in searches."""
    text = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text.lower()).strip()


def matches(query: str, *candidates: str) -> bool:
    """True when every word of the query appears in one of the candidates, diacritics aside."""
    words = fold(query).split()
    if not words:
        return True
    return any(all(word in fold(candidate) for word in words) for candidate in candidates)


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in "…" when it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def heading(first: str, second: str, separator: str = " — ") -> str:
    """Two names joined, or one when it already says the other: a deadline "Đăng ký thi đua"
    asking for the form "Đăng ký thi đua" is not "Đăng ký thi đua — Đăng ký thi đua"."""
    a, b = fold(first), fold(second)
    if not b or b in a:
        return first
    if not a or a in b:
        return second
    return f"{first}{separator}{second}"
