"""Mails caused by CAB events."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.roles import Role
from accounts.selectors import users_in_role
from events.models import Event
from events.notify import Mail, notifier


@notifier("cab.agenda")
def cab_agenda(event: Event) -> list[Mail]:
    """The agenda as it was when claimed (kept in the event) goes to every CAB
    member and the change manager; someone holding both roles gets one mail."""
    starts_at = parse_datetime(event.data["starts_at"])
    context = {
        "starts_at": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M %Z")
        if starts_at
        else "",
        "changes": event.data.get("changes", []),
        "url": settings.SITE_URL + reverse("cab"),
    }
    people = {
        user.pk: user
        for role in (Role.CAB_MEMBER, Role.CHANGE_MANAGER)
        for user in users_in_role(role)
    }
    return [
        Mail(
            recipient=user.email,
            template="cab-agenda",
            context=context,
            language=user.language or settings.LANGUAGE_CODE,
        )
        for user in sorted(people.values(), key=lambda u: u.username)
        if user.email
    ]
