from __future__ import annotations

from datetime import UTC, date, datetime
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


@override_settings(DEMO_PASSWORD="demo-password-for-tests")
def test_loaddemo_adds_a_week_of_backups_in_several_groups(db: None) -> None:
    import time_machine

    from backups.models import BackupCheck, BackupJob, BackupProblem, BackupRun, CheckLine

    # Wednesday 25 November 2026, 11:00 in Amsterdam: today's checks exist.
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=UTC), tick=False):
        call_command("loaddemo", stdout=StringIO())
        call_command("loaddemo", stdout=StringIO())
    groups = set(BackupJob.objects.values_list("group__code", flat=True))
    assert groups == {"unix", "windows", "vps"}
    assert set(BackupJob.objects.values_list("customer__number", flat=True)) >= {"1000", "2000"}
    assert BackupRun.objects.filter(status="failed").count() >= 2
    assert BackupRun.objects.filter(started_at__lt=datetime(2026, 11, 19, tzinfo=UTC)).exists()
    assert CheckLine.objects.filter(state="missing").count() >= 2
    assert BackupCheck.objects.filter(day=date(2026, 11, 25)).count() == 3
    # Past checks are done; today's waits for its checker.
    assert not BackupCheck.objects.filter(day__lt=date(2026, 11, 25), completed_at=None).exists()
    assert BackupCheck.objects.filter(day=date(2026, 11, 25), completed_at=None).exists()
    assert set(BackupProblem.objects.values_list("status", flat=True)) == {"open", "solved"}
