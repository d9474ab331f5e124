"""Progress charts as PNG: horizontal stacked bars, one row per bloc or per unit.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global figure
state, so it is safe to call from a worker thread). Segments are told apart by grey levels
*and* hatching, so a chart printed in black and white still reads. Labels use DejaVu Sans,
which ships with matplotlib and has every Vietnamese diacritic. The figure grows with the
number of rows up to a cap, so 200 units still give an image Telegram accepts. Texts come from
the caller (the catalog); this module holds no sentence and knows no table.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from domain.text import shorten

DPI = 100
WIDTH_PX = 1000
ROW_PX = 30  # a bar and its gap, while the chart is below the cap
MIN_PLOT_PX = 150
MAX_HEIGHT_PX = 3000  # with the width: within Telegram's photo limits (sum ≤ 10000, ratio ≤ 20)
TOP_PX = 70  # title
BOTTOM_PX = 110  # axis and legend
LEFT_PX = 300  # row labels
RIGHT_PX = 90  # "done/total" after each bar
LABEL_CHARS = 34
FONT = "DejaVu Sans"


@dataclass(frozen=True, slots=True)
class SegmentStyle:
    face: str
    hatch: str


# Dark to light, plain or hatched: distinct on screen, on a grey-scale printer and to a reader
# who cannot tell colours apart. One style per segment, in the caller's order.
STYLES = (
    SegmentStyle("#2b2b2b", ""),
    SegmentStyle("#8c8c8c", "///"),
    SegmentStyle("#bdbdbd", "xx"),
    SegmentStyle("#e6e6e6", ".."),
    SegmentStyle("#ffffff", ""),
    SegmentStyle("#5e5e5e", "\\\\"),
)


@dataclass(frozen=True, slots=True)
class BarRow:
    """One bar: its label, the value of each segment and the text written after it."""

    label: str
    values: Sequence[int]
    note: str = ""


def chart_size(rows: int) -> tuple[int, int]:
    """(width, height) in pixels of a chart with `rows` bars."""
    plot = max(MIN_PLOT_PX, rows * ROW_PX)
    return WIDTH_PX, min(TOP_PX + plot + BOTTOM_PX, MAX_HEIGHT_PX)


def _font_size(rows: int) -> float:
    if rows > 120:
        return 6.0
    if rows > 60:
        return 7.0
    if rows > 30:
        return 8.0
    return 10.0


def render_stacked_bars(
    rows: Sequence[BarRow],
    *,
    segments: Sequence[str],
    title: str,
    empty_text: str,
    axis_label: str = "",
    show_scale: bool = True,
) -> bytes:
    """A PNG of horizontal stacked bars, first row at the top; `segments` name the values of
    each row, in order (they make the legend). `show_scale=False` hides the value axis (one
    bar per unit: each bar is one unit, its pattern the unit's status)."""
    # Imported here: a bot process that never draws a chart does not carry matplotlib (about
    # 50 MB with numpy).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    if len(segments) > len(STYLES):
        raise ValueError(f"at most {len(STYLES)} segments")
    width_px, height_px = chart_size(len(rows))
    figure = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(
        left=LEFT_PX / width_px,
        right=1 - RIGHT_PX / width_px,
        top=1 - TOP_PX / height_px,
        bottom=BOTTOM_PX / height_px,
    )
    axes = figure.add_subplot()
    size = _font_size(len(rows))
    figure.suptitle(shorten(title, 90), fontsize=13, fontfamily=FONT, y=1 - 18 / height_px)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)

    if not rows:
        axes.set_axis_off()
        figure.text(0.5, 0.5, empty_text, ha="center", va="center", fontsize=12, fontfamily=FONT)
    else:
        positions = list(range(len(rows)))
        left = [0] * len(rows)
        for index, style in enumerate(STYLES[: len(segments)]):
            values = [row.values[index] if index < len(row.values) else 0 for row in rows]
            axes.barh(
                positions,
                values,
                left=left,
                height=0.72,
                color=style.face,
                hatch=style.hatch,
                edgecolor="black",
                linewidth=0.6,
            )
            left = [a + b for a, b in zip(left, values, strict=True)]
        longest = max(left) or 1
        axes.set_xlim(0, longest)
        axes.set_ylim(len(rows) - 0.5, -0.5)  # first row at the top
        axes.set_yticks(positions)
        axes.set_yticklabels(
            [shorten(row.label, LABEL_CHARS) for row in rows], fontsize=size, fontfamily=FONT
        )
        axes.tick_params(axis="y", length=0)
        axes.tick_params(axis="x", labelsize=9)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if not show_scale:
            axes.set_xticks([])
            axes.spines["bottom"].set_visible(False)
        if axis_label:
            axes.set_xlabel(axis_label, fontsize=9, fontfamily=FONT)
        for position, row, end in zip(positions, rows, left, strict=True):
            if row.note:
                axes.text(
                    end + longest * 0.01,
                    position,
                    row.note,
                    va="center",
                    fontsize=size,
                    fontfamily=FONT,
                    clip_on=False,
                )
    handles = [
        Patch(facecolor=style.face, hatch=style.hatch, edgecolor="black", linewidth=0.6)
        for style in STYLES[: len(segments)]
    ]
    if rows:
        figure.legend(
            handles,
            list(segments),
            loc="lower center",
            ncol=min(len(segments), 5),
            frameon=False,
            prop={"family": FONT, "size": 9},
            bbox_to_anchor=(0.5, 8 / height_px),
            handlelength=2.4,
            handleheight=1.4,
        )
    buffer = io.BytesIO()
    # No bbox_inches="tight": the image keeps exactly the size chart_size() promised.
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) read from a PNG header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
