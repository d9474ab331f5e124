"""Text hygiene for Vietnamese input: NFC normalisation, control characters, length bounds,
and the diacritics-insensitive form used for search ("binh lu" finds "Bình Lư").
"""

from __future__ import annotations

import re
import unicodedata

# Removed from every text a user sends: C0/C1 controls; zero-width characters and the marks that
# steer bidirectional text (U+200B–U+200F, incl. LRM/RLM; the embeddings and overrides
# U+202A–U+202E; the isolates U+2066–U+2069; the Arabic letter mark U+061C); invisible
# operators and deprecated format characters (U+2060–U+2064, U+206A–U+206F); line and
# paragraph separators; the byte-order mark. Vietnamese needs none of them, and a right-to-left
# override makes "Xã Bình Lư<U+202E>…" show its tail reversed: a spoofed name or a look-alike
# unit in a search or an admin's approval notice.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e"
    "\u2028\u2029\u2060-\u2064\u2066-\u206f\ufeff]"
)
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
    # Stored text may predate a cleaning rule: invisible characters never count in a search.
    value = _CONTROL.sub("", value)
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
