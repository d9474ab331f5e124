"""Long exports of the web desk as background jobs: a campaign's dossier ZIP is built off the
event loop (worker threads) while the page that asked for it refreshes to show how far it got,
then offers the download.

Bounded: one job per viewer and campaign and kind (asking again while it runs shows the same
job), and at most `max_running` jobs in the process at once (a small server has two cores). A
finished file is kept on disk under STORAGE_DIR/web-jobs/ for `KEEP` and only for the viewer
who asked (the key names the member); a new build of the same key replaces it. Jobs live in
the process: a restart forgets them (the page then offers to build again) — nothing is lost
that the database holds.

No rules and no rendering here: the desk hands in the build coroutine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.web.links import FileOut

log = logging.getLogger("thidua.web")

KEEP = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class JobKey:
    member_id: int
    campaign_id: int
    kind: str


@dataclass(slots=True)
class Job:
    """One export: `done`/`total` move as it goes (set from the worker thread: plain ints)."""

    key: JobKey
    started_at: datetime
    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 0
    file_name: str = ""
    mime_type: str = ""
    size: int = 0
    path: Path | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.state == "running"


Build = Callable[[Job], Awaitable[FileOut]]


class Jobs:
    """The desk's running and finished jobs, by key."""

    def __init__(self, directory: Path, *, max_running: int = 2) -> None:
        self.directory = directory
        self.max_running = max_running
        self._jobs: dict[JobKey, Job] = {}

    def get(self, key: JobKey) -> Job | None:
        return self._jobs.get(key)

    def running(self) -> int:
        return sum(1 for job in self._jobs.values() if job.running)

    def start(self, key: JobKey, build: Build, *, now: datetime) -> Job | None:
        """The job of `key`: the one running already, or a new one; None when the process
        runs `max_running` jobs already (try again later)."""
        self._prune(now)
        current = self._jobs.get(key)
        if current is not None and current.running:
            return current
        if self.running() >= self.max_running:
            return None
        if current is not None:
            self._forget(current)
        job = Job(key, started_at=now)
        job.task = asyncio.create_task(self._run(job, build), name=f"web-job-{key.kind}")
        self._jobs[key] = job
        return job

    async def _run(self, job: Job, build: Build) -> None:
        try:
            out = await build(job)
            job.path = await asyncio.to_thread(self._write, out.content)
            job.file_name, job.mime_type, job.size = out.file_name, out.mime_type, len(out.content)
            job.state = "done"
        except Exception:
            log.exception("web desk: %s of campaign %s failed", job.key.kind, job.key.campaign_id)
            job.state = "failed"

    def _write(self, content: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.directory, prefix=secrets.token_hex(4))
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        return Path(name)

    def read(self, job: Job) -> FileOut | None:
        """The finished file's bytes (blocking: call from a thread); None when gone."""
        if job.state != "done" or job.path is None or not job.path.is_file():
            return None
        return FileOut(job.path.read_bytes(), job.file_name, job.mime_type)

    def _forget(self, job: Job) -> None:
        self._jobs.pop(job.key, None)
        if job.path is not None:
            with contextlib.suppress(OSError):
                job.path.unlink()

    def _prune(self, now: datetime) -> None:
        for job in list(self._jobs.values()):
            if not job.running and now - job.started_at > KEEP:
                self._forget(job)
        # Files a previous process left (its jobs were forgotten at the restart).
        known = {job.path for job in self._jobs.values()}
        oldest = now.timestamp() - KEEP.total_seconds()
        for path in self.directory.glob("*") if self.directory.is_dir() else ():
            with contextlib.suppress(OSError):
                if path not in known and path.stat().st_mtime < oldest:
                    path.unlink()

    async def wait(self) -> None:
        """Until every running job has finished (tests)."""
        tasks = [job.task for job in self._jobs.values() if job.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
