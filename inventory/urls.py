"""Network pages, one URL module per area."""

from django.urls import include, path

urlpatterns = [
    path("", include("inventory.item_urls")),
    path("stock/", include("inventory.stock_urls")),
    path("updates/", include("inventory.update_urls")),
    path("deliveries/", include("inventory.delivery_urls")),
]
