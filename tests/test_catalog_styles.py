"""Texts worded for the way people choose: pressing buttons (Telegram) or typing a number."""

from __future__ import annotations

import string

from bot import catalog
from bot.catalog import load_catalog, t


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_a_typed_channel_gets_the_typed_variant_and_others_the_original() -> None:
    assert "bấm" in t("reports.optional")
    with catalog.style(catalog.TYPED):
        assert t("reports.optional") == "Không bắt buộc — gõ /boqua để bỏ qua."
        # A key without a variant is the same everywhere.
        assert t("core.not_understood") == load_catalog()["core.not_understood"]
    assert "bấm" in t("reports.optional")  # the style ends with the block


def test_every_typed_variant_replaces_an_existing_key_with_the_same_placeholders() -> None:
    entries = load_catalog()
    variants = {k.removesuffix("@typed"): v for k, v in entries.items() if k.endswith("@typed")}
    assert variants, "the typed variants file was not read"
    for key, text in variants.items():
        assert _fields(text) == _fields(entries[key]), key
        assert "bấm" not in text.lower(), key


def test_variants_apply_most_specific_first_and_fall_back_one_by_one() -> None:
    with catalog.style(catalog.NO_FILES, catalog.TYPED):
        assert "trang quản lý" in t("units.import.need_file")  # the no-files variant
        assert t("reports.optional") == "Không bắt buộc — gõ /boqua để bỏ qua."  # typed only
        assert "bấm" not in t("reports.invalid.not_yes_no")


def test_every_no_files_variant_replaces_an_existing_key_and_names_another_way_in() -> None:
    entries = load_catalog()
    variants = {k.removesuffix("@nofiles"): v for k, v in entries.items() if k.endswith("@nofiles")}
    assert variants, "the no-files variants file was not read"
    for key, text in variants.items():
        assert key in entries
        assert _fields(text) <= _fields(entries[key]), key  # never a placeholder nobody fills
        assert "Telegram" in text or "/web" in text or "ảnh" in text, key
