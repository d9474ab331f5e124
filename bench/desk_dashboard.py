"""Benchmark: the web desk's campaign dashboard (the units × deadlines matrix with the
"thiếu bản ký" cells, the focus deadline's bars) for a campaign of many units.
Prints figures; it is not a test.

    uv run python bench/desk_dashboard.py --units 2000
    uv run python bench/desk_dashboard.py --units 2000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Builds a fresh database (a temporary SQLite file, or a fresh schema in the PostgreSQL database
given, dropped afterwards) with N active units in 12 blocs, an admin, an active campaign taking
in every unit and three deadlines: a registration (no Word template) and two achievement
reports (printed from a template, so each handed-in report waits for its signed scan). 80 % of
the units hand in each deadline; half of the printed reports have a signed scan sent for the
version handed in. Then asks the desk's app for `GET /campaigns/<id>` (through httpx's ASGI
transport, logged in with a session cookie) `--repeat` times and prints the median wall-clock
and CPU time of one page, the statements it ran, and the page's size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, col  # noqa: E402

from bench.seed import add_campaign, insert_reports, insert_units  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.db import create_db_engine, upgrade  # noqa: E402
from bot.runtime import build_core  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web.app import build_app  # noqa: E402
from bot.web.desk import COOKIE, Desk  # noqa: E402
from bot.web.keys import serializer  # noqa: E402
from models.campaigns import Deadline, DeadlineKind  # noqa: E402
from models.organisers import OrganiserMember, OrganiserRole  # noqa: E402
from models.reports import Attachment, Report  # noqa: E402
from models.units import Member, MemberStatus, Role  # noqa: E402

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ANSWERS = {"ket_qua": "Thu ngân sách đạt 105% kế hoạch", "xep_loai": "Hoàn thành tốt nhiệm vụ"}
DEADLINES = (
    ("Đăng ký thi đua", "dang-ky-thi-dua", DeadlineKind.REGISTRATION),
    ("Báo cáo sơ kết", "bao-cao-thanh-tich", DeadlineKind.PRELIMINARY),
    ("Báo cáo thành tích", "bao-cao-thanh-tich", DeadlineKind.FINAL),
)


def populate(engine: sa.Engine, units: int) -> tuple[int, int]:
    """The campaign, its units, reports and scans, inserted in bulk; (campaign id, admin id)."""
    with Session(engine, expire_on_commit=False) as session:
        campaign = add_campaign(session, at=T0)
        admin = Member(
            channel="memory",
            user_id="1",
            chat_id="1",
            display_name="Văn phòng",
            role=Role.ADMIN,
            status=MemberStatus.APPROVED,
            created_at=T0,
            updated_at=T0,
        )
        session.add(admin)
        session.flush()
        session.add(
            OrganiserMember(
                member_id=admin.id, organiser_id=1, role=OrganiserRole.ADMIN, created_at=T0
            )
        )
        deadlines = []
        for n, (title, form, kind) in enumerate(DEADLINES):
            deadline = Deadline(
                campaign_id=campaign.id,
                kind=kind,
                title=title,
                due_at=T0 + timedelta(days=14 * (n + 1)),
                form_code=form,
                reminder_policy={},
                created_at=T0,
                updated_at=T0,
            )
            session.add(deadline)
            deadlines.append(deadline)
        session.flush()
        ids = insert_units(session, units, at=T0)
        submitted_at = insert_reports(
            session, [d.id for d in deadlines], ids, answers=ANSWERS, at=T0
        )
        printed = [d.id for d in deadlines if d.form_code == "bao-cao-thanh-tich"]
        reports = session.execute(
            sa.select(Report.id).where(col(Report.deadline_id).in_(printed))  # type: ignore[call-overload]
        ).scalars()
        session.execute(
            sa.insert(Attachment),
            [
                {
                    "report_id": report_id,
                    "field_id": "ban_ky",
                    "channel": "telegram",
                    "file_id": f"scan-{report_id}",
                    "file_name": "ban-ky.pdf",
                    "mime_type": "application/pdf",
                    "created_at": submitted_at,
                    "meta": {"version": 1},
                }
                for report_id in reports
                if report_id % 2
            ],
        )
        session.commit()
        return campaign.id or 0, admin.id or 0


async def time_pages(
    engine: sa.Engine, storage: Path, campaign_id: int, admin_id: int, repeat: int
):  # type: ignore[no-untyped-def]
    settings = Settings(
        _env_file=None,
        admin_ids=["memory:1"],
        storage_dir=storage,
        database_url="sqlite:///unused.db",
    )
    clock = ManualClock(T0 + timedelta(days=20))
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    desk = Desk(core)
    app = build_app([], engine=engine, desk=desk)
    cookie = serializer(settings, "session").dumps(
        {"m": admin_id, "g": 0, "e": int((clock.now() + timedelta(hours=1)).timestamp()), "c": "x"}
    )
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    walls, cpus, counts, size = [], [], [], 0
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://desk") as client:
        client.cookies.set(COOKIE, cookie)
        for _ in range(repeat):
            statements.clear()
            started, cpu = time.perf_counter(), time.process_time()
            page = await client.get(f"/campaigns/{campaign_id}")
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            counts.append(len(statements))
            if page.status_code != 200:
                raise SystemExit(f"the dashboard answered {page.status_code}")
            size = len(page.content)
    return statistics.median(walls), statistics.median(cpus), max(counts), size


def run(units: int, database_url: str | None, repeat: int) -> dict[str, object]:
    schema = None
    work = tempfile.TemporaryDirectory()
    if database_url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(database_url).begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine = create_db_engine(database_url, schema=schema)
    else:
        engine = create_db_engine(f"sqlite:///{work.name}/thidua.db")
    try:
        upgrade(engine)
        campaign_id, admin_id = populate(engine, units)
        wall, cpu, statements, size = asyncio.run(
            time_pages(engine, Path(work.name) / "files", campaign_id, admin_id, repeat)
        )
    finally:
        engine.dispose()
        if schema and database_url:
            with sa.create_engine(database_url).begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        work.cleanup()
    return {
        "units": units,
        "database": "postgresql" if database_url else "sqlite",
        "page_seconds": round(wall, 3),
        # CPU time of this process: the fair figure on a machine others load too.
        "page_cpu_seconds": round(cpu, 3),
        "statements": statements,
        "page_bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--json", action="store_true", help="one JSON line of figures")
    args = parser.parse_args()
    figures = run(args.units, args.database_url, args.repeat)
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"dashboard of {figures['units']:,} units × {len(DEADLINES)} deadlines "
        f"({figures['database']}): {figures['page_seconds']} s "
        f"({figures['page_cpu_seconds']} s CPU), {figures['statements']} statements, "
        f"{figures['page_bytes']:,} bytes"
    )


if __name__ == "__main__":
    main()
