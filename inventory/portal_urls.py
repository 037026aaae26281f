"""Network pages of the customer portal: machines, updates to approve,
deliveries to accept (mounted in portal/urls.py, so names are portal:...)."""

from inventory import portal_deliveries, portal_items, portal_updates

urlpatterns = [
    *portal_items.urlpatterns,
    *portal_updates.urlpatterns,
    *portal_deliveries.urlpatterns,
]
