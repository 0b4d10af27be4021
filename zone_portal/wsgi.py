"""The WSGI entry point gunicorn serves (zone_portal/gunicorn.conf.py, docs/deploy.md)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zone_portal.settings")

application = get_wsgi_application()
