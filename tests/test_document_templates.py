"""Word templates are data an office may replace: a broken one stops start-up with the file and
the name, like a broken form; a good one renders every declared variable."""

from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest
from sqlalchemy.engine import Engine

from bot import cli
from bot.runtime import build_core
from bot.settings import Settings
from domain.documents import (
    DEFAULT_TEMPLATES_DIR,
    TemplateError,
    date_parts,
    render,
    validate_templates,
)


def office_copy(tmp_path: Path) -> Path:
    """The shipped templates copied where a test may break one, as an office would."""
    folder = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES_DIR, folder, ignore=shutil.ignore_patterns("*.py"))
    return folder


def replace_text(path: Path, old: str, new: str) -> None:
    """Edit a template the way Word would: change a paragraph's text and save."""
    document = docx.Document(str(path))
    for paragraph in document.paragraphs:
        if old in paragraph.text:
            for run in paragraph.runs:
                run.text = run.text.replace(old, new)
            document.save(str(path))
            return
    raise AssertionError(f"{old!r} not in {path.name}")


def test_the_shipped_templates_are_valid_and_declared() -> None:
    manifest = validate_templates()
    assert set(manifest) == {
        "bao-cao-thanh-tich-tap-the.docx",
        "bao-cao-thanh-tich-ca-nhan.docx",
        "danh-sach-de-nghi.docx",
        "to-trinh.docx",
        "bien-ban-hop-hoi-dong.docx",
    }


def test_a_template_with_a_syntax_error_stops_start_up_naming_the_file(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    folder = office_copy(tmp_path)
    replace_text(
        folder / "to-trinh.docx", "Kính gửi: {{ recipient }}", "Kính gửi: {% if recipient %}"
    )
    settings.templates_dir = folder
    with pytest.raises(TemplateError) as error:
        build_core(settings, engine=engine, migrate=False)
    assert "to-trinh.docx" in str(error.value) and "sai cú pháp" in str(error.value)


def test_an_undeclared_variable_stops_start_up_naming_the_file_and_the_variable(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    folder = office_copy(tmp_path)
    replace_text(
        folder / "bao-cao-thanh-tich-tap-the.docx", "{{ duties }}", "{{ chuc_nang_nhiem_vu }}"
    )
    settings.templates_dir = folder
    with pytest.raises(TemplateError) as error:
        build_core(settings, engine=engine, migrate=False)
    message = str(error.value)
    assert "bao-cao-thanh-tich-tap-the.docx" in message and "'chuc_nang_nhiem_vu'" in message


def test_the_cli_prints_one_line_and_exits_2_on_a_broken_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = office_copy(tmp_path)
    (folder / "ban-moi.docx").write_bytes((folder / "to-trinh.docx").read_bytes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEMPLATES_DIR", str(folder))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert cli.main(["export", "--campaign", "1/KH", "--out", str(tmp_path / "x.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "ban-moi.docx" in err and "chưa khai báo trong templates.yaml" in err
    assert "Traceback" not in err


def test_a_missing_declared_template_file_is_refused(tmp_path: Path) -> None:
    folder = office_copy(tmp_path)
    (folder / "danh-sach-de-nghi.docx").unlink()
    with pytest.raises(TemplateError, match=r"danh-sach-de-nghi\.docx.*không có tệp"):
        validate_templates(folder)


def test_rendering_without_a_declared_value_names_it() -> None:
    with pytest.raises(TemplateError) as error:
        render("to-trinh.docx", {"campaign": "Đợt 1"})
    assert error.value.name is not None and error.value.name in str(error.value)


def test_the_date_line_follows_the_administrative_style() -> None:
    from datetime import date

    assert date_parts(date(2026, 2, 5)) == {"day": "05", "month": "02", "year": "2026"}
    assert date_parts(date(2026, 11, 20)) == {"day": "20", "month": "11", "year": "2026"}
    assert date_parts(None) == {"day": "…", "month": "…", "year": "…"}
