"""`{% due_cell due breached stopped %}`: an SLA moment as the queue and the
ticket page show it. A Python tag, not an included template: the queue renders
one per row, and an include per row cost more than the rest of the row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import dateformat, formats
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def due_cell(
    context: template.Context,
    due: datetime | None,
    breached: bool = False,
    stopped: datetime | None = None,
) -> SafeString:
    if stopped:
        return format_html(
            '<span class="{}">{}</span>',
            "bad" if breached else "",
            _("missed") if breached else _("met"),
        )
    if not due:
        return format_html('<span class="muted">{}</span>', _("paused or none"))
    now: Any = context.get("now")
    local = localtime(due)
    late = now is not None and due < now
    if late:
        remaining = _("%(t)s over") % {"t": timesince(due, now)}
    else:
        remaining = _("in %(t)s") % {"t": timeuntil(due, now)}
    return format_html(
        '<time datetime="{}" class="{}">{}</time> <span class="muted">{}</span>',
        dateformat.format(local, "c"),
        "bad" if breached or late else "",
        formats.date_format(local, "SHORT_DATETIME_FORMAT"),
        remaining,
    )
