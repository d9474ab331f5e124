"""Benchmark: the Excel export (/xuat, `thidua-bot export`) of a campaign with many units.
Prints figures; it is not a test.

    uv run python bench/export.py --units 15000
    uv run python bench/export.py --units 15000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Builds a fresh database (a temporary SQLite file, or a fresh schema in the PostgreSQL database
given, dropped afterwards) with N active units, one approved officer each (name and phone), a
campaign taking in every unit, one deadline on the achievement-report form
(forms/bao-cao-thanh-tich.yaml), and a submitted report with a full set of answers — two
"mô hình" entries each — from 80 % of the units. Then times `domain.export.export_campaign`
(reading, building the workbook, writing the XLSX), the same function /xuat runs in a worker
thread, and prints the wall-clock and CPU seconds (CPU is the fair figure on a loaded
machine), the file's size and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.seed import add_campaign, insert_reports, insert_units  # noqa: E402
from bot.catalog import t  # noqa: E402
from bot.db import create_db_engine, upgrade  # noqa: E402
from domain.export import ExportTexts, export_campaign  # noqa: E402
from domain.forms import DEFAULT_FORMS_DIR, load_forms  # noqa: E402
from models.campaigns import Campaign, Deadline, DeadlineKind  # noqa: E402
from models.units import Member, MemberStatus, Role  # noqa: E402

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ANSWERS = {
    "ket_qua": "Thu ngân sách đạt 105% kế hoạch; giảm 2,3% hộ nghèo; 12/12 thôn đạt chuẩn văn hoá",
    "tong_chi_tieu": 12,
    "chi_tieu_dat": 11,
    "xep_loai": "Hoàn thành tốt nhiệm vụ",
    "kinh_phi": "1250.5",
    "mo_hinh": [
        {
            "ten": "Mô hình trồng chè VietGAP thôn Nà Khum",
            "mo_ta": "15 hộ tham gia, năng suất +20%",
        },
        {"ten": "Gương điển hình Lò Văn Tâm", "mo_ta": "Dẫn đầu phong trào chuyển đổi số"},
    ],
    "han_che": "Tiến độ giải ngân vốn chậm do thiếu mặt bằng",
    "ngay_bao_cao": "2026-06-20",
}


def populate(engine: sa.Engine, units: int) -> Campaign:
    """The campaign, its units, officers and reports, inserted in bulk."""
    with Session(engine, expire_on_commit=False) as session:
        campaign = add_campaign(session, at=T0)
        deadline = Deadline(
            campaign_id=campaign.id,
            kind=DeadlineKind.FINAL,
            title="Báo cáo thành tích",
            due_at=T0 + timedelta(days=14),
            form_code="bao-cao-thanh-tich",
            reminder_policy={},
            created_at=T0,
            updated_at=T0,
        )
        session.add(deadline)
        session.flush()
        ids = insert_units(session, units, at=T0)
        session.execute(
            sa.insert(Member),
            [
                {
                    "channel": "telegram",
                    "user_id": str(10_000 + uid),
                    "chat_id": str(10_000 + uid),
                    "display_name": f"Cán bộ Lò Văn {uid}",
                    "phone": f"09{uid:08d}",
                    "role": Role.OFFICER,
                    "unit_id": uid,
                    "status": MemberStatus.APPROVED,
                    "created_at": T0,
                    "updated_at": T0,
                }
                for uid in ids
            ],
        )
        insert_reports(session, [deadline.id], ids, answers=ANSWERS, at=T0)
        session.commit()
        return campaign


def run(units: int, database_url: str | None) -> dict[str, object]:
    schema = None
    if database_url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(database_url).begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine = create_db_engine(database_url, schema=schema)
        work = None
    else:
        work = tempfile.TemporaryDirectory()
        engine = create_db_engine(f"sqlite:///{work.name}/thidua.db")
    try:
        upgrade(engine)
        started = time.perf_counter()
        campaign = populate(engine, units)
        populated = time.perf_counter() - started
        forms = load_forms(DEFAULT_FORMS_DIR)
        import openpyxl  # noqa: F401  (loaded once per process, not per export: 1–2 s cold)

        started, cpu = time.perf_counter(), time.process_time()
        with Session(engine) as session:
            data = export_campaign(
                campaign,
                session=session,
                forms=forms,
                texts=ExportTexts.from_catalog(t),
                default_zone=ZoneInfo("Asia/Ho_Chi_Minh"),
                now=datetime.now(UTC),  # the title row and the statuses, as /xuat writes them
            )
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        engine.dispose()
        if schema and database_url:
            with sa.create_engine(database_url).begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        if work is not None:
            work.cleanup()
    return {
        "units": units,
        "database": "postgresql" if database_url else "sqlite",
        "export_seconds": round(seconds, 2),
        # CPU time of this process: the fair figure on a machine others load too.
        "export_cpu_seconds": round(cpu, 2),
        "populate_seconds": round(populated, 2),
        "xlsx_bytes": len(data),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=15_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--json", action="store_true", help="one JSON line of figures")
    args = parser.parse_args()
    figures = run(args.units, args.database_url)
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"export of {figures['units']:,} units ({figures['database']}): "
        f"{figures['export_seconds']} s ({figures['export_cpu_seconds']} s CPU), "
        f"{figures['xlsx_bytes']:,} bytes, "
        f"peak RSS {figures['peak_rss_mb']} MB (database filled in {figures['populate_seconds']} s)"
    )


if __name__ == "__main__":
    main()
