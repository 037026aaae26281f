"""API of Network stock: products and purchase orders."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
