from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "enterprises"
    verbose_name = _("Enterprises")

    def ready(self):
        # Imported here, as Django asks: models are not ready before.
        from core import changelog
        from enterprises.models import EnterpriseYearlyFigure

        changelog.describe_as(
            EnterpriseYearlyFigure,
            parent="enterprise",
            subject=lambda figure: _("figures for %(year)s") % {"year": figure.year},
        )

        from core import imports
        from core.models import ImportRecord

        imports.register_importer(ImportRecord.Kind.ENTERPRISES, "enterprises.importer")
