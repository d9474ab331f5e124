"""docs/reliability.md names, for each guarantee, the tests that prove it: every test it names
must exist, so the page cannot quietly point at a renamed or deleted test."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"(tests/[\w/]+\.py)?::(test_\w+)")


def test_every_test_named_in_the_reliability_page_exists() -> None:
    page = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    current: str | None = None
    named = []
    for match in REFERENCE.finditer(page):
        current = match.group(1) or current  # "::test_x" belongs to the file named before
        assert current is not None, match.group(0)
        named.append((current, match.group(2)))
    assert len(named) > 40
    for path, name in named:
        source = (REPO / path).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{path}::{name} not found"
