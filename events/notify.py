"""Which event kinds cause which mails. Each app registers its notifiers in its
`notifications` module (imported when the app is ready); an event whose kind
has no notifier is marked processed as soon as it is written."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from events.models import Event


@dataclass(frozen=True)
class Mail:
    recipient: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    language: str = "en"


Notifier = Callable[[Event], list[Mail]]
_NOTIFIERS: dict[str, list[Notifier]] = {}


def notifier(kind: str) -> Callable[[Notifier], Notifier]:
    def register(function: Notifier) -> Notifier:
        _NOTIFIERS.setdefault(kind, []).append(function)
        return function

    return register


def has_notifier(kind: str) -> bool:
    return kind in _NOTIFIERS


def mails_for(event: Event) -> list[Mail]:
    mails: list[Mail] = []
    for function in _NOTIFIERS.get(event.kind, []):
        mails.extend(m for m in function(event) if m.recipient)
    return mails


def mails_to(people: Iterable[Any], template: str, context: dict[str, Any]) -> list[Mail]:
    """One mail per person with an address, in that person's language."""
    return [
        Mail(
            recipient=person.email,
            template=template,
            context=context,
            language=person.language or settings.LANGUAGE_CODE,
        )
        for person in people
        if person.email
    ]
