"""Reference data SPEC.md prescribes as defaults: the priority matrix, the
calendars, the standard and managed SLA contracts, cause codes, departments.
Idempotent; a data migration runs it and so can tests and loaddemo. Existing
rows are left as they are, so edits made in the admin survive."""

from __future__ import annotations

from datetime import time
from typing import Any

MATRIX = {
    ("high", "high"): 1,
    ("high", "medium"): 2,
    ("high", "low"): 2,
    ("medium", "high"): 2,
    ("medium", "medium"): 2,
    ("medium", "low"): 3,
    ("low", "high"): 2,
    ("low", "medium"): 3,
    ("low", "low"): 3,
}

HOUR = 60
# (response minutes, resolution minutes, calendar code) per priority.
CONTRACTS = {
    "standard": (
        "Standard",
        {
            1: (HOUR, 4 * HOUR, "business"),
            2: (HOUR, 16 * HOUR, "business"),
            3: (HOUR, 40 * HOUR, "business"),
        },
    ),
    "managed": (
        "Managed hosting",
        {
            1: (HOUR, 4 * HOUR, "24x7"),
            2: (HOUR, 16 * HOUR, "business"),
            3: (HOUR, 40 * HOUR, "business"),
        },
    ),
}

CAUSE_CODES = [
    ("hardware", "Hardware failure"),
    ("software", "Software fault"),
    ("configuration", "Configuration error"),
    ("capacity", "Capacity shortage"),
    ("network", "Network outage"),
    ("supplier", "Supplier or third party"),
    ("security", "Security incident"),
    ("user", "Operating error by the user"),
    ("unknown", "Cause unknown"),
]

DEPARTMENTS = [("support", "Support"), ("unix", "Unix/Linux"), ("windows", "Windows")]


def seed_reference_data(apps: Any = None) -> None:
    def model(name: str) -> Any:
        if apps is not None:
            return apps.get_model("tickets", name)
        from django.apps import apps as live

        return live.get_model("tickets", name)

    calendar = model("BusinessCalendar")
    calendars = {
        "business": calendar.objects.get_or_create(
            code="business",
            defaults={
                "name": "Business hours Mon-Fri 08:30-17:30",
                "opens_at": time(8, 30),
                "closes_at": time(17, 30),
                "weekdays": [0, 1, 2, 3, 4],
                "dutch_holidays": True,
            },
        )[0],
        "24x7": calendar.objects.get_or_create(
            code="24x7",
            defaults={"name": "24x7", "always_open": True, "weekdays": [], "dutch_holidays": False},
        )[0],
    }
    matrix = model("PriorityMatrix")
    for (impact, urgency), priority in MATRIX.items():
        matrix.objects.get_or_create(
            impact=impact, urgency=urgency, defaults={"priority": priority}
        )
    contract_model, target_model = model("SlaContract"), model("SlaTarget")
    for code, (name, targets) in CONTRACTS.items():
        contract = contract_model.objects.get_or_create(code=code, defaults={"name": name})[0]
        for priority, (response, resolution, calendar_code) in targets.items():
            target_model.objects.get_or_create(
                contract=contract,
                priority=priority,
                defaults={
                    "response_minutes": response,
                    "resolution_minutes": resolution,
                    "calendar": calendars[calendar_code],
                },
            )
    for code, name in CAUSE_CODES:
        model("CauseCode").objects.get_or_create(code=code, defaults={"name": name})
    for code, name in DEPARTMENTS:
        model("Department").objects.get_or_create(code=code, defaults={"name": name})
