from __future__ import annotations

from django.test import Client

from tests.base import Personas


def test_the_schema_and_docs_are_served(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.jr)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/customers/{number}/" in paths and "/api/v1/tasks/" in paths
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_unknown_api_paths_answer_json_404(personas: Personas) -> None:
    response = Client().get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_pages_carry_the_security_headers(personas: Personas) -> None:
    response = Client().get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_health_check_answers(db: None) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}
