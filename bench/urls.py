"""The product's URLs plus /bench/floor/ (see bench.floor)."""

from typing import cast

from django.urls import URLPattern, URLResolver, path

from bench.floor import queue_floor
from servicedesk.urls import handler404, handler500
from servicedesk.urls import urlpatterns as product_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]

urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/floor/", queue_floor, name="bench-floor"),
    *cast(list[URLPattern | URLResolver], product_urlpatterns),
]
