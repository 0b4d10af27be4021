from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = _("Demo data")

    def ready(self):
        # Imported here, as Django asks: models are not ready before.
        # The generator's background job registers itself with the jobs.
        import demo.tasks  # noqa: F401
