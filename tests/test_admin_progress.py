"""Progress counts per deadline, per bloc and per unit, and the chart drawn from them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.chart import BarRow, chart_size, png_size, render_stacked_bars
from domain.progress import Category, deadline_progress, focus_deadline, open_deadlines
from domain.scope import DEFAULT_SCOPE
from models.campaigns import CampaignStatus
from models.reports import ReportStatus
from tests.utils.factories import T0, make_campaign, make_deadline, make_report, make_unit

SEGMENTS = [
    "Đúng hạn (1)",
    "Muộn (1)",
    "Trả lại, mở lại (1)",
    "Đang soạn (1)",
    "Chưa làm (1)",
]


def test_each_unit_is_counted_once_in_the_right_category(session) -> None:
    campaign = make_campaign(session)
    deadline = make_deadline(session, campaign, due_at=T0 + timedelta(days=5))
    xa = "Khối xã, thị trấn"
    on_time = make_unit(session, "Xã Bình Lư", bloc=xa)
    accepted = make_unit(session, "Xã Sơn Bình", bloc=xa)
    late = make_unit(session, "Phòng Giáo dục", bloc="Khối cơ quan")
    returned = make_unit(session, "Phòng Y tế", bloc="Khối cơ quan")
    draft = make_unit(session, "Trường Mầm non", bloc=None)
    make_unit(session, "Xã Bản Bo", bloc=xa)  # nothing at all
    empty_draft = make_unit(session, "Xã Nà Tăm", bloc=xa)
    make_report(session, on_time, deadline, submitted_at=T0)
    make_report(session, accepted, deadline, status=ReportStatus.ACCEPTED, submitted_at=T0)
    make_report(session, late, deadline, submitted_at=T0 + timedelta(days=6))
    make_report(session, returned, deadline, status=ReportStatus.RETURNED)
    make_report(session, draft, deadline, status=ReportStatus.DRAFT, answers={"x": 1})
    make_report(session, empty_draft, deadline, status=ReportStatus.DRAFT)

    progress = deadline_progress(deadline, now=T0 + timedelta(days=7), session=session)

    total = progress.total
    assert (total.on_time, total.late, total.returned, total.draft, total.not_started) == (
        2,
        1,
        1,
        1,
        2,
    )
    assert (total.submitted, total.total, total.missing, total.accepted) == (3, 7, 4, 1)
    assert progress.overdue
    assert list(progress.by_bloc) == ["Khối cơ quan", xa, None]  # no bloc last
    assert progress.by_bloc[xa].values() == [2, 0, 0, 0, 2]
    assert progress.by_bloc["Khối cơ quan"].values() == [0, 1, 1, 0, 0]
    by_unit = {u.unit.name: u.category for u in progress.units}
    assert by_unit["Phòng Y tế"] == Category.RETURNED
    assert by_unit["Trường Mầm non"] == Category.DRAFT


def test_open_deadlines_and_which_one_gets_the_chart(session) -> None:
    active = make_campaign(session)
    closed = make_campaign(session, number="1/KH", status=CampaignStatus.CLOSED)
    past = make_deadline(session, active, due_at=T0 - timedelta(days=3))
    soon = make_deadline(session, active, due_at=T0 + timedelta(days=2))
    later = make_deadline(session, active, due_at=T0 + timedelta(days=9))
    make_deadline(session, closed)
    deadlines = open_deadlines(scope=DEFAULT_SCOPE, session=session)
    assert [d.id for d in deadlines] == [past.id, soon.id, later.id]
    assert focus_deadline(deadlines, now=T0) == soon
    assert focus_deadline(deadlines, now=T0 + timedelta(days=30)) == later
    assert focus_deadline([], now=T0) is None


@pytest.mark.parametrize("count", [0, 1, 200])
def test_chart_is_drawn_for_0_1_and_200_units_at_the_promised_size(count: int) -> None:
    rows = [
        BarRow(f"Trường Tiểu học Nguyễn Thị Minh Khai số {i}", [int(i % 5 == c) for c in range(5)])
        for i in range(count)
    ]
    png = render_stacked_bars(
        rows,
        segments=SEGMENTS,
        title="Đăng ký thi đua — 353/KH-UBND",
        empty_text="Chưa có đơn vị nào tham gia",
        show_scale=False,
    )
    assert png_size(png) == chart_size(count)


def test_chart_grows_with_rows_up_to_a_cap_telegram_accepts() -> None:
    widths_heights = [chart_size(n) for n in (0, 1, 10, 40, 200, 5000)]
    heights = [h for _, h in widths_heights]
    assert heights == sorted(heights)
    assert chart_size(1) == chart_size(0)  # a small chart has a minimum height
    assert chart_size(10)[1] < chart_size(40)[1]
    assert chart_size(200) == chart_size(5000)  # capped
    width, height = chart_size(5000)
    assert width + height <= 10_000 and height / width <= 20


def test_chart_per_bloc_with_counts_after_each_bar() -> None:
    rows = [
        BarRow("Khối xã, thị trấn", [6, 1, 1, 2, 10], "7/20"),
        BarRow("Khối cơ quan chuyên môn", [4, 1, 0, 1, 14], "5/20"),
    ]
    png = render_stacked_bars(
        rows, segments=SEGMENTS, title="Báo cáo thành tích", empty_text="", axis_label="Số đơn vị"
    )
    assert png_size(png) == chart_size(2)


def test_png_size_refuses_what_is_not_a_png() -> None:
    with pytest.raises(ValueError):
        png_size(b"GIF89a....")
