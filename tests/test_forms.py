"""The form engine: shipped forms load, every field type reads good answers and refuses bad
ones with a reason, values show back as Vietnamese text, and a broken form file stops start-up
naming the file, the field and the reason."""

from __future__ import annotations

import contextlib
import re
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.catalog import has
from bot.cli import main as cli_main
from bot.runtime import build_core
from bot.settings import Settings
from domain.campaigns import UnitStatus
from domain.dates import format_date
from domain.forms import (
    DEFAULT_FORMS_DIR,
    AnswerError,
    Choice,
    Field,
    FormError,
    format_answer,
    format_number,
    load_forms,
    parse_answer,
    pending_position,
    problems,
)

TODAY = date(2026, 3, 2)


def answer(item: Field, text: str, **kwargs: object) -> object:
    return parse_answer(item, text, today=TODAY, **kwargs)  # type: ignore[arg-type]


def refused(item: Field, text: str, **kwargs: object) -> str:
    with pytest.raises(AnswerError) as error:
        answer(item, text, **kwargs)
    return error.value.reason


# --- the shipped forms ------------------------------------------------------------------------
def test_the_shipped_forms_load_with_awards_from_reference_data() -> None:
    forms = load_forms(DEFAULT_FORMS_DIR)
    assert set(forms) == {
        "dang-ky-thi-dua",
        "bao-cao-thanh-tich",
        "bao-cao-thanh-tich-ca-nhan",
        "de-nghi-khen-thuong",
    }
    achievements = forms["bao-cao-thanh-tich"]
    # The decree's parts I (situation, duties) and III (past awards) are asked after the
    # results; the Word document prints them in the decree's order.
    ids = [f.id for f in achievements.fields]
    assert ids.index("han_che") < ids.index("dac_diem") < ids.index("khen_thuong")
    person = forms["bao-cao-thanh-tich-ca-nhan"].field("ca_nhan")
    assert "Chiến sĩ thi đua cơ sở" in [c.label for c in person.sub("de_nghi").choices]
    registration = forms["dang-ky-thi-dua"]
    titles = [c.label for c in registration.field("danh_hieu_tap_the").choices]
    assert "Tập thể lao động tiên tiến" in titles and "Tập thể lao động xuất sắc" in titles
    nominations = forms["de-nghi-khen-thuong"]
    awards = [c.label for c in nominations.field("de_nghi").sub("hinh_thuc").choices]
    assert {"Giấy khen", "Chiến sĩ thi đua cơ sở", "Lao động tiên tiến"} <= set(awards)
    assert nominations.nominations is not None and nominations.nominations.group == "de_nghi"
    types = {f.type for form in forms.values() for f in form.fields}
    types |= {s.type for form in forms.values() for f in form.fields for s in f.fields}
    assert types == {
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
    }


# --- each field type, good and bad ------------------------------------------------------------
SHORT = Field("ten", "short_text", "Tên", "Tên?", example="Mô hình", min_length=3, max_length=20)
LONG = Field("mo_ta", "long_text", "Mô tả", "Mô tả?", example="…", max_length=50)
COUNT = Field("so", "integer", "Số", "Số?", example="25", min=0, max=1000)
MONEY = Field("tien", "number", "Tiền", "Tiền?", example="1.250,5", min=Decimal(0))
DAY = Field("ngay", "date", "Ngày", "Ngày?", example="15/3/2026", min=date(2026, 1, 1))
YES_NO = Field("co", "yes_no", "Có?", "Có không?")
CHOICES = [Choice("individual", "Cá nhân"), Choice("collective", "Tập thể")]
ONE = Field("doi_tuong", "choice", "Đối tượng", "Ai?", choices=CHOICES)
MANY = Field("pt", "multi_choice", "Phong trào", "Nào?", choices=CHOICES, max_selected=1)
FILE = Field("tep", "file", "Tệp", "Gửi tệp")
GROUP = Field("nhom", "group", "Nhóm", "Nhóm?", fields=[SHORT])


@pytest.mark.parametrize(
    ("item", "text", "expected"),
    [
        (SHORT, "  Mô hình   chè  ", "Mô hình chè"),
        (LONG, "Dòng 1\nDòng 2", "Dòng 1\nDòng 2"),
        (COUNT, "1.000", 1000),
        (COUNT, "0", 0),
        (MONEY, "1.250,5", "1250.5"),
        (MONEY, "12,75", "12.75"),
        (MONEY, "300", "300"),
        (DAY, "15/3", "2026-03-15"),
        (DAY, "ngày 15 tháng 3 năm 2026", "2026-03-15"),
        (YES_NO, "có", True),
        (YES_NO, "Không", False),
        (ONE, "2", "collective"),
        (ONE, "ca nhan", "individual"),
        (MANY, "Tập thể", ["collective"]),
    ],
)
def test_good_answers_are_read_into_stored_values(item: Field, text: str, expected: object) -> None:
    assert answer(item, text) == expected


@pytest.mark.parametrize(
    ("item", "text", "reason"),
    [
        (SHORT, "   ", "empty"),
        (SHORT, "ab", "too_short"),
        (SHORT, "x" * 21, "too_long"),
        (LONG, "x" * 51, "too_long"),
        (COUNT, "mười", "not_integer"),
        (COUNT, "2,5", "not_integer"),
        (COUNT, "-1", "too_small"),
        (COUNT, "1001", "too_large"),
        (MONEY, "một trăm", "not_number"),
        (MONEY, "-5", "too_small"),
        (DAY, "mai", "date_format"),
        (DAY, "31/4/2026", "date_day_range"),
        (DAY, "1/13/2026", "date_month_range"),
        (DAY, "31/12/2025", "date_too_early"),
        (YES_NO, "có lẽ", "not_yes_no"),
        (ONE, "3", "not_a_choice"),
        (ONE, "Hộ gia đình", "not_a_choice"),
        (MANY, "1, 2", "too_many_selected"),
        (FILE, "đây là tệp", "need_file"),
        (GROUP, "gì đó", "press_button"),
    ],
)
def test_bad_answers_are_refused_with_a_reason(item: Field, text: str, reason: str) -> None:
    assert refused(item, text) == reason


def test_a_number_may_not_exceed_the_field_it_is_bounded_by() -> None:
    forms = load_forms(DEFAULT_FORMS_DIR)
    hero = forms["dang-ky-thi-dua"].field("so_chien_si_thi_dua_co_so")
    assert refused(hero, "30", siblings={"so_lao_dong_tien_tien": 25}) == "over_field"
    assert answer(hero, "25", siblings={"so_lao_dong_tien_tien": 25}) == 25


@pytest.mark.parametrize(
    ("item", "value", "shown"),
    [
        (COUNT, 1234567, "1.234.567"),
        (MONEY, "1250.5", "1.250,5"),
        (MONEY, "-3", "-3"),
        (DAY, "2026-03-15", "15/03/2026"),
        (YES_NO, True, "Có"),
        (YES_NO, False, "Không"),
        (ONE, "collective", "Tập thể"),
        (MANY, ["individual", "collective"], "Cá nhân; Tập thể"),
        (FILE, {"attachment_id": 3, "file_name": "bao-cao.pdf"}, "bao-cao.pdf"),
        (GROUP, [{"ten": "Chè"}, {"ten": "Lúa"}], "1. Tên: Chè\n2. Tên: Lúa"),
        (SHORT, None, ""),
    ],
)
def test_stored_values_show_as_vietnamese_text(item: Field, value: object, shown: str) -> None:
    assert format_answer(item, value) == shown


# --- property tests through the form engine (the parsers' own are in test_dates.py) -----------
@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_a_number_shown_to_an_officer_reads_back_to_the_same_value(value: Decimal) -> None:
    stored = answer(MONEY, format_number(value))
    assert Decimal(str(stored)) == value


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_integers_outside_the_bounds_are_always_refused(value: int) -> None:
    text = format_number(value)
    if 0 <= value <= 1000:
        assert answer(COUNT, text) == value
    else:
        assert refused(COUNT, text) in {"too_small", "too_large"}


@given(st.dates(min_value=date(1945, 1, 1), max_value=date(2100, 12, 31)))
def test_a_date_shown_to_an_officer_reads_back_to_the_same_day(value: date) -> None:
    unbounded = Field("ngay", "date", "Ngày", "Ngày?", example="1/1/2026")
    stored = answer(unbounded, format_date(value))
    assert stored == value.isoformat()
    assert format_answer(unbounded, stored) == format_date(value)


@given(st.text(max_size=60))
def test_any_text_typed_for_a_number_is_read_or_refused_never_crashes(text: str) -> None:
    with contextlib.suppress(AnswerError):
        Decimal(str(answer(MONEY, text)))


# --- walking and completeness ---------------------------------------------------------------
def test_pending_position_skips_what_is_answered_and_ends_on_the_review() -> None:
    form = load_forms(DEFAULT_FORMS_DIR)["de-nghi-khen-thuong"]
    assert pending_position(form, {}) == ["more", "de_nghi"]
    half = {"de_nghi": [{"doi_tuong": "individual", "ho_ten": "Lò Thị Mai"}]}
    assert pending_position(form, half) == ["q", "de_nghi", 0, "chuc_vu"]
    entry = {
        "doi_tuong": "individual",
        "ho_ten": "Lò Thị Mai",
        "chuc_vu": None,
        "don_vi": "UBND xã",
        "hinh_thuc": "giay-khen",
        "thanh_tich": "Hoàn thành xuất sắc nhiệm vụ",
        "minh_chung": None,
    }
    assert pending_position(form, {"de_nghi": [entry]}) == ["q", "ghi_chu"]
    assert pending_position(form, {"de_nghi": [entry], "ghi_chu": None}) == ["review"]
    assert problems(form, {"de_nghi": [entry], "ghi_chu": None}) == []
    assert [p.reason for p in problems(form, {"de_nghi": []})] == ["too_few"]


# --- broken form files ----------------------------------------------------------------------
GOOD_FIELD = """
  - id: so
    type: integer
    label: Số
    prompt: Bao nhiêu?
    example: "3"
"""


def write_form(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("fields", "field_id", "reason"),
    [
        ("  - {id: so, type: integr, label: Số, prompt: Mấy}", "so", "kiểu 'integr'"),
        ("  - {id: so, type: integer, label: Số, prompt: Mấy}", "so", "thiếu 'example'"),
        ("  - {id: chon, type: choice, label: Chọn, prompt: Nào}", "chon", "choices"),
        (
            "  - {id: chon, type: choice, label: C, prompt: N, choices_from: awards.khong_co}",
            "chon",
            "khong_co",
        ),
        ("  - {id: nhom, type: group, label: N, prompt: N}", "nhom", "'fields'"),
        (
            "  - {id: pt, type: multi_choice, label: P, prompt: Bấm «Xong», choices: [a, b]}",
            "pt",
            "prompt_typed",
        ),
        ("  - {id: Sai Ma, type: yes_no, label: C, prompt: C}", "Sai Ma", "id không hợp lệ"),
        ("  - {id: so, type: yes_no, label: C, prompt: C, mx: 3}", "so", "khoá lạ"),
        (GOOD_FIELD + GOOD_FIELD, "so", "trùng"),
        (
            GOOD_FIELD + '  - {id: b, type: integer, label: B, prompt: B, example: "1", '
            "max_field: khong}",
            "b",
            "max_field",
        ),
    ],
)
def test_a_broken_form_names_file_field_and_reason(
    tmp_path: Path, fields: str, field_id: str, reason: str
) -> None:
    path = write_form(tmp_path, "hong", f"code: hong\ntitle: Hỏng\nfields:\n{fields}\n")
    with pytest.raises(FormError) as error:
        load_forms(tmp_path)
    message = str(error.value)
    assert str(path) in message and f"'{field_id}'" in message and reason in message


def test_a_form_must_be_named_after_its_code_and_be_valid_yaml(tmp_path: Path) -> None:
    write_form(tmp_path, "ten-khac", f"code: bao-cao\ntitle: X\nfields:\n{GOOD_FIELD}")
    with pytest.raises(FormError, match="trùng tên tệp"):
        load_forms(tmp_path)
    other = tmp_path / "yaml"
    write_form(other, "hong", "code: hong\ntitle: [chưa đóng\n")
    with pytest.raises(FormError, match="YAML sai cú pháp"):
        load_forms(other)
    empty = tmp_path / "rong"
    empty.mkdir()
    with pytest.raises(FormError, match="không có tệp biểu mẫu"):
        load_forms(empty)


def test_a_broken_form_stops_start_up_with_one_line(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    forms_dir = tmp_path / "forms"
    write_form(forms_dir, "hong", "code: hong\ntitle: Hỏng\nfields:\n  - {id: x, type: nope}\n")
    with pytest.raises(FormError):
        build_core(settings.model_copy(update={"forms_dir": forms_dir}), migrate=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORMS_DIR", str(forms_dir))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:" + "a" * 30)
    assert cli_main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert "hong.yaml" in err and "'x'" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_every_message_the_reports_code_names_is_in_the_catalog() -> None:
    root = Path(__file__).resolve().parent.parent
    handler = (root / "handlers" / "reports.py").read_text(encoding="utf-8")
    keys = set(re.findall(r'"(reports\.[a-z_.]+[a-z_])"', handler))
    forms_source = (root / "domain" / "forms.py").read_text(encoding="utf-8")
    keys |= {f"reports.invalid.{r}" for r in re.findall(r'AnswerError\("([a-z_]+)"', forms_source)}
    keys |= {f"reports.invalid.date_{r}" for r in ("empty", "format", "day_range")}
    keys |= {f"reports.invalid.date_{r}" for r in ("month_range", "year_range")}
    keys |= {f"reports.file.{r}" for r in ("too_big", "empty", "wrong_type", "download_failed")}
    keys |= {f"status.{s.value}" for s in UnitStatus}
    keys |= {"reports.closed", "reports.accepted", "help.baocao", "help.mobaocao"}
    missing = sorted(k for k in keys if not has(k))
    assert len(keys) > 60 and missing == []
