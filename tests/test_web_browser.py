"""The web desk in a real browser: Debian's Chromium driven by Selenium through chromedriver,
against the desk served by uvicorn on 127.0.0.1 — the office's whole round trip, once.

Log in through the link /web gives in the (memory) chat, read the dashboard's counts for the
scripted campaign (screenshot kept as an artefact in the test's tmp dir; copied over the
README's images in docs/img only with UPDATE_SCREENSHOTS=1), open a report and its
photo, return it with a reason (the officer's chat receives it), download the XLSX, build the
dossier ZIP (its page refreshes itself until the download is offered), log out.

Selenium calls block, so they run in a worker thread while the event loop serves the pages.
Skipped with one line when Chromium or chromedriver is not installed.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
import pytest

from bot.settings import Settings
from bot.web.desk import Desk
from bot.web.server import WebServer
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import TestBot
from tests.utils.web import desk_world, login_link
from tests.utils.webhook import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "browser tests skipped: Chromium or chromedriver not installed "
        "(apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "docs" / "img" / "web-dashboard.png"
# The screenshots stay in the test's tmp dir; with UPDATE_SCREENSHOTS=1 they also replace the
# README's images in docs/img (tracked files: a normal run must not rewrite them).
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1000",
    "--lang=vi",
)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[webdriver.Chrome]:
    """One Chromium for the module. Selenium Manager is kept offline: the driver and the
    browser are the system's, and nothing may reach the network."""
    os.environ.setdefault("SE_OFFLINE", "true")
    os.environ.setdefault("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, port: int) -> Settings:
    # Login links point at the server this test starts.
    return settings.model_copy(
        update={"public_url": f"http://127.0.0.1:{port}", "listen_port": port}
    )


@pytest.fixture
async def served(bot: TestBot, port: int) -> AsyncIterator[Desk]:
    desk = Desk(bot.core)
    desk.job_refresh_seconds = 1  # the dossier's page reloads itself, sooner than the office's
    server = WebServer([], engine=bot.core.engine, port=port, desk=desk)
    await server.start()
    yield desk
    await server.stop()


async def in_browser(work: Callable[[], T]) -> T:
    return await asyncio.to_thread(work)


def wait_for(driver: webdriver.Chrome, condition: Callable[[Any], Any], seconds: float = 15) -> Any:
    return WebDriverWait(driver, seconds, poll_frequency=0.05).until(condition)


def publish(shot: Path, image: Path) -> None:
    """Copy a screenshot over the README's image, only when asked (UPDATE_SCREENSHOTS=1)."""
    if UPDATE_SCREENSHOTS:
        image.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, image)


# Once, on SQLite: what the browser adds (the pages' markup, the CSP, cookies, downloads and the
# self-refreshing job page) does not depend on the database, and every desk page and action is
# driven over HTTP on both databases by tests/test_web_*.py.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_office_round_trip_in_chromium(
    bot: TestBot,
    served: Desk,
    browser: webdriver.Chrome,
    downloads: Path,
    port: int,
    tmp_path: Path,
) -> None:
    world = await desk_world(bot)
    base = f"http://127.0.0.1:{port}"
    link = await login_link(world.admin)
    assert link.startswith(base + "/login/")
    assert world.admin.user_id == ADMIN_USER_ID

    # Log in: the link's page, then its button.
    def log_in() -> str:
        browser.get(link)
        browser.find_element(By.ID, "login").click()
        wait_for(browser, lambda d: d.current_url == base + "/")
        return browser.page_source

    home = await in_browser(log_in)
    assert "Đợt thi đua chào mừng Đại hội" in home and "Đăng xuất" in home

    # The dashboard's counts for the scripted campaign; a screenshot for the record.
    def dashboard() -> dict[str, str]:
        browser.find_element(By.LINK_TEXT, "Đợt thi đua chào mừng Đại hội").click()
        wait_for(browser, lambda d: d.find_elements(By.ID, "counts"))
        counts = {
            e.get_attribute("data-count") or "": e.text
            for e in browser.find_elements(By.CSS_SELECTOR, "#counts [data-count]")
        }
        browser.save_screenshot(str(tmp_path / "web-dashboard.png"))
        return counts

    counts = await in_browser(dashboard)
    assert counts == {
        "submitted": "2",
        "total": "3",
        "on_time": "1",
        "late": "1",
        "returned": "0",
        "missing": "1",
        "accepted": "0",
    }
    shot = tmp_path / "web-dashboard.png"
    assert shot.read_bytes().startswith(b"\x89PNG")
    publish(shot, SCREENSHOT)

    # A report, and its photo.
    def open_report() -> tuple[str, int]:
        browser.find_element(By.CSS_SELECTOR, f'a[href="/reports/{world.report_id}"]').click()
        wait_for(browser, lambda d: d.find_elements(By.ID, "reason"))
        page = browser.page_source
        preview = browser.find_element(By.CSS_SELECTOR, "img.preview")
        wait_for(browser, lambda d: preview.get_property("naturalWidth"))
        browser.save_screenshot(str(tmp_path / "web-report.png"))
        return page, int(preview.get_property("naturalWidth"))

    report_page, width = await in_browser(open_report)
    assert "Tập thể lao động tiên tiến" in report_page and "ảnh hội nghị.png" in report_page
    assert width == 4  # the stored photo was served and decoded
    publish(tmp_path / "web-report.png", SCREENSHOT.with_name("web-report.png"))

    def open_photo() -> str:
        browser.find_element(By.CSS_SELECTOR, "a.file-link").click()
        wait_for(browser, lambda d: "/files/" in d.current_url)
        shown = browser.execute_script(
            "return document.images.length && document.images[0].naturalWidth"
        )
        browser.back()
        wait_for(browser, lambda d: d.find_elements(By.ID, "reason"))
        return str(shown)

    assert await in_browser(open_photo) == "4"

    # Return it with a reason; the officer's chat receives it.
    before = len(world.officer.messages)

    def return_report() -> str:
        browser.find_element(By.ID, "reason").send_keys("Thiếu số liệu ở câu 3")
        browser.find_element(By.ID, "return").click()
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".flash"))
        return browser.find_element(By.ID, "status").text

    assert await in_browser(return_report) == "bị trả lại để sửa"  # the words of every screen
    await served.wait_deliveries()
    received = world.officer.messages[before:]
    assert len(received) == 1 and "Thiếu số liệu ở câu 3" in received[0].text

    # Download the XLSX from the dashboard.
    def download() -> Path:
        browser.get(f"{base}/campaigns/{world.campaign_id}")
        browser.find_element(By.ID, "export").click()
        return wait_for(
            browser,
            lambda d: next((p for p in downloads.glob("*.xlsx") if p.stat().st_size > 0), None),
        )

    workbook = await in_browser(download)
    book = openpyxl.load_workbook(io.BytesIO(workbook.read_bytes()))
    cells = {str(c.value) for sheet in book for row in sheet.iter_rows() for c in row}
    assert "Xã Bình Lư" in cells

    # The dossier ZIP: built in the background, the page refreshes itself until it is ready.
    # (The download above left the browser on the dashboard: no reload needed.)
    def dossier() -> Path:
        browser.find_element(By.ID, "dossier").click()
        browser.find_element(By.ID, "job-start").click()
        wait_for(browser, lambda d: d.find_elements(By.ID, "job-download"), seconds=30)
        browser.find_element(By.ID, "job-download").click()
        return wait_for(
            browser,
            lambda d: next((p for p in downloads.glob("*.zip") if p.stat().st_size > 0), None),
        )

    archive = await in_browser(dossier)
    assert archive.read_bytes().startswith(b"PK")

    # Log out: the desk asks for a new link.
    def log_out() -> str:
        browser.find_element(By.CSS_SELECTOR, ".logout button").click()
        wait_for(browser, lambda d: "Đã đăng xuất" in d.page_source)
        browser.get(base + "/")
        return browser.page_source

    assert "Cần đăng nhập" in await in_browser(log_out)
