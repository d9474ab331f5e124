"""The console's first contact: on an empty database, offer demo data (`:demo`).

Runs in a worker thread (it imports a unit list and writes a campaign), never on the event loop.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.catalog import t
from bot.channels.console import ConsoleChannel
from bot.channels.text import html_to_plain
from bot.clock import Clock
from bot.settings import Settings
from domain.demo import DemoRefused, is_empty, load_demo

SAMPLE_UNITS = Path(__file__).resolve().parent.parent / "samples" / "don-vi-tam-duong.csv"
OFFICER_NAME = "Lò Văn Tâm"


def demo_offer(engine: Engine) -> str:
    """What the console says after its greeting: the demo offer on an empty database."""
    with Session(engine) as session:
        return html_to_plain(t("demo.offer")) if is_empty(session) else ""


def load_console_demo(
    engine: Engine, channel: ConsoleChannel, *, settings: Settings, clock: Clock
) -> str:
    officer_id = "2" if channel.user_id != "2" else "3"
    with Session(engine, expire_on_commit=False) as session:
        try:
            demo = load_demo(
                session,
                units_csv=SAMPLE_UNITS.read_bytes(),
                channel=channel.name,
                admin_id=channel.user_id,
                admin_name=channel.display_name,
                officer_id=officer_id,
                officer_name=OFFICER_NAME,
                now=clock.now(),
                zone=settings.tz,
            )
        except DemoRefused:
            return html_to_plain(t("demo.refused"))
        session.commit()
    channel.known_names[officer_id] = OFFICER_NAME
    return html_to_plain(
        t(
            "demo.loaded",
            units=demo.units,
            campaign=demo.campaign.document_number,
            admin=channel.display_name,
            admin_id=channel.user_id,
            officer=OFFICER_NAME,
            officer_id=officer_id,
            unit=demo.officer_unit.name,
        )
    )
