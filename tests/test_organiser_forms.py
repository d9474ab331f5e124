"""An organiser's own report forms: commune An Bình keeps its version of «Báo cáo thành tích» in
forms/CQ-ANBINH/, checked at start-up like the default ones. A deadline An Bình's admin adds
(/hanmoi) asks its villages An Bình's version; the province's deadlines keep the default one;
what does not depend on the version (the Word template, the form's name) stays the same."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from domain.dossier import COLLECTIVE_TEMPLATE, template_of
from domain.forms import DEFAULT_FORMS_DIR, FormError, form_for_organiser, load_forms
from domain.organisers import grant_admin
from models.campaigns import Deadline
from models.organisers import DEFAULT_ORGANISER_ID, Organiser
from models.units import Role
from tests.utils.factories import T0, make_campaign, make_member, make_organiser, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import TestBot

DEFAULT_PROMPT = "Tóm tắt kết quả đơn vị đạt được so với các chỉ tiêu của kế hoạch thi đua."
OWN_PROMPT = "Thôn tóm tắt kết quả so với chỉ tiêu xã An Bình giao."


def _forms_with_own(tmp_path: Path, text: str | None = None) -> Path:
    folder = tmp_path / "forms"
    shutil.copytree(DEFAULT_FORMS_DIR, folder)
    (folder / "CQ-ANBINH").mkdir()
    source = (folder / "bao-cao-thanh-tich.yaml").read_text(encoding="utf-8")
    assert DEFAULT_PROMPT in source
    own = text if text is not None else source.replace(DEFAULT_PROMPT, OWN_PROMPT)
    (folder / "CQ-ANBINH" / "bao-cao-thanh-tich.yaml").write_text(own, encoding="utf-8")
    return folder


def test_own_forms_are_loaded_beside_the_defaults_and_chosen_per_organiser(
    tmp_path: Path,
) -> None:
    forms = load_forms(_forms_with_own(tmp_path))
    own = forms["CQ-ANBINH/bao-cao-thanh-tich"]
    assert own.code == "CQ-ANBINH/bao-cao-thanh-tich"
    assert own.fields[0].prompt == OWN_PROMPT
    assert forms["bao-cao-thanh-tich"].fields[0].prompt == DEFAULT_PROMPT
    assert form_for_organiser(forms, "CQ-ANBINH", "bao-cao-thanh-tich") == own.code
    assert form_for_organiser(forms, "CQ-ANBINH", "dang-ky-thi-dua") == "dang-ky-thi-dua"
    assert form_for_organiser(forms, "CQ-BACSON", "bao-cao-thanh-tich") == "bao-cao-thanh-tich"
    deadline = Deadline(campaign_id=1, title="x", due_at=T0, form_code=own.code)
    assert template_of(deadline) == COLLECTIVE_TEMPLATE


def test_a_broken_own_form_stops_start_up_naming_the_file(tmp_path: Path) -> None:
    folder = _forms_with_own(tmp_path, "code: bao-cao-thanh-tich\ntitle: x\nfields: []\n")
    with pytest.raises(FormError) as raised:
        load_forms(folder)
    assert "CQ-ANBINH" in str(raised.value)
    unknown = (DEFAULT_FORMS_DIR / "bao-cao-thanh-tich.yaml").read_text(encoding="utf-8")
    unknown = unknown.replace("code: bao-cao-thanh-tich", "code: mau-khong-co")
    folder = _forms_with_own(tmp_path / "2", unknown)
    with pytest.raises(FormError, match="mau-khong-co"):
        load_forms(folder)


async def test_a_communes_deadline_asks_its_villages_the_communes_own_form(
    bot: TestBot, tmp_path: Path
) -> None:
    bot.core.services.forms = load_forms(_forms_with_own(tmp_path))
    with bot.db() as db:
        top = db.get(Organiser, DEFAULT_ORGANISER_ID)
        xa = make_unit(db, "Xã An Bình", code="XA-ANBINH")
        an_binh = make_organiser(db, "UBND xã An Bình", code="CQ-ANBINH", parent=top, unit=xa)
        village = make_unit(db, "Thôn Nà Hiềng", code="T01", kind="thon", organiser=an_binh)
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN)
        hai = make_member(db, "201", unit=xa, name="Lò Văn Hải")
        grant_admin(hai, an_binh, by=None, now=T0, session=db)
        make_member(db, "301", unit=village, name="Hoàng Văn Thôn")
        make_campaign(db, number="5/KH-UBND", organiser=an_binh)
        make_campaign(db, number="12/KH-SNV")
        db.commit()
    for user, number in (("201", "5/KH-UBND"), (ADMIN_USER_ID, "12/KH-SNV")):
        admin = bot.person(user)
        await admin.says("/hanmoi")
        await admin.presses(number)
        await admin.presses("Báo cáo sơ kết")
        await admin.presses("Dùng «Báo cáo sơ kết»")
        await admin.says("16 tháng 3 năm 2026")
        await admin.presses("17:00")
        await admin.presses("Báo cáo thành tích")
        await admin.presses("Dùng lịch mặc định")
        await admin.presses("Lưu")
        assert "Đã thêm hạn nộp Báo cáo sơ kết" in admin.last_reply
    with bot.db() as db:
        codes = [d.form_code for d in db.exec(select(Deadline).order_by(Deadline.id)).all()]
    assert codes == ["CQ-ANBINH/bao-cao-thanh-tich", "bao-cao-thanh-tich"]
    officer = bot.person("301", "Hoàng Văn Thôn")
    await officer.says("/hanchot")
    assert "Báo cáo thành tích" in officer.new_text  # the form's name, whichever version
    assert "CQ-ANBINH/" not in officer.new_text
    await officer.says("/baocao")
    assert OWN_PROMPT in officer.new_text and DEFAULT_PROMPT not in officer.new_text
