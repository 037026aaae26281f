"""API conventions shared by every endpoint: pagination, JSON errors and the
Idempotency-Key header (see API.md)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import IdempotencyRecord


class CursorPage(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")


class Pagination(PageNumberPagination):
    """Page numbers with a count by default (`?page=`); with `?cursor=` (an
    empty one starts at the top) cursor pagination, whose deep pages cost the
    same as the first because they seek by the sort key instead of OFFSET.
    Cursor pagination needs a view ordering with a unique tail (e.g. id)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def _cursor(self, request: Request, view: Any) -> CursorPage | None:
        if "cursor" not in request.query_params or not getattr(view, "cursor_ordering", None):
            return None
        pager = CursorPage()
        pager.ordering = view.cursor_ordering
        return pager

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        self.cursor_pager = self._cursor(request, view)
        if self.cursor_pager is not None:
            return self.cursor_pager.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        if self.cursor_pager is not None:
            return self.cursor_pager.get_paginated_response(data)
        return super().get_paginated_response(data)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        page = super().get_paginated_response_schema(schema)
        page["properties"]["next"]["description"] = "With ?cursor=: the next page's URL."
        return page

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        if getattr(view, "cursor_ordering", None):
            parameters.append(
                {
                    "name": "cursor",
                    "required": False,
                    "in": "query",
                    "description": "Cursor pagination: empty for the first page, then from `next`.",
                    "schema": {"type": "string"},
                }
            )
        return parameters


def validation_detail(error: DjangoValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as the API's `{"field": ["message"]}`."""
    if hasattr(error, "error_dict"):
        return {field: [str(m) for m in errors] for field, errors in error.message_dict.items()}
    return {"non_field_errors": [str(m) for m in error.messages]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(validation_detail(exc))
    return drf_exception_handler(exc, context)


def _principal(request: Request) -> str:
    user = request.user
    if getattr(user, "pk", None) is not None:
        return f"user:{user.pk}"
    return str(getattr(user, "username", "anonymous"))


def _body_hash(request: Request) -> str:
    payload = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{payload}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, body_hash: str) -> Response:
    if record.body_hash != body_hash:
        return Response(
            {"Idempotency-Key": ["This key was already used for a different request."]},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(record.response_body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


View = Callable[..., Response]


def idempotent(method: View) -> View:
    """For a create endpoint: with an `Idempotency-Key` header the first
    successful answer is stored in the same transaction as what it created, so
    a retry (even a concurrent one) gets that answer and creates nothing."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return method(self, request, *args, **kwargs)
        if len(key) > 200:
            raise ValidationError({"Idempotency-Key": ["At most 200 characters."]})
        principal, body_hash = _principal(request), _body_hash(request)
        record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
        if record is not None:
            return _replay(record, body_hash)
        try:
            with transaction.atomic():
                response = method(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    IdempotencyRecord.objects.create(
                        principal=principal,
                        key=key,
                        method=request.method or "",
                        path=request.path[:500],
                        body_hash=body_hash,
                        status_code=response.status_code,
                        response_body=json.loads(JSONRenderer().render(response.data) or b"null"),
                    )
        except IntegrityError:
            # A concurrent request with the same key won; what this one created
            # was rolled back with the failed insert, so answer with the winner's.
            record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
            if record is None:
                raise
            return _replay(record, body_hash)
        return response

    return wrapper
