from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import override_settings

from accounts.models import Absence, Customer, OnCallShift, User
from events.models import Event
from tickets.models import Task


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Customer, User, Task, Absence, OnCallShift, Event)
    )


@override_settings(DEMO_PASSWORD="demo-password-for-tests")
def test_loaddemo_builds_the_desk_once(db: None) -> None:
    call_command("loaddemo", stdout=StringIO())
    first = counts()
    call_command("loaddemo", stdout=StringIO())
    assert counts() == first
    assert Customer.objects.get(number="1000").is_managed is True
    assert Customer.objects.get(number="2000").is_managed is False
    assert User.objects.get(username="customer1").customer.number == "1000"  # type: ignore[union-attr]
    assert User.objects.get(username="customer2").customer.number == "2000"  # type: ignore[union-attr]
    roles = {
        u.username: {g.name for g in u.groups.all()} for u in User.objects.filter(is_staff=True)
    }
    assert "cab_member" in roles["sr"] and "change_manager" in roles["cm"]
    assert roles["head"] >= {"head_of_department"} and roles["itm"] == {"it_manager"}
    assert roles["sales"] == {"sales"} and roles["jr"] == {"engineer"}
    jr = User.objects.get(username="jr")
    assert jr.check_password("demo-password-for-tests")
    assert Task.objects.filter(assignee=jr, status="open").count() >= 2
