from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import PasswordResetForm
from django.template import loader
from django.utils import timezone

from events.services import notification_queue


class OutboxPasswordResetForm(PasswordResetForm):
    """Sends the reset mail through the notification outbox, so a slow or
    unreachable mail server never blocks or fails the page."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        reset_path = loader.render_to_string("registration/password_reset_path.txt", context)
        user = context["user"]
        notification_queue(
            recipient=to_email,
            template="password-reset",
            context={"username": user.get_username(), "path": reset_path.strip()},
            language=user.language,
            now=timezone.now(),
        )
