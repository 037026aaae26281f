"""Personas every test can ask for: two customers (the second one's data must
always answer 404 to the first) and the staff roles of SPEC.md."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group

from accounts.models import Customer, Grade, User
from accounts.roles import Role, roles_sync
from inventory.seed import seed_locations
from tickets.models import SlaContract
from tickets.seed import seed_reference_data


@dataclass
class Personas:
    customer: Customer
    other_customer: Customer
    customer_user: User
    other_customer_user: User
    jr: User
    sr: User
    head: User
    cm: User
    itm: User
    sales: User


def make_user(
    username: str,
    *,
    roles: tuple[str, ...] = (),
    grade: str = "",
    customer: Customer | None = None,
    password: str | None = None,
) -> User:
    user = User(
        username=username,
        email=f"{username}@example.test",
        first_name=username.capitalize(),
        is_staff=customer is None,
        grade=grade,
        customer=customer,
    )
    # Hashing a real password is slow on purpose; only tests that log in
    # through the login form need one.
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if roles:
        user.groups.set(Group.objects.filter(name__in=roles))
    return user


def make_personas(password: str | None = None) -> Personas:
    roles_sync()
    seed_reference_data()  # transactional tests flush what migrations seeded
    seed_locations()
    standard = SlaContract.objects.get(code="standard")
    managed = SlaContract.objects.get(code="managed")
    customer = Customer.objects.create(
        number="1000", name="Hoogendijk Logistiek", is_managed=True, sla_contract=managed
    )
    other = Customer.objects.create(number="2000", name="Korenschoof", sla_contract=standard)
    return Personas(
        customer=customer,
        other_customer=other,
        customer_user=make_user("customer1", customer=customer, password=password),
        other_customer_user=make_user("customer2", customer=other, password=password),
        jr=make_user("jr", roles=(Role.ENGINEER,), grade=Grade.JUNIOR, password=password),
        sr=make_user("sr", roles=(Role.ENGINEER, Role.CAB_MEMBER), grade=Grade.SENIOR),
        head=make_user("head", roles=(Role.ENGINEER, Role.HEAD_OF_DEPARTMENT), grade=Grade.SENIOR),
        cm=make_user("cm", roles=(Role.ENGINEER, Role.CHANGE_MANAGER, Role.CAB_MEMBER)),
        itm=make_user("itm", roles=(Role.IT_MANAGER,)),
        sales=make_user("sales", roles=(Role.SALES,)),
    )
