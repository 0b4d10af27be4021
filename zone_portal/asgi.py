"""The ASGI entry point, for an ASGI server; production runs WSGI under gunicorn (wsgi.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zone_portal.settings")

application = get_asgi_application()
