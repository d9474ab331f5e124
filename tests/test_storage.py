"""Uploaded files: the type is read from the bytes, the size is bounded, and a stored file gets a
generated name under STORAGE_DIR — never a name or path the user chose."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.storage import MAX_FILE_BYTES, FileRejected, check_and_store, detect_kind, display_name
from domain.forms import FILE_KINDS
from tests.utils.files import DOCX, JPG, PDF, PNG, XLSX, office_package


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (PDF, "pdf"),
        (PNG, "png"),
        (JPG, "jpg"),
        (DOCX, "docx"),
        (XLSX, "xlsx"),
        (b"MZ\x90\x00 an exe", None),
        (b"plain text pretending to be a pdf", None),
        (office_package("other/thing.xml"), None),
        (b"PK\x03\x04 broken zip", None),
        (b"\xd0\xcf\x11\xe0 old .doc", None),
    ],
)
def test_the_kind_is_read_from_the_bytes(content: bytes, kind: str | None) -> None:
    assert detect_kind(content) == kind


def test_a_file_is_stored_under_a_generated_name_with_its_hash(tmp_path: Path) -> None:
    stored = check_and_store(PDF, storage_dir=tmp_path, accept=FILE_KINDS)
    digest = hashlib.sha256(PDF).hexdigest()
    assert stored.sha256 == digest and stored.kind == "pdf"
    assert stored.stored_path == f"{digest[:2]}/{digest}.pdf"
    assert (tmp_path / stored.stored_path).read_bytes() == PDF
    # The same bytes again: the same file, written once.
    again = check_and_store(PDF, storage_dir=tmp_path, accept=FILE_KINDS)
    assert again.stored_path == stored.stored_path
    assert len(list(tmp_path.rglob("*.pdf"))) == 1


def test_a_user_file_name_never_reaches_the_disk() -> None:
    assert display_name("../../etc/passwd.pdf", "pdf") == "_.._etc_passwd.pdf"
    assert display_name(None, "png") == "tep.png"
    assert display_name("  Báo cáo   tháng 3.pdf ", "pdf") == "Báo cáo tháng 3.pdf"


def test_wrong_type_too_big_and_empty_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileRejected) as error:
        check_and_store(b"MZ\x90\x00", storage_dir=tmp_path, accept=FILE_KINDS)
    assert error.value.reason == "wrong_type"
    with pytest.raises(FileRejected) as error:
        check_and_store(DOCX, storage_dir=tmp_path, accept=("pdf", "jpg", "png"))
    assert error.value.reason == "wrong_type"
    with pytest.raises(FileRejected) as error:
        check_and_store(PDF + b"\x00" * MAX_FILE_BYTES, storage_dir=tmp_path, accept=FILE_KINDS)
    assert error.value.reason == "too_big"
    with pytest.raises(FileRejected) as error:
        check_and_store(b"", storage_dir=tmp_path, accept=FILE_KINDS)
    assert error.value.reason == "empty"
    assert not any(tmp_path.rglob("*.*"))
