from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.api import idempotent
from tickets.models import Task, TaskStatus
from tickets.selectors import task_get, tasks_visible_to
from tickets.serializers import TaskCloseSerializer, TaskCreateSerializer, TaskSerializer
from tickets.services import task_close, task_create, task_reopen


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
