from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "projects"
    verbose_name = _("Projects")

    def ready(self):
        # Imported here, as Django asks: models are not ready before.
        from core import caching, changelog
        from projects import models
        from reference.models import Industry

        # Every cached figure reads these. Industry: the cluster grouping reads an industry's
        # cluster. Batch and BatchMembership: the 三个一批 filters select projects by membership.
        caching.track(
            models.Project,
            models.AnnualPlan,
            models.MonthlyProgress,
            Industry,
            models.Batch,
            models.BatchMembership,
        )

        # How the change log names the records that belong to a project (or to a report).
        subjects = {
            models.AnnualPlan: lambda plan: _("plan for %(year)s") % {"year": plan.year},
            models.MonthlyProgress: lambda report: (
                _("report for %(month)s/%(year)s") % {"year": report.year, "month": report.month}
            ),
            models.ApprovalMilestone: None,
            models.BatchMembership: lambda m: _("batch membership #%(pk)s") % {"pk": m.pk},
        }
        for model, subject in subjects.items():
            changelog.describe_as(model, parent="project", subject=subject)
        changelog.describe_as(
            models.ProgressPhoto,
            parent="report",
            subject=lambda photo: photo.caption or _("photo #%(pk)s") % {"pk": photo.pk},
        )

        # The exports and imports of this app that run as background jobs.
        from core import imports, tasks
        from core.kinds import ImportKind
        from projects.choices import ProjectImportKind, ProjectJobKind

        export = ProjectJobKind.PROJECT_LEDGER_EXPORT
        tasks.register_exporter(export, export.label, "projects.views.project_ledger_export")
        ledger = ProjectImportKind.PROJECT_LEDGER
        imports.register_importer(
            ImportKind(
                ledger,
                ledger.label,
                _("Import a project ledger"),
                "projects.excel.importer",
                "projects/includes/import_help.html",
                asks_period=True,
                position=0,
            )
        )
