"""SQLite files that cannot be written: a clear sentence, never a SIGBUS.

Reproduced first: with a WAL database whose `-shm` (the memory-mapped WAL index) cannot be
written, SQLite carries on writing until it must grow the index, and the kernel kills the
process with SIGBUS — no log line, no answer. The bot now checks the files before every
transaction and at start-up (`bot.db.check_writable`).

"Unwritable" is made with `chmod a-w` when the tests run as an ordinary user, and with
`chattr +i` (immutable: refused even to root) when they run as root; where neither works the
tests are skipped.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.db import DatabaseNotWritable, check_writable
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.subprocess_bot import OFFICER, REPO_ROOT, BotProcess, started


@contextmanager
def unwritable(*paths: Path) -> Iterator[None]:
    """The files read-only for this process while the block runs."""
    done: list[Path] = []
    try:
        for path in paths:
            if os.geteuid() == 0:
                result = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
                if result.returncode != 0:
                    pytest.skip(f"cannot make a file immutable here: {result.stderr!r}")
            else:
                path.chmod(0o444)
            done.append(path)
        yield
    finally:
        for path in done:
            if os.geteuid() == 0:
                subprocess.run(["chattr", "-i", str(path)], check=True)
            else:
                path.chmod(0o644)


CHILD = textwrap.dedent(
    """
    import sys
    import sqlalchemy as sa
    from bot.db import DatabaseNotWritable, create_db_engine, leave_if_not_writable

    engine = create_db_engine("sqlite:///" + sys.argv[1])
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE t (x BLOB)")
        for _ in range(300):
            c.exec_driver_sql("INSERT INTO t VALUES (randomblob(100))")
    print("ready", flush=True)
    sys.stdin.readline()  # the parent makes the WAL index read-only meanwhile
    try:
        for _ in range(5000):
            with engine.begin() as c:
                c.exec_driver_sql("INSERT INTO t VALUES (1)")
    except DatabaseNotWritable as exc:
        print("refused:", exc, flush=True)
        # As the CLI does on its way out: closing the connections would touch the index.
        leave_if_not_writable("sqlite:///" + sys.argv[1], 3)
    print("wrote everything", flush=True)
    """
)


def test_a_wal_index_made_read_only_is_a_clear_error_not_a_sigbus(tmp_path: Path) -> None:
    db = tmp_path / "thidua.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ready"
        with unwritable(db.with_name("thidua.db-shm")):
            child.stdin.write("go\n")
            child.stdin.flush()
            output, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # Before: killed by SIGBUS (return code -7) part-way through the writes.
    assert child.returncode == 3, (child.returncode, output)
    assert "refused: Không ghi được vào cơ sở dữ liệu" in output
    assert "thidua.db-shm" in output


def test_check_writable_names_the_read_only_file(tmp_path: Path) -> None:
    db = tmp_path / "thidua.db"
    db.write_bytes(b"")
    check_writable(db)  # writable: nothing said
    with unwritable(db), pytest.raises(DatabaseNotWritable, match=r"thidua\.db chỉ đọc"):
        check_writable(db)


@pytest.mark.slow
async def test_run_with_a_read_only_database_stops_with_one_line(
    telegram_api: FakeTelegram, bot_process: BotProcess, deployment_db: Path
) -> None:
    with unwritable(deployment_db):
        bot_process.start()
        assert bot_process.process is not None
        deadline = time.monotonic() + 30
        while bot_process.process.poll() is None:
            assert time.monotonic() < deadline, bot_process.log()
            await asyncio.sleep(0.05)
    log = bot_process.log()
    assert bot_process.process.returncode == 2, log
    assert "Không ghi được vào cơ sở dữ liệu" in log
    assert "Traceback" not in log


@pytest.mark.slow
async def test_files_made_read_only_while_running_get_an_apology_and_a_log_line(
    telegram_api: FakeTelegram, bot_process: BotProcess, deployment_db: Path
) -> None:
    api = telegram_api
    await started(api, bot_process)
    api.push_text(OFFICER, "/trogiup")
    await api.wait_for(OFFICER, 1)
    side_files = [deployment_db.with_name(deployment_db.name + s) for s in ("-wal", "-shm")]
    with unwritable(deployment_db, *[p for p in side_files if p.exists()]):
        api.push_text(OFFICER, "/baocao")
        reply = await api.wait_for_text(OFFICER, "Xin lỗi")
        assert "dữ liệu đã nhập không bị mất" in reply.text
        assert bot_process.running
        assert "Không ghi được vào cơ sở dữ liệu" in bot_process.log()
        # Stopped while the files are read-only: one line, no SIGBUS on the way out.
        code = await bot_process.terminate()
    assert code == 1, bot_process.log()
    assert bot_process.log().count("Không ghi được vào cơ sở dữ liệu") >= 2
