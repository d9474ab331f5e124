"""Text rendering shared by channels: splitting long HTML messages under a platform's limit
and turning our small HTML subset into plain text for channels without markup."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"</?(?:b|i|u|s|code|pre|a)(?:\s[^>]*)?>")


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most `limit` characters, cut at line breaks where possible.

    Our catalog opens and closes tags on one line, so cutting between lines keeps every chunk
    well-formed; a single longer line (user text, escaped) is cut without breaking an entity.
    """
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
            current = ""
        while len(line) > limit:
            cut = _safe_cut(line, limit)
            chunks.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        chunks.append(current)
    return chunks


def _safe_cut(line: str, limit: int) -> int:
    cut = limit
    space = line.rfind(" ", limit // 2, limit)
    if space > 0:
        cut = space + 1
    amp = line.rfind("&", 0, cut)
    if amp != -1 and ";" not in line[amp:cut] and cut - amp < 10:
        cut = amp
    lt = line.rfind("<", 0, cut)
    if lt != -1 and ">" not in line[lt:cut]:
        cut = lt
    return cut or limit


def html_to_plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))
