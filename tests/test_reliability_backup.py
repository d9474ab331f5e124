"""The restore procedure of docs/reliability.md (and README, "Sao lưu và khôi phục"), step by
step: `thidua-bot backup` while the bot writes, later changes, then restore — stop the bot, set
the current files aside, remove the write-ahead log, put the copy in place, `db upgrade` — and
every report of the backup is there, intact, and nothing written after it.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot import cli
from bot.db import create_db_engine, upgrade
from models.reports import Report
from tests.utils.factories import make_campaign, make_deadline, make_report, make_unit


def _answers(path: Path) -> list[str]:
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as db:
            return sorted(r.answers["ket_qua"] for r in db.exec(select(Report)).all())
    finally:
        engine.dispose()


def test_a_backup_taken_while_the_bot_writes_restores_every_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "data" / "thidua.db"
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{live}")
    engine = create_db_engine(f"sqlite:///{live}")
    upgrade(engine)
    with Session(engine) as db:
        deadline = make_deadline(db, make_campaign(db))
        for n in range(40):
            make_report(db, make_unit(db), deadline, answers={"ket_qua": f"Báo cáo {n}"})
        db.commit()
        deadline_id = deadline.id
    # The bot is running: its connection holds recent writes in the WAL, and a transaction is
    # open when the backup starts.
    busy = sqlite3.connect(live, isolation_level=None)
    busy.execute("BEGIN IMMEDIATE")
    busy.execute("UPDATE unit SET bloc = bloc")
    try:
        assert cli.main(["backup", "--out", str(tmp_path / "backup" / "thidua-ngay.db")]) == 0
    finally:
        busy.execute("ROLLBACK")
        busy.close()
        logging.getLogger().handlers.clear()
    assert "Đã sao lưu" in capsys.readouterr().out
    # After the backup the bot goes on writing.
    with Session(engine) as db:
        deadline = db.get(type(deadline), deadline_id)
        make_report(db, make_unit(db), deadline, answers={"ket_qua": "Sau khi sao lưu"})
        db.commit()
    assert Path(f"{live}-wal").exists()

    # Restore: the bot is stopped; the current files are set aside, WAL and all (a stale WAL
    # next to the restored file would be replayed into it); the copy goes in; db upgrade.
    engine.dispose()
    aside = tmp_path / "truoc-khoi-phuc"
    aside.mkdir()
    for suffix in ("", "-wal", "-shm"):
        current = Path(f"{live}{suffix}")
        if current.exists():
            shutil.move(current, aside / current.name)
    shutil.copy(tmp_path / "backup" / "thidua-ngay.db", live)
    try:
        assert cli.main(["db", "upgrade"]) == 0
    finally:
        logging.getLogger().handlers.clear()

    assert _answers(live) == sorted(f"Báo cáo {n}" for n in range(40))
    with sqlite3.connect(live) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # What was set aside still holds the later report, should anyone need it.
    assert "Sau khi sao lưu" in _answers(aside / "thidua.db")
