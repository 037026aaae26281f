"""Reads that depend on who asks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Absence, Customer, OnCallShift, User


def customers_visible_to(user: Any) -> QuerySet[Customer]:
    """Staff and integration clients see every customer; a customer user only
    their own company; anyone else nothing."""
    qs = Customer.objects.select_related("sla_contract")
    if getattr(user, "customer_id", None):
        return qs.filter(pk=user.customer_id)
    if getattr(user, "is_staff", False):
        return qs
    return qs.none()


def customer_get(*, user: Any, number: str) -> Customer:
    """The customer with this number if `user` may see it, else 404."""
    customer = customers_visible_to(user).filter(number=number).first()
    if customer is None:
        raise Http404("No such customer")
    return customer


def absence_on(*, user: User, day: date) -> Absence | None:
    return (
        Absence.objects.filter(user=user, starts_on__lte=day, ends_on__gte=day)
        .select_related("substitute")
        .first()
    )


def stand_in_for(*, user: User, day: date) -> User | None:
    """Who does `user`'s work on `day`: the user when present, else the
    designated substitute (None when absent without one)."""
    absence = absence_on(user=user, day=day)
    if absence is None:
        return user
    return absence.substitute


def on_call_at(*, moment: datetime) -> User | None:
    """The engineer on standby at `moment` (the latest-starting shift wins
    where shifts overlap, so a swap entered later overrides the rota)."""
    shift = (
        OnCallShift.objects.filter(starts_at__lte=moment, ends_at__gt=moment)
        .select_related("user")
        .order_by("-starts_at")
        .first()
    )
    return shift.user if shift else None


def staff_users() -> QuerySet[User]:
    return User.objects.filter(is_staff=True, is_active=True).order_by("username")


def users_in_role(role: str) -> QuerySet[User]:
    return staff_users().filter(Q(groups__name=role)).distinct()
