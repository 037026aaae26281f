"""API conventions shared by every endpoint: pagination, JSON errors and the
Idempotency-Key header (see API.md)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import django_filters
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage
from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator as DjangoPaginator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import IdempotencyRecord


class CursorPage(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")


class _LivePage(DjangoPage):
    """A page whose "is there a next page" comes from the rows themselves."""

    more = False

    def has_next(self) -> bool:
        return self.more


class CountReusingPaginator(DjangoPaginator):
    """Django's paginator, whose COUNT(*) is reused for API_COUNT_SECONDS by
    the callers of the very same query. Over a million tickets a broad filter
    or a common search word costs hundreds of milliseconds to count, and a
    client paging through a list asks the same count on every page. The key
    is the query's SQL with its parameters, the caller's visibility filter
    included, so a count only reaches callers who see the same rows. Only the
    `count` figure may be that old: a page's rows, and whether a next page
    exists (one row more is read), are always live."""

    reused = False

    @cached_property
    def count(self) -> int:
        seconds = settings.API_COUNT_SECONDS
        qs = self.object_list
        if not seconds or not isinstance(qs, QuerySet):
            return super().count
        sql, params = qs.order_by().query.sql_with_params()
        key = "api-count:" + hashlib.sha256(f"{sql}\0{params!r}".encode()).hexdigest()
        counted = cache.get(key)
        if counted is None:
            counted = qs.count()
            cache.set(key, counted, seconds)
        else:
            self.reused = True
        return int(counted)

    def validate_number(self, number: Any) -> int:
        try:
            return super().validate_number(number)
        except EmptyPage:
            if not self.reused:
                raise
            # Past the end by a count of a while ago: count again.
            self.reused = False
            self.__dict__["count"] = cast("QuerySet[Any]", self.object_list).count()
            self.__dict__.pop("num_pages", None)
            return super().validate_number(number)

    def page(self, number: Any) -> DjangoPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        page = _LivePage(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page


class Pagination(PageNumberPagination):
    """Page numbers with a count by default (`?page=`); with `?cursor=` (an
    empty one starts at the top) cursor pagination, whose deep pages cost the
    same as the first because they seek by the sort key instead of OFFSET.
    Cursor pagination needs a view ordering with a unique tail (e.g. id)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CountReusingPaginator

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
        # A cursor page has no count (counting is what it avoids); the schema
        # is shared by both modes, so only `results` is always there.
        page["properties"]["count"]["description"] = "Absent with ?cursor=."
        page["required"] = ["results"]
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
    elif isinstance(exc, ValidationError) and not isinstance(exc.detail, dict):
        # A bare message (DRF's SearchFilter refusing a NUL in ?search=, a
        # view's own check) is still an object, as API.md promises.
        exc = ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.detail})
    return drf_exception_handler(exc, context)


# Times clients report or plan. Outside these bounds a time is a typo or
# garbage, and before 1940 Europe/Amsterdam had an offset with seconds
# (+00:19:32) that no RFC 3339 client can read back; near year 9999 the
# conversion to local time overflows.
MOMENT_MIN = datetime(2000, 1, 1, tzinfo=UTC)
MOMENT_MAX = datetime(2100, 1, 1, tzinfo=UTC)


class MomentField(serializers.DateTimeField):
    """A DateTimeField for input, between MOMENT_MIN and MOMENT_MAX."""

    default_validators = [MinValueValidator(MOMENT_MIN), MaxValueValidator(MOMENT_MAX)]


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 filter value in UTC. Python takes offsets up to ±23:59 and
    any year from 1; as written, 0001-01-01T00:00+01:00 overflowed on its way
    to the database (a 500) and PostgreSQL refuses offsets beyond ±15:59."""

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None


class MomentFilter(django_filters.IsoDateTimeFilter):
    """The API's filter on a point in time (`?created_after=`)."""

    field_class = UtcIsoDateTimeField


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


# --- Error responses in the schema ------------------------------------------------

_ERROR = {"$ref": "#/components/schemas/Error"}
_VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}
ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "description": (
            '`{"field": ["message", ...]}`; a nested object or list of objects '
            'nests the same shape; a malformed body gives `{"detail": "..."}`.'
        ),
        "additionalProperties": {},
    },
}


def _error_responses(
    method: str, operation: dict[str, Any]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """The error answers an operation can give under API.md's conventions."""
    where = {parameter.get("in") for parameter in operation.get("parameters", [])}
    names = {parameter.get("name") for parameter in operation.get("parameters", [])}
    has_body = "requestBody" in operation
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    # Input is checked, and a write the object's state does not allow (an
    # action without a body, such as reopening an open task) is refused, with 400.
    if has_body or "query" in where or method != "get":
        errors["400"] = ("Invalid input", _VALIDATION_ERROR)
    if operation.get("security"):
        errors["401"] = ("No or invalid credentials", _ERROR)
        errors["403"] = ("Not allowed", _ERROR)
    # DRF answers 404 to a page number past the end and to an unknown ?format=.
    if "path" in where or names & {"page", "format"}:
        errors["404"] = ("No such object (or not visible to the caller), or no such page", _ERROR)
    if has_body:
        errors["413"] = ("The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE", _ERROR)
        errors["415"] = ("The body is not JSON", _ERROR)
    return errors


def document_error_responses(result: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation lists the JSON
    errors it can answer with, so clients (and the schema fuzzer in
    tests/reliability) know them. Responses a view documents itself stay."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, (description, schema) in _error_responses(method, operation).items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": schema}},
                    },
                )
            operation["responses"] = dict(sorted(responses.items()))
    return result
