from __future__ import annotations

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import customers_visible_to
from servicedesk.api import MomentFilter, idempotent
from tickets.channel_services import call_card_create, monitoring_alert_receive
from tickets.models import (
    CallCard,
    Channel,
    Priority,
    Task,
    TaskStatus,
    Ticket,
    TicketStatus,
    TicketType,
)
from tickets.selectors import (
    BREACHED,
    task_get,
    tasks_visible_to,
    ticket_get,
    ticket_messages,
    ticket_search,
    tickets_visible_to,
)
from tickets.serializers import (
    CallCardCreateSerializer,
    CallCardSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    MonitoringAlertSerializer,
    MonitoringResultSerializer,
    TaskCloseSerializer,
    TaskCreateSerializer,
    TaskSerializer,
    TicketCreateSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    TransitionSerializer,
)
from tickets.services import (
    TransitionError,
    ticket_assign,
    ticket_classify,
    ticket_create,
    ticket_message_add,
    ticket_transition,
)
from tickets.task_services import task_close, task_create, task_reopen


class TaskFilter(django_filters.FilterSet):
    assignee = django_filters.CharFilter(field_name="assignee__username")
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices)
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = Task
        fields = ["assignee", "status", "due_before"]


class TaskListView(generics.ListCreateAPIView):
    serializer_class = TaskSerializer
    scopes = {"GET": "tasks:read", "POST": "tasks:write"}
    staff_perms = {"GET": "tickets.view_task", "POST": "tickets.add_task"}
    filterset_class = TaskFilter
    search_fields = ["title", "description"]
    ordering_fields = ["due_date", "created_at"]
    ordering = ["due_date", "created_at"]

    def get_queryset(self):
        return tasks_visible_to(self.request.user)

    @extend_schema(request=TaskCreateSerializer, responses={201: TaskSerializer})
    @idempotent
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        body = TaskCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = task_create(actor=request.user, now=timezone.now(), **body.validated_data)
        task = task_get(user=request.user, public_id=task.public_id)
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)


class TaskDetailView(APIView):
    scopes = {"GET": "tasks:read"}
    staff_perms = {"GET": "tickets.view_task"}

    @extend_schema(responses=TaskSerializer)
    def get(self, request: Request, public_id: str) -> Response:
        return Response(TaskSerializer(task_get(user=request.user, public_id=public_id)).data)


class TaskCloseView(APIView):
    scopes = {"POST": "tasks:write"}
    staff_perms = {"POST": None}  # the service checks assignee, creator or role

    @extend_schema(request=TaskCloseSerializer, responses=TaskSerializer)
    def post(self, request: Request, public_id: str) -> Response:
        body = TaskCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = task_get(user=request.user, public_id=public_id)
        task_close(task=task, actor=request.user, now=timezone.now(), **body.validated_data)
        return Response(TaskSerializer(task_get(user=request.user, public_id=public_id)).data)


class TaskReopenView(APIView):
    scopes = {"POST": "tasks:write"}
    staff_perms = {"POST": None}

    @extend_schema(request=None, responses=TaskSerializer)
    def post(self, request: Request, public_id: str) -> Response:
        task = task_get(user=request.user, public_id=public_id)
        task_reopen(task=task, actor=request.user, now=timezone.now())
        return Response(TaskSerializer(task_get(user=request.user, public_id=public_id)).data)


class TicketFilter(django_filters.FilterSet):
    # distinct=False: no filter here joins a to-many relation, and DISTINCT over
    # every column (the full-text document too) would make each list a sort.
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices, distinct=False)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    type = django_filters.ChoiceFilter(choices=TicketType.choices)
    customer = django_filters.CharFilter(field_name="customer__number")
    assignee = django_filters.CharFilter(field_name="assignee__username")
    breached = django_filters.BooleanFilter(method="filter_breached")
    created_after = MomentFilter(field_name="created_at", lookup_expr="gte")
    created_before = MomentFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Ticket
        fields = ["status", "priority", "type", "customer", "assignee", "breached"]

    def filter_breached(
        self, queryset: QuerySet[Ticket], name: str, value: bool
    ) -> QuerySet[Ticket]:
        return queryset.filter(BREACHED) if value else queryset.exclude(BREACHED)


TICKET_SCOPES = {"GET": "tickets:read", "POST": "tickets:write", "PATCH": "tickets:write"}


class TicketListView(generics.ListCreateAPIView):
    serializer_class = TicketSerializer
    scopes = TICKET_SCOPES
    staff_perms = {"GET": "tickets.view_ticket", "POST": "tickets.add_ticket"}
    customer_methods = {"GET", "POST"}
    filterset_class = TicketFilter
    # ?search= runs ticket_search (full text on PostgreSQL), not DRF's filter.
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["resolution_due_at", "priority", "created_at"]
    ordering = ["-created_at", "-id"]
    cursor_ordering = ("-created_at", "-id")

    def get_queryset(self):
        qs = tickets_visible_to(self.request.user)
        return ticket_search(qs, self.request.query_params.get("search", ""))

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer})
    @idempotent
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        body = TicketCreateSerializer(data=request.data)
        # Another company is as unknown as a customer that does not exist: the
        # same answer, so a customer user cannot probe for customer numbers.
        visible = customers_visible_to(request.user)
        body.fields["customer"].queryset = visible  # type: ignore[attr-defined]
        body.is_valid(raise_exception=True)  # the field's queryset is `visible`
        data = dict(body.validated_data)
        customer = data.pop("customer")
        if getattr(request.user, "customer_id", None):
            data["channel"] = Channel.PORTAL
        ticket = ticket_create(customer=customer, actor=request.user, now=timezone.now(), **data)
        # The new ticket as stored: unassigned, so no relation needs a query.
        return Response(TicketSerializer(ticket).data, status=status.HTTP_201_CREATED)


class TicketDetailView(APIView):
    scopes = TICKET_SCOPES
    staff_perms = {"GET": "tickets.view_ticket", "PATCH": "tickets.change_ticket"}
    customer_methods = {"GET"}

    @extend_schema(responses=TicketSerializer)
    def get(self, request: Request, number: str) -> Response:
        return Response(TicketSerializer(ticket_get(user=request.user, number=number)).data)

    @extend_schema(request=TicketUpdateSerializer, responses=TicketSerializer)
    def patch(self, request: Request, number: str) -> Response:
        """Classify (impact, urgency, category, type) and assign (assignee, department)."""
        ticket = ticket_get(user=request.user, number=number)
        body = TicketUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data, now = body.validated_data, timezone.now()
        with transaction.atomic():
            if {"impact", "urgency", "category", "type"} & data.keys():
                ticket = ticket_classify(
                    ticket=ticket,
                    impact=data.get("impact", ticket.impact),
                    urgency=data.get("urgency", ticket.urgency),
                    category=data.get("category"),
                    type=data.get("type"),
                    actor=request.user,
                    now=now,
                )
            if "assignee" in data or "department" in data:
                ticket = ticket_assign(
                    ticket=ticket,
                    assignee=data.get("assignee", ticket.assignee),
                    department=data.get("department"),
                    actor=request.user,
                    now=now,
                )
        return Response(TicketSerializer(ticket_get(user=request.user, number=number)).data)


class TicketMessagesView(APIView):
    scopes = TICKET_SCOPES
    staff_perms = {"GET": "tickets.view_ticket", "POST": "tickets.change_ticket"}
    customer_methods = {"GET", "POST"}

    @extend_schema(responses=MessageSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        ticket = ticket_get(user=request.user, number=number)
        messages = ticket_messages(ticket=ticket, user=request.user)
        return Response(MessageSerializer(messages, many=True).data)

    @extend_schema(request=MessageCreateSerializer, responses={201: MessageSerializer})
    @idempotent
    def post(self, request: Request, number: str) -> Response:
        ticket = ticket_get(user=request.user, number=number)
        body = MessageCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = ticket_message_add(
            ticket=ticket, actor=request.user, now=timezone.now(), **body.validated_data
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class TicketTransitionView(APIView):
    scopes = {"POST": "tickets:write"}
    staff_perms = {"POST": "tickets.change_ticket"}

    @extend_schema(
        request=TransitionSerializer,
        responses={200: TicketSerializer, 409: OpenApiResponse(description="Not allowed now")},
    )
    def post(self, request: Request, number: str) -> Response:
        ticket = ticket_get(user=request.user, number=number)
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            ticket_transition(
                ticket=ticket, actor=request.user, now=timezone.now(), **body.validated_data
            )
        except TransitionError as error:
            return Response({"to": error.messages}, status=status.HTTP_409_CONFLICT)
        return Response(TicketSerializer(ticket_get(user=request.user, number=number)).data)


class CallCardView(generics.ListCreateAPIView):
    """Telephony registers calls; a call is linked to the customer whose
    number (or phone number) matches."""

    serializer_class = CallCardSerializer
    scopes = {"GET": "tickets:read", "POST": "callcards:write"}
    staff_perms = {"GET": "tickets.view_ticket", "POST": "tickets.change_ticket"}
    filter_backends: list[type] = []
    queryset = CallCard.objects.select_related("customer", "ticket").order_by("-received_at")

    @extend_schema(request=CallCardCreateSerializer, responses={201: CallCardSerializer})
    @idempotent
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        body = CallCardCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        card = call_card_create(
            phone=data["phone"],
            summary=data["summary"],
            received_at=data["received_at"],
            customer_number=data.get("customer") or None,
            caller=data["caller"],
            actor=request.user,
            now=timezone.now(),
        )
        return Response(CallCardSerializer(card).data, status=status.HTTP_201_CREATED)


class MonitoringAlertView(APIView):
    """Monitoring reports a problem: an incident for the engineer on call."""

    scopes = {"POST": "monitoring:write"}
    staff_perms: dict[str, str | None] = {}

    @extend_schema(
        request=MonitoringAlertSerializer,
        responses={201: MonitoringResultSerializer, 200: MonitoringResultSerializer},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = MonitoringAlertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        ticket, created = monitoring_alert_receive(
            host=data["host"],
            service=data["service"],
            severity=data["severity"],
            summary=data["summary"],
            customer_number=data.get("customer") or None,
            actor=request.user,
            now=timezone.now(),
        )
        ticket.refresh_from_db()
        result = {
            "ticket": ticket.number,
            "created": created,
            "assignee": ticket.assignee.username if ticket.assignee else None,
        }
        return Response(result, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
