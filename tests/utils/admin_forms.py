"""Small stand-ins for the report forms, for the admin tests.

They satisfy `domain.export.FormLike` / `FieldLike` (the contract of `domain.forms`: a form
has `.code`, `.title`, `.fields`; a field `.id`, `.type`, `.label`, `.fields`), so the admin
capability is tested without the forms module. `achievement_form()` is a report with one field
of each kind and a repeated group of nominations.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FakeField:
    id: str
    type: str
    label: str
    fields: tuple[FakeField, ...] = ()
    # (stored value, label shown) of a choice field, as the real forms have them.
    choices: tuple[tuple[str, str], ...] = ()

    def choice_label(self, value: object) -> str:
        return next((label for stored, label in self.choices if stored == value), str(value))


@dataclass(frozen=True)
class FakeForm:
    code: str
    title: str
    fields: tuple[FakeField, ...]


FORM_CODE = "bao-cao-thanh-tich"


def achievement_form() -> FakeForm:
    return FakeForm(
        code=FORM_CODE,
        title="Báo cáo thành tích",
        fields=(
            FakeField("so_phong_trao", "integer", "Số phong trào đã phát động"),
            FakeField("kinh_phi", "number", "Kinh phí (triệu đồng)"),
            FakeField("ngay_so_ket", "date", "Ngày sơ kết"),
            FakeField("tom_tat", "long_text", "Tóm tắt thành tích"),
            FakeField("hinh_thuc", "multi_choice", "Hình thức tổ chức"),
            FakeField("dat_chi_tieu", "yes_no", "Đạt chỉ tiêu"),
            FakeField("tep_bao_cao", "file", "Tệp báo cáo"),
            FakeField(
                "de_nghi",
                "group",
                "Đề nghị khen thưởng",
                (
                    FakeField("ho_ten", "short_text", "Họ và tên"),
                    FakeField(
                        "hinh_thuc_kt",
                        "choice",
                        "Hình thức khen thưởng",
                        choices=(("giay-khen", "Giấy khen"), ("bang-khen", "Bằng khen")),
                    ),
                    FakeField("ngay_sinh", "date", "Ngày sinh"),
                ),
            ),
        ),
    )


def forms() -> dict[str, FakeForm]:
    form = achievement_form()
    return {form.code: form}


def answers(
    *,
    campaigns: int = 3,
    money: str = "12.5",
    day: str = "2026-03-10",
    summary: str = "Tổ chức tốt phong trào “Dân vận khéo”",
    kinds: list[str] | None = None,
    reached: bool = True,
    file: dict[str, object] | None = None,
    nominations: list[dict[str, object]] | None = None,
) -> dict[str, object]:
    """A filled answer set as the reports capability stores it."""
    return {
        "so_phong_trao": campaigns,
        "kinh_phi": money,
        "ngay_so_ket": day,
        "tom_tat": summary,
        "hinh_thuc": kinds if kinds is not None else ["Hội nghị", "Trực tuyến"],
        "dat_chi_tieu": reached,
        "tep_bao_cao": file,
        "de_nghi": nominations if nominations is not None else [],
    }
