from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.translation import gettext as _

DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and the compose healthcheck: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return render(request, "404.html", status=404)


# Retry-After for a database that does not answer (restarting, failing over).
OUTAGE_RETRY_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    """A failure nobody caused by their input. When the database cannot be
    reached (or broke the connection) that is a 503 with Retry-After: the
    request changed nothing, and the same request (with the same
    Idempotency-Key) may simply be sent again."""
    if isinstance(sys.exc_info()[1], DATABASE_UNREACHABLE):
        message = _("The service is briefly unavailable. Please try again in a moment.")
        if _is_api(request):
            response: HttpResponse = JsonResponse({"detail": message}, status=503)
        else:  # no template: rendering one could need the database again
            response = HttpResponse(
                format_html("<!doctype html><title>503</title><h1>503</h1><p>{}</p>", message),
                status=503,
            )
        response["Retry-After"] = str(OUTAGE_RETRY_SECONDS)
        return response
    if _is_api(request):
        return JsonResponse({"detail": _("Server error.")}, status=500)
    return render(request, "500.html", status=500)
