"""Pages of change management. (The API lives under /api/v1/changes/.)"""

from django.urls import path  # noqa: F401

urlpatterns: list = []
