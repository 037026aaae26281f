"""API of Network machines (API.md, "Network")."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
