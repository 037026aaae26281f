"""The customer's deliveries in the portal: progress of each new
environment (the steps done, no internal notes), its environment document,
and while it waits for the customer's test: accept, or report a problem.
Every delivery is read through delivery_get(user=...), so another company's
delivery answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inventory.delivery_documents import document_html
from inventory.delivery_forms import RejectForm
from inventory.delivery_selectors import (
    board_card,
    deliveries_visible_to,
    delivery_checklist,
    delivery_get,
    with_steps,
)
from inventory.delivery_services import delivery_customer_accept, delivery_customer_reject
from inventory.delivery_views import pdf_response
from inventory.models import Delivery, DeliveryStatus
from servicedesk.lib.access import customer_required
from servicedesk.lib.forms import add_service_errors


@customer_required
def delivery_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    deliveries = with_steps(deliveries_visible_to(request.user)).order_by("-requested_at")
    cards = [board_card(delivery, today=today) for delivery in deliveries[:200]]
    return render(request, "portal/deliveries.html", {"cards": cards})


def _page(
    request: HttpRequest,
    delivery: Delivery,
    status: int = 200,
    reject_form: RejectForm | None = None,
) -> HttpResponse:
    rows = delivery_checklist(delivery)
    context = {
        "delivery": delivery,
        "rows": rows,
        "done": sum(1 for row in rows if row.done),
        "waiting": delivery.status == DeliveryStatus.CUSTOMER_TEST,
        "reject_form": reject_form or RejectForm(auto_id="reject_%s"),
    }
    return render(request, "portal/delivery_detail.html", context, status=status)


@customer_required
def delivery_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _page(request, delivery_get(user=request.user, number=number))


@customer_required
@require_POST
def delivery_accept(request: HttpRequest, number: str) -> HttpResponse:
    delivery = delivery_get(user=request.user, number=number)
    try:
        delivery_customer_accept(delivery=delivery, actor=request.user, now=timezone.now())  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Thank you: you accepted the environment."))
    return redirect("portal:delivery-detail", delivery.number)


@customer_required
@require_POST
def delivery_reject(request: HttpRequest, number: str) -> HttpResponse:
    delivery = delivery_get(user=request.user, number=number)
    form = RejectForm(request.POST, auto_id="reject_%s")
    if form.is_valid():
        try:
            delivery_customer_reject(
                delivery=delivery,
                actor=request.user,  # type: ignore[arg-type]
                now=timezone.now(),
                remarks=form.cleaned_data["remarks"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Thank you: we will fix it and ask you to test again."))
            return redirect("portal:delivery-detail", delivery.number)
    return _page(request, delivery, status=400, reject_form=form)


@customer_required
def delivery_document(request: HttpRequest, number: str) -> HttpResponse:
    delivery = delivery_get(user=request.user, number=number)
    html = document_html(
        delivery,
        now=timezone.now(),
        back_url=reverse("portal:delivery-detail", args=[delivery.number]),
        pdf_url=reverse("portal:delivery-pdf", args=[delivery.number]),
    )
    return HttpResponse(html)


@customer_required
def delivery_pdf(request: HttpRequest, number: str) -> HttpResponse:
    return pdf_response(delivery_get(user=request.user, number=number))


urlpatterns = [
    path("deliveries/", delivery_list, name="deliveries"),
    path("deliveries/<str:number>/", delivery_detail, name="delivery-detail"),
    path("deliveries/<str:number>/accept/", delivery_accept, name="delivery-accept"),
    path("deliveries/<str:number>/reject/", delivery_reject, name="delivery-reject"),
    path("deliveries/<str:number>/document/", delivery_document, name="delivery-document"),
    path("deliveries/<str:number>/document.pdf", delivery_pdf, name="delivery-pdf"),
]
