"""Report forms (biểu mẫu) as data: loading and checking `forms/<code>.yaml`, turning what an
officer typed into the value stored in `Report.answers`, showing stored values as plain text,
and walking a form (which question comes next, what is still missing before submitting).

A form file that cannot be used stops start-up with a `FormError` naming the file, the field
and the reason, so a typo never reaches an officer's phone. Lists of titles and forms of
commendation come from `refdata/*.yaml` (`choices_from: awards.collective_titles`), so a new
decree is an edit to data. This module does not talk to users, touch the database or know a
channel; the conversation lives in `handlers/reports.py`, the rules of reports in
`domain/reports.py`.

Stored values by field type: short/long text → str; integer → int; number → str of the
decimal ("1250.5"); choice → the choice's value (str); multi_choice → list[str]; date →
"YYYY-MM-DD"; yes_no → bool; file → {"attachment_id": int, "file_name": str}; group →
list[dict[sub_field_id, value]]. A key present with value None is an optional question the
officer skipped; a missing key is a question not reached yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from domain.dates import (
    ParseError,
    format_date,
    format_number,
    parse_date,
    parse_integer,
    parse_number,
    relative_day,
    strip_unit_word,
)
from domain.text import clean_text, fold
from domain.yamlfile import load_yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FORMS_DIR = REPO_ROOT / "forms"
DEFAULT_REFDATA_DIR = REPO_ROOT / "refdata"

FIELD_TYPES = (
    "short_text",
    "long_text",
    "integer",
    "number",
    "choice",
    "multi_choice",
    "date",
    "yes_no",
    "file",
    "group",
)
FILE_KINDS = ("pdf", "docx", "xlsx", "jpg", "png")
# Types answered by typing: their prompt must come with an example of a good answer.
TYPED = ("short_text", "long_text", "integer", "number", "date")
CHOICE_TYPES = ("choice", "multi_choice")
NOMINATION_COLUMNS = ("nominee_type", "full_name", "job_title", "unit_name", "award", "summary")

DEFAULT_MAX_LENGTH = {"short_text": 200, "long_text": 4000}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Folded words accepted for yes/no typed instead of pressing a button.
_YES = {"co", "c", "yes", "y", "ok", "dong y", "da", "roi", "1"}
_NO = {"khong", "k", "ko", "no", "n", "chua", "0"}
# "1.250,5" / "1 250,5": thousands grouped and a decimal comma (domain.dates handles each alone).
_GROUPED_DECIMAL = re.compile(r"^-?\d{1,3}([. ]\d{3})+,\d+$")


# --- the model of a form ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a choice field: `value` is stored, `label` is shown."""

    value: str
    label: str


@dataclass(slots=True)
class Field:
    id: str
    type: str
    label: str
    prompt: str
    help: str = ""
    example: str = ""
    # The prompt for channels where choices are typed as numbers (Zalo, console), when `prompt`
    # speaks of pressing buttons; empty: `prompt` fits every channel. Which one a person sees is
    # the catalog's business (`bot.catalog.pick`, by the style the core set for the channel).
    prompt_typed: str = ""
    required: bool = True
    fields: list[Field] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    min_length: int | None = None
    max_length: int | None = None
    # int for integer, Decimal for number, date for date fields.
    min: Any = None
    max: Any = None
    # Another numeric field of the same form (or group entry) this one must not exceed.
    max_field: str | None = None
    min_selected: int | None = None
    max_selected: int | None = None
    accept: tuple[str, ...] = FILE_KINDS
    min_items: int = 0
    max_items: int | None = None

    def sub(self, field_id: str) -> Field:
        for sub in self.fields:
            if sub.id == field_id:
                return sub
        raise KeyError(field_id)

    def choice_label(self, value: object) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return str(value)


@dataclass(slots=True)
class NominationMap:
    """Which group of a form becomes `Nomination` rows, and which sub-field fills each column."""

    group: str
    columns: dict[str, str]


@dataclass(slots=True)
class Form:
    code: str
    title: str
    fields: list[Field]
    description: str = ""
    nominations: NominationMap | None = None
    source: str = ""

    def field(self, field_id: str) -> Field:
        for item in self.fields:
            if item.id == field_id:
                return item
        raise KeyError(field_id)

    def index(self, field_id: str) -> int:
        return next(i for i, item in enumerate(self.fields) if item.id == field_id)

    def has(self, field_id: str) -> bool:
        return any(item.id == field_id for item in self.fields)


class FormError(Exception):
    """A form file cannot be used. The message names the file, the field and the reason."""

    def __init__(self, file: str, field_id: str | None, reason: str) -> None:
        self.file = file
        self.field_id = field_id
        self.reason = reason
        where = f"Biểu mẫu {file}" + (f", trường '{field_id}'" if field_id else "")
        super().__init__(f"{where}: {reason}")


# --- loading ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AnswerWords:
    """How a yes/no answer reads (data: refdata/answer_words.yaml)."""

    yes: str
    no: str


@cache
def answer_words(path: Path | None = None) -> AnswerWords:
    data = load_yaml((path or DEFAULT_REFDATA_DIR / "answer_words.yaml").read_text("utf-8"))
    # YAML 1.1 reads a bare yes/no key as a boolean: accept both spellings of the keys.
    yes = data.get("yes", data.get(True))
    no = data.get("no", data.get(False))
    return AnswerWords(_text(str(yes)), _text(str(no)))


# An organiser's own version of a form: forms/<ORGANISER CODE>/<code>.yaml, kept under the key
# "<ORGANISER CODE>/<code>" (`own_form_key`). A deadline of that organiser's campaign names
# that key (`form_for_organiser`, when it is made), so whoever reads `forms[deadline.form_code]`
# — the report filler, the export — gets the organiser's version without knowing about it;
# what is the same for every version (the Word template of the report, the form's name in
# the catalog) goes by `base_form_code`.
OWN_FORM_SEPARATOR = "/"


def load_forms(directory: Path | str, *, refdata_dir: Path | str | None = None) -> dict[str, Form]:
    """Every `<code>.yaml` in `directory` and every organiser's own `<ORGANISER CODE>/<code>.yaml`
    below it, checked; raises `FormError` on the first problem."""
    folder = Path(directory)
    if not folder.is_dir():
        raise FormError(str(folder), None, "thư mục biểu mẫu không tồn tại (xem FORMS_DIR)")
    refdata = _Refdata(Path(refdata_dir) if refdata_dir else DEFAULT_REFDATA_DIR)
    forms: dict[str, Form] = {}
    for path in sorted(folder.glob("*.yaml")):
        form = load_form(path, refdata=refdata)
        forms[form.code] = form
    if not forms:
        raise FormError(str(folder), None, "không có tệp biểu mẫu <mã>.yaml nào (xem FORMS_DIR)")
    for own in sorted(p for p in folder.iterdir() if p.is_dir() and _organiser_folder(p.name)):
        for path in sorted(own.glob("*.yaml")):
            form = load_form(path, refdata=refdata)
            if form.code not in forms:
                raise FormError(
                    str(path), None, f"không có biểu mẫu mặc định mã {form.code} để thay thế"
                )
            form.code = own_form_key(own.name, form.code)
            forms[form.code] = form
    return forms


def _organiser_folder(name: str) -> bool:
    # Organiser codes are upper-case ASCII with dashes (domain.units.normalise_code).
    return bool(name) and name == name.upper() and all(c.isalnum() or c in "-_" for c in name)


def own_form_key(organiser_code: str, code: str) -> str:
    return f"{organiser_code}{OWN_FORM_SEPARATOR}{code}"


def base_form_code(code: str) -> str:
    """The default form a (possibly organiser's own) form code is a version of."""
    return code.rpartition(OWN_FORM_SEPARATOR)[2]


# The forms the running bot loaded, registered once at start-up (`bot.runtime.build_core`, like
# the catalog's defaults): what a deadline is made with when its caller holds no forms — the
# web desk's plan upload calls `domain.plans.create_campaign_from_plan` without them. Callers
# that have `services.forms` pass them instead.
_FORMS_IN_USE: dict[str, Any] = {}


def use_forms(forms: Mapping[str, Any]) -> None:
    """Register the forms this process loaded (start-up)."""
    _FORMS_IN_USE.clear()
    _FORMS_IN_USE.update(forms)


def forms_in_use() -> Mapping[str, Any]:
    """The forms registered by `use_forms` ({} before start-up: every deadline the default)."""
    return _FORMS_IN_USE


def form_for_organiser(forms: Mapping[str, Any], organiser_code: str, code: str) -> str:
    """The form code a deadline of `organiser_code`'s campaign stores for form `code`: its own
    version when it has one, else the default."""
    own = own_form_key(organiser_code, base_form_code(code))
    return own if own in forms else base_form_code(code)


def load_form(path: Path, *, refdata: _Refdata | None = None) -> Form:
    return _FormReader(path, refdata or _Refdata(DEFAULT_REFDATA_DIR)).read()


class _Refdata:
    """Lists from refdata/<file>.yaml, read once per load."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[str, dict[str, Any]] = {}

    def choices(self, reference: str) -> list[Choice]:
        """The choices of `file.list` (e.g. `awards.collective_titles`); ValueError if absent."""
        file_name, _, list_name = reference.partition(".")
        if not file_name or not list_name:
            raise ValueError(
                f"'{reference}' phải có dạng tệp.danh_sách, ví dụ awards.commendations"
            )
        if file_name not in self._files:
            path = self.directory / f"{file_name}.yaml"
            if not path.is_file():
                raise ValueError(f"không có tệp dữ liệu tham chiếu {path}")
            try:
                self._files[file_name] = load_yaml(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise ValueError(f"tệp {path} không đọc được: {_one_line(exc)}") from None
        items = self._files[file_name].get(list_name)
        if not isinstance(items, list) or not items:
            raise ValueError(f"tệp {file_name}.yaml không có danh sách '{list_name}'")
        result: list[Choice] = []
        for item in items:
            if isinstance(item, dict) and item.get("code") and item.get("label"):
                result.append(Choice(str(item["code"]), _text(item["label"])))
            else:
                raise ValueError(f"mục trong {reference} phải có code và label")
        return result


_FIELD_KEYS = {
    "id",
    "type",
    "label",
    "prompt",
    "prompt_typed",
    "help",
    "example",
    "required",
    "fields",
    "choices",
    "choices_from",
    "min_length",
    "max_length",
    "min",
    "max",
    "max_field",
    "min_selected",
    "max_selected",
    "accept",
    "min_items",
    "max_items",
}


class _FormReader:
    def __init__(self, path: Path, refdata: _Refdata) -> None:
        self.path = path
        self.name = str(path)
        self.refdata = refdata

    def fail(self, field_id: str | None, reason: str) -> FormError:
        return FormError(self.name, field_id, reason)

    def read(self) -> Form:
        try:
            raw = load_yaml(self.path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise self.fail(None, f"YAML sai cú pháp: {_one_line(exc)}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise self.fail(None, f"không đọc được tệp: {exc}") from None
        if not isinstance(raw, dict):
            raise self.fail(None, "tệp phải là một bảng có code, title, fields")
        unknown = set(raw) - {"code", "title", "description", "fields", "nominations"}
        if unknown:
            raise self.fail(None, f"khoá lạ {sorted(unknown)}")
        code = raw.get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            raise self.fail(None, "thiếu 'code' hoặc code không hợp lệ (chữ thường, số, dấu -)")
        if code != self.path.stem:
            raise self.fail(None, f"code '{code}' phải trùng tên tệp '{self.path.stem}'")
        title = raw.get("title")
        if not isinstance(title, str) or not title.strip():
            raise self.fail(None, "thiếu 'title'")
        fields = self.fields(raw.get("fields"), parent=None)
        form = Form(
            code=code,
            title=_text(title),
            description=_text(raw.get("description") or ""),
            fields=fields,
            source=self.name,
        )
        if raw.get("nominations") is not None:
            form.nominations = self.nominations(raw["nominations"], form)
        return form

    def fields(self, raw: object, *, parent: Field | None) -> list[Field]:
        owner = parent.id if parent else None
        if not isinstance(raw, list) or not raw:
            raise self.fail(owner, "'fields' phải là một danh sách có ít nhất một trường")
        result: list[Field] = []
        for index, item in enumerate(raw, 1):
            item_field = self.field(item, index=index, parent=parent, earlier=result)
            if any(f.id == item_field.id for f in result):
                raise self.fail(self.path_of(item_field.id, parent), "mã trường bị trùng")
            result.append(item_field)
        return result

    @staticmethod
    def path_of(field_id: str, parent: Field | None) -> str:
        return f"{parent.id}.{field_id}" if parent else field_id

    def field(
        self, raw: object, *, index: int, parent: Field | None, earlier: list[Field]
    ) -> Field:
        if not isinstance(raw, dict):
            where = self.path_of(f"#{index}", parent)
            raise self.fail(where, "mỗi trường phải là một bảng (id, type, label, prompt…)")
        field_id = raw.get("id")
        if not isinstance(field_id, str) or not _ID.match(field_id):
            where = self.path_of(str(field_id) if field_id else f"#{index}", parent)
            raise self.fail(where, "thiếu 'id' hoặc id không hợp lệ (chữ thường không dấu, số, _)")
        where = self.path_of(field_id, parent)
        unknown = set(raw) - _FIELD_KEYS
        if unknown:
            raise self.fail(where, f"khoá lạ {sorted(unknown)}")
        kind = raw.get("type")
        if kind not in FIELD_TYPES:
            raise self.fail(where, f"kiểu '{kind}' không có (dùng: {', '.join(FIELD_TYPES)})")
        for key in ("label", "prompt"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise self.fail(where, f"thiếu '{key}'")
        required = raw.get("required", True)
        if not isinstance(required, bool):
            raise self.fail(where, "'required' phải là true hoặc false")
        item = Field(
            id=field_id,
            type=kind,
            label=_text(raw["label"]),
            prompt=_text(raw["prompt"]),
            prompt_typed=_text(str(raw.get("prompt_typed") or "")),
            help=_text(raw.get("help") or ""),
            example=_text(str(raw.get("example") or "")),
            required=required,
        )
        if "bấm" in item.prompt.lower() and not item.prompt_typed:
            raise self.fail(
                where,
                "câu hỏi nói 'bấm' nhưng Zalo và console không có nút: bỏ cách bấm khỏi 'prompt' "
                "(bot tự thêm cách chọn theo kênh) hoặc thêm 'prompt_typed' cho kênh gõ số",
            )
        if "bấm" in item.prompt_typed.lower():
            raise self.fail(where, "'prompt_typed' là câu hỏi cho kênh gõ số: không nói 'bấm'")
        if kind in TYPED and not item.example:
            raise self.fail(where, "thiếu 'example' (câu trả lời mẫu cho người nhập)")
        self.limits(item, raw, where)
        if kind in CHOICE_TYPES:
            item.choices = self.choices(raw, where)
            if not item.example:
                item.example = item.choices[0].label
        elif "choices" in raw or "choices_from" in raw:
            raise self.fail(where, f"kiểu {kind} không có 'choices'")
        if kind == "yes_no" and not item.example:
            item.example = answer_words().yes
        if kind == "file":
            item.accept = self.accept(raw, where)
        elif "accept" in raw:
            raise self.fail(where, "'accept' chỉ dùng cho kiểu file")
        if kind == "group":
            if parent is not None:
                raise self.fail(where, "nhóm không được lồng trong nhóm")
            item.fields = self.fields(raw.get("fields"), parent=item)
        elif "fields" in raw:
            raise self.fail(where, "'fields' chỉ dùng cho kiểu group")
        if raw.get("max_field") is not None:
            target = next((f for f in earlier if f.id == raw["max_field"]), None)
            if kind not in ("integer", "number"):
                raise self.fail(where, "'max_field' chỉ dùng cho kiểu integer hoặc number")
            if target is None or target.type not in ("integer", "number"):
                raise self.fail(
                    where, f"'max_field' phải là một trường số đứng trước: '{raw['max_field']}'"
                )
            item.max_field = target.id
        return item

    def limits(self, item: Field, raw: dict[str, Any], where: str) -> None:
        allowed: dict[str, tuple[str, ...]] = {
            "min_length": ("short_text", "long_text"),
            "max_length": ("short_text", "long_text"),
            "min": ("integer", "number", "date"),
            "max": ("integer", "number", "date"),
            "min_selected": ("multi_choice",),
            "max_selected": ("multi_choice",),
            "min_items": ("group",),
            "max_items": ("group",),
        }
        for key, kinds in allowed.items():
            if key in raw and item.type not in kinds:
                raise self.fail(where, f"'{key}' không dùng cho kiểu {item.type}")
        for key in ("min_length", "max_length", "min_selected", "max_selected", "max_items"):
            if key in raw:
                value = raw[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise self.fail(where, f"'{key}' phải là số nguyên dương")
                setattr(item, key, value)
        if "min_items" in raw:
            value = raw["min_items"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise self.fail(where, "'min_items' phải là số nguyên không âm")
            item.min_items = value
        if item.type in DEFAULT_MAX_LENGTH and item.max_length is None:
            item.max_length = DEFAULT_MAX_LENGTH[item.type]
        if item.min_length and item.max_length and item.min_length > item.max_length:
            raise self.fail(where, "'min_length' lớn hơn 'max_length'")
        if item.type == "group" and item.required:
            item.min_items = max(item.min_items, 1)
        if item.max_items is not None and item.min_items > item.max_items:
            raise self.fail(where, "'min_items' lớn hơn 'max_items'")
        for key in ("min", "max"):
            if key in raw:
                setattr(item, key, self.bound(item.type, raw[key], key, where))
        if item.min is not None and item.max is not None and item.min > item.max:
            raise self.fail(where, "'min' lớn hơn 'max'")

    def bound(self, kind: str, value: object, key: str, where: str) -> Any:
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(where, f"'{key}' phải là số nguyên")
            return value
        if kind == "number":
            try:
                if isinstance(value, bool):
                    raise InvalidOperation
                return Decimal(str(value))
            except InvalidOperation:
                raise self.fail(where, f"'{key}' phải là một số") from None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(where, f"'{key}' phải là ngày dạng YYYY-MM-DD") from None

    def choices(self, raw: dict[str, Any], where: str) -> list[Choice]:
        if ("choices" in raw) == ("choices_from" in raw):
            raise self.fail(where, "cần đúng một trong 'choices' hoặc 'choices_from'")
        result: list[Choice] = []
        if "choices_from" in raw:
            references = raw["choices_from"]
            if isinstance(references, str):
                references = [references]
            if not isinstance(references, list) or not references:
                raise self.fail(where, "'choices_from' phải là tên danh sách hoặc danh sách tên")
            for reference in references:
                try:
                    result += self.refdata.choices(str(reference))
                except ValueError as exc:
                    raise self.fail(where, f"choices_from: {exc}") from None
        else:
            items = raw["choices"]
            if not isinstance(items, list) or not items:
                raise self.fail(where, "'choices' phải là danh sách có ít nhất một lựa chọn")
            for item in items:
                if isinstance(item, str) and item.strip():
                    result.append(Choice(_text(item), _text(item)))
                elif isinstance(item, dict) and item.get("value") and item.get("label"):
                    result.append(Choice(str(item["value"]), _text(str(item["label"]))))
                else:
                    raise self.fail(where, f"lựa chọn không hợp lệ: {item!r}")
        values = [c.value for c in result]
        labels = [fold(c.label) for c in result]
        if len(set(values)) != len(values) or len(set(labels)) != len(labels):
            raise self.fail(where, "có lựa chọn bị trùng")
        return result

    def accept(self, raw: dict[str, Any], where: str) -> tuple[str, ...]:
        if "accept" not in raw:
            return FILE_KINDS
        kinds = raw["accept"]
        if not isinstance(kinds, list) or not kinds or any(k not in FILE_KINDS for k in kinds):
            raise self.fail(where, f"'accept' phải là danh sách trong {', '.join(FILE_KINDS)}")
        return tuple(kinds)

    def nominations(self, raw: object, form: Form) -> NominationMap:
        if not isinstance(raw, dict):
            raise self.fail("nominations", "phải là một bảng có group và columns")
        group_id = raw.get("group")
        if not isinstance(group_id, str) or not form.has(group_id):
            raise self.fail("nominations", f"'group' phải là một trường của biểu mẫu: {group_id!r}")
        group = form.field(group_id)
        if group.type != "group":
            raise self.fail(group_id, "trường dùng cho 'nominations' phải có kiểu group")
        columns = raw.get("columns")
        if not isinstance(columns, dict) or "full_name" not in columns:
            raise self.fail("nominations", "'columns' phải có ít nhất full_name")
        for column, sub_id in columns.items():
            if column not in NOMINATION_COLUMNS:
                raise self.fail(
                    "nominations",
                    f"cột '{column}' không có (dùng: {', '.join(NOMINATION_COLUMNS)})",
                )
            if not any(s.id == sub_id for s in group.fields):
                raise self.fail(f"{group_id}.{sub_id}", f"cột '{column}' trỏ tới trường không có")
        nominee = columns.get("nominee_type")
        if nominee is not None:
            values = {c.value for c in group.sub(nominee).choices}
            if not values or not values <= {"individual", "collective"}:
                raise self.fail(
                    f"{group_id}.{nominee}",
                    "nominee_type phải là lựa chọn có giá trị individual/collective",
                )
        return NominationMap(group_id, {str(k): str(v) for k, v in columns.items()})


def _text(value: str) -> str:
    return clean_text(str(value))


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


# --- reading answers --------------------------------------------------------------------------
class AnswerError(ValueError):
    """What an officer typed cannot be used. `reason` names the catalog text
    `reports.invalid.<reason>`; `params` fill it (already formatted for display)."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def parse_answer(
    item: Field, text: str, *, today: date, siblings: Mapping[str, Any] | None = None
) -> Any:
    """The stored value for `text` typed as the answer to `item`; raises `AnswerError`.

    `siblings` are the answers next to this one (the form's, or the group entry's), for
    `max_field`; `today` gives the year to a date typed without one.
    """
    if item.type == "group":
        raise AnswerError("press_button")
    if item.type == "file":
        raise AnswerError("need_file")
    raw = text.strip()
    if not raw:
        raise AnswerError("empty")
    if item.type in ("short_text", "long_text"):
        return _parse_text(item, raw)
    if item.type in ("integer", "number"):
        raw = strip_unit_word(raw)  # "25 người", "1.250,5 triệu"
    if item.type == "integer":
        try:
            number = parse_integer(raw)
        except ParseError:
            raise AnswerError("not_integer") from None
        _check_range(item, Decimal(number), siblings)
        return number
    if item.type == "number":
        value = _parse_decimal(raw)
        _check_range(item, value, siblings)
        return str(value)
    if item.type == "date":
        try:
            day = relative_day(raw, today) or parse_date(raw, default_year=today.year)
        except ParseError as exc:
            raise AnswerError(f"date_{exc.reason}") from None
        if item.min is not None and day < item.min:
            raise AnswerError("date_too_early", min=format_date(item.min))
        if item.max is not None and day > item.max:
            raise AnswerError("date_too_late", max=format_date(item.max))
        return day.isoformat()
    if item.type == "yes_no":
        word = fold(raw).strip(" .!")
        if word in _YES:
            return True
        if word in _NO:
            return False
        raise AnswerError("not_yes_no")
    if item.type == "choice":
        return match_choice(item, raw).value
    # multi_choice typed as "1, 3" or "label; label"
    parts = [p for p in re.split(r"[,;\n]", raw) if p.strip()]
    values: list[str] = []
    for part in parts:
        chosen = match_choice(item, part).value
        if chosen not in values:
            values.append(chosen)
    check_selection(item, values)
    return values


def _parse_text(item: Field, raw: str) -> str:
    value = clean_text(raw, multiline=item.type == "long_text")
    if not value:
        raise AnswerError("empty")
    if item.min_length and len(value) < item.min_length:
        raise AnswerError("too_short", min=item.min_length, length=len(value))
    if item.max_length and len(value) > item.max_length:
        raise AnswerError("too_long", max=item.max_length, length=len(value))
    return value


def _parse_decimal(raw: str) -> Decimal:
    text = raw.replace("\u00a0", " ").strip()
    if _GROUPED_DECIMAL.match(text):
        text = text.replace(".", "").replace(" ", "")
    try:
        return parse_number(text)
    except ParseError:
        raise AnswerError("not_number") from None


def _check_range(item: Field, value: Decimal, siblings: Mapping[str, Any] | None) -> None:
    if item.min is not None and value < Decimal(item.min):
        raise AnswerError("too_small", min=format_number(item.min))
    if item.max is not None and value > Decimal(item.max):
        raise AnswerError("too_large", max=format_number(item.max))
    if item.max_field and siblings is not None:
        limit = siblings.get(item.max_field)
        if limit is not None and value > Decimal(str(limit)):
            raise AnswerError("over_field", max=format_number(Decimal(str(limit))))


def match_choice(item: Field, text: str) -> Choice:
    """The choice typed as its number (1, 2…) or its label, diacritics and case aside."""
    wanted = fold(text).strip(" .")
    if wanted.isdigit() and 1 <= int(wanted) <= len(item.choices):
        return item.choices[int(wanted) - 1]
    for choice in item.choices:
        if fold(choice.label) == wanted or fold(choice.value) == wanted:
            return choice
    # A beginning typed without diacritics ("hoan thanh tot") is enough when only one choice
    # starts so; several → say which, and ask again.
    starting = [c for c in item.choices if fold(c.label).startswith(wanted)] if wanted else []
    if len(starting) == 1 and len(wanted) >= 3:
        return starting[0]
    if len(starting) > 1:
        raise AnswerError("ambiguous_choice", choices="; ".join(c.label for c in starting))
    raise AnswerError("not_a_choice")


def check_selection(item: Field, values: list[str]) -> None:
    """A multi-choice selection is within the form's bounds."""
    least = item.min_selected or (1 if item.required else 0)
    if len(values) < least:
        raise AnswerError("too_few_selected", min=least)
    if item.max_selected is not None and len(values) > item.max_selected:
        raise AnswerError("too_many_selected", max=item.max_selected)


def check_value(item: Field, value: Any) -> bool:
    """Whether a stored value still fits the field (forms may change between releases)."""
    if value is None:
        return True
    kind = item.type
    if kind in ("short_text", "long_text"):
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        try:
            Decimal(str(value))
        except InvalidOperation:
            return False
        return isinstance(value, str)
    if kind == "choice":
        return any(c.value == value for c in item.choices)
    if kind == "multi_choice":
        known = {c.value for c in item.choices}
        return isinstance(value, list) and all(v in known for v in value)
    if kind == "date":
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return False
        return True
    if kind == "yes_no":
        return isinstance(value, bool)
    if kind == "file":
        return isinstance(value, dict) and isinstance(value.get("attachment_id"), int)
    return isinstance(value, list) and all(isinstance(e, dict) for e in value)


# --- showing answers --------------------------------------------------------------------------
def format_answer(item: Field, value: Any) -> str:
    """A stored value as plain text for the review message and exports ("" when empty)."""
    if value is None or value == "" or value == []:
        return ""
    kind = item.type
    if kind in ("integer", "number"):
        return format_number(value)
    if kind == "date":
        try:
            return format_date(date.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    if kind == "yes_no":
        return answer_words().yes if value else answer_words().no
    if kind == "choice":
        return item.choice_label(value)
    if kind == "multi_choice":
        return "; ".join(item.choice_label(v) for v in value)
    if kind == "file":
        return str(value.get("file_name") or "") if isinstance(value, dict) else str(value)
    if kind == "group":
        lines = []
        for number, entry in enumerate(value, 1):
            parts = [
                f"{sub.label}: {format_answer(sub, entry.get(sub.id))}"
                for sub in item.fields
                if format_answer(sub, entry.get(sub.id))
            ]
            lines.append(f"{number}. " + "; ".join(parts))
        return "\n".join(lines)
    return str(value)


# --- walking a form ---------------------------------------------------------------------------
class Place(StrEnum):
    """The kinds of screen a report conversation shows (the report flow's steps)."""

    QUESTION = "question"  # one question: top-level, or of one entry of a group
    MORE = "more"  # "add another entry to this group, or done?"
    MENU = "menu"  # a group's entries to edit or delete, or one to add
    REVIEW = "review"  # every answer shown: submit, or edit one
    # Before the questions: the offer to start from the sums of the unit's own accepted
    # reports of the level below (a commune's report upward, `domain.rollup`).
    PREFILL = "prefill"
    UNKNOWN = "unknown"  # read from a state that no longer makes sense: never still there


# The list notation conversation states used before typed positions (still read):
_OLD_KIND = {"q": Place.QUESTION, "more": Place.MORE, "menu": Place.MENU, "review": Place.REVIEW}


@dataclass(frozen=True, slots=True)
class Position:
    """Where a conversation is in a form: a question (`field_id`; of a group's entry `entry`,
    sub-question `sub`), a group's "more?" or menu (`field_id` is the group), or the review."""

    kind: Place
    field_id: str = ""
    entry: int | None = None
    sub: str | None = None

    @classmethod
    def question(cls, field_id: str, entry: int | None = None, sub: str | None = None) -> Position:
        return cls(Place.QUESTION, field_id, entry, sub)

    @classmethod
    def at_path(cls, path: Sequence[Any]) -> Position:
        """The question at an answer's path: [field] or [group, entry index, field]."""
        if len(path) == 3:
            return cls.question(str(path[0]), int(path[1]), str(path[2]))
        return cls.question(str(path[0]))

    @classmethod
    def more(cls, group_id: str) -> Position:
        return cls(Place.MORE, group_id)

    @classmethod
    def menu(cls, group_id: str) -> Position:
        return cls(Place.MENU, group_id)

    @property
    def in_entry(self) -> bool:
        return self.entry is not None

    @property
    def path(self) -> list[Any]:
        """Where a question's answer sits in the answers: [field] or [group, entry, field]."""
        if self.in_entry:
            return [self.field_id, self.entry, self.sub]
        return [self.field_id]

    def to_state(self) -> dict[str, Any]:
        stored: dict[str, Any] = {"kind": self.kind.value}
        if self.field_id:
            stored["field"] = self.field_id
        if self.in_entry:
            stored |= {"entry": self.entry, "sub": self.sub}
        return stored

    @classmethod
    def from_state(cls, raw: Any) -> Position | None:
        """Read a stored position: the mapping `to_state` writes, or the list notation of
        states stored before typed positions (["q", field], ["q", group, index, sub],
        ["more", group], ["menu", group], ["review"]). What no longer makes sense becomes an
        `UNKNOWN` position (the conversation moves to the next open question); None when it
        is no position at all."""
        try:
            if isinstance(raw, Mapping):
                kind = Place(str(raw.get("kind")))
                entry = raw.get("entry")
                return cls(
                    kind,
                    str(raw.get("field") or ""),
                    None if entry is None else int(entry),
                    None if entry is None else str(raw.get("sub")),
                )
            if isinstance(raw, list):
                return _from_old_list(raw)
        except (ValueError, TypeError):
            return UNKNOWN
        return None


def _from_old_list(raw: list[Any]) -> Position:
    kind = _OLD_KIND.get(raw[0]) if raw and isinstance(raw[0], str) else None
    if kind is Place.QUESTION and len(raw) == 2:
        return Position.question(str(raw[1]))
    if kind is Place.QUESTION and len(raw) == 4:
        return Position.question(str(raw[1]), int(raw[2]), str(raw[3]))
    if kind in (Place.MORE, Place.MENU) and len(raw) == 2:
        return Position(kind, str(raw[1]))
    if kind is Place.REVIEW:
        return REVIEW
    return UNKNOWN


REVIEW = Position(Place.REVIEW)
PREFILL = Position(Place.PREFILL)
UNKNOWN = Position(Place.UNKNOWN)


def entry_pending(
    group: Field, entry: Mapping[str, Any], *, after: str | None = None
) -> str | None:
    """The first sub-field of an entry not answered yet (after `after` when given)."""
    subs = group.fields
    if after is not None:
        subs = subs[[s.id for s in subs].index(after) + 1 :]
    return next((s.id for s in subs if s.id not in entry), None)


def _pending_in(item: Field, answers: Mapping[str, Any]) -> Position | None:
    if item.type != "group":
        return None if item.id in answers else Position.question(item.id)
    entries = answers.get(item.id)
    if not isinstance(entries, list):
        return Position.more(item.id)
    for index, entry in enumerate(entries):
        sub = entry_pending(item, entry)
        if sub is not None:
            return Position.question(item.id, index, sub)
    if len(entries) < item.min_items:
        return Position.more(item.id)
    return None


def next_position(form: Form, answers: Mapping[str, Any], *, after: str | None = None) -> Position:
    """The next question not answered yet: the first after top-level field `after` (then from
    the start, for what a colleague or an earlier visit left open), or the review."""
    start = form.index(after) + 1 if after is not None else 0
    for item in [*form.fields[start:], *form.fields[:start]]:
        position = _pending_in(item, answers)
        if position is not None:
            return position
    return REVIEW


def pending_position(
    form: Form, answers: Mapping[str, Any], *, after: str | None = None
) -> list[Any]:
    """`next_position` in the list notation states used before typed positions."""
    position = next_position(form, answers, after=after)
    kind = next(old for old, place in _OLD_KIND.items() if place is position.kind)
    return [kind, *position.path] if position.field_id else [kind]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a report cannot be submitted yet: `reason` is missing, invalid, too_few or
    over_field (a number above the answer another field caps it at: `limit_label` and `limit`
    name that answer, `value` this one). `path` is where the offending answer is asked:
    [field] or [group, entry index, field]."""

    label: str
    reason: str
    field_id: str
    path: list[Any] = field(default_factory=list)
    value: str = ""
    limit_label: str = ""
    limit: str = ""


def problems(form: Form, answers: Mapping[str, Any]) -> list[Problem]:
    """Everything standing between these answers and a complete report."""
    found: list[Problem] = []
    for item in form.fields:
        value = answers.get(item.id)
        if item.type == "group":
            entries = value if isinstance(value, list) else []
            if len(entries) < item.min_items:
                found.append(Problem(item.label, "too_few", item.id))
            for number, entry in enumerate(entries, 1):
                for sub in item.fields:
                    found += _check_one(
                        sub,
                        entry.get(sub.id),
                        f"{item.label} {number}",
                        item.id,
                        siblings=entry,
                        fields=item.fields,
                        path=[item.id, number - 1, sub.id],
                    )
            continue
        found += _check_one(
            item, value, None, item.id, siblings=answers, fields=form.fields, path=[item.id]
        )
    return found


def _check_one(
    item: Field,
    value: Any,
    prefix: str | None,
    top_id: str,
    *,
    siblings: Mapping[str, Any],
    fields: Sequence[Field],
    path: list[Any],
) -> Iterable[Problem]:
    label = f"{prefix} – {item.label}" if prefix else item.label
    if value is None or value == "" or value == []:
        return [Problem(label, "missing", top_id, path)] if item.required else []
    if not check_value(item, value):
        return [Problem(label, "invalid", top_id, path)]
    # Rules across answers, checked again on the whole report: an answer edited after the one
    # it bounds (/quaylai, an edit from the review) may have broken them.
    if item.max_field:
        limit = siblings.get(item.max_field)
        try:
            over = limit is not None and Decimal(str(value)) > Decimal(str(limit))
        except (InvalidOperation, ValueError):
            over = False
        if over:
            bound = next((f for f in fields if f.id == item.max_field), None)
            return [
                Problem(
                    label,
                    "over_field",
                    top_id,
                    path,
                    value=format_number(Decimal(str(value))),
                    limit_label=bound.label if bound is not None else item.max_field,
                    limit=format_number(Decimal(str(limit))),
                )
            ]
    return []
