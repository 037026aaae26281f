"""Pages of Network (stock); filled in by its area."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
