"""The site's URLs with the portal's Network delivery pages mounted, for the
delivery tests while portal/urls.py does not include inventory.portal_urls
yet. The tests use the real URLconf as soon as it has the pages."""

from typing import cast

from django.urls import URLPattern, URLResolver, include, path
from django.urls.exceptions import NoReverseMatch

from inventory import portal_deliveries
from portal import urls as portal_urls
from servicedesk import urls as site


def wired() -> bool:
    from django.urls import reverse

    try:
        reverse("portal:deliveries", urlconf="servicedesk.urls")
    except NoReverseMatch:
        return False
    return True


_site = cast(list[URLPattern | URLResolver], site.urlpatterns)
_portal = ([*portal_urls.urlpatterns, *portal_deliveries.urlpatterns], "portal")
urlpatterns: list[URLPattern | URLResolver] = [
    path("portal/", include(_portal)),
    *(p for p in _site if str(p.pattern) != "portal/"),
]
handler404 = site.handler404
handler500 = site.handler500
