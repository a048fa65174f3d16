"""Render daily usage (images generated and their cost) as a bar-and-line chart.

Owners look at this in Discord, usually in the inline preview (about 800x450), so the
chart is 16:9, fonts are large, gridlines are few, and date labels are thinned so they
never overlap. Bars are images per day on the left axis; the line is cost in US
dollars on the right axis, with gridlines shared so both scales read off the same
lines.

Titles and axis names arrive localized. Dates and amounts are drawn with
locale-neutral defaults (``MM-DD``, ``$1.25``) unless the caller passes formatters.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bot.images.render._common import Canvas, one_at_a_time
from bot.images.render._palette import PALETTE, with_alpha

__all__ = ["CHART_SIZE", "DayUsage", "nice_axis", "render_usage_chart"]

CHART_SIZE: Final = (1200, 675)
"""Output size in pixels (16:9, like Discord's preview box)."""

_MARGIN: Final = 44
_TICK_SIZE: Final = 18
_BAR_COLOR: Final = PALETTE.accent_2
_LINE_COLOR: Final = PALETTE.gold
_TARGET_INTERVALS: Final = 4
_VALUE_LABEL_MAX_DAYS: Final = 14
_NICE_FRACTIONS: Final = (1.0, 2.0, 2.5, 5.0, 10.0)
_LABEL_STEPS: Final = (1, 2, 3, 4, 5, 7, 14, 28, 30, 60, 90, 180, 365)


@dataclass(frozen=True, slots=True)
class DayUsage:
    """Usage for one day: how many images were made and what they cost."""

    day: dt.date
    images: int
    cost_usd: float


def _nice_ceil(value: float, *, integer: bool) -> float:
    """Smallest "nice" number (1, 2, 2.5, 5 x 10^k) that is >= ``value``."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for fraction in _NICE_FRACTIONS:
        if integer and fraction == 2.5 and exponent <= 0:
            continue  # 2.5 images is not a tick anyone wants
        step = fraction * 10.0**exponent
        if step >= value * (1 - 1e-9):
            return step
    return 10.0 ** (exponent + 1)


def nice_axis(
    max_value: float, *, intervals: int = _TARGET_INTERVALS, integer: bool = False
) -> tuple[float, int]:
    """Pick a round tick step for data up to ``max_value``: returns (step, intervals).

    The axis runs from 0 to ``step * intervals`` with at most ``intervals`` gaps.
    Integer axes never get fractional steps. All-zero data still gets a usable axis.
    """
    if not math.isfinite(max_value) or max_value <= 0:
        return 1.0, intervals
    step = _nice_ceil(max_value / intervals, integer=integer)
    if integer:
        step = max(1.0, step)
    return step, max(1, math.ceil(max_value / step - 1e-9))


def _default_day(day: dt.date) -> str:
    return f"{day.month:02d}-{day.day:02d}"


def _money_formatter(step: float) -> Callable[[float], str]:
    """Dollar amounts with just enough decimals for the tick step to read exactly: a step
    of $0.025 labels its lines $0.025 and $0.075, not $0.03 and $0.08."""
    decimals = 2
    while decimals < 6 and abs(round(step, decimals) - step) > step * 1e-9:
        decimals += 1

    def fmt(value: float) -> str:
        return f"${value:,.{decimals}f}"

    return fmt


def _fill_gaps(days: Sequence[DayUsage]) -> list[DayUsage]:
    """Sort by day and insert zero days, so the x axis is honest about time."""
    by_day: dict[dt.date, DayUsage] = {}
    for usage in days:
        prior = by_day.get(usage.day)
        if prior is not None:
            usage = DayUsage(
                usage.day, prior.images + usage.images, prior.cost_usd + usage.cost_usd
            )
        by_day[usage.day] = usage
    first, last = min(by_day), max(by_day)
    span = (last - first).days
    return [
        by_day.get(first + dt.timedelta(days=i), DayUsage(first + dt.timedelta(days=i), 0, 0.0))
        for i in range(span + 1)
    ]


@one_at_a_time
def render_usage_chart(
    days: Sequence[DayUsage],
    *,
    title: str,
    y_label: str,
    x_label: str,
    secondary_label: str,
    empty_text: str,
    format_day: Callable[[dt.date], str] | None = None,
    format_cost: Callable[[float], str] | None = None,
    show_cost: bool = True,
    locale: str | None = None,
) -> bytes:
    """Render ``days`` as a PNG of :data:`CHART_SIZE`.

    ``y_label`` names the bars (images), ``secondary_label`` the cost line and
    ``x_label`` the date axis. Missing days between the first and last are drawn as
    zero. With no days at all, ``empty_text`` is shown instead of a chart.
    ``format_day``/``format_cost`` let the i18n layer localize dates and amounts.
    ``show_cost=False`` (no prices configured) draws images only: no cost line, axis or
    legend entry, rather than a misleading line at zero. ``locale`` (the reader's) picks
    the glyph shapes of their language.
    """
    width, height = CHART_SIZE
    canvas = Canvas(width, height, locale=locale)
    series = _fill_gaps(days) if days else []
    fmt_day = format_day or _default_day

    total_images = sum(max(0, d.images) for d in series)
    total_cost = sum(max(0.0, d.cost_usd) for d in series if math.isfinite(d.cost_usd))

    max_images = max((max(0, d.images) for d in series), default=0)
    max_cost = max((max(0.0, d.cost_usd) for d in series if math.isfinite(d.cost_usd)), default=0.0)
    img_step, intervals = nice_axis(max_images, integer=True)
    cost_step = _nice_ceil(max_cost / intervals, integer=False) if max_cost > 0 else 0.25
    fmt_cost = format_cost or _money_formatter(cost_step)

    header_bottom = _draw_header(
        canvas,
        title,
        legend=(
            [(_BAR_COLOR, y_label, f"{total_images:,}", "bar")]
            + ([(_LINE_COLOR, secondary_label, fmt_cost(total_cost), "line")] if show_cost else [])
        )
        if series
        else [],
    )

    if not series:
        _draw_empty(canvas, empty_text, top=header_bottom + 20)
        return canvas.to_png()

    left_labels = [f"{int(img_step * i):,}" for i in range(intervals + 1)]
    right_labels = [fmt_cost(cost_step * i) for i in range(intervals + 1)] if show_cost else None
    plot = _plot_area(canvas, header_bottom, left_labels, right_labels)
    _draw_grid(canvas, plot, (y_label, left_labels), (secondary_label, right_labels))

    slot = (plot.right - plot.left) / len(series)
    centers = [plot.left + slot * (i + 0.5) for i in range(len(series))]
    bar_w = max(2.0, min(slot * 0.64, 56.0))
    _draw_bars(canvas, plot, series, centers, bar_w=bar_w, top_images=img_step * intervals)
    if show_cost:
        _draw_cost_line(canvas, plot, series, centers, top_cost=cost_step * intervals)

    _draw_day_labels(canvas, series, centers, fmt_day, plot.bottom, plot.left, plot.right)
    canvas.text(
        ((plot.left + plot.right) / 2, height - _MARGIN + 4),
        x_label,
        17,
        PALETTE.text_muted,
        anchor="ms",
    )
    return canvas.to_png()


@dataclass(frozen=True, slots=True)
class _Plot:
    """The plot area's edges, in pixels."""

    left: float
    right: float
    top: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


def _plot_area(
    canvas: Canvas, header_bottom: float, left_labels: list[str], right_labels: list[str] | None
) -> _Plot:
    """What is left for the plot once the tick labels on each side have their room."""
    width, height = CHART_SIZE
    left_w = max(canvas.measure(t, _TICK_SIZE) for t in left_labels)
    right_w = max(canvas.measure(t, _TICK_SIZE) for t in right_labels) if right_labels else 0
    return _Plot(
        left=_MARGIN + left_w + 14,
        right=width - _MARGIN - right_w - 14,
        top=header_bottom + 46,
        bottom=height - _MARGIN - 62,
    )


def _draw_grid(
    canvas: Canvas,
    plot: _Plot,
    left: tuple[str, list[str]],
    right: tuple[str, list[str] | None],
) -> None:
    """Horizontal grid lines with the image axis (name, ticks) on the left and, unless its
    ticks are None, the cost axis on the right."""
    (left_name, left_labels), (right_name, right_labels) = left, right
    width, _ = CHART_SIZE
    # Axis names above each value axis, aligned with its tick labels.
    canvas.text((_MARGIN, plot.top - 22), left_name, 17, PALETTE.text_muted, anchor="ls")
    if right_labels is not None:
        canvas.text(
            (width - _MARGIN, plot.top - 22), right_name, 17, PALETTE.text_muted, anchor="rs"
        )
    intervals = len(left_labels) - 1
    for i in range(intervals + 1):
        y = plot.bottom - plot.height * i / intervals
        color = PALETTE.border if i == 0 else PALETTE.grid
        canvas.line([(plot.left, y), (plot.right, y)], color, 1.5 if i == 0 else 1)
        canvas.text(
            (plot.left - 12, y), left_labels[i], _TICK_SIZE, PALETTE.text_muted, anchor="rm"
        )
        if right_labels is not None:
            canvas.text(
                (plot.right + 12, y), right_labels[i], _TICK_SIZE, PALETTE.text_muted, anchor="lm"
            )


def _draw_bars(
    canvas: Canvas,
    plot: _Plot,
    series: Sequence[DayUsage],
    centers: list[float],
    *,
    bar_w: float,
    top_images: float,
) -> None:
    for center, usage in zip(centers, series, strict=True):
        value = max(0, usage.images)
        if value <= 0:
            continue
        bar_h = max(2.0, plot.height * value / top_images)
        radius = min(bar_w / 2, 6.0)
        canvas.rounded(
            (center - bar_w / 2, plot.bottom - bar_h, center + bar_w / 2, plot.bottom),
            radius,
            fill=_BAR_COLOR,
        )
        if len(series) <= _VALUE_LABEL_MAX_DAYS:
            canvas.text(
                (center, plot.bottom - bar_h - 8), f"{value:,}", 16, PALETTE.text, anchor="ms"
            )


def _draw_cost_line(
    canvas: Canvas,
    plot: _Plot,
    series: Sequence[DayUsage],
    centers: list[float],
    *,
    top_cost: float,
) -> None:
    points = [
        (
            center,
            plot.bottom
            - plot.height * (max(0.0, u.cost_usd) if math.isfinite(u.cost_usd) else 0.0) / top_cost,
        )
        for center, u in zip(centers, series, strict=True)
    ]
    if len(points) > 1:
        canvas.line(points, _LINE_COLOR, 3)
    if len(series) <= 45:  # beyond that the dots merge into a blur; the line says enough
        for point in points:
            canvas.circle(point, 4.5, fill=PALETTE.bg_bottom, outline=_LINE_COLOR, width=2.5)


def _draw_header(
    canvas: Canvas, title: str, *, legend: list[tuple[tuple[int, int, int], str, str, str]]
) -> float:
    """Title on the left, legend (swatch, name, total) on the right or below.

    Returns the y coordinate where the header ends.
    """
    width = canvas.width
    title_size = 30
    entries = []
    legend_w = 0.0
    for color, name, total, kind in legend:
        name_w = canvas.measure(name, 18)
        total_w = canvas.measure(total, 18, bold=True)
        entry_w = 22 + 8 + name_w + 8 + total_w
        entries.append((color, name, total, kind, entry_w))
        legend_w += entry_w + (24 if legend_w else 0)
    title_max = width - 2 * _MARGIN
    same_row = (
        legend_w and canvas.measure(title, title_size, bold=True) + 40 + legend_w <= title_max
    )
    canvas.rounded((_MARGIN, 34, _MARGIN + 6, 72), 3, fill=PALETTE.accent)
    title_room = title_max - 18 - (legend_w + 40 if same_row else 0)
    canvas.text(
        (_MARGIN + 18, 64),
        canvas.fit(title, title_size, title_room, bold=True),
        title_size,
        PALETTE.text,
        bold=True,
        anchor="ls",
    )
    if not entries:
        return 80.0
    legend_y = 54.0 if same_row else 104.0
    x = width - _MARGIN - legend_w if same_row else _MARGIN + 18
    for color, name, total, kind, entry_w in entries:
        if kind == "bar":
            canvas.rounded((x, legend_y - 9, x + 22, legend_y + 9), 4, fill=color)
        else:
            canvas.line([(x, legend_y), (x + 22, legend_y)], color, 3)
            canvas.circle((x + 11, legend_y), 4.5, fill=PALETTE.bg_top, outline=color, width=2.5)
        canvas.text((x + 30, legend_y), name, 18, PALETTE.text_muted, anchor="lm")
        name_w = canvas.measure(name, 18)
        canvas.text((x + 38 + name_w, legend_y), total, 18, PALETTE.text, bold=True, anchor="lm")
        x += entry_w + 24
    return 80.0 if same_row else 120.0


def _draw_day_labels(
    canvas: Canvas,
    series: list[DayUsage],
    centers: list[float],
    fmt_day: Callable[[dt.date], str],
    plot_bottom: float,
    plot_left: float,
    plot_right: float,
) -> None:
    """Date labels under the bars, thinned so neighbours never touch.

    Counting back from the newest day keeps "today" labelled; a tick mark sits under
    each labelled bar so the label's day is unambiguous.
    """
    n = len(series)
    labels = [fmt_day(d.day) for d in series]
    widest = max(canvas.measure(label, _TICK_SIZE) for label in labels)
    slot = (plot_right - plot_left) / n
    needed = math.ceil((widest + 30) / slot)
    step = next((s for s in _LABEL_STEPS if s >= needed), needed)
    y = plot_bottom + 30
    for i in range(n - 1, -1, -step):
        label = labels[i]
        half = canvas.measure(label, _TICK_SIZE) / 2
        x = min(max(centers[i], plot_left + half), canvas.width - _MARGIN - half)
        canvas.line([(centers[i], plot_bottom), (centers[i], plot_bottom + 6)], PALETTE.border, 1.5)
        canvas.text((x, y), label, _TICK_SIZE, PALETTE.text_muted, anchor="ms")


def _draw_empty(canvas: Canvas, empty_text: str, *, top: float) -> None:
    """Faint gridlines and a centred message: clearly a chart, clearly no data yet."""
    left, right = _MARGIN, canvas.width - _MARGIN
    bottom = canvas.height - _MARGIN
    for i in range(_TARGET_INTERVALS + 1):
        y = bottom - (bottom - top) * i / _TARGET_INTERVALS
        canvas.line([(left, y), (right, y)], with_alpha(PALETTE.grid, 255), 1)
    lines = canvas.wrap(empty_text, 26, right - left - 120, 2)
    step = canvas.line_height(26)
    block_h = step * len(lines)
    cx, cy = canvas.width / 2, (top + bottom) / 2
    pad = 26
    box_w = max((canvas.measure(line, 26) for line in lines), default=0) + 2 * pad
    canvas.rounded(
        (cx - box_w / 2, cy - block_h / 2 - pad, cx + box_w / 2, cy + block_h / 2 + pad),
        16,
        fill=PALETTE.surface,
        outline=PALETTE.border,
    )
    for i, line in enumerate(lines):
        canvas.text(
            (cx, cy - block_h / 2 + step * (i + 0.5)), line, 26, PALETTE.text_muted, anchor="mm"
        )
