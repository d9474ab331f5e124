"""No text shown where choices are typed (Zalo, console) tells people to press: every catalog
text that says "bấm", "nút" or "nhấn" has a typed variant (`_go-so*.yaml`), and no variant in
force on those channels says it (issue 21)."""

from __future__ import annotations

import re

from bot import catalog
from bot.catalog import load_catalog

PRESS = re.compile(r"\b(bấm|nút|nhấn)\b", re.IGNORECASE)
# Texts that may say "bấm" without a typed variant, with the reason. None today: a text shown
# only on Telegram would go here.
BUTTONS_ONLY: dict[str, str] = {}
# Variants the style of a channel without buttons may choose (most specific first).
ON_TYPED_CHANNELS = (catalog.WEB_DESK, catalog.NO_FILES, catalog.TYPED)


def _originals() -> dict[str, str]:
    return {key: text for key, text in load_catalog().items() if "@" not in key}


def test_every_text_that_says_press_has_a_typed_variant() -> None:
    entries = load_catalog()
    missing = [
        key
        for key, text in _originals().items()
        if PRESS.search(text)
        and f"{key}@{catalog.TYPED}" not in entries
        and key not in BUTTONS_ONLY
    ]
    assert not missing, f"say how to choose by typing (bot/messages/vi/_go-so*.yaml): {missing}"


def test_the_buttons_only_list_names_texts_that_exist_and_say_press() -> None:
    originals = _originals()
    for key, reason in BUTTONS_ONLY.items():
        assert reason and key in originals and PRESS.search(originals[key]), key


def test_no_text_worded_for_a_channel_without_buttons_says_press() -> None:
    entries = load_catalog()
    pressing = []
    for key in _originals():
        chosen = next(
            (entries[f"{key}@{v}"] for v in ON_TYPED_CHANNELS if f"{key}@{v}" in entries), None
        )
        if chosen is not None and PRESS.search(chosen):
            pressing.append(key)
    assert not pressing, pressing


def test_typed_variants_may_come_from_a_feature_file_beside_the_main_one() -> None:
    folder = catalog.MESSAGES_DIR / catalog.DEFAULT_LANG
    files = [p.name for p in catalog.variant_files(folder, catalog.VARIANT_FILES[catalog.TYPED])]
    assert files[0] == "_go-so.yaml" and "_go-so-bo-sung.yaml" in files
    assert "bấm" in catalog.t("plans.need_value")
    with catalog.style(catalog.TYPED):
        assert "gõ số" in catalog.t("plans.need_value")
