"""The backups API (API.md, "Backups"): the backup script reports runs; the
daily checks with their run lines can be read."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backups.models import BackupCheck
from backups.selectors import checks_with_lines
from backups.serializers import (
    BackupCheckSerializer,
    BackupRunCreateSerializer,
    BackupRunSerializer,
)
from backups.services import backup_run_report
from servicedesk.api import idempotent


class BackupRunView(APIView):
    """The same job and `started_at` twice updates the one run (200); a new
    run answers 201."""

    scopes = {"POST": "backups:write"}
    staff_perms = {"POST": "backups.change_backupjob"}

    @extend_schema(
        request=BackupRunCreateSerializer,
        responses={201: BackupRunSerializer, 200: BackupRunSerializer},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = BackupRunCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run, created = backup_run_report(now=timezone.now(), **body.validated_data)
        return Response(
            BackupRunSerializer(run).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class BackupCheckFilter(django_filters.FilterSet):
    day = django_filters.DateFilter()
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    group = django_filters.CharFilter(field_name="group__code")
    done = django_filters.BooleanFilter(
        field_name="completed_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = BackupCheck
        fields = ["day", "group"]


class BackupCheckListView(generics.ListAPIView):
    serializer_class = BackupCheckSerializer
    scopes = {"GET": "backups:read"}
    staff_perms = {"GET": "backups.view_backupcheck"}
    filterset_class = BackupCheckFilter

    def get_queryset(self) -> QuerySet[BackupCheck]:
        return checks_with_lines(self.request.user).order_by("-day", "group__name")
