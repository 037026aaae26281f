from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from accounts.models import OnCallShift
from accounts.roles import ROLE_PERMISSIONS, Role, roles_sync
from accounts.selectors import on_call_at, stand_in_for
from accounts.services import absence_create
from tests.base import Personas

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_roles_are_groups_with_exactly_the_table_s_permissions(db: None) -> None:
    roles_sync()
    head = Group.objects.get(name=Role.HEAD_OF_DEPARTMENT)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in head.permissions.all()}
    assert granted == set(ROLE_PERMISSIONS[Role.HEAD_OF_DEPARTMENT])
    head.permissions.clear()
    roles_sync()
    assert head.permissions.count() == len(set(ROLE_PERMISSIONS[Role.HEAD_OF_DEPARTMENT]))


def test_a_person_can_hold_several_roles(personas: Personas) -> None:
    assert personas.cm.has_perm("tickets.change_task")  # as change manager
    assert personas.cm.has_perm("tickets.add_task")  # as engineer
    assert not personas.jr.has_perm("tickets.change_task")
    assert not personas.sales.has_perm("tickets.add_task")


def test_the_substitute_stands_in_while_the_engineer_is_away(personas: Personas) -> None:
    absence_create(
        user=personas.jr,
        starts_on=date(2026, 12, 1),
        ends_on=date(2026, 12, 5),
        substitute=personas.sr,
        reason="Holiday",
        actor=personas.head,
        now=NOW,
    )
    assert stand_in_for(user=personas.jr, day=date(2026, 11, 30)) == personas.jr
    assert stand_in_for(user=personas.jr, day=date(2026, 12, 1)) == personas.sr
    assert stand_in_for(user=personas.jr, day=date(2026, 12, 5)) == personas.sr
    assert stand_in_for(user=personas.jr, day=date(2026, 12, 6)) == personas.jr


def test_an_absence_without_substitute_leaves_nobody(personas: Personas) -> None:
    absence_create(
        user=personas.jr,
        starts_on=date(2026, 12, 1),
        ends_on=date(2026, 12, 1),
        substitute=None,
        reason="Sick",
        actor=personas.head,
        now=NOW,
    )
    assert stand_in_for(user=personas.jr, day=date(2026, 12, 1)) is None


@pytest.mark.parametrize(
    ("start", "end", "substitute", "field"),
    [
        (date(2026, 12, 5), date(2026, 12, 1), None, "ends_on"),
        (date(2026, 12, 1), date(2026, 12, 1), "self", "substitute"),
    ],
)
def test_an_impossible_absence_is_refused(
    personas: Personas, start, end, substitute, field
) -> None:
    with pytest.raises(ValidationError) as error:
        absence_create(
            user=personas.jr,
            starts_on=start,
            ends_on=end,
            substitute=personas.jr if substitute == "self" else None,
            reason="",
            actor=personas.head,
            now=NOW,
        )
    assert field in error.value.message_dict


def test_the_latest_starting_shift_is_on_call(personas: Personas) -> None:
    OnCallShift.objects.create(
        user=personas.sr,
        starts_at=datetime(2026, 11, 25, 17, 30, tzinfo=UTC),
        ends_at=datetime(2026, 11, 26, 8, 30, tzinfo=UTC),
    )
    OnCallShift.objects.create(
        user=personas.head,
        starts_at=datetime(2026, 11, 25, 22, 0, tzinfo=UTC),
        ends_at=datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
    )
    assert on_call_at(moment=datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) is None
    assert on_call_at(moment=datetime(2026, 11, 25, 18, 0, tzinfo=UTC)) == personas.sr
    assert on_call_at(moment=datetime(2026, 11, 25, 23, 0, tzinfo=UTC)) == personas.head
    assert on_call_at(moment=datetime(2026, 11, 26, 8, 30, tzinfo=UTC)) is None


def test_a_customer_user_can_never_be_staff(personas: Personas) -> None:
    from django.db import IntegrityError, transaction

    personas.customer_user.is_staff = True
    with pytest.raises(IntegrityError), transaction.atomic():
        personas.customer_user.save()
