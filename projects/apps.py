from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "projects"
    verbose_name = _("Projects")

    def ready(self):
        # Imported here, as Django asks: models are not ready before.
        from core import caching, changelog
        from projects.models import (
            AnnualPlan,
            ApprovalMilestone,
            Batch,
            BatchMembership,
            MonthlyProgress,
            ProgressPhoto,
            Project,
        )
        from reference.models import Industry

        # Every cached figure reads these. Industry: the cluster grouping reads an industry's
        # cluster. Batch and BatchMembership: the 三个一批 filters select projects by membership.
        caching.track(Project, AnnualPlan, MonthlyProgress, Industry, Batch, BatchMembership)

        # How the change log names the records that belong to a project.
        changelog.describe_as(
            AnnualPlan,
            parent="project",
            subject=lambda plan: _("plan for %(year)s") % {"year": plan.year},
        )
        changelog.describe_as(
            MonthlyProgress,
            parent="project",
            subject=lambda report: (
                _("report for %(month)s/%(year)s") % {"year": report.year, "month": report.month}
            ),
        )
        changelog.describe_as(ApprovalMilestone, parent="project")
        changelog.describe_as(
            BatchMembership,
            parent="project",
            subject=lambda m: _("batch membership #%(pk)s") % {"pk": m.pk},
        )
        changelog.describe_as(
            ProgressPhoto,
            parent="report",
            subject=lambda photo: photo.caption or _("photo #%(pk)s") % {"pk": photo.pk},
        )

        # The exports and imports of this app that run as background jobs.
        from core import imports, tasks
        from core.models import ImportRecord, Job

        tasks.register_exporter(Job.Kind.PROJECT_LEDGER_EXPORT, "projects.views.project_ledger_export")
        imports.register_importer(ImportRecord.Kind.PROJECT_LEDGER, "projects.excel.importer")
