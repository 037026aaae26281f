"""Backup fixtures built through the services: two responsibility groups with
jobs of both demo customers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from backups.models import BackupJob, ResponsibilityGroup
from backups.services import backup_job_save
from tests.base import Personas

CONFIGURED = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@dataclass
class BackupSetup:
    unix: ResponsibilityGroup
    windows: ResponsibilityGroup
    mysql: BackupJob  # customer 1000, unix, nightly 01:00, full on Sunday
    files: BackupJob  # customer 1000, unix, nightly 23:00 (the evening before)
    win: BackupJob  # customer 2000, windows, nightly 02:00


def make_job(
    p: Personas, group: ResponsibilityGroup, reference: str, **fields: object
) -> BackupJob:
    values: dict[str, Any] = {
        "reference": reference,
        "customer": p.customer,
        "hostname": f"{reference.split('-')[0]}.example.nl",
        "kind": "mysql",
        "os_family": "unix",
        "storage_location": "backup3:/srv/backups",
        "group": group,
        **fields,
    }
    return backup_job_save(actor=p.sr, now=CONFIGURED, **values)


def make_backup_setup(p: Personas) -> BackupSetup:
    unix = ResponsibilityGroup.objects.create(
        code="unix", name="Unix/Linux", responsible=p.sr, fallback=p.head
    )
    windows = ResponsibilityGroup.objects.create(code="windows", name="Windows", responsible=p.jr)
    return BackupSetup(
        unix=unix,
        windows=windows,
        mysql=make_job(p, unix, "web01-mysql"),
        files=make_job(
            p,
            unix,
            "web01-files",
            kind="files",
            starts_at=time(23, 0),
            full_days="5",
            incremental_days="012346",
        ),
        win=make_job(
            p,
            windows,
            "win01-files",
            customer=p.other_customer,
            kind="files",
            os_family="windows",
            starts_at=time(2, 0),
            full_days="6",
        ),
    )
