"""The message catalog: every user-facing sentence, by key, in Vietnamese.

Texts live in YAML files under `bot/messages/<lang>/`, one file per capability; a key is
`<file>.<name>` (e.g. `core.welcome`). `t()` fills `{placeholders}` and HTML-escapes every
value unless it is wrapped in `Raw` (already-rendered HTML). Handlers never hold Vietnamese
sentences themselves; a wording change is an edit to a YAML file.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from pathlib import Path

import yaml

MESSAGES_DIR = Path(__file__).parent / "messages"
DEFAULT_LANG = "vi"

# How the person being answered chooses: "buttons" (Telegram: they press) or "typed" (Zalo and
# the console show buttons as a numbered list: they type a number). A key may have a variant
# `<key>@typed` worded for typing ("gõ số" instead of "bấm"); the core sets the style for each
# update from the channel's capabilities, so handlers never ask which channel they are on.
BUTTONS = "buttons"
TYPED = "typed"
_style: ContextVar[str] = ContextVar("catalog_style", default=BUTTONS)
# The "typed" variants live together in one file, keyed by the whole key they replace.
TYPED_FILE = "_go-so.yaml"


def use_style(name: str) -> Token[str]:
    """Word texts for `name` ("buttons" or "typed") until `reset_style(token)`."""
    return _style.set(name)


def reset_style(token: Token[str]) -> None:
    _style.reset(token)


@contextmanager
def style(name: str) -> Iterator[None]:
    """Word texts for `name` inside the block (tests, jobs outside an update)."""
    token = use_style(name)
    try:
        yield
    finally:
        reset_style(token)


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
        if path.name == TYPED_FILE:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        _flatten(path.stem, data, entries, path)
    typed = folder / TYPED_FILE
    if typed.exists():
        # Whole keys ("reports.optional"), each the variant of a key that must exist.
        variants: dict[str, str] = {}
        for name, node in (yaml.safe_load(typed.read_text(encoding="utf-8")) or {}).items():
            _flatten(str(name), node, variants, typed)
        for key, text in variants.items():
            if key not in entries:
                raise CatalogError(f"{typed}: khoá {key} không có trong danh mục")
            entries[f"{key}@{TYPED}"] = text
    return entries


# Values every text may name without each caller passing them (the office's name, from the
# settings at start-up): used only when the text has that placeholder and the caller gave none.
_DEFAULTS: dict[str, str] = {"organiser": "Cơ quan tổ chức thi đua"}  # = ORGANISER_NAME default


def set_default(name: str, value: str) -> None:
    _DEFAULTS[name] = value


def t(key: str, /, **params: object) -> str:
    """The catalog text for `key`, with params HTML-escaped (unless `Raw`). One language for
    now (DEFAULT_LANG): no `lang` parameter, so every keyword is a placeholder."""
    catalog = load_catalog(DEFAULT_LANG)
    try:
        current = _style.get()
        template = catalog.get(f"{key}@{current}") if current != BUTTONS else None
        if template is None:
            template = catalog[key]
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
