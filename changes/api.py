"""The changes API (API.md, "Changes"): submit and list changes, CAB advice,
the change manager's decision and the forward schedule as iCalendar."""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Customer
from accounts.selectors import customers_visible_to
from changes.models import Advice, Change, ChangeStatus, Classification
from changes.selectors import change_get, changes_visible_to, ical_feed
from changes.serializers import (
    AdviceCreateSerializer,
    AdviceSerializer,
    ChangeCreateSerializer,
    ChangeSerializer,
    DecisionSerializer,
)
from changes.services import change_advise, change_decide, change_submit
from servicedesk.api import MomentFilter, idempotent
from tickets.models import Ticket
from tickets.selectors import tickets_visible_to

CHANGE_SCOPES = {"GET": "changes:read", "POST": "changes:write"}
# Advice and decisions are a person's judgement: no token scope grants them,
# so an integration client gets 403 there.
PERSON_ONLY: dict[str, str] = {}


class ChangeFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ChangeStatus.choices)
    classification = django_filters.ChoiceFilter(choices=Classification.choices)
    customer = django_filters.CharFilter(field_name="customer__number")
    emergency = django_filters.BooleanFilter()
    planned_after = MomentFilter(field_name="planned_start", lookup_expr="gte")
    planned_before = MomentFilter(field_name="planned_start", lookup_expr="lt")

    class Meta:
        model = Change
        fields = ["status", "classification", "customer", "emergency"]


def _customer_and_ticket(request: Request, data: dict[str, Any]) -> tuple[Customer | None, Any]:
    """The change's customer and origin ticket as the caller may name them:
    a customer user's own company by default; a ticket the caller cannot see
    is unknown; without a customer the ticket's customer is meant."""
    user = request.user
    customer: Customer | None = data.pop("customer", None)
    ticket: Ticket | None = data.pop("ticket", None)
    if customer is not None and not customers_visible_to(user).filter(pk=customer.pk).exists():
        raise ValidationError({"customer": ["Unknown customer."]})
    if ticket is not None and not tickets_visible_to(user).filter(pk=ticket.pk).exists():
        raise ValidationError({"ticket": ["Unknown ticket."]})
    if customer is None and ticket is not None:
        customer = ticket.customer
    if customer is None and getattr(user, "customer_id", None):
        customer = customers_visible_to(user).first()
    if ticket is not None and ticket.customer_id not in (None, getattr(customer, "pk", None)):
        raise ValidationError({"ticket": ["The ticket belongs to another customer."]})
    return customer, ticket


class ChangeListView(generics.ListCreateAPIView):
    serializer_class = ChangeSerializer
    scopes = CHANGE_SCOPES
    staff_perms = {"GET": "changes.view_change", "POST": "changes.add_change"}
    customer_methods = {"GET", "POST"}
    filterset_class = ChangeFilter
    search_fields = ["number", "subject"]
    ordering_fields = ["created_at", "planned_start", "priority"]
    ordering = ["-created_at", "-id"]
    cursor_ordering = ("-created_at", "-id")

    def get_queryset(self):
        return changes_visible_to(self.request.user)

    @extend_schema(request=ChangeCreateSerializer, responses={201: ChangeSerializer})
    @idempotent
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        body = ChangeCreateSerializer(data=request.data)
        # Another company's customer or ticket is as unknown as one that does
        # not exist: the same answer, so nothing is learnt by probing numbers.
        visible = {
            "customer": customers_visible_to(request.user),
            "ticket": tickets_visible_to(request.user),
        }
        for name, queryset in visible.items():
            body.fields[name].queryset = queryset  # type: ignore[attr-defined]
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        customer, ticket = _customer_and_ticket(request, data)
        change = change_submit(
            subject=data["subject"],
            message=data["message"],
            impact=data["impact"],
            urgency=data["urgency"],
            answers=dict(data["answers"]),
            justifications=body.service_justifications(),
            emergency=data["emergency"],
            planned_start=data["planned_start"],
            planned_end=data["planned_end"],
            implementation_plan=data["implementation_plan"],
            rollback_plan=data["rollback_plan"],
            affected_machines=data["affected_machines"],
            customer=customer,
            ticket=ticket,
            actor=request.user,
            now=timezone.now(),
        )
        change = change_get(user=request.user, number=change.number or "")
        return Response(ChangeSerializer(change).data, status=status.HTTP_201_CREATED)


class ChangeDetailView(APIView):
    scopes = CHANGE_SCOPES
    staff_perms = {"GET": "changes.view_change"}
    customer_methods = {"GET"}

    @extend_schema(responses=ChangeSerializer)
    def get(self, request: Request, number: str) -> Response:
        return Response(ChangeSerializer(change_get(user=request.user, number=number)).data)


class ChangeAdviceView(APIView):
    """A CAB member advises on a change awaiting the CAB; posting again
    revises the member's advice until the decision."""

    scopes = PERSON_ONLY
    staff_perms = {"POST": "changes.advise_change"}

    @extend_schema(
        request=AdviceCreateSerializer, responses={201: AdviceSerializer, 200: AdviceSerializer}
    )
    def post(self, request: Request, number: str) -> Response:
        change = change_get(user=request.user, number=number)
        body = AdviceCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revised = Advice.objects.filter(change=change, member_id=request.user.pk).exists()
        advice = change_advise(
            change=change, actor=request.user, now=timezone.now(), **body.validated_data
        )
        return Response(
            AdviceSerializer(advice).data,
            status=status.HTTP_200_OK if revised else status.HTTP_201_CREATED,
        )


class ChangeDecisionView(APIView):
    """The change manager approves or rejects a change awaiting the CAB."""

    scopes = PERSON_ONLY
    staff_perms = {"POST": "changes.decide_change"}

    @extend_schema(request=DecisionSerializer, responses=ChangeSerializer)
    def post(self, request: Request, number: str) -> Response:
        change = change_get(user=request.user, number=number)
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        change_decide(change=change, actor=request.user, now=timezone.now(), **body.validated_data)
        return Response(ChangeSerializer(change_get(user=request.user, number=number)).data)


class ICalendarRenderer(BaseRenderer):
    """Lets a client that sends `Accept: text/calendar` through negotiation."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return data.encode(self.charset) if isinstance(data, str) else data


class ChangeScheduleFeedView(APIView):
    """The forward schedule for calendar clients (subscribe with a token
    with changes:read, or open it while logged in)."""

    scopes = {"GET": "changes:read"}
    staff_perms = {"GET": "changes.view_change"}
    # JSON first: errors stay JSON; the calendar itself bypasses rendering.
    renderer_classes = [JSONRenderer, ICalendarRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON like everywhere in the API, even for a calendar client.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="changes_schedule_ics",
        responses={
            (200, "text/calendar"): OpenApiResponse(
                response=OpenApiTypes.STR, description="RFC 5545 calendar"
            )
        },
    )
    def get(self, request: Request) -> HttpResponse:
        response = HttpResponse(
            ical_feed(now=timezone.now()), content_type="text/calendar; charset=utf-8"
        )
        response["Content-Disposition"] = 'inline; filename="change-schedule.ics"'
        return response
