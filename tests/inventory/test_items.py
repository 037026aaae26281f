"""Configuration item services: field-level history, hostname rules, status
transitions, IP address rules and installed software."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from events.services import history_of
from inventory.item_services import (
    hostname_is_valid,
    ip_address_add,
    ip_address_remove,
    ip_addresses_set,
    item_create,
    item_transition,
    item_update,
    software_remove,
    software_replace,
    software_set,
)
from inventory.models import ConfigurationItem, IpAddress, ItemStatus, Location, SoftwareRelease
from tests.base import Personas, make_personas
from tests.concurrency import race as _race
from tests.inventory.item_setup import NOW, Items, make_items

LATER = NOW + timedelta(hours=2)


@pytest.fixture
def items(personas: Personas) -> Items:
    return make_items(personas)


def _vps(personas: Personas, hostname: str, **fields: object) -> ConfigurationItem:
    return item_create(actor=personas.jr, now=NOW, hostname=hostname, kind="vps_vmware", **fields)


def _errors(info: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return info.value.message_dict


# --- Creation and field-level history ------------------------------------------------


def test_it_records_every_given_field_when_an_item_is_created(personas: Personas) -> None:
    item = _vps(personas, "vps1.example.nl", customer=personas.customer, os_name="Debian")
    event = history_of(item).get()
    assert (event.kind, event.actor, event.created_at) == ("item.created", personas.jr, NOW)
    changes = event.data["changes"]
    assert changes["hostname"] == [None, "vps1.example.nl"]
    assert changes["customer"] == [None, "1000 Hoogendijk Logistiek"]
    assert changes["status"] == [None, "in_stock"]
    assert "rack" not in changes  # empty fields are not history
    assert item.status == ItemStatus.IN_STOCK and item.created_at == NOW


def test_it_records_old_and_new_value_of_each_changed_field(
    personas: Personas, items: Items
) -> None:
    ams2 = Location.objects.get(code="ams2")
    item_update(
        item=items.web01,
        actor=personas.jr,
        now=LATER,
        os_version="24.04",
        location=ams2,
        rack="A12",  # unchanged
    )
    event = history_of(items.web01).filter(kind="item.updated").get()
    assert event.actor == personas.jr and event.created_at == LATER
    assert event.data["changes"] == {
        "os_version": ["22.04", "24.04"],
        "location": ["Amsterdam datacenter AMS1", "Amsterdam datacenter AMS2"],
    }
    items.web01.refresh_from_db()
    assert items.web01.updated_at == LATER and items.web01.location == ams2


def test_an_update_that_changes_nothing_writes_no_event(personas: Personas, items: Items) -> None:
    before = history_of(items.web01).count()
    item_update(item=items.web01, actor=personas.jr, now=LATER, os_name="Ubuntu", rack=" A12 ")
    assert history_of(items.web01).count() == before


def test_unknown_fields_are_a_programming_error(personas: Personas) -> None:
    with pytest.raises(TypeError):
        item_create(actor=personas.jr, now=NOW, hostname="a.example", kind="other", password="x")


# --- Hostnames and serial numbers ----------------------------------------------------


def test_hostnames_are_stored_lower_case_without_the_trailing_dot(personas: Personas) -> None:
    item = _vps(personas, "  Web01.Example.NL. ")
    assert item.hostname == "web01.example.nl"


def test_blank_hostnames_and_serials_are_stored_as_null(personas: Personas) -> None:
    first = item_create(actor=personas.jr, now=NOW, hostname="", serial_number="S1", kind="other")
    second = item_create(
        actor=personas.jr, now=NOW, hostname="  ", serial_number="S2", kind="other"
    )
    named = _vps(personas, "x.example", serial_number=" ")
    assert first.hostname is None and second.hostname is None and named.serial_number is None


def test_an_item_needs_a_hostname_or_a_serial_number(personas: Personas) -> None:
    with pytest.raises(ValidationError) as info:
        item_create(actor=personas.jr, now=NOW, hostname=" ", serial_number="", kind="switch")
    assert "hostname" in _errors(info)
    assert not ConfigurationItem.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "web_01.example",
        "-web.example",
        "web-.example",
        "web..example",
        "a" * 64 + ".nl",
        "10.0.0.1",
    ],
)
def test_malformed_hostnames_are_refused(personas: Personas, name: str) -> None:
    with pytest.raises(ValidationError) as info:
        _vps(personas, name)
    assert "hostname" in _errors(info)


@pytest.mark.parametrize(
    "name", ["web01", "web-01.example.nl", "1und1.de", "xn--bcher-kva.example"]
)
def test_well_formed_hostnames_are_accepted(name: str) -> None:
    assert hostname_is_valid(name)


def test_a_hostname_is_unique_whatever_its_case(personas: Personas, items: Items) -> None:
    with pytest.raises(ValidationError) as info:
        _vps(personas, "WEB01.hoogendijk.example")
    assert _errors(info) == {"hostname": ["This hostname is already in use."]}
    with pytest.raises(ValidationError) as info:
        item_update(
            item=items.shop, actor=personas.jr, now=LATER, hostname="web01.hoogendijk.example"
        )
    assert "hostname" in _errors(info)


def test_a_serial_number_is_unique(personas: Personas, items: Items) -> None:
    with pytest.raises(ValidationError) as info:
        item_create(actor=personas.jr, now=NOW, serial_number="CZ2405B9Q3", kind="physical")
    assert _errors(info) == {"serial_number": ["This serial number is already in use."]}


@pytest.mark.parametrize("serial", ["AB/123", "..", "."])
def test_serial_numbers_that_cannot_be_an_address_are_refused(
    personas: Personas, serial: str
) -> None:
    with pytest.raises(ValidationError) as info:
        item_create(actor=personas.jr, now=NOW, serial_number=serial, kind="physical")
    assert "serial_number" in _errors(info)


def test_an_unknown_kind_is_refused(personas: Personas) -> None:
    with pytest.raises(ValidationError) as info:
        item_create(actor=personas.jr, now=NOW, hostname="a.example", kind="mainframe")
    assert "kind" in _errors(info)


# --- Status ---------------------------------------------------------------------------


def test_an_item_moves_along_the_allowed_transitions(personas: Personas, items: Items) -> None:
    spare = item_transition(
        item=items.spare, status="installed", actor=personas.jr, now=LATER, reason="racked"
    )
    spare = item_transition(item=spare, status="in_production", actor=personas.jr, now=LATER)
    assert spare.status == ItemStatus.IN_PRODUCTION
    moves = history_of(spare).filter(kind="item.status_changed").order_by("id")
    assert [(e.from_state, e.to_state) for e in moves] == [
        ("in_stock", "installed"),
        ("installed", "in_production"),
    ]
    assert moves[0].reason == "racked"
    assert moves[0].data["changes"] == {"status": ["in_stock", "installed"]}


@pytest.mark.parametrize(
    ("start", "to"),
    [("in_stock", "in_production"), ("in_production", "in_stock"), ("in_stock", "ordered")],
)
def test_a_transition_outside_the_table_is_refused(personas: Personas, start: str, to: str) -> None:
    item = item_create(actor=personas.jr, now=NOW, serial_number="S9", kind="other", status=start)
    with pytest.raises(ValidationError) as info:
        item_transition(item=item, status=to, actor=personas.jr, now=LATER)
    assert "status" in _errors(info)
    item.refresh_from_db()
    assert item.status == start


def test_decommissioned_is_final(personas: Personas, items: Items) -> None:
    item = item_transition(item=items.shop, status="decommissioned", actor=personas.jr, now=LATER)
    for status in ItemStatus.values:
        if status != "decommissioned":
            with pytest.raises(ValidationError):
                item_transition(item=item, status=status, actor=personas.jr, now=LATER)


def test_a_status_given_to_item_update_follows_the_transition_rules(
    personas: Personas, items: Items
) -> None:
    with pytest.raises(ValidationError):
        item_update(item=items.spare, actor=personas.jr, now=LATER, status="in_production")
    item = item_update(
        item=items.spare, actor=personas.jr, now=LATER, hostname="new.example", status="installed"
    )
    assert (item.hostname, item.status) == ("new.example", "installed")
    kinds = list(history_of(item).values_list("kind", flat=True).order_by("id"))
    assert kinds[-2:] == ["item.updated", "item.status_changed"]


# --- IP addresses ---------------------------------------------------------------------


@pytest.mark.parametrize("address", ["10.0.0.256", "web01", "10.0.0.0/24", "", "224.0.0.5", "::"])
def test_an_invalid_address_is_refused(personas: Personas, items: Items, address: str) -> None:
    with pytest.raises(ValidationError) as info:
        ip_address_add(item=items.spare, address=address, actor=personas.jr, now=LATER)
    assert "address" in _errors(info)


def test_addresses_are_classified_and_normalised(personas: Personas, items: Items) -> None:
    item = items.spare
    cases = {
        "192.168.1.10": True,
        "172.16.5.5": True,
        "fd12:3456::1": True,  # ULA
        "2a02:58:1:0000::0001": False,
        "::ffff:8.8.4.4": False,  # an IPv4-mapped address is the IPv4 address
    }
    for address, private in cases.items():
        ip = ip_address_add(item=item, address=address, actor=personas.jr, now=LATER)
        assert ip.is_private is private
    stored = set(IpAddress.objects.filter(item=item).values_list("address", flat=True))
    assert stored == {"192.168.1.10", "172.16.5.5", "fd12:3456::1", "2a02:58:1::1", "8.8.4.4"}


def test_a_public_address_is_unique_everywhere(personas: Personas, items: Items) -> None:
    with pytest.raises(ValidationError) as info:
        ip_address_add(item=items.shop, address="185.52.224.11", actor=personas.jr, now=LATER)
    assert _errors(info) == {
        "address": ["This address is already in use by web01.hoogendijk.example."]
    }
    with pytest.raises(ValidationError) as info:
        ip_address_add(item=items.web01, address="185.52.224.11", actor=personas.jr, now=LATER)
    assert _errors(info) == {"address": ["This item already has this address."]}


def test_a_private_address_is_unique_within_one_customers_network(
    personas: Personas, items: Items
) -> None:
    # Another customer may use the same private range ...
    ip = ip_address_add(item=items.shop, address="10.10.0.11", actor=personas.jr, now=LATER)
    assert ip.is_private and ip.customer_key == personas.other_customer.pk
    # ... and so may the company's own equipment (key 0) ...
    own = ip_address_add(item=items.spare, address="10.10.0.11", actor=personas.jr, now=LATER)
    assert own.customer_key == 0
    # ... but not a second machine of the same customer.
    sibling = _vps(personas, "web02.hoogendijk.example", customer=personas.customer)
    with pytest.raises(ValidationError) as info:
        ip_address_add(item=sibling, address="10.10.0.11", actor=personas.jr, now=LATER)
    assert "already in use" in _errors(info)["address"][0]


def test_moving_an_item_to_another_customer_moves_its_private_addresses(
    personas: Personas, items: Items
) -> None:
    item_update(item=items.shop, actor=personas.jr, now=LATER, customer=None)
    ip_address_add(item=items.shop, address="10.20.0.1", actor=personas.jr, now=LATER)
    item_update(item=items.shop, actor=personas.jr, now=LATER, customer=personas.customer)
    assert set(items.shop.ip_addresses.values_list("customer_key", flat=True)) == {
        personas.customer.pk
    }
    # web01 (customer 1000) has 10.10.0.11; a machine holding it cannot join.
    own = ip_address_add(item=items.spare, address="10.10.0.11", actor=personas.jr, now=LATER)
    with pytest.raises(ValidationError) as info:
        item_update(item=items.spare, actor=personas.jr, now=LATER, customer=personas.customer)
    assert "customer" in _errors(info)
    own.refresh_from_db()
    assert own.customer_key == 0


def test_adding_and_removing_addresses_is_history(personas: Personas, items: Items) -> None:
    ip = ip_address_add(item=items.spare, address="192.168.7.7", actor=personas.jr, now=LATER)
    ip_address_remove(ip=ip, actor=personas.sr, now=LATER)
    events = history_of(items.spare).filter(kind__startswith="item.ip_").order_by("id")
    assert [(e.kind, e.actor, e.data["changes"]) for e in events] == [
        ("item.ip_added", personas.jr, {"ip_addresses": [None, "192.168.7.7"]}),
        ("item.ip_removed", personas.sr, {"ip_addresses": ["192.168.7.7", None]}),
    ]


def test_setting_the_address_list_adds_and_removes(personas: Personas, items: Items) -> None:
    ip_addresses_set(
        item=items.web01,
        addresses=["10.10.0.11", "185.52.224.12", "185.52.224.12"],
        actor=personas.jr,
        now=LATER,
    )
    assert set(items.web01.ip_addresses.values_list("address", flat=True)) == {
        "10.10.0.11",
        "185.52.224.12",
    }
    with pytest.raises(ValidationError) as info:
        ip_addresses_set(
            item=items.web01, addresses=["185.52.224.40"], actor=personas.jr, now=LATER
        )
    assert "ip_addresses" in _errors(info)


# --- Software ---------------------------------------------------------------------------


def test_software_behind_the_newest_release_is_flagged(personas: Personas, items: Items) -> None:
    row = items.web01.software.get(name="nginx")
    assert (row.version, row.latest_version, row.behind) == ("1.24.0", "1.26.2", True)
    row = software_set(
        item=items.web01, name="NGINX", version="1.26.2", actor=personas.jr, now=LATER
    )
    assert (row.name, row.behind) == ("NGINX", False)
    assert items.web01.software.count() == 1
    event = history_of(items.web01).filter(kind="item.software_set").order_by("-id").first()
    assert event is not None and event.data["changes"] == {"software:NGINX": ["1.24.0", "1.26.2"]}


def test_software_without_a_known_release_is_not_behind(personas: Personas, items: Items) -> None:
    row = software_set(item=items.shop, name="Redis", version="7.2.4", actor=personas.jr, now=LATER)
    assert (row.latest_version, row.behind) == ("", False)
    SoftwareRelease.objects.create(name="OpenSSL", version="3.0.15", registered_at=NOW)
    row = software_set(
        item=items.shop, name="openssl", version="3.0.2", actor=personas.jr, now=LATER
    )
    assert (row.latest_version, row.behind) == ("3.0.15", True)


def test_setting_the_same_version_again_is_no_history(personas: Personas, items: Items) -> None:
    before = history_of(items.web01).count()
    software_set(item=items.web01, name="nginx", version="1.24.0", actor=personas.jr, now=LATER)
    assert history_of(items.web01).count() == before


def test_software_needs_a_name_and_a_version(personas: Personas, items: Items) -> None:
    with pytest.raises(ValidationError) as info:
        software_set(item=items.web01, name=" ", version="", actor=personas.jr, now=LATER)
    assert set(_errors(info)) == {"name", "version"}


def test_removing_and_replacing_software_is_history(personas: Personas, items: Items) -> None:
    software_replace(
        item=items.web01,
        entries=[("OpenSSL", "3.0.2"), ("MySQL", "8.0.40")],
        actor=personas.jr,
        now=LATER,
    )
    assert sorted(items.web01.software.values_list("name", "version")) == [
        ("MySQL", "8.0.40"),
        ("OpenSSL", "3.0.2"),
    ]
    software_remove(software=items.web01.software.get(name="MySQL"), actor=personas.jr, now=LATER)
    changes = [
        e.data["changes"]
        for e in history_of(items.web01).filter(kind="item.software_removed").order_by("id")
    ]
    assert changes == [{"software:nginx": ["1.24.0", None]}, {"software:MySQL": ["8.0.40", None]}]


# --- Demo data ----------------------------------------------------------------------------


def test_the_demo_machines_load_once(personas: Personas) -> None:
    from accounts.models import Customer
    from inventory.demo_items import load_demo_items

    Customer.objects.create(number="1010", name="Zeeland Zorg")
    staff = {"jr": personas.jr, "sr": personas.sr, "head": personas.head}
    load_demo_items(staff, NOW)
    load_demo_items(staff, NOW)
    machines = ConfigurationItem.objects.all()
    assert machines.count() == 7
    assert set(machines.values_list("customer__number", flat=True)) == {
        "1000",
        "2000",
        "1010",
        None,
    }
    assert set(machines.values_list("location__code", flat=True)) == {"ams1", "ams2", "mls"}
    web01 = machines.get(hostname="web01.hoogendijk.example")
    assert web01.status == "in_production"
    assert set(web01.software.filter(behind=True).values_list("name", flat=True)) == {
        "nginx",
        "OpenSSL",
    }
    assert web01.secrets.filter(label="root password").exists()
    assert machines.filter(secrets__isnull=False).distinct().count() == 6


def test_the_demo_machines_are_linked_to_the_demo_backup_jobs(personas: Personas) -> None:
    from accounts.models import Customer
    from backups.demo import load_demo_backups
    from backups.models import BackupJob
    from inventory.demo_items import load_demo_items

    for number in ("1010", "2020"):
        Customer.objects.create(number=number, name=f"Customer {number}")
    staff = {
        "jr": personas.jr,
        "sr": personas.sr,
        "head": personas.head,
        "cm": personas.cm,
        "itm": personas.itm,
        "sales": personas.sales,
    }
    load_demo_backups(staff, NOW)
    load_demo_items(staff, NOW)
    web01 = ConfigurationItem.objects.get(hostname="web01.hoogendijk.example")
    assert set(web01.backup_jobs.values_list("reference", flat=True)) == {
        "web01-mysql",
        "web01-plesk",
        "web01-files",
    }
    assert BackupJob.objects.get(reference="zorg-fs01").machine is not None


# --- Races (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_engineers_taking_one_address_at_once_get_a_clear_refusal() -> None:
    personas = make_personas()
    machines = [_vps(personas, f"race{i}.example.nl", customer=personas.customer) for i in range(4)]

    def take(i: int) -> None:
        ip_address_add(item=machines[i], address="185.52.227.1", actor=personas.jr, now=NOW)

    succeeded, errors = _race(take, threads=4)
    assert succeeded == 1
    assert len(errors) == 3 and all(isinstance(e, ValidationError) for e in errors), errors
    assert IpAddress.objects.filter(address="185.52.227.1").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_registrations_of_one_hostname_at_once_get_a_clear_refusal() -> None:
    personas = make_personas()

    def register(i: int) -> None:
        item_create(actor=personas.jr, now=NOW, hostname="twice.example.nl", kind="other")

    succeeded, errors = _race(register, threads=4)
    assert succeeded == 1
    assert len(errors) == 3 and all(isinstance(e, ValidationError) for e in errors), errors
