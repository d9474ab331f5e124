"""The admin views over a report an officer filled through the bot with the shipped forms:
the progress count, /xem by field label (choice labels, dates, yes/no) and the workbook."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl

from tests.utils.reports import fill_registration, report_world
from tests.utils.scenario import TestBot


async def test_a_report_filled_in_the_bot_reads_and_exports_as_the_office_expects(
    bot: TestBot,
) -> None:
    world = report_world(bot, "dang-ky-thi-dua")
    await fill_registration(world.officer)
    await world.officer.presses("Nộp báo cáo")
    admin = world.admin

    await admin.says("/tiendo")
    assert "Đã nộp 1/1: đúng hạn 1, trễ hạn 0" in admin.new_text

    await admin.says("/xem XA-001")
    shown = admin.new_text
    assert "Danh hiệu tập thể đăng ký: Tập thể lao động tiên tiến" in shown
    assert "Số cá nhân đăng ký Lao động tiên tiến: 25" in shown
    assert "Phong trào hưởng ứng: Cả nước chung tay vì người nghèo" in shown
    assert "Đã ký giao ước thi đua: Có" in shown
    assert "Ngày ký bản đăng ký: 15/03/2026" in shown

    await admin.says("/xuat")
    await bot.core.wait_background()
    document = admin.new_messages[-1].document
    assert document is not None
    sheet = openpyxl.load_workbook(io.BytesIO(document.content))["Đăng ký thi đua năm 2026"]
    row = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))
    assert row["Mã đơn vị"] == "XA-001" and row["Trạng thái"] == "Đã nộp đúng hạn"
    assert row["Danh hiệu tập thể đăng ký"] == "Tập thể lao động tiên tiến"
    assert row["Số cá nhân đăng ký Lao động tiên tiến"] == 25
    assert row["Đã ký giao ước thi đua"] == "Có"
    assert row["Ngày ký bản đăng ký"] == datetime(2026, 3, 15)
