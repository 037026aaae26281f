"""Pages of long lists without counting them.

Django's Paginator runs COUNT(*) over the whole filtered list on every page;
over a million tickets that count costs more than the page itself (a full
index or table scan for a broad filter). A window fetches one row more than
it shows: that row tells whether there is a next page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

# Deep pages cost their offset; beyond this one, narrow the filter instead.
MAX_PAGE = 400


@dataclass(frozen=True)
class Window:
    items: list[Any]
    number: int
    has_next: bool

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def page_number(value: str | None) -> int:
    """The page asked for; anything that is not a page number is the first."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def window(qs: QuerySet[Any], *, page: str | None, size: int) -> Window:
    number = page_number(page)
    start = (number - 1) * size
    rows = list(qs[start : start + size + 1])
    return Window(items=rows[:size], number=number, has_next=len(rows) > size)
