"""The delivery services: the structured request and its validation, the
engineer's task, steps in order with who and when, registering the machine,
the customer's test rounds, the confirmation letter, completion and lead
time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import connection

from events.models import Event
from events.tasks import send_notifications
from inventory.delivery_selectors import (
    deliveries_visible_to,
    delivery_board,
    delivery_get,
    delivery_kpis,
)
from inventory.delivery_services import (
    delivery_assign,
    delivery_cancel,
    delivery_complete,
    delivery_confirm,
    delivery_customer_accept,
    delivery_customer_reject,
    delivery_issue_record,
    delivery_machine_register,
    delivery_retest,
    delivery_step_record,
    delivery_transition,
)
from inventory.item_services import item_create
from inventory.models import (
    ConfigurationItem,
    Delivery,
    DeliveryIssue,
    DeliveryStatus,
    DeliveryStep,
    ItemStatus,
    Secret,
)
from tests.base import Personas, make_personas, make_user
from tests.inventory.delivery_setup import (
    NOW,
    SERVER_PASSWORD,
    WANTED,
    S,
    accepted,
    at,
    register,
    request,
    to_customer_test,
)
from tickets.models import Task, TaskStatus


def tasks_of(delivery: Delivery) -> list[Task]:
    return list(
        Task.objects.filter(
            link_type=ContentType.objects.get_for_model(Delivery), link_id=delivery.pk
        ).order_by("pk")
    )


def errors_of(call: object, **kwargs: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)  # type: ignore[operator]
    return caught.value.message_dict


# --- Request ------------------------------------------------------------------------


def test_it_numbers_the_request_and_puts_it_in_a_senior_engineers_task_box(
    personas: Personas,
) -> None:
    delivery = request(personas)
    assert delivery.number == f"D-{delivery.pk:06d}"
    assert (delivery.status, delivery.requested_at, delivery.requested_by) == (
        DeliveryStatus.REQUESTED,
        NOW,
        personas.sales,
    )
    # The senior engineer, not the head of department (who reassigns later).
    assert delivery.engineer == personas.sr
    [task] = tasks_of(delivery)
    assert (task.assignee, task.creator, task.due_date) == (personas.sr, personas.sales, WANTED)
    assert str(delivery.number) in task.title and "VMware" in task.title
    assert "PostgreSQL 17" in task.description and "kees@hoogendijk.example" in task.description
    assert Event.objects.filter(kind="delivery.requested", object_id=delivery.pk).exists()
    second = request(personas)
    assert second.number == f"D-{second.pk:06d}" and second.number != delivery.number


def test_without_another_senior_the_head_of_department_gets_it(personas: Personas) -> None:
    personas.sr.is_active = False
    personas.sr.save()
    assert request(personas).engineer == personas.head


def test_a_virtual_server_needs_its_hypervisor_and_a_physical_one_has_none(
    personas: Personas,
) -> None:
    errors = errors_of(request, personas=personas, hypervisor="")
    assert errors == {"hypervisor": ["Choose the hypervisor of the virtual server."]}
    errors = errors_of(request, personas=personas, server_kind="physical", hypervisor="vmware")
    assert errors == {"hypervisor": ["A physical server has no hypervisor."]}
    assert request(personas, server_kind="physical", hypervisor="").hypervisor == ""
    assert request(personas, hypervisor="hyperv").hypervisor == "hyperv"


def test_the_wanted_date_may_not_be_in_the_past(personas: Personas) -> None:
    errors = errors_of(request, personas=personas, wanted_on=date(2026, 3, 9))
    assert errors == {"wanted_on": ["The wanted date is in the past."]}
    assert request(personas, wanted_on=date(2026, 3, 10)).wanted_on == date(2026, 3, 10)


def test_a_request_says_what_exactly_must_be_delivered(personas: Personas) -> None:
    errors = errors_of(
        request,
        personas=personas,
        origin="order",
        os_name=" ",
        contacts="",
        server_kind="mainframe",
    )
    assert set(errors) == {"order_reference", "os_name", "contacts", "server_kind"}
    assert request(personas, origin="order", order_reference="W-1").order_reference == "W-1"
    assert not Delivery.objects.filter(os_name="").exists()


def test_only_sales_and_managers_request_deliveries(personas: Personas) -> None:
    for person in (personas.jr, personas.customer_user):
        with pytest.raises(PermissionDenied):
            request(personas, requested_by=person)
    assert request(personas, requested_by=personas.itm).requested_by == personas.itm


# --- Assignment ---------------------------------------------------------------------


def test_reassigning_moves_the_task_to_the_new_engineer(personas: Personas) -> None:
    delivery = request(personas)
    delivery_assign(delivery=delivery, engineer=personas.jr, actor=personas.head, now=at(1))
    delivery.refresh_from_db()
    assert delivery.engineer == personas.jr
    old, new = tasks_of(delivery)
    assert (old.assignee, old.status) == (personas.sr, TaskStatus.CLOSED)
    assert (new.assignee, new.status, new.creator) == (personas.jr, TaskStatus.OPEN, personas.head)
    errors = errors_of(
        delivery_assign, delivery=delivery, engineer=personas.sales, actor=personas.head, now=at(2)
    )
    assert errors == {"engineer": ["Deliveries go to active engineers only."]}
    with pytest.raises(PermissionDenied):
        delivery_assign(delivery=delivery, engineer=personas.sr, actor=personas.sales, now=at(2))


# --- Steps --------------------------------------------------------------------------


def test_steps_go_in_order_and_record_who_and_when(personas: Personas) -> None:
    delivery = request(personas, server_kind="physical", hypervisor="")
    errors = errors_of(
        delivery_step_record, delivery=delivery, step=S.UNPACKED, actor=personas.sr, now=at(1)
    )
    assert errors == {"step": ["First: server ordered, server delivered."]}
    delivery_step_record(
        delivery=delivery, step=S.ORDERED, actor=personas.jr, now=at(1), note="PO-17"
    )
    step = DeliveryStep.objects.get(delivery=delivery)
    assert (step.step, step.done_by, step.done_at, step.note) == (
        S.ORDERED,
        personas.jr,
        at(1),
        "PO-17",
    )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.IN_PROGRESS  # the first step starts it
    kinds = list(
        Event.objects.filter(object_id=delivery.pk, kind__startswith="delivery.")
        .order_by("pk")
        .values_list("kind", "to_state")
    )
    assert kinds[-2:] == [
        ("delivery.step_recorded", ""),
        ("delivery.status_changed", "in_progress"),
    ]
    errors = errors_of(
        delivery_step_record, delivery=delivery, step=S.ORDERED, actor=personas.sr, now=at(2)
    )
    assert errors == {"step": ["“server ordered” is done already."]}
    errors = errors_of(
        delivery_step_record, delivery=delivery, step=S.VPS_CREATED, actor=personas.sr, now=at(2)
    )
    assert errors == {"step": ["“VPS created” is not a step of a physical delivery."]}


def test_only_engineers_record_steps(personas: Personas) -> None:
    delivery = request(personas)
    for person in (personas.sales, personas.customer_user):
        with pytest.raises(PermissionDenied):
            delivery_step_record(delivery=delivery, step=S.VPS_CREATED, actor=person, now=at(1))


def test_registration_needs_the_machine_in_network(personas: Personas) -> None:
    delivery = request(personas)
    delivery_step_record(delivery=delivery, step=S.VPS_CREATED, actor=personas.sr, now=at(1))
    errors = errors_of(
        delivery_step_record, delivery=delivery, step=S.REGISTERED, actor=personas.sr, now=at(2)
    )
    assert errors == {"step": ["Register the machine in Network first."]}


def test_registering_creates_the_customers_machine_with_its_password_encrypted(
    personas: Personas,
) -> None:
    delivery = request(personas)
    delivery_step_record(delivery=delivery, step=S.VPS_CREATED, actor=personas.sr, now=at(1))
    delivery = register(personas, delivery, at(2))
    item = ConfigurationItem.objects.get(hostname="vps21.hoogendijk.example")
    assert delivery.item == item
    assert (item.customer, item.kind, item.machine_type, item.rack) == (
        personas.customer,
        "vps_vmware",
        "VMware VM, 4 vCPU",
        "B3",
    )
    step = DeliveryStep.objects.get(delivery=delivery, step=S.REGISTERED)
    assert (step.done_by, step.done_at) == (personas.sr, at(2))
    secret = Secret.objects.get(item=item)
    assert secret.label == "server password"
    assert SERVER_PASSWORD.encode() not in bytes(secret.ciphertext)
    # The password is nowhere in the history.
    for event in Event.objects.all():
        assert SERVER_PASSWORD not in str(event.data) + event.reason


def test_registering_links_a_server_received_into_stock(personas: Personas) -> None:
    received = item_create(actor=personas.jr, now=NOW, kind="physical", serial_number="CZJ3490KX2")
    delivery = request(personas, server_kind="physical", hypervisor="")
    for hours, step in enumerate([S.ORDERED, S.DELIVERED_BY_SUPPLIER, S.UNPACKED], start=1):
        delivery_step_record(delivery=delivery, step=step, actor=personas.sr, now=at(hours))
    delivery = delivery_machine_register(
        delivery=delivery,
        actor=personas.sr,
        now=at(4),
        item=received,
        machine_type="HPE ProLiant DL360",
    )
    received.refresh_from_db()
    assert delivery.item == received
    assert (received.customer, received.machine_type) == (personas.customer, "HPE ProLiant DL360")
    assert delivery.status == DeliveryStatus.IN_PROGRESS


def test_a_machine_of_another_customer_or_kind_is_not_linked(personas: Personas) -> None:
    foreign = item_create(
        actor=personas.jr,
        now=NOW,
        kind="vps_vmware",
        hostname="shop.korenschoof.example",
        customer=personas.other_customer,
    )
    hyperv = item_create(actor=personas.jr, now=NOW, kind="vps_hyperv", hostname="hv.example")
    delivery = request(personas)
    delivery_step_record(delivery=delivery, step=S.VPS_CREATED, actor=personas.sr, now=at(1))
    for item, message in (
        (foreign, "This machine belongs to another customer."),
        (hyperv, "This machine is a VPS (Hyper-V); the delivery is a virtual server (VMware)."),
    ):
        errors = errors_of(
            delivery_machine_register, delivery=delivery, actor=personas.sr, now=at(2), item=item
        )
        assert errors == {"item": [message]}
    delivery.refresh_from_db()
    assert delivery.item is None
    assert not DeliveryStep.objects.filter(delivery=delivery, step=S.REGISTERED).exists()


def test_registering_out_of_order_changes_nothing(personas: Personas) -> None:
    delivery = request(personas)
    errors = errors_of(
        delivery_machine_register,
        delivery=delivery,
        actor=personas.sr,
        now=at(1),
        hostname="early.example",
    )
    assert errors == {"step": ["First: VPS created."]}
    assert not ConfigurationItem.objects.filter(hostname="early.example").exists()


def test_installing_the_os_writes_it_on_the_machine(personas: Personas) -> None:
    delivery = request(personas)
    delivery_step_record(delivery=delivery, step=S.VPS_CREATED, actor=personas.sr, now=at(1))
    delivery = register(personas, delivery, at(2))
    delivery_step_record(delivery=delivery, step=S.OS_INSTALLED, actor=personas.sr, now=at(3))
    item = ConfigurationItem.objects.get(deliveries=delivery)
    assert (item.os_name, item.status) == ("Debian 12", ItemStatus.INSTALLED)


def test_the_customer_account_hands_the_environment_to_the_customer(
    personas: Personas,
) -> None:
    delivery = to_customer_test(personas)
    assert delivery.status == DeliveryStatus.CUSTOMER_TEST
    mail.outbox.clear()
    send_notifications()
    ready = [m for m in mail.outbox if "ready for your test" in str(m.subject)]
    assert [m.to for m in ready] == [["customer1@example.test"]]
    assert str(delivery.number) in str(ready[0].subject)


def test_staff_do_not_tick_the_customers_test_the_letter_or_the_hand_over(
    personas: Personas,
) -> None:
    delivery = to_customer_test(personas)
    for step, message in (
        (S.CUSTOMER_TEST, "The customer records their test by accepting in the portal."),
        (S.CONFIRMATION_SENT, "Send the confirmation letter to record this step."),
        (S.HANDED_OVER, "Deliver the environment to record this step."),
    ):
        errors = errors_of(
            delivery_step_record, delivery=delivery, step=step, actor=personas.sr, now=at(9)
        )
        assert errors == {"step": [message]}


def test_the_environment_may_be_documented_while_the_customer_tests(
    personas: Personas,
) -> None:
    delivery = to_customer_test(personas)
    delivery_step_record(delivery=delivery, step=S.DOCUMENTED, actor=personas.jr, now=at(9))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CUSTOMER_TEST


# --- The customer's test -------------------------------------------------------------


def test_the_customer_accepts_and_the_engineer_hears_of_it(personas: Personas) -> None:
    delivery = to_customer_test(personas)
    mail.outbox.clear()
    delivery_customer_accept(delivery=delivery, actor=personas.customer_user, now=at(24))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.customer_test_rounds) == (DeliveryStatus.ACCEPTED, 1)
    assert (delivery.accepted_by, delivery.accepted_at) == (personas.customer_user, at(24))
    step = DeliveryStep.objects.get(delivery=delivery, step=S.CUSTOMER_TEST)
    assert (step.done_by, step.done_at) == (personas.customer_user, at(24))
    send_notifications()
    accepted_mails = [m for m in mail.outbox if "accepted" in str(m.subject)]
    assert [m.to for m in accepted_mails] == [["sr@example.test"]]


def test_a_rejection_sends_it_back_with_the_remarks_and_counts_the_round(
    personas: Personas,
) -> None:
    delivery = to_customer_test(personas)
    errors = errors_of(
        delivery_customer_reject,
        delivery=delivery,
        actor=personas.customer_user,
        now=at(24),
        remarks=" ",
    )
    assert errors == {"remarks": ["Tell us what is not right."]}
    mail.outbox.clear()
    delivery_customer_reject(
        delivery=delivery,
        actor=personas.customer_user,
        now=at(24),
        remarks="The database login does not work.",
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.customer_test_rounds) == (DeliveryStatus.IN_PROGRESS, 1)
    assert not DeliveryStep.objects.filter(delivery=delivery, step=S.CUSTOMER_TEST).exists()
    event = Event.objects.get(kind="delivery.customer_rejected")
    assert event.reason == "The database login does not work."
    send_notifications()
    [rejected] = [m for m in mail.outbox if "reported a problem" in str(m.subject)]
    assert rejected.to == ["sr@example.test"]
    assert "The database login does not work." in str(rejected.body)
    # Fixed: back to the customer, who accepts in the second round.
    delivery_retest(delivery=delivery, actor=personas.sr, now=at(26), note="Login fixed")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CUSTOMER_TEST
    delivery_customer_accept(delivery=delivery, actor=personas.customer_user, now=at(30))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.customer_test_rounds) == (DeliveryStatus.ACCEPTED, 2)


def test_only_the_deliverys_own_customer_accepts(personas: Personas) -> None:
    delivery = to_customer_test(personas)
    for person in (personas.other_customer_user, personas.sr, personas.head):
        with pytest.raises(PermissionDenied):
            delivery_customer_accept(delivery=delivery, actor=person, now=at(24))
        with pytest.raises(PermissionDenied):
            delivery_customer_reject(delivery=delivery, actor=person, now=at(24), remarks="no")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.customer_test_rounds) == (DeliveryStatus.CUSTOMER_TEST, 0)


def test_the_customer_accepts_only_while_the_environment_waits_for_the_test(
    personas: Personas,
) -> None:
    delivery = request(personas)
    with pytest.raises(ValidationError, match="not waiting for your test"):
        delivery_customer_accept(delivery=delivery, actor=personas.customer_user, now=at(1))
    delivery = accepted(personas)
    with pytest.raises(ValidationError, match="not waiting for your test"):
        delivery_customer_accept(delivery=delivery, actor=personas.customer_user, now=at(30))


def test_a_retest_needs_the_customer_account(personas: Personas) -> None:
    delivery = request(personas)
    delivery_step_record(delivery=delivery, step=S.VPS_CREATED, actor=personas.sr, now=at(1))
    with pytest.raises(ValidationError, match=r"Create the customer account first\."):
        delivery_retest(delivery=delivery, actor=personas.sr, now=at(2))


# --- Issues, confirmation, completion ---------------------------------------------------


def test_issues_during_the_delivery_are_recorded(personas: Personas) -> None:
    delivery = request(personas)
    errors = errors_of(
        delivery_issue_record, delivery=delivery, description="", actor=personas.sr, now=at(1)
    )
    assert errors == {"description": ["Describe what went wrong."]}
    issue = delivery_issue_record(
        delivery=delivery, description="PXE boot failed twice", actor=personas.sr, now=at(1)
    )
    assert (issue.recorded_by, issue.recorded_at) == (personas.sr, at(1))
    assert DeliveryIssue.objects.filter(delivery=delivery).count() == 1


def test_the_letter_waits_for_the_document_and_the_customers_acceptance(
    personas: Personas,
) -> None:
    delivery = to_customer_test(personas)
    delivery_step_record(delivery=delivery, step=S.DOCUMENTED, actor=personas.sr, now=at(9))
    with pytest.raises(ValidationError, match=r"First: customer tested and accepted\."):
        delivery_confirm(delivery=delivery, actor=personas.sr, now=at(10))
    delivery_customer_accept(delivery=delivery, actor=personas.customer_user, now=at(24))
    delivery_confirm(delivery=delivery, actor=personas.sr, now=at(25))
    with pytest.raises(ValidationError, match="sent already"):
        delivery_confirm(delivery=delivery, actor=personas.sr, now=at(26))


def test_the_confirmation_letter_is_mailed_to_the_contacts(personas: Personas) -> None:
    delivery = accepted(personas)
    mail.outbox.clear()
    delivery_confirm(delivery=delivery, actor=personas.sr, now=at(26))
    step = DeliveryStep.objects.get(delivery=delivery, step=S.CONFIRMATION_SENT)
    assert (step.done_by, step.done_at) == (personas.sr, at(26))
    assert step.note == "Sent to kees@hoogendijk.example, it@hoogendijk.example."
    send_notifications()
    letters = [m for m in mail.outbox if "is delivered" in str(m.subject)]
    assert sorted(m.to[0] for m in letters) == [
        "it@hoogendijk.example",
        "kees@hoogendijk.example",
    ]
    body = str(letters[0].body)
    for fact in (str(delivery.number), "vps21.hoogendijk.example", "203.0.113.21", "Debian 12"):
        assert fact in body
    assert "/portal/" in body
    assert isinstance(letters[0], EmailMultiAlternatives)
    assert "vps21.hoogendijk.example" in str(letters[0].alternatives[0][0])
    for message in letters:
        assert SERVER_PASSWORD not in str(message.message())


def test_without_addresses_in_the_contacts_the_customers_address_gets_the_letter(
    personas: Personas,
) -> None:
    delivery = accepted(personas)
    Delivery.objects.filter(pk=delivery.pk).update(contacts="Kees, phone +31 10 555 0100")
    with pytest.raises(ValidationError, match="No address to send the letter to"):
        delivery_confirm(delivery=delivery, actor=personas.sr, now=at(26))
    personas.customer.email = "office@hoogendijk.example"
    personas.customer.save()
    delivery_confirm(delivery=delivery, actor=personas.sr, now=at(26))
    event = Event.objects.get(kind="delivery.confirmed")
    assert event.data["recipients"] == ["office@hoogendijk.example"]


def test_completion_needs_every_step_and_fixes_the_lead_time(personas: Personas) -> None:
    delivery = accepted(personas)
    with pytest.raises(ValidationError, match=r"First: confirmation letter sent\."):
        delivery_complete(delivery=delivery, actor=personas.sr, now=at(27))
    delivery_confirm(delivery=delivery, actor=personas.sr, now=at(26))
    mail.outbox.clear()
    delivery_complete(delivery=delivery, actor=personas.sr, now=at(28), note="Signed off")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.delivered_at) == (DeliveryStatus.DELIVERED, at(28))
    assert delivery.lead_time == timedelta(hours=28)
    step = DeliveryStep.objects.get(delivery=delivery, step=S.HANDED_OVER)
    assert (step.done_by, step.note) == (personas.sr, "Signed off")
    assert [t.status for t in tasks_of(delivery)] == [TaskStatus.CLOSED]
    item = ConfigurationItem.objects.get(deliveries=delivery)
    assert item.status == ItemStatus.IN_PRODUCTION
    event = Event.objects.filter(kind="delivery.status_changed", to_state="delivered").get()
    assert event.data == {"lead_time_seconds": 28 * 3600}
    with pytest.raises(ValidationError, match="is delivered"):
        delivery_step_record(delivery=delivery, step=S.DOCUMENTED, actor=personas.sr, now=at(29))


def test_a_physical_delivery_is_complete_only_with_its_own_steps(personas: Personas) -> None:
    delivery = request(personas, server_kind="physical", hypervisor="")
    for hours, step in enumerate([S.ORDERED, S.DELIVERED_BY_SUPPLIER, S.UNPACKED], start=1):
        delivery_step_record(delivery=delivery, step=step, actor=personas.sr, now=at(hours))
    with pytest.raises(ValidationError, match="First: registered in Network, OS installed"):
        delivery_complete(delivery=delivery, actor=personas.sr, now=at(5))


# --- Status -----------------------------------------------------------------------------


def test_the_status_moves_only_along_the_transition_table(personas: Personas) -> None:
    delivery = request(personas)
    errors = errors_of(
        delivery_transition,
        delivery=delivery,
        to=DeliveryStatus.DELIVERED,
        actor=personas.sr,
        now=at(1),
    )
    assert errors == {"status": ["A delivery that is requested cannot become delivered."]}


def test_a_request_is_cancelled_with_a_reason_and_its_task_closed(personas: Personas) -> None:
    delivery = request(personas)
    errors = errors_of(
        delivery_cancel, delivery=delivery, actor=personas.head, now=at(1), reason=""
    )
    assert errors == {"reason": ["Say why the delivery is cancelled."]}
    delivery_cancel(delivery=delivery, actor=personas.head, now=at(1), reason="Order withdrawn")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CANCELLED
    assert [t.status for t in tasks_of(delivery)] == [TaskStatus.CLOSED]
    waiting = to_customer_test(personas, request(personas))
    with pytest.raises(ValidationError):
        delivery_cancel(delivery=waiting, actor=personas.head, now=at(9), reason="No")


# --- Reads ---------------------------------------------------------------------------------


def test_customers_see_only_their_own_deliveries(personas: Personas) -> None:
    own = request(personas)
    other = request(personas, customer=personas.other_customer)
    assert list(deliveries_visible_to(personas.customer_user)) == [own]
    assert set(deliveries_visible_to(personas.jr)) == {own, other}
    assert not deliveries_visible_to(object()).exists()
    from django.http import Http404

    with pytest.raises(Http404):
        delivery_get(user=personas.customer_user, number=str(other.number))


def test_the_board_groups_by_status_with_the_next_step_in_two_queries(
    personas: Personas, django_assert_num_queries: object
) -> None:
    waiting = to_customer_test(personas)
    fresh = request(personas, server_kind="physical", hypervisor="", wanted_on=date(2026, 3, 12))
    with django_assert_num_queries(2):  # type: ignore[operator]
        columns = delivery_board(personas.sr, today=date(2026, 3, 13))
    by_status = {status: cards for status, _label, cards in columns}
    [card] = by_status["requested"]
    assert (card.delivery, card.next_step, card.overdue) == (fresh, S.ORDERED, True)
    [card] = by_status["customer_test"]
    assert (card.delivery, card.next_step, card.waits_for_customer) == (
        waiting,
        S.CUSTOMER_TEST,
        True,
    )
    assert (card.done, card.total) == (7, 11)
    for _ in range(3):
        request(personas)
    with django_assert_num_queries(2):  # type: ignore[operator]
        delivery_board(personas.sr, today=date(2026, 3, 13))


def test_the_kpis_count_lead_time_issues_and_first_time_acceptance(personas: Personas) -> None:
    delivery = accepted(personas)
    delivery_issue_record(delivery=delivery, description="Typo", actor=personas.sr, now=at(25))
    delivery_confirm(delivery=delivery, actor=personas.sr, now=at(26))
    delivery_complete(delivery=delivery, actor=personas.sr, now=at(28))
    kpis = delivery_kpis(start=NOW, end=NOW + timedelta(days=30))
    assert kpis["count"] == 1 and kpis["machines"] == 1 and kpis["issues"] == 1
    assert kpis["first_time"] == 1
    assert kpis["lead_time"] == timedelta(hours=28)


# --- Races ----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_accept_once_and_record_a_step_once() -> None:
    """Two colleagues of the customer accept at the same moment, and two
    engineers tick the same step: the row lock lets one through, the other
    sees the result and is refused."""
    personas = make_personas()
    delivery = to_customer_test(personas)
    colleague = make_user("customer1b", customer=personas.customer)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(action: Callable[[], object]) -> None:
        try:
            barrier.wait()
            action()
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    def race(*actions: Callable[[], object]) -> None:
        outcomes.clear()
        threads = [threading.Thread(target=run, args=(action,)) for action in actions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["ok", "refused"]

    race(
        lambda: delivery_customer_accept(
            delivery=delivery, actor=personas.customer_user, now=at(24)
        ),
        lambda: delivery_customer_accept(delivery=delivery, actor=colleague, now=at(24)),
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.customer_test_rounds) == (DeliveryStatus.ACCEPTED, 1)
    assert DeliveryStep.objects.filter(delivery=delivery, step=S.CUSTOMER_TEST).count() == 1
    race(
        lambda: delivery_step_record(
            delivery=delivery, step=S.DOCUMENTED, actor=personas.sr, now=at(25)
        ),
        lambda: delivery_step_record(
            delivery=delivery, step=S.DOCUMENTED, actor=personas.jr, now=at(25)
        ),
    )
    assert DeliveryStep.objects.filter(delivery=delivery, step=S.DOCUMENTED).count() == 1


# --- Demo ----------------------------------------------------------------------------------


def test_the_demo_has_one_delivery_in_each_stage_and_loads_once(personas: Personas) -> None:
    from inventory.demo_deliveries import load_demo_deliveries

    staff = {
        "jr": personas.jr,
        "sr": personas.sr,
        "head": personas.head,
        "cm": personas.cm,
        "itm": personas.itm,
        "sales": personas.sales,
    }
    now = NOW + timedelta(days=20)
    load_demo_deliveries(staff, now)
    load_demo_deliveries(staff, now)
    deliveries = {d.status: d for d in Delivery.objects.select_related("customer", "item")}
    assert len(deliveries) == 3
    physical = deliveries[DeliveryStatus.IN_PROGRESS]
    assert (physical.customer.number, physical.server_kind) == ("1000", "physical")
    done = set(DeliveryStep.objects.filter(delivery=physical).values_list("step", flat=True))
    assert S.OS_INSTALLED in done and S.SOFTWARE_INSTALLED not in done
    assert physical.item is not None and physical.item.os_name == "Ubuntu 24.04 LTS"
    waiting = deliveries[DeliveryStatus.CUSTOMER_TEST]
    assert (waiting.customer.number, waiting.hypervisor) == ("2000", "vmware")
    delivered = deliveries[DeliveryStatus.DELIVERED]
    assert delivered.delivered_at is not None and delivered.delivered_at.month == 2
    assert delivered.customer_test_rounds == 2
