from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ZonePortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "zone_portal"
    verbose_name = _("Users and reference data")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .roles import sync_role_groups
        from .security import stamp_session

        user_logged_in.connect(stamp_session, dispatch_uid="zone_portal_session_stamp")

        # After the last zone app has migrated, so every model's permissions exist.
        post_migrate.connect(
            sync_role_groups, sender=apps.get_app_config("projects"), dispatch_uid="zone_portal_roles"
        )
