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
        from core.kinds import ImportKind
        from enterprises.choices import EnterpriseImportKind

        kind = EnterpriseImportKind.ENTERPRISES
        imports.register_importer(
            ImportKind(
                kind,
                kind.label,
                _("Import an enterprise list"),
                "enterprises.importer",
                "enterprises/includes/import_help.html",
            )
        )
