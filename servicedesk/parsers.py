"""The API's request parser (settings: DEFAULT_PARSER_CLASSES). A module of
its own because DRF imports it while rest_framework.views is still loading."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError, ValidationError


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE."
    default_code = "payload_too_large"


def _has_nul(value: Any) -> bool:
    """Whether a string anywhere in `value` holds a NUL (without recursion:
    the parser accepts nesting close to Python's recursion limit)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, safe for any body. DRF reads the request stream
    itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check on request.body,
    so the limit is applied here (413) before anything is decoded. Nesting
    deeper than Python's recursion limit and a charset Python does not know
    are malformed bodies (400), not server errors. A NUL in a value is a
    field error: PostgreSQL cannot store one, nor look one up (a reference
    with a NUL in it was a DataError, a 500)."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is not None and limit is not None:
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise PayloadTooLarge()
            stream = io.BytesIO(data)
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except LookupError as error:  # codecs.getreader() and a charset it does not know
            raise ParseError(f"JSON parse error - {error}.") from None
        nul = ProhibitNullCharactersValidator.message
        if isinstance(parsed, dict):
            fields = {key: [nul] for key, value in parsed.items() if _has_nul(value)}
            if fields:
                raise ValidationError(fields)
        elif _has_nul(parsed):
            raise ValidationError({"non_field_errors": [nul]})
        return parsed
