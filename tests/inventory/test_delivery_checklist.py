"""The delivery checklist as pure rules: the steps per server kind in their
order, what may be recorded when, and the documentation that may be written
while the customer tests."""

from __future__ import annotations

import pytest

from inventory import delivery_checklist as checklist
from inventory.models import DeliveryStepName as S

COMMON = [
    S.REGISTERED,
    S.OS_INSTALLED,
    S.SOFTWARE_INSTALLED,
    S.CONFIGURED,
    S.TESTED,
    S.CUSTOMER_ACCOUNT,
    S.CUSTOMER_TEST,
    S.DOCUMENTED,
    S.CONFIRMATION_SENT,
    S.HANDED_OVER,
]


def test_it_orders_a_physical_server_from_ordering_to_hand_over() -> None:
    assert list(checklist.applicable_steps("physical")) == [
        S.ORDERED,
        S.DELIVERED_BY_SUPPLIER,
        S.UNPACKED,
        *COMMON,
    ]


def test_it_starts_a_virtual_server_with_creating_the_vps() -> None:
    assert list(checklist.applicable_steps("virtual")) == [S.VPS_CREATED, *COMMON]


def test_it_refuses_an_unknown_server_kind() -> None:
    with pytest.raises(ValueError):
        checklist.applicable_steps("mainframe")


def test_it_needs_every_earlier_step_first() -> None:
    assert checklist.may_record("physical", S.ORDERED, set())
    assert not checklist.may_record("physical", S.UNPACKED, {S.ORDERED})
    assert checklist.missing_before("physical", S.UNPACKED, {S.ORDERED}) == [
        S.DELIVERED_BY_SUPPLIER
    ]
    assert checklist.may_record("physical", S.UNPACKED, {S.ORDERED, S.DELIVERED_BY_SUPPLIER})


def test_it_never_records_a_step_twice_or_one_of_the_other_kind() -> None:
    assert not checklist.may_record("virtual", S.VPS_CREATED, {S.VPS_CREATED})
    assert not checklist.may_record("virtual", S.ORDERED, set())
    assert not checklist.may_record("physical", S.VPS_CREATED, set())
    with pytest.raises(ValueError):
        checklist.prerequisites("virtual", S.UNPACKED)


def _through(kind: str, last: str) -> set[str]:
    steps = checklist.applicable_steps(kind)
    return set(steps[: steps.index(last) + 1])


def test_it_lets_documentation_start_once_the_software_is_tested() -> None:
    assert not checklist.may_record("virtual", S.DOCUMENTED, _through("virtual", S.CONFIGURED))
    tested = _through("virtual", S.TESTED)
    assert checklist.may_record("virtual", S.DOCUMENTED, tested)
    # ... so while the customer tests, both the test and the document are open.
    testing = _through("virtual", S.CUSTOMER_ACCOUNT)
    assert checklist.open_steps("virtual", testing) == [S.CUSTOMER_TEST, S.DOCUMENTED]
    assert checklist.may_record("virtual", S.CUSTOMER_TEST, testing | {S.DOCUMENTED})


def test_it_needs_the_document_and_the_customer_test_before_the_letter() -> None:
    accepted = _through("virtual", S.CUSTOMER_TEST)
    assert checklist.missing_before("virtual", S.CONFIRMATION_SENT, accepted) == [S.DOCUMENTED]
    documented_only = _through("virtual", S.CUSTOMER_ACCOUNT) | {S.DOCUMENTED}
    assert checklist.missing_before("virtual", S.CONFIRMATION_SENT, documented_only) == [
        S.CUSTOMER_TEST
    ]
    assert not checklist.may_record("virtual", S.HANDED_OVER, accepted | {S.DOCUMENTED})
    everything_but_last = set(checklist.applicable_steps("virtual")) - {S.HANDED_OVER}
    assert checklist.may_record("virtual", S.HANDED_OVER, everything_but_last)


def test_it_names_the_next_step_and_the_progress() -> None:
    assert checklist.next_step("physical", set()) == S.ORDERED
    assert checklist.next_step("virtual", {S.VPS_CREATED, S.REGISTERED}) == S.OS_INSTALLED
    assert checklist.progress("virtual", {S.VPS_CREATED, S.ORDERED}) == (1, 11)
    assert checklist.progress("physical", set()) == (0, 13)
    everything = set(checklist.applicable_steps("physical"))
    assert checklist.next_step("physical", everything) is None
    assert checklist.all_done("physical", everything)


def test_it_leaves_the_customer_test_to_the_customer() -> None:
    assert checklist.is_customer_step(S.CUSTOMER_TEST)
    assert not checklist.is_staff_tickable(S.CUSTOMER_TEST)
    assert not checklist.is_staff_tickable(S.CONFIRMATION_SENT)
    assert not checklist.is_staff_tickable(S.HANDED_OVER)
    assert checklist.is_staff_tickable(S.OS_INSTALLED)
