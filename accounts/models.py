from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

customer_number_validator = RegexValidator(
    r"^[0-9]{1,10}$", _("A customer number consists of 1 to 10 digits.")
)


class Customer(models.Model):
    """A company that buys hosting; mirrored from Admin.Arge by customer number."""

    number = models.CharField(
        _("customer number"), max_length=10, unique=True, validators=[customer_number_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_managed = models.BooleanField(
        _("managed hosting"),
        default=False,
        help_text=_("Managed customers go first in queues and get 24x7 P1 resolution."),
    )
    sla_contract = models.ForeignKey(
        "tickets.SlaContract",
        verbose_name=_("SLA contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    admin_arge_id = models.CharField(_("Admin.Arge id"), max_length=64, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["number"]
        constraints = [
            # Admin.Arge ids are unique where present; many customers have none yet.
            models.UniqueConstraint(
                fields=["admin_arge_id"],
                condition=~Q(admin_arge_id=""),
                name="customer_admin_arge_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Grade(models.TextChoices):
    JUNIOR = "jr", _("junior")
    MEDIOR = "mr", _("medior")
    SENIOR = "sr", _("senior")


class User(AbstractUser):
    """Staff (with a grade and roles) or a customer user (tied to one customer).

    A customer user is never staff: the portal and every customer-facing
    selector key off `customer`, the staff pages off `is_staff`.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices, blank=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(is_staff=False),
                name="user_customer_users_are_not_staff",
            ),
        ]

    @property
    def is_customer_user(self) -> bool:
        return self.customer_id is not None

    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Absence(models.Model):
    """Leave or sickness; the backup check goes to the substitute meanwhile."""

    user = models.ForeignKey(
        User, verbose_name=_("engineer"), on_delete=models.CASCADE, related_name="absences"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    substitute = models.ForeignKey(
        User,
        verbose_name=_("substitute"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="substitutions",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="absence_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(substitute=models.F("user")), name="absence_substitute_not_self"
            ),
        ]
        indexes = [
            # absent_on(user, day): "is this engineer away today?"
            models.Index(fields=["user", "starts_on", "ends_on"], name="absence_user_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_on} - {self.ends_on}"


class OnCallShift(models.Model):
    """Who is on standby when; monitoring alerts go to the engineer on call."""

    user = models.ForeignKey(
        User, verbose_name=_("engineer"), on_delete=models.CASCADE, related_name="on_call_shifts"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        verbose_name = _("on-call shift")
        verbose_name_plural = _("on-call shifts")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="oncall_ends_after_start"
            ),
        ]
        indexes = [
            # on_call_at(moment): shifts covering a moment, newest start first.
            models.Index(fields=["starts_at", "ends_at"], name="oncall_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A key for an integration client. Only a SHA-256 of the key is stored:
    keys are 256-bit random, so a fast hash is enough and lookups stay O(1)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first answer to a create request carrying an Idempotency-Key, so a
    retried request gets that answer back instead of creating a second object."""

    principal = models.CharField(max_length=150)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["principal", "key"], name="idempotency_principal_key_unique"
            ),
        ]
        indexes = [
            # idempotency_purge(): delete records older than the TTL.
            models.Index(fields=["created_at"], name="idempotency_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"


class LoginFailure(models.Model):
    """Failed logins, per username and per address, for brute-force throttling
    that holds across web processes (a per-process cache would not)."""

    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # login_is_locked(): recent failures for a username or an address.
            models.Index(fields=["username", "at"], name="loginfailure_user_at_idx"),
            models.Index(fields=["ip_address", "at"], name="loginfailure_ip_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"
