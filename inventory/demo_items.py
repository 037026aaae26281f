"""Demo configuration items for `loaddemo`: machines of customers 1000, 2000
and 1010 in the Amsterdam datacenters and the Maassluis office, with
addresses, software (some behind the newest known release) and a stored
root password each, plus the company's own switch and a server in stock.
Backup jobs of the demo backups whose hostname matches get linked to the
machine (when the backups demo ran first)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from accounts.models import Customer, User
from backups.models import BackupJob
from backups.services import backup_job_save
from inventory.item_services import (
    ip_address_add,
    item_create,
    item_transition,
    secret_store,
    software_set,
)
from inventory.models import ConfigurationItem, ItemStatus, Location, SoftwareRelease

RELEASES = [
    # name, newest version, where it was seen
    ("nginx", "1.26.2", "https://nginx.org/en/CHANGES-1.26"),
    ("OpenSSL", "3.0.15", "https://openssl-library.org/news/openssl-3.0-notes/"),
    ("MySQL", "8.0.40", "https://dev.mysql.com/doc/relnotes/mysql/8.0/en/"),
]

MACHINES: list[dict[str, Any]] = [
    {
        "hostname": "web01.hoogendijk.example",
        "serial_number": "CZ2301A7K1",
        "kind": "physical",
        "machine_type": "Dell PowerEdge R650",
        "customer": "1000",
        "location": "ams1",
        "rack": "A12-U20",
        "os_name": "Ubuntu",
        "os_version": "22.04 LTS",
        "redundancy_group": "hoogendijk-web",
        "status": ItemStatus.IN_PRODUCTION,
        "ips": ["185.52.224.11", "10.10.0.11"],
        "software": [("nginx", "1.24.0"), ("OpenSSL", "3.0.2"), ("MySQL", "8.0.40")],
    },
    {
        "hostname": "web02.hoogendijk.example",
        "kind": "vps_vmware",
        "machine_type": "VMware VM, 4 vCPU, 8 GB",
        "customer": "1000",
        "location": "ams2",
        "os_name": "Ubuntu",
        "os_version": "22.04 LTS",
        "redundancy_group": "hoogendijk-web",
        "status": ItemStatus.IN_PRODUCTION,
        "ips": ["185.52.225.12", "10.10.0.12"],
        "software": [("nginx", "1.26.2"), ("OpenSSL", "3.0.2")],
    },
    {
        "hostname": "shop.korenschoof.example",
        "kind": "vps_hyperv",
        "machine_type": "Hyper-V VM, 2 vCPU, 4 GB",
        "customer": "2000",
        "location": "ams1",
        "os_name": "Debian",
        "os_version": "12",
        "status": ItemStatus.IN_PRODUCTION,
        # The same private address as web01's: another customer's network.
        "ips": ["185.52.224.40", "10.10.0.11"],
        "software": [("nginx", "1.26.2"), ("OpenSSL", "3.0.15"), ("MySQL", "8.0.36")],
    },
    {
        "hostname": "fw01.korenschoof.example",
        "serial_number": "FGT60F-TK2024-118",
        "kind": "firewall",
        "machine_type": "Fortinet FortiGate 60F",
        "customer": "2000",
        "location": "ams1",
        "rack": "B03-U41",
        "os_name": "FortiOS",
        "os_version": "7.4.4",
        "status": ItemStatus.INSTALLED,
        "ips": ["185.52.224.1"],
        "software": [],
    },
    {
        "hostname": "fs01.zeelandzorg.example",
        "serial_number": "HPE-DL380-8812",
        "kind": "physical",
        "machine_type": "HPE ProLiant DL380 Gen10",
        "customer": "1010",
        "location": "mls",
        "rack": "MLS-R1-U10",
        "os_name": "Windows Server",
        "os_version": "2022",
        "status": ItemStatus.IN_PRODUCTION,
        "ips": ["192.168.20.10"],
        "software": [("OpenSSL", "3.0.13")],
    },
    {
        "hostname": "sw-ams1-a12.servicedesk.example",
        "serial_number": "JL256A-SG11",
        "kind": "switch",
        "machine_type": "HPE Aruba 2930F 48G",
        "customer": None,
        "location": "ams1",
        "rack": "A12-U42",
        "status": ItemStatus.IN_PRODUCTION,
        "ips": ["10.255.0.12"],
        "software": [],
    },
    {
        "hostname": None,
        "serial_number": "CZ2405B9Q3",
        "kind": "physical",
        "machine_type": "Dell PowerEdge R660",
        "customer": None,
        "location": "mls",
        "status": ItemStatus.IN_STOCK,
        "ips": [],
        "software": [],
    },
]

# The path an item takes from "in stock" to its demo status.
PATH = [ItemStatus.INSTALLED, ItemStatus.IN_PRODUCTION]


def load_demo_items(staff: dict[str, User], now: datetime) -> None:
    if ConfigurationItem.objects.filter(hostname=MACHINES[0]["hostname"]).exists():
        return
    for name, version, source in RELEASES:
        SoftwareRelease.objects.get_or_create(
            name=name,
            defaults={"version": version, "source": source, "registered_at": now},
        )
    engineer, senior = staff["jr"], staff["sr"]
    locations = {location.code: location for location in Location.objects.all()}
    for n, spec in enumerate(MACHINES):
        spec = dict(spec)
        when = now - timedelta(days=60 - n * 7)
        ips, software, status = spec.pop("ips"), spec.pop("software"), spec.pop("status")
        number = spec.pop("customer")
        item = item_create(
            actor=senior,
            now=when,
            customer=Customer.objects.filter(number=number).first() if number else None,
            location=locations.get(spec.pop("location")),
            status=ItemStatus.IN_STOCK,
            **spec,
        )
        for step in PATH:
            if item.status == status:
                break
            item = item_transition(
                item=item, status=step, actor=engineer, now=when + timedelta(days=1)
            )
        later = when + timedelta(days=2)
        for address in ips:
            ip_address_add(item=item, address=address, actor=engineer, now=later)
        for name, version in software:
            software_set(item=item, name=name, version=version, actor=engineer, now=later)
        if item.hostname:
            # A fresh random password per demo install: no fixed password in the code.
            secret_store(
                item=item,
                label="root password",
                value=secrets.token_urlsafe(18),
                actor=senior,
                now=later,
            )
        _link_backup_jobs(item, senior, later)


def _link_backup_jobs(item: ConfigurationItem, actor: User, now: datetime) -> None:
    if not item.hostname:
        return
    jobs = BackupJob.objects.filter(hostname=item.hostname, machine__isnull=True)
    for job in jobs.select_related("customer"):
        if job.customer_id != item.customer_id:
            continue
        backup_job_save(actor=actor, now=now, job=job, machine=item, customer=job.customer)
