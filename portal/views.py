from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import customer_get
from servicedesk.lib.access import customer_required


@customer_required
def home(request: HttpRequest) -> HttpResponse:
    """The customer's start page: their company, its contacts and its SLA."""
    customer = customer_get(user=request.user, number=request.user.customer.number)  # type: ignore[union-attr]
    context = {"customer": customer, "colleagues": customer.users.filter(is_active=True)}
    return render(request, "portal/home.html", context)
