"""The message catalog: every user-facing sentence, by key, in Vietnamese.

Texts live in YAML files under `bot/messages/<lang>/`, one file per capability; a key is
`<file>.<name>` (e.g. `core.welcome`). `t()` fills `{placeholders}` and HTML-escapes every
value unless it is wrapped in `Raw` (already-rendered HTML). Handlers never hold Vietnamese
sentences themselves; a wording change is an edit to a YAML file.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from pathlib import Path

from domain.yamlfile import load_yaml

MESSAGES_DIR = Path(__file__).parent / "messages"
DEFAULT_LANG = "vi"

# How the person being answered chooses: "buttons" (Telegram: they press) or "typed" (Zalo and
# the console show buttons as a numbered list: they type a number). A key may have a variant
# `<key>@typed` worded for typing ("gõ số" instead of "bấm"); the core sets the style for each
# update from the channel's capabilities, so handlers never ask which channel they are on.
BUTTONS = "buttons"
TYPED = "typed"
# Where people cannot send the bot a document (Zalo: only photos reach it), texts that ask for
# one name another way in (the web desk, Telegram).
NO_FILES = "nofiles"
# Where people cannot send a document but the web desk is reachable from outside (PUBLIC_URL
# set): texts that ask for a document point to the desk's upload page instead. Used only
# together with NO_FILES, before it.
WEB_DESK = "webdesk"
# The variants in force for the person being answered, most specific first; () = the originals.
_style: ContextVar[tuple[str, ...]] = ContextVar("catalog_style", default=())
# Each kind of variant lives in its own file, keyed by the whole key it replaces; a feature may
# add its variants in a file of its own beside it, named `<file>-<feature>.yaml` (e.g.
# `_go-so-quan-tri.yaml`), so that two features never edit the same file.
VARIANT_FILES = {
    TYPED: "_go-so.yaml",
    NO_FILES: "_khong-tep.yaml",
    WEB_DESK: "_trang-quan-ly.yaml",
}


def variant_files(folder: Path, file_name: str) -> list[Path]:
    """The files holding one kind of variant: `file_name`, then its `<stem>-*.yaml` companions."""
    stem = file_name.removesuffix(".yaml")
    companions = sorted(folder.glob(f"{stem}-*.yaml"))
    return [path for path in [folder / file_name, *companions] if path.exists()]


def use_style(*names: str) -> Token[tuple[str, ...]]:
    """Word texts with these variants (e.g. TYPED) until `reset_style(token)`."""
    return _style.set(tuple(name for name in names if name != BUTTONS))


def reset_style(token: Token[tuple[str, ...]]) -> None:
    _style.reset(token)


@contextmanager
def style(*names: str) -> Iterator[None]:
    """Word texts with these variants inside the block (tests, jobs outside an update)."""
    token = use_style(*names)
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
    sources = {variant: variant_files(folder, name) for variant, name in VARIANT_FILES.items()}
    skip = {path for paths in sources.values() for path in paths}
    for path in sorted(folder.glob("*.yaml")):
        if path in skip:
            continue
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        _flatten(path.stem, data, entries, path)
    for variant, paths in sources.items():
        # Whole keys ("reports.optional"), each the variant of a key that must exist; a key
        # given in two files of the same kind is an error (`_flatten`).
        variants: dict[str, str] = {}
        for source in paths:
            for name, node in (load_yaml(source.read_text(encoding="utf-8")) or {}).items():
                _flatten(str(name), node, variants, source)
            for key in variants:
                if key not in entries:
                    raise CatalogError(f"{source}: khoá {key} không có trong danh mục")
        for key, text in variants.items():
            entries[f"{key}@{variant}"] = text
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
        template = next(
            (catalog[f"{key}@{v}"] for v in _style.get() if f"{key}@{v}" in catalog), None
        )
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


def pick(original: str, variants: Mapping[str, str]) -> str:
    """For wording that comes with data rather than the catalog (a form's question): the
    variant for the style in force (`variants[TYPED]`, …), most specific first, else
    `original`. An empty variant means the original fits."""
    for name in _style.get():
        if variants.get(name):
            return variants[name]
    return original


def has(key: str, lang: str = DEFAULT_LANG) -> bool:
    return key in load_catalog(lang)
