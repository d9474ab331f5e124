"""The message catalog: every user-facing sentence, by key, in Vietnamese.

Texts live in YAML files under `bot/messages/<lang>/`, one file per capability; a key is
`<file>.<name>` (e.g. `core.welcome`). `t()` fills `{placeholders}` and HTML-escapes every
value unless it is wrapped in `Raw` (already-rendered HTML). Handlers never hold Vietnamese
sentences themselves; a wording change is an edit to a YAML file.
"""

from __future__ import annotations

import html
import string
import unicodedata
from functools import cache
from pathlib import Path

import yaml

MESSAGES_DIR = Path(__file__).parent / "messages"
DEFAULT_LANG = "vi"


class Raw(str):
    """A value that is already safe HTML and must not be escaped again."""

    __slots__ = ()


class CatalogError(Exception):
    pass


def _flatten(prefix: str, node: object, into: dict[str, str], source: Path) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}", value, into, source)
    elif isinstance(node, str):
        if prefix in into:
            raise CatalogError(f"{source}: khoá {prefix} bị trùng")
        into[prefix] = unicodedata.normalize("NFC", node.rstrip("\n"))
    else:
        raise CatalogError(f"{source}: khoá {prefix} phải là chuỗi")


@cache
def load_catalog(lang: str = DEFAULT_LANG) -> dict[str, str]:
    entries: dict[str, str] = {}
    folder = MESSAGES_DIR / lang
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        _flatten(path.stem, data, entries, path)
    return entries


# Values every text may name without each caller passing them (the office's name, from the
# settings at start-up): used only when the text has that placeholder and the caller gave none.
_DEFAULTS: dict[str, str] = {"organiser": "Cơ quan tổ chức thi đua"}  # = ORGANISER_NAME default


def set_default(name: str, value: str) -> None:
    _DEFAULTS[name] = value


def placeholders(key: str, lang: str = DEFAULT_LANG) -> set[str]:
    text = load_catalog(lang)[key]
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def t(key: str, /, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The catalog text for `key`, with params HTML-escaped (unless `Raw`)."""
    try:
        template = load_catalog(lang)[key]
    except KeyError:
        raise CatalogError(f"thiếu khoá {key} trong danh mục thông điệp") from None
    for name, value in _DEFAULTS.items():
        if name not in params and "{" + name + "}" in template:
            params[name] = value
    if not params:
        return template
    safe = {
        name: value if isinstance(value, Raw) else html.escape(str(value), quote=False)
        for name, value in params.items()
    }
    return template.format(**safe)


def has(key: str, lang: str = DEFAULT_LANG) -> bool:
    return key in load_catalog(lang)
