"""Server-rendered trend charts (SVG, no script) and KPI value formatting.

Everything that comes from data is escaped by format_html; the SVG carries
only classes, never style attributes, so it passes the strict CSP and is
coloured by static/css/reports.css."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from django import template
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from reports import kpis

register = template.Library()

WIDTH = 180
HEIGHT = 44
PAD = 4

_DECIMALS = {kpis.COUNT: 0, kpis.PERCENT: 1, kpis.HOURS: 2, kpis.DAYS: 2, kpis.MONEY: 2}


class TrendPoint(NamedTuple):
    month: date
    value: float | None
    live: bool  # computed now (the open month), not read from a snapshot


@register.filter
def kpi_value(value: float | None, unit: str) -> str:
    """A KPI value in its unit, localised; a dash when there is nothing to measure."""
    if value is None:
        return "\u2013"  # en dash
    number = number_format(value, _DECIMALS.get(unit, 2), force_grouping=True)
    if unit == kpis.PERCENT:
        return f"{number} %"
    if unit == kpis.HOURS:
        return _("%(value)s h") % {"value": number}
    if unit == kpis.DAYS:
        return _("%(value)s days") % {"value": number}
    if unit == kpis.MONEY:
        return f"€ {number}"
    return number


def _month(month: date) -> str:
    return date_format(month, "YEAR_MONTH_FORMAT")


@register.simple_tag
def trend_chart(
    points: Sequence[TrendPoint],
    unit: str,
    label: str,
    target: float | None = None,
    higher_is_better: bool | None = None,
) -> SafeString | str:
    """A sparkline of monthly values with the target as a dashed line and
    each point green or red against it. Months without a value are gaps."""
    measured = [p.value for p in points if p.value is not None]
    if not measured:
        return format_html('<span class="muted">{}</span>', _("no data"))
    bounds = [*measured, 0.0] + ([target] if target is not None else [])
    low, high = min(bounds), max(bounds)
    if high == low:
        high = low + 1

    def x(index: int) -> float:
        return PAD + index * (WIDTH - 2 * PAD) / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return HEIGHT - PAD - (value - low) / (high - low) * (HEIGHT - 2 * PAD)

    segments: list[list[str]] = [[]]
    for index, point in enumerate(points):
        if point.value is None:
            segments.append([])
        else:
            segments[-1].append(f"{x(index):.1f},{y(point.value):.1f}")
    lines = format_html_join(
        "",
        '<polyline class="trend-line" points="{}"/>',
        ((" ".join(segment),) for segment in segments if len(segment) > 1),
    )
    target_line = (
        format_html(
            '<line class="trend-target" x1="{}" y1="{}" x2="{}" y2="{}"/>',
            PAD,
            f"{y(target):.1f}",
            WIDTH - PAD,
            f"{y(target):.1f}",
        )
        if target is not None
        else ""
    )
    dots = format_html_join(
        "",
        "{}",
        (
            (_dot(p, unit, target, higher_is_better, x(i), y(p.value)),)
            for i, p in enumerate(points)
            if p.value is not None
        ),
    )
    summary = "; ".join(
        f"{_month(p.month)}: {kpi_value(p.value, unit)}" for p in points if p.value is not None
    )
    description = _("%(kpi)s per month: %(values)s") % {"kpi": label, "values": summary}
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="trend" viewBox="0 0 {} {}" '
        'width="{}" height="{}" role="img" aria-label="{}">{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        description,
        target_line,
        lines,
        dots,
    )


def _dot(
    point: TrendPoint,
    unit: str,
    target: float | None,
    higher_is_better: bool | None,
    cx: float,
    cy: float,
) -> SafeString:
    classes = ["trend-point"]
    if point.value is not None and target is not None and higher_is_better is not None:
        met = point.value >= target if higher_is_better else point.value <= target
        classes.append("met" if met else "missed")
    if point.live:
        classes.append("live")
    title = f"{_month(point.month)}: {kpi_value(point.value, unit)}"
    if point.live:
        title += " " + _("(so far)")
    return format_html(
        '<circle class="{}" cx="{}" cy="{}" r="2.5"><title>{}</title></circle>',
        " ".join(classes),
        f"{cx:.1f}",
        f"{cy:.1f}",
        title,
    )
