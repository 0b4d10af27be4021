from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def visit_subject(visit):
    """How the change log names a visit (under its enterprise)."""
    return _("visit on %(day)s") % {"day": visit.visited_on}


class ProblemsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "problems"
    verbose_name = _("Enterprise problems")

    def ready(self):
        # Imported here, as Django asks: models are not ready before.
        from core import changelog
        from problems.models import Visit

        changelog.describe_as(Visit, parent="enterprise", subject=visit_subject)

        from core import tasks
        from problems.choices import ProblemJobKind

        export = ProblemJobKind.TICKET_LEDGER_EXPORT
        tasks.register_exporter(export, export.label, "problems.views.ticket_ledger_export")
