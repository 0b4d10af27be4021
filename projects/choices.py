from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.IntegerChoices):
    """The nine lifecycle steps (全生命周期); the value orders them."""

    PLANNING = 1, _("Planning")
    RESERVE = 2, _("Reserve")
    SIGNED = 3, _("Signed")
    LANDED = 4, _("Land secured")
    STARTED = 5, _("Construction started")
    UNDER_CONSTRUCTION = 6, _("Under construction")
    IN_PRODUCTION = 7, _("In production")
    AT_CAPACITY = 8, _("At designed capacity")
    IN_STATISTICS = 9, _("In the statistics")


class Nature(models.TextChoices):
    NEW = "new", _("New build")
    EXPANSION = "expansion", _("Expansion")
    REBUILD = "rebuild", _("Rebuild")
    RENOVATION = "renovation", _("Technical renovation")
    RELOCATION = "relocation", _("Relocation")


class Level(models.TextChoices):
    PROVINCIAL = "provincial", _("Provincial key")
    MUNICIPAL = "municipal", _("Municipal key")
    ZONE = "zone", _("Zone key")
    ORDINARY = "ordinary", _("Ordinary")


class BatchRole(models.TextChoices):
    """The role a project has in a "三个一批" batch."""

    SIGN = "sign", _("To sign")
    START = "start", _("To start construction")
    PRODUCE = "produce", _("To go into production")


class PlanCategory(models.TextChoices):
    NEW_START = "new_start", _("New start")
    CONTINUING = "continuing", _("Continuing")
    DUE_TO_COMPLETE = "due_to_complete", _("Due to complete")


class ProgressStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")


class MilestoneKind(models.TextChoices):
    """Approval procedures, in the order a project usually passes them."""

    PROJECT_FILING = "filing", _("Project filing / approval")
    LAND_PREAPPROVAL = "land_preapproval", _("Land pre-approval and site selection opinion")
    LAND_USE_PLANNING = "land_use_planning", _("Construction land planning permit")
    LAND_TITLE = "land_title", _("Land transfer / real estate title")
    ENVIRONMENT = "environment", _("Environmental impact assessment approval")
    ENERGY = "energy", _("Energy conservation review")
    WORKS_PLANNING = "works_planning", _("Construction works planning permit")
    DRAWING_REVIEW = "drawing_review", _("Construction drawing review")
    CONSTRUCTION_PERMIT = "construction_permit", _("Construction permit")
    COMPLETION_ACCEPTANCE = "completion_acceptance", _("Completion acceptance")


class MilestoneStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class FigureCheck(models.TextChoices):
    """Why a month's completed investment is held back for the user to confirm (projects.checks)."""

    ABOVE_TOTAL = "above_total", _("Cumulative completion above the total investment")
    ABOVE_PLAN = "above_plan", _("Above the year's planned investment")
    LOOKS_LIKE_YUAN = "looks_like_yuan", _("Looks entered in yuan instead of 10k yuan")


class ProjectJobKind(models.TextChoices):
    """The background job this app registers (apps.py)."""

    PROJECT_LEDGER_EXPORT = "project_ledger_export", _("project ledger export")


class ProjectImportKind(models.TextChoices):
    """The Excel import this app registers (apps.py)."""

    PROJECT_LEDGER = "project_ledger", _("project ledger")
