"""The portal's own settings for the load test's server (bench/load/run.py), with two changes.

* Static files are hashed into a temporary STATIC_ROOT without whitenoise's gzip and brotli
  pre-compression, which takes minutes on two cores; the simulated users fetch no static files.
* Plain HTTP on loopback: whatever DJANGO_ENV says, no redirect to HTTPS and no secure-only cookies.
"""

import os

from zone_portal.settings import *  # noqa: F403
from zone_portal.settings import STORAGES

STATIC_ROOT = os.environ["LOAD_STATIC_ROOT"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
