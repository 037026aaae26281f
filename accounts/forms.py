from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.template import loader
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from events.services import notification_queue


class LockedOutLoginForm(AuthenticationForm):
    """The login form while the name or the address is locked out: it says so
    and checks no password, not even the right one."""

    def clean(self) -> dict[str, Any]:
        raise ValidationError(
            _("Too many failed attempts. Wait a few minutes and try again."), code="locked"
        )


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


class CustomerNumberField(forms.CharField):
    """A customer number typed by staff; cleans to the active Customer (None
    when left empty on an optional field)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Customer | None:
        number = (super().clean(value) or "").strip()
        if not number:
            return None
        customer = Customer.objects.filter(number=number, active=True).first()
        if customer is None:
            raise forms.ValidationError(_("No active customer has this number."), code="unknown")
        return customer
