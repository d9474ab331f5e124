"""The authorisation matrix: every command and every button prefix the router knows, tried by
an unregistered user, a pending member, an officer and an admin. What the role may not do gets
the refusal text and an audit line; what it may do never gets a refusal.

The matrix is built from the routing table itself, so a new command is covered the day it is
routed.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.access import Access
from bot.catalog import t
from bot.channels.text import html_to_plain
from handlers import build_router
from models.audit import AuditLog
from models.units import MemberStatus, Role
from tests.conftest import ADMIN_USER_ID
from tests.utils.factories import make_member, make_unit
from tests.utils.scenario import Person, TestBot

ROLES = ["unregistered", "pending", "officer", "admin"]
ALLOWED = {
    "unregistered": {Access.PUBLIC},
    "pending": {Access.PUBLIC},
    "officer": {Access.PUBLIC, Access.MEMBER, Access.OFFICER},
    "admin": {Access.PUBLIC, Access.MEMBER, Access.OFFICER, Access.ADMIN},
}
REFUSALS = {
    html_to_plain(t(k))
    for k in ("access.not_registered", "access.pending", "access.admin_only", "access.no_unit")
}

_router = build_router()
COMMANDS = sorted((name, route.access) for name, route in _router.commands.items())
BUTTONS = sorted((prefix, route.access) for prefix, route in _router.buttons.items())


@pytest.fixture
def people(bot: TestBot, session) -> dict[str, Person]:
    bot.core.flood.limit = 10_000  # the matrix sends hundreds of updates in a second
    unit = make_unit(session, "Xã Bình Lư", code="XA-BINHLU")
    make_member(session, "300", status=MemberStatus.PENDING)
    make_member(session, "400", unit=unit)
    make_member(session, ADMIN_USER_ID, role=Role.ADMIN, unit=unit)
    session.commit()
    return {
        "unregistered": bot.person("200"),
        "pending": bot.person("300"),
        "officer": bot.person("400"),
        "admin": bot.person(ADMIN_USER_ID),
    }


def _refused(person: Person, since: int) -> bool:
    return any(html_to_plain(m.text) in REFUSALS for m in person.messages[since:])


def _denials(bot: TestBot, person: Person) -> int:
    with bot.db() as db:
        rows = db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        return sum(1 for r in rows if r.actor.endswith(f":{person.user_id}"))


@pytest.mark.parametrize("role", ROLES)
async def test_every_command_obeys_its_access_level(
    bot: TestBot, people: dict[str, Person], role: str
) -> None:
    person = people[role]
    for name, access in COMMANDS:
        before, mark = _denials(bot, person), len(person.messages)
        await person.says(f"/{name}")
        await person.says("/huy")  # leave whatever flow the command began
        allowed = access in ALLOWED[role]
        assert _refused(person, mark) is not allowed, f"/{name} as {role}: {person.new_text!r}"
        assert (_denials(bot, person) > before) is not allowed, f"/{name} as {role}: audit"


@pytest.mark.parametrize("role", ROLES)
async def test_every_button_obeys_its_access_level(
    bot: TestBot, people: dict[str, Person], role: str
) -> None:
    person = people[role]
    for prefix, access in BUTTONS:
        before, mark = _denials(bot, person), len(person.messages)
        await person.presses_payload(f"{prefix}:999999")
        allowed = access in ALLOWED[role]
        assert _refused(person, mark) is not allowed, (
            f"button {prefix} as {role}: {person.new_text!r}"
        )
        assert (_denials(bot, person) > before) is not allowed, f"button {prefix} as {role}: audit"
        await person.says("/huy")
