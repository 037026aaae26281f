"""The product's settings plus the floor route: `make bench` serves the app with
DJANGO_SETTINGS_MODULE=bench.settings, so the floor URL exists only while the
benchmark runs and the product's settings and URLs stay untouched.

The `servicedesk` package must be imported before these settings are loaded:
its Celery app reads settings at import time, which would otherwise find this
module half-imported. gunicorn (servicedesk.wsgi) and bench.run do so."""

from servicedesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
