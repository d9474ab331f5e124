"""Backups: a consistent copy of a live SQLite database that restores every report."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.backup import BackupError, backup
from bot.db import create_db_engine, current_revision, upgrade
from models.reports import Report
from tests.utils.factories import make_campaign, make_deadline, make_report, make_unit


def test_backup_while_a_writer_holds_a_transaction_restores_every_report(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    engine = create_db_engine(f"sqlite:///{live}")
    upgrade(engine)
    with Session(engine) as session:
        campaign = make_campaign(session)
        deadline = make_deadline(session, campaign)
        for i in range(30):
            make_report(session, make_unit(session), deadline, answers={"tom_tat": f"Kết quả {i}"})
        session.commit()
    # The bot is in the middle of another write when the backup runs.
    with Session(engine) as busy:
        busy.add(
            Report(
                **{
                    **busy.exec(select(Report)).first().model_dump(),
                    "id": None,
                    "unit_id": make_unit(busy).id,
                }
            )
        )
        busy.flush()
        message = backup(f"sqlite:///{live}", tmp_path / "backup" / "copy.db")
        busy.rollback()
    assert "Đã sao lưu" in message
    restored = create_db_engine(f"sqlite:///{tmp_path / 'backup' / 'copy.db'}")
    assert current_revision(restored) == current_revision(engine)
    with Session(restored) as session:
        reports = session.exec(select(Report)).all()
        assert sorted(r.answers["tom_tat"] for r in reports) == sorted(
            f"Kết quả {i}" for i in range(30)
        )
    assert not (tmp_path / "backup" / "copy.db.partial").exists()


def test_postgresql_backup_points_to_pg_dump_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(BackupError) as error:
        backup("postgresql+psycopg://bot:secret@db:5432/thidua", tmp_path / "x.dump")
    assert "pg_dump" in str(error.value) and "secret" not in str(error.value)
