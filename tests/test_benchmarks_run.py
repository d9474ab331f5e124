"""The benchmarks in bench/ still run against the code as it is (they are not tests: their
figures are not checked here, only that a tiny run completes with every report handed in)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_conversation_benchmark_runs_a_whole_report() -> None:
    run = bench("bench/conversations.py", "--users", "3", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["reports_completed"] == "3/3"
    assert figures["apologies"] == 0
    assert figures["updates"] >= 3 * 11


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="two bot processes need PostgreSQL"
)
def test_the_conversation_benchmark_runs_two_processes_on_postgresql() -> None:
    url = os.environ["TEST_DATABASE_URL"]
    run = bench(
        "bench/conversations.py",
        "--users",
        "4",
        "--processes",
        "2",
        "--database-url",
        url,
        "--json",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["reports_completed"] == "4/4"
    assert len(figures["peak_rss_mb_per_process"]) == 2


def test_the_reminder_benchmark_sends_each_reminder_once() -> None:
    run = bench("bench/reminders_fanout.py", "--officers", "20", "--no-limit")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "lost: 0, duplicates: 0" in run.stdout


def test_the_export_benchmark_exports_every_unit() -> None:
    run = bench("bench/export.py", "--units", "50", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["units"] == 50 and figures["xlsx_bytes"] > 5_000


def test_the_dashboard_benchmark_times_a_page() -> None:
    run = bench("bench/desk_dashboard.py", "--units", "20", "--repeat", "1", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["units"] == 20 and figures["page_bytes"] > 0
    assert figures["statements"] < 30
