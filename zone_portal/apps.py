from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZonePortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "zone_portal"
    verbose_name = _("Users and reference data")
