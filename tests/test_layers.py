"""The layers stay apart: domain/ never imports bot/ (nor handlers/), and nothing in bot/ but the
composition root (bot/runtime.py) imports handlers/. Read from the source with `ast`, so a
lazy import inside a function counts as much as one at the top of a module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSITION_ROOT = Path("bot/runtime.py")


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def offending(package: str, forbidden: tuple[str, ...], allowed: set[Path]) -> list[str]:
    problems = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative in allowed:
            continue
        for line, module in imports_of(path):
            if module.split(".")[0] in forbidden:
                problems.append(f"{relative}:{line} imports {module}")
    return problems


def test_domain_imports_neither_bot_nor_handlers() -> None:
    assert offending("domain", ("bot", "handlers"), set()) == []


def test_only_the_composition_root_of_bot_imports_handlers() -> None:
    assert offending("bot", ("handlers",), {COMPOSITION_ROOT}) == []


@pytest.mark.parametrize("source", ["from bot.hub import Hub\n", "import handlers.units\n"])
def test_the_check_sees_an_offending_import(tmp_path: Path, source: str) -> None:
    module = tmp_path / "offender.py"
    module.write_text(f"def late():\n    {source}")
    assert [name.split(".")[0] for _, name in imports_of(module)] in (["bot"], ["handlers"])


def test_domain_functions_take_the_session_first_or_keyword_only() -> None:
    """DEVELOPERS.md: a domain function takes `session: Session` as its first parameter or
    keyword-only, never in the middle of its positional parameters."""
    problems = []
    for path in sorted((ROOT / "domain").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            positional = [a.arg for a in node.args.posonlyargs + node.args.args]
            if positional[:1] in (["self"], ["cls"]):
                positional = positional[1:]
            if "session" in positional[1:]:
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert problems == []


# --- `# type: ignore` says which error and why --------------------------------------------------
CHECKED_PACKAGES = ("bot", "handlers", "domain", "models")  # what mypy checks (pyproject.toml)
_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<code>\[[^\]]*\])?(?P<rest>.*)$")


def unexplained_ignores(source: str) -> list[int]:
    """Lines whose `# type: ignore` lacks an error code or a `  # reason` after it."""
    lines = []
    for number, line in enumerate(source.splitlines(), start=1):
        found = _IGNORE.search(line)
        if found and (not found["code"] or not re.match(r"\s+#\s*\S", found["rest"])):
            lines.append(number)
    return lines


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in CHECKED_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in unexplained_ignores(path.read_text(encoding="utf-8"))
    ]
    assert problems == [], "add the reason: `# type: ignore[code]  # why`"


def test_the_ignore_check_sees_a_bare_or_unexplained_ignore() -> None:
    source = "\n".join(
        [
            "a = f()  # type: ignore",
            "b = g()  # type: ignore[arg-type]",
            "c = h()  # type: ignore[arg-type]  # a stored row: its id is set",
        ]
    )
    assert unexplained_ignores(source) == [1, 2]


# --- status values are StrEnums -------------------------------------------------------------------
def test_every_status_of_the_models_is_a_str_enum() -> None:
    """A row's status is one of a closed set (DEVELOPERS.md): `class XStatus(StrEnum)` in
    models/, never a plain class of string constants or a bare literal."""
    import importlib
    import inspect
    from enum import StrEnum

    plain = []
    for path in sorted((ROOT / "models").glob("*.py")):
        module = importlib.import_module(f"models.{path.stem}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and value.__module__ == module.__name__
                and name.endswith("Status")
                and not issubclass(value, StrEnum)
            ):
                plain.append(f"models/{path.name}: {name}")
    assert plain == []


# --- tests share data through tests/utils, not through each other ---------------------------------
def test_no_test_module_imports_another() -> None:
    """Shared set-ups and helpers live in tests/utils (or tests/data): a test module that
    imports another drags in its fixtures and breaks when that file is reorganised."""
    problems = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for folder in ("tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, module in imports_of(path)
        if module.startswith("tests.test_")
    ]
    assert problems == []
