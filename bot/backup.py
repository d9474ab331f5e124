"""Backups of the database while the bot runs.

SQLite: the online backup API copies a consistent snapshot page by page, without stopping
writers (they wait only for the few milliseconds a step takes). PostgreSQL: `pg_dump` is the
right tool; we print the command rather than re-implement it. Restore is documented in README.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from domain.dates import format_size


class BackupError(Exception):
    pass


def backup_sqlite(database_path: Path, target: Path, *, pages_per_step: int = 256) -> int:
    """Copy a live SQLite database to `target`; returns the size of the copy in bytes."""
    if not database_path.exists():
        raise BackupError(f"không thấy cơ sở dữ liệu {database_path}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(f"file:{database_path}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=pages_per_step)
            copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        finally:
            copy.close()
    finally:
        source.close()
    partial.replace(target)  # never leave a half-written file under the final name
    return target.stat().st_size


def backup(database_url: str, target: Path, *, overwrite: bool = False) -> str:
    """Back up the configured database; returns a one-line Vietnamese report. An existing
    `target` (yesterday's backup under a reused name) is kept unless `overwrite`."""
    if target.exists() and not overwrite:
        raise BackupError(
            f"tệp {target} đã có. Chọn tên khác, ví dụ backup/thidua-$(date +%F).db, "
            "hoặc thêm --force để ghi đè."
        )
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu được")
        size = backup_sqlite(Path(url.database), target)
        return f"Đã sao lưu {url.database} → {target} ({format_size(size)})."
    if url.get_backend_name() == "postgresql":
        safe = url.set(drivername="postgresql").render_as_string(hide_password=True)
        raise BackupError(
            "Với PostgreSQL hãy dùng pg_dump, ví dụ: "
            f"pg_dump --format=custom --file={target} '{safe}' "
            f"(khôi phục: pg_restore --clean --dbname=… {target})"
        )
    raise BackupError(f"không hỗ trợ sao lưu {url.get_backend_name()}")
