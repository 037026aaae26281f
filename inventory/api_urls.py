"""Network API routes (mounted under /api/v1/)."""

from inventory import item_api, stock_api

urlpatterns = [*item_api.urlpatterns, *stock_api.urlpatterns]
