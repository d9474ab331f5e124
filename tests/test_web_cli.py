"""`thidua-bot web`: the desk alone, on 127.0.0.1, over the embedded SQLite database — started
as the real command in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.utils.webhook import free_port

REPO = Path(__file__).resolve().parent.parent


def test_web_command_serves_the_desk_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'thidua.db'}",
        "STORAGE_DIR": str(tmp_path / "files"),
        "LISTEN_HOST": "0.0.0.0",  # `web` listens on loopback whatever this says
        "LISTEN_PORT": str(port),
    }
    log = (tmp_path / "web.log").open("wb")
    child = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "web"], cwd=tmp_path, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and child.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.ConnectError:
                time.sleep(0.1)  # the child is still starting (migrations)
        assert health is not None and health.status_code == 200, (tmp_path / "web.log").read_text()
        home = httpx.get(f"http://127.0.0.1:{port}/")
        assert home.status_code == 401 and "/web" in home.text
    finally:
        child.terminate()
        child.wait(10)
        log.close()
    assert f"http://127.0.0.1:{port}/" in (tmp_path / "web.log").read_text()
