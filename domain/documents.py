"""Word documents from templates (mẫu văn bản): check the templates, render one from a context.

The public API is two functions, for every capability that prints a document (the dossier,
the council's minutes):

    render(template_name, context, *, templates_dir=None) -> bytes   # a filled .docx
    validate_templates(templates_dir) -> dict[str, TemplateInfo]     # at start-up

Why docxtpl: the template is an ordinary .docx with Jinja2 tags (`{{ unit }}`,
`{%tr for r in rows %}` for a table row), so an office opens it in Word, changes the wording,
fonts or signer and saves it back — no programmer and no release. Generating the document in
code (python-docx alone) would put the layout in Python, and HTML→PDF would give a file the
office cannot edit. docxtpl is small, maintained, and builds on python-docx and Jinja2, which
the project already uses.

Each template is declared in `templates.yaml` next to it with the variables it may use. A
template with a Jinja syntax error, one that uses an undeclared variable, or a declared file
that is missing stops start-up with a `TemplateError` naming the file and the name. Rendering
is strict: a declared variable missing from the context is an error too, never a blank.
Contexts are plain dicts of str, int, lists and dicts, built by the caller from the domain.
This module knows nothing of the database, the chat or a channel.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from domain.yamlfile import load_yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATES_DIR = REPO_ROOT / "templates"
MANIFEST = "templates.yaml"
BLANK = "…"


class TemplateError(Exception):
    """A template cannot be used; the message names the file and the variable or the line."""

    def __init__(self, file: str, reason: str, name: str | None = None) -> None:
        self.file = file
        self.reason = reason
        self.name = name
        where = f"Mẫu văn bản {file}" + (f", biến '{name}'" if name else "")
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    file: str
    title: str
    variables: frozenset[str]


@dataclass(frozen=True, slots=True)
class Office:
    """The office that issues the dossier's documents (cơ quan tổ chức thi đua): its name, the
    body above it, the place written on the date line, and whom a tờ trình is addressed to."""

    name: str
    parent: str = ""
    place: str = ""
    recipient: str = ""
    # The organiser's level of government (models.organisers.OrganiserLevel), "" when unknown.
    level: str = ""


def _environment() -> Any:
    from jinja2 import Environment, StrictUndefined

    # docxtpl's default environment is lenient; strict makes a typo in a context key an
    # error instead of an empty line on a printed, signed document.
    return Environment(undefined=StrictUndefined, autoescape=False)


def read_manifest(templates_dir: Path) -> dict[str, TemplateInfo]:
    path = templates_dir / MANIFEST
    if not path.is_file():
        raise TemplateError(str(path), "không có tệp khai báo mẫu (xem TEMPLATES_DIR)")
    try:
        raw = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise TemplateError(str(path), f"YAML sai cú pháp: {' '.join(str(exc).split())}") from None
    if not isinstance(raw, dict):
        raise TemplateError(str(path), "tệp phải là một bảng <tên tệp .docx>: {title, variables}")
    result: dict[str, TemplateInfo] = {}
    for file, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("variables"), list):
            raise TemplateError(str(path), f"mục '{file}' cần có 'variables' là một danh sách")
        result[str(file)] = TemplateInfo(
            file=str(file),
            title=str(entry.get("title") or file),
            variables=frozenset(str(v) for v in entry["variables"]),
        )
    return result


# The variables a template file uses, by (path, modification time, size): parsing a .docx for
# them costs about 25 ms, and a process that builds the bot more than once (the tests build it
# for each test) would pay it each time for the same files. A replaced file has another time
# or size and is parsed again; a broken one is never remembered, so it is refused every time.
_USED_VARIABLES: dict[tuple[str, int, int], frozenset[str]] = {}


def check_template(path: Path, info: TemplateInfo) -> None:
    """Parse one template; raise `TemplateError` on a syntax error or an undeclared variable."""
    from docxtpl import DocxTemplate
    from jinja2 import TemplateSyntaxError

    if not path.is_file():
        raise TemplateError(str(path), "khai báo trong templates.yaml nhưng không có tệp")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    used = _USED_VARIABLES.get(key)
    if used is None:
        try:
            template = DocxTemplate(str(path))
            used = frozenset(template.get_undeclared_template_variables(_environment()))
        except TemplateSyntaxError as exc:
            raise TemplateError(str(path), f"sai cú pháp mẫu: {exc.message}") from None
        except Exception as exc:  # not a .docx, a damaged zip: many types, one meaning
            raise TemplateError(
                str(path), f"không đọc được tệp Word ({type(exc).__name__})"
            ) from None
        _USED_VARIABLES[key] = used
    for name in sorted(used - info.variables):
        raise TemplateError(
            str(path), "mẫu dùng biến không khai báo trong templates.yaml", name=name
        )


def validate_templates(templates_dir: Path | str | None = None) -> dict[str, TemplateInfo]:
    """Check every declared template (and refuse undeclared .docx files), and each
    organiser's own folder (`organiser_templates`) the same way against the same manifest;
    the manifest back."""
    folder = Path(templates_dir) if templates_dir else DEFAULT_TEMPLATES_DIR
    if not folder.is_dir():
        raise TemplateError(str(folder), "thư mục mẫu văn bản không tồn tại (xem TEMPLATES_DIR)")
    manifest = read_manifest(folder)
    for info in manifest.values():
        check_template(folder / info.file, info)
    own_folders = [p for p in sorted(folder.iterdir()) if p.is_dir() and _is_organiser_code(p.name)]
    for directory in [folder, *own_folders]:
        for path in sorted(directory.glob("*.docx")):
            if path.name.startswith("~$"):
                continue
            declared = manifest.get(path.name)
            if declared is None:
                raise TemplateError(str(path), "tệp .docx chưa khai báo trong templates.yaml")
            if directory is not folder:
                check_template(path, declared)
    return manifest


def _is_organiser_code(name: str) -> bool:
    # Organiser codes are upper-case letters, digits and dashes (domain.units.normalise_code);
    # other folders (__pycache__, a designer's drafts) are not an organiser's templates.
    return bool(name) and name == name.upper() and all(c.isalnum() or c in "-_" for c in name)


def organiser_templates(templates_dir: Path | str | None, code: str) -> Path | None:
    """The organiser's own templates folder, `<TEMPLATES_DIR>/<code>/`, when it has one.

    It holds only the .docx files the organiser replaces, under the default names, with the
    variables the default `templates.yaml` declares; `render(..., templates_dir=<it>)` takes a
    file from it when present and from the default folder otherwise."""
    base = Path(templates_dir) if templates_dir else DEFAULT_TEMPLATES_DIR
    if not _is_organiser_code(code):
        return None
    own = base / code
    return own if own.is_dir() and not (own / MANIFEST).exists() else None


def _template_home(folder: Path) -> Path:
    """Where the manifest and the default files are: the folder itself, or, for an
    organiser's folder (no manifest of its own), the folder above it."""
    if (folder / MANIFEST).is_file() or not (folder.parent / MANIFEST).is_file():
        return folder
    return folder.parent


def render(
    template_name: str, context: Mapping[str, Any], *, templates_dir: Path | str | None = None
) -> bytes:
    """The .docx bytes of `template_name` filled from `context` (every declared variable)."""
    from docxtpl import DocxTemplate
    from jinja2 import UndefinedError

    folder = Path(templates_dir) if templates_dir else DEFAULT_TEMPLATES_DIR
    home = _template_home(folder)
    manifest = read_manifest(home)
    info = manifest.get(template_name)
    if info is None:
        raise TemplateError(str(folder / template_name), "không có trong templates.yaml")
    missing = sorted(info.variables - set(context))
    if missing:
        raise TemplateError(template_name, "thiếu giá trị khi tạo văn bản", name=missing[0])
    path = folder / template_name
    template = DocxTemplate(str(path if path.is_file() else home / template_name))
    try:
        template.render(dict(context), _environment())
    except UndefinedError as exc:
        raise TemplateError(
            template_name, f"thiếu giá trị khi tạo văn bản ({exc.message})"
        ) from None
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


def date_parts(day: date | None) -> dict[str, str]:
    """`day`, `month`, `year` for the "<place>, ngày … tháng … năm …" line; dots if unknown.

    Nghị định 30/2020/NĐ-CP (thể thức văn bản): days below 10 and the months 1 and 2 take a
    leading zero (ngày 05 tháng 02), so nothing can be written in front of them by hand.
    """
    if day is None:
        return {"day": BLANK, "month": BLANK, "year": BLANK}
    return {
        "day": f"{day.day:02d}" if day.day < 10 else str(day.day),
        "month": f"{day.month:02d}" if day.month < 3 else str(day.month),
        "year": str(day.year),
    }
