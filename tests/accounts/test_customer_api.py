from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken, Customer
from accounts.services import api_token_revoke
from events.models import Event
from tests.base import Personas

BODY = {
    "name": "Zeeland Zorggroep",
    "email": "ict@zeelandzorg.example",
    "phone": "+31 118 555 010",
    "is_managed": True,
    "sla": "managed",
    "admin_arge_id": "AA-77",
    "active": True,
}


def test_put_creates_then_updates_a_customer(personas: Personas, token_client) -> None:
    client = token_client("customers:read,customers:write")
    created = client.put("/api/v1/customers/1010/", BODY, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["number"] == "1010"
    assert created.json()["sla"] == "managed"
    updated = client.put(
        "/api/v1/customers/1010/", {**BODY, "name": "Zorggroep Zeeland"}, format="json"
    )
    assert updated.status_code == 200
    assert Customer.objects.get(number="1010").name == "Zorggroep Zeeland"
    kinds = list(Event.objects.filter(object_ref__startswith="1010").values_list("kind", flat=True))
    assert kinds == ["customer.created", "customer.updated"]
    assert Event.objects.filter(kind="customer.updated").get().data["changed"]["name"] == [
        "Zeeland Zorggroep",
        "Zorggroep Zeeland",
    ]


def test_put_keeps_fields_that_are_left_out(personas: Personas, token_client) -> None:
    client = token_client("customers:write")
    response = client.put("/api/v1/customers/1000/", {"name": "Hoogendijk B.V."}, format="json")
    assert response.status_code == 200
    customer = Customer.objects.get(number="1000")
    assert (customer.name, customer.is_managed, customer.sla_contract.code) == (  # type: ignore[union-attr]
        "Hoogendijk B.V.",
        True,
        "managed",
    )


def test_the_same_put_twice_records_one_change(personas: Personas, token_client) -> None:
    client = token_client("customers:write")
    client.put("/api/v1/customers/1010/", BODY, format="json")
    client.put("/api/v1/customers/1010/", BODY, format="json")
    assert Event.objects.filter(kind__startswith="customer.").count() == 1


@pytest.mark.parametrize(
    ("number", "body", "field"),
    [
        ("1010", {**BODY, "sla": "gold"}, "sla"),
        ("1010", {**BODY, "email": "not-an-email"}, "email"),
        ("1010", {**BODY, "is_managed": "perhaps"}, "is_managed"),
        ("1010", {k: v for k, v in BODY.items() if k != "name"}, "name"),
        ("10x0", BODY, "number"),
        ("12345678901", BODY, "number"),
    ],
)
def test_bad_input_answers_400_naming_the_field(
    personas: Personas, token_client, number: str, body: dict, field: str
) -> None:
    client = token_client("customers:write")
    response = client.put(f"/api/v1/customers/{number}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Customer.objects.filter(number=number).exists()


def test_a_duplicate_admin_arge_id_is_a_400_and_changes_nothing(
    personas: Personas, token_client
) -> None:
    client = token_client("customers:write")
    client.put("/api/v1/customers/1010/", BODY, format="json")
    response = client.put("/api/v1/customers/1020/", {**BODY, "name": "Other"}, format="json")
    assert response.status_code == 400
    assert "admin_arge_id" in response.json() or "__all__" in response.json()
    assert not Customer.objects.filter(number="1020").exists()


def test_malformed_json_is_a_json_400(personas: Personas, token_client) -> None:
    client = token_client("customers:write")
    response = client.generic(
        "PUT", "/api/v1/customers/1010/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_without_credentials_the_api_answers_401(personas: Personas, api) -> None:
    response = api.get("/api/v1/customers/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_without_the_scope_gets_403(personas: Personas, token_client) -> None:
    client = token_client("customers:read")
    assert client.get("/api/v1/customers/").status_code == 200
    assert client.put("/api/v1/customers/1010/", BODY, format="json").status_code == 403
    assert token_client("tasks:read", name="other").get("/api/v1/customers/").status_code == 403


def test_a_revoked_or_wrong_token_gets_401(personas: Personas, token_client, api) -> None:
    client = token_client("all")
    api_token_revoke(token=ApiToken.objects.get(), now=timezone.now())
    assert client.get("/api/v1/customers/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Token sd_wrong")
    assert api.get("/api/v1/customers/").status_code == 401


def test_a_customer_user_sees_only_their_own_company(personas: Personas, api) -> None:
    api.force_authenticate(personas.customer_user)
    numbers = [c["number"] for c in api.get("/api/v1/customers/").json()["results"]]
    assert numbers == ["1000"]
    assert api.get("/api/v1/customers/1000/").status_code == 200
    foreign = api.get("/api/v1/customers/2000/")
    assert foreign.status_code == 404
    assert "Korenschoof" not in foreign.content.decode()
    assert api.put("/api/v1/customers/1000/", BODY, format="json").status_code == 403


def test_staff_need_the_role_to_change_customers(personas: Personas, api) -> None:
    api.force_authenticate(personas.jr)
    assert api.get("/api/v1/customers/2000/").status_code == 200
    assert api.put("/api/v1/customers/2000/", BODY, format="json").status_code == 403
    api.force_authenticate(personas.itm)
    assert api.put("/api/v1/customers/2000/", {"name": "K"}, format="json").status_code == 200


def test_the_list_filters_searches_and_pages_in_fixed_queries(
    personas: Personas, token_client
) -> None:
    client = token_client("customers:read")
    for number in range(3000, 3030):
        Customer.objects.create(number=str(number), name=f"Klant {number}")
    client.get("/api/v1/customers/")  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/customers/?page_size=5")
    with CaptureQueriesContext(connection) as many:
        page = client.get("/api/v1/customers/?page_size=30").json()
    assert len(few) == len(many)
    assert page["count"] == 32 and len(page["results"]) == 30
    managed = client.get("/api/v1/customers/?is_managed=true").json()
    assert [c["number"] for c in managed["results"]] == ["1000"]
    found = client.get("/api/v1/customers/?search=Korenschoof").json()
    assert [c["number"] for c in found["results"]] == ["2000"]
    capped = client.get("/api/v1/customers/?page_size=1000").json()
    assert len(capped["results"]) == 32  # under the 200 cap
