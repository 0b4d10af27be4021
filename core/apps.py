from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = _("Users and accounts")

    def ready(self) -> None:
        # Imported here, as Django asks: these modules import models, which are not ready before.
        from django.contrib.auth.signals import user_logged_in

        from core.roles import sync_role_groups
        from core.security import stamp_session

        user_logged_in.connect(stamp_session, dispatch_uid="zone_portal_session_stamp")

        # After the last app with models has migrated, so every model's permissions exist.
        last = [config for config in apps.get_app_configs() if config.models_module][-1]
        post_migrate.connect(sync_role_groups, sender=last, dispatch_uid="zone_portal_roles")

        # The background tasks register themselves with the jobs they run.
        import core.tasks  # noqa: F401
