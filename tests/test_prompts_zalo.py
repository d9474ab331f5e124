"""Form prompts fit the channel (issue 21): the registration form, filled over the Zalo
stand-in, never tells the officer to press ("bấm") — Zalo has no buttons, choices are typed
numbers — while Telegram keeps the button wording; the catalog chooses, no handler asks."""

from __future__ import annotations

from bot import catalog
from domain.forms import Field
from models.campaigns import DeadlineKind
from tests.fakes.zalo_api import FakeZalo
from tests.utils.http import choosing, saying, seed_officer, until

OFFICER = "6ede9afa66b88fe6d6a9"


async def test_no_prompt_of_the_registration_form_says_press_on_zalo(
    zalo_api: FakeZalo, zalo_bot, engine
) -> None:
    _, core = zalo_bot
    core.flood.limit = 10_000
    seed_officer(
        engine,
        OFFICER,
        channel="zalo",
        title="Đăng ký thi đua năm 2026",
        kind=DeadlineKind.REGISTRATION,
        form_code="dang-ky-thi-dua",
    )
    api = zalo_api

    say, choose = saying(api, OFFICER), choosing(api, OFFICER)

    await until(api, OFFICER, "Câu 1/", say("/baocao"))
    await until(api, OFFICER, "Câu 2/", choose("Tập thể lao động tiên tiến"))
    await until(api, OFFICER, "Câu 3/", say("25"))
    movements = await until(api, OFFICER, "Câu 4/", say("3"))
    assert "phong trào" in movements.text
    await until(api, OFFICER, "Câu 4/", choose("chuyển đổi số"))
    await until(api, OFFICER, "Câu 5/", choose("Xong"))
    await until(api, OFFICER, "Câu 6/", say("Giảm 2% hộ nghèo; thu ngân sách vượt 5%"))
    await until(api, OFFICER, "Câu 7/", choose("Có"))
    await until(api, OFFICER, "Xem lại", say("/boqua"))
    texts = api.texts(OFFICER)
    assert not [text for text in texts if "bấm" in text.lower()]
    assert "gõ số" in movements.text.lower()  # how to choose, in Zalo's words


def test_a_prompt_written_for_buttons_has_its_typed_variant_chosen_by_the_catalog() -> None:
    field = Field("pt", "multi_choice", "P", "Bấm để chọn", prompt_typed="Gõ số để chọn")
    variants = {catalog.TYPED: field.prompt_typed}
    assert catalog.pick(field.prompt, variants) == "Bấm để chọn"
    with catalog.style(catalog.NO_FILES, catalog.TYPED):
        assert catalog.pick(field.prompt, variants) == "Gõ số để chọn"
        assert catalog.pick("Hỏi", {catalog.TYPED: ""}) == "Hỏi"  # no variant: the original
