"""The portal's backups page: a customer sees the latest run of their own
company's jobs, never another company's."""

from __future__ import annotations

from datetime import UTC, datetime

from django.test import Client

from backups.services import backup_run_report
from tests.backups.factories import make_backup_setup
from tests.base import Personas

NOW = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_a_customer_sees_only_their_own_jobs_with_the_latest_run(personas: Personas) -> None:
    setup = make_backup_setup(personas)
    backup_run_report(
        job=setup.mysql,
        status="failed",
        started_at=datetime(2026, 3, 9, 0, 0, tzinfo=UTC),
        now=NOW,
    )
    backup_run_report(
        job=setup.mysql,
        status="warning",
        started_at=datetime(2026, 3, 10, 0, 0, tzinfo=UTC),
        now=NOW,
    )
    backup_run_report(
        job=setup.win,
        status="success",
        started_at=datetime(2026, 3, 10, 1, 0, tzinfo=UTC),
        now=NOW,
    )
    page = logged_in(personas.customer_user).get("/portal/backups/").content.decode()
    assert "web01.example.nl" in page and "MySQL" in page
    assert "warning" in page and "failed" not in page  # only the latest run
    assert "04/06/2026" in page  # next restore test: configured 5 January + 91 days
    assert "win01.example.nl" not in page and "Korenschoof" not in page
    other = logged_in(personas.other_customer_user).get("/portal/backups/").content.decode()
    assert "win01.example.nl" in other and "success" in other
    assert "web01.example.nl" not in other


def test_inactive_jobs_are_not_shown(personas: Personas) -> None:
    setup = make_backup_setup(personas)
    setup.files.active = False
    setup.files.save(update_fields=["active"])
    setup.mysql.delete()
    page = logged_in(personas.customer_user).get("/portal/backups/").content.decode()
    assert "We make no backups for your company yet." in page


def test_the_portal_navigation_links_the_backups(personas: Personas) -> None:
    page = logged_in(personas.customer_user).get("/portal/").content.decode()
    assert 'href="/portal/backups/"' in page


def test_staff_do_not_use_the_portal_backups(personas: Personas) -> None:
    assert logged_in(personas.jr).get("/portal/backups/").status_code == 404
    assert Client().get("/portal/backups/").status_code == 302
