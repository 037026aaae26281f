"""Reference data of Network: the company's locations."""

from __future__ import annotations

from typing import Any

LOCATIONS = [
    # code, name, datacenter
    ("mls", "Maassluis office", False),
    ("ams1", "Amsterdam datacenter AMS1", True),
    ("ams2", "Amsterdam datacenter AMS2", True),
]


def seed_locations(location_model: Any = None) -> None:
    """Idempotent; takes the historical model inside a migration."""
    if location_model is None:
        from inventory.models import Location

        location_model = Location
    for code, name, datacenter in LOCATIONS:
        location_model.objects.get_or_create(
            code=code, defaults={"name": name, "is_datacenter": datacenter}
        )
