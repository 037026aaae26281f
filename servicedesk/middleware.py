from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy (no inline scripts, no foreign hosts) and
    a Permissions-Policy to every response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


class NulBytesMiddleware:
    """NUL bytes name nothing: PostgreSQL can neither store nor compare one.
    A path with a NUL (`/api/v1/tickets/%00/`) was a DataError on the lookup,
    a 500; it is a 404 (JSON under /api/). A cookie with a NUL, such as a
    forged session id, made every page a 500 in the session lookup; it is
    dropped, as if it had not been sent."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            raise Http404
        if any("\x00" in name + value for name, value in request.COOKIES.items()):
            request.COOKIES = {
                name: value for name, value in request.COOKIES.items() if "\x00" not in name + value
            }
        return self.get_response(request)
