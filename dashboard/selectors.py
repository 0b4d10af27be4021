"""The leader dashboard: whose projects it covers, which filters apply, and every figure on it.

The arithmetic is ``projects.figures``' and ``problems.kpis``'. This module picks the rows
(scope and filters), calls them with a fixed number of queries, and builds the drill-down links:
each figure links to the project (milestone, ticket) list filtered to exactly the rows behind it,
and that list shows the same figure from the same function.

Scope, decided here: administrators, leaders, reviewers and the 督办 office see the whole zone.
Project staff and responsible units see the projects their unit is responsible for (a user
without a unit sees no dashboard). The problem panel shows the problems the user may read.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from core import caching
from core.filtering import applied_filters
from core.forms import BootstrapFormMixin
from core.roles import Role, has_role
from enterprises.models import Enterprise
from problems import kpis
from problems.models import ProblemTicket
from problems.permissions import readable_tickets
from projects import figures, selectors
from projects.choices import BatchRole, Level, MilestoneKind, MilestoneStatus, Stage
from projects.filtersets import ProjectFilterSet
from projects.models import ApprovalMilestone, BatchMembership, MonthPublication, Project
from projects.selectors import Period
from reference.models import Cluster, Department, Industry, Leader, Park

ZONE_WIDE_ROLES = (Role.ADMIN, Role.LEADER, Role.REVIEWER, Role.SUPERVISOR)
UNIT_SCOPED_ROLES = (Role.STAFF, Role.UNIT)
LIST_LIMIT = 10

# The project list's filters the dashboard offers, in the order shown.
FILTERS = ["level", "park", "cluster", "industry", "responsible_leader", "batch"]


def scope_unit(user) -> Department | None:
    """None for a zone-wide reader, the user's unit for a unit-scoped one; else PermissionDenied."""
    if has_role(user, *ZONE_WIDE_ROLES):
        return None
    if has_role(user, *UNIT_SCOPED_ROLES) and user.department_id:
        return user.department
    raise PermissionDenied(_("The dashboard is for leaders, reviewers, the office and units with projects."))


class DashboardFilterSet(ProjectFilterSet):
    """The project list's FilterSet cut down to the dashboard's filters, so a filter means the same."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters = {name: self.filters[name] for name in FILTERS}


class PeriodForm(BootstrapFormMixin, forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100, required=False)
    month = forms.IntegerField(label=gettext_lazy("Up to month"), min_value=1, max_value=12, required=False)
    include_submitted = forms.BooleanField(label=gettext_lazy("Include submitted figures"), required=False)


@dataclass
class Selection:
    """What a dashboard request asks for, after checking it."""

    period: Period
    include_submitted: bool
    unit: Department | None
    projects: object  # QuerySet of the projects in scope and filter
    filterset: DashboardFilterSet
    period_form: PeriodForm
    base_query: QueryDict  # the list's parameters that select the same projects and period
    errors: dict = field(default_factory=dict)

    @cached_property
    def review(self) -> selectors.MonthReview:
        """Whether the period is published (official) or still under review, and how far."""
        return selectors.cached_month_review(self.period)

    @cached_property
    def applied_filters(self) -> list[tuple[str, str]]:
        """The filters applied, in words: (label, value text), e.g. ("园区", "健康食品产业园"). The
        printed page's title says them; the period and the unit's scope are said apart."""
        return applied_filters(self.filterset)


def select(user, params: QueryDict) -> Selection:
    """Scope, period and filters from the query string. Bad values are reported in ``errors``
    (field → messages) and left out, so a page still shows the rest."""
    unit = scope_unit(user)
    period_form = PeriodForm(params)
    period_form.is_valid()
    errors = {name: list(messages) for name, messages in period_form.errors.items()}
    cleaned = getattr(period_form, "cleaned_data", {})
    include_submitted = bool(cleaned.get("include_submitted"))
    default = selectors.default_period()
    period = Period(cleaned.get("year") or default.year, cleaned.get("month") or default.month)

    projects = Project.objects.all()
    if unit is not None:
        projects = projects.filter(responsible_unit=unit)
    filter_params = QueryDict(mutable=True)
    for name in FILTERS:
        if name in params:
            filter_params.setlist(name, params.getlist(name))
    filterset = DashboardFilterSet(filter_params, queryset=projects)
    if filterset.is_valid():
        projects = filterset.qs
    else:
        errors.update({name: list(messages) for name, messages in filterset.errors.items()})

    base = QueryDict(mutable=True)
    base["year"], base["month"] = str(period.year), str(period.month)
    if include_submitted:
        base["include_submitted"] = "1"
    if filterset.is_valid():
        for name in FILTERS:
            values = [value for value in filter_params.getlist(name) if value]
            if values:
                base.setlist(name, values)
    if unit is not None:
        base["responsible_unit"] = str(unit.pk)
    return Selection(
        period=period,
        include_submitted=include_submitted,
        unit=unit,
        projects=projects,
        filterset=filterset,
        period_form=period_form,
        base_query=base,
        errors=errors,
    )


def link(selection: Selection, view: str = "projects:list", **overrides) -> str:
    """The list URL with the dashboard's selection, some parameters replaced (a list value repeats)."""
    query = selection.base_query.copy()
    for name, value in overrides.items():
        if value is None:
            query.pop(name, None)
        elif isinstance(value, list | tuple):
            query.setlist(name, [str(v) for v in value])
        else:
            query[name] = str(value)
    return reverse(view) + "?" + query.urlencode()


def _null(key) -> str:
    return "null" if key is None else str(key)


# --- Splits ---------------------------------------------------------------------


@dataclass
class SplitRow:
    key: object
    label: str
    rollup: figures.Rollup
    url: str
    planned_url: str
    lagging_url: str


@dataclass
class Split:
    dimension: str
    title: str
    rows: list[SplitRow]


SPLITS = [
    # dimension, grouped field, list parameter, model for the labels (None: choices)
    ("level", "level", "level", None),
    ("park", "park", "park", Park),
    ("cluster", "industry__cluster", "cluster", Cluster),
    ("industry", "industry", "industry", Industry),
    ("leader", "responsible_leader", "responsible_leader", Leader),
    ("unit", "responsible_unit", "responsible_unit", Department),
]
SPLIT_TITLES = {
    "level": gettext_lazy("By level"),
    "park": gettext_lazy("By park"),
    "cluster": gettext_lazy("By industrial cluster"),
    "industry": gettext_lazy("By industry"),
    "leader": gettext_lazy("By responsible leader"),
    "unit": gettext_lazy("By responsible unit"),
}
NONE_LABELS = {
    "park": gettext_lazy("no park"),
    "cluster": gettext_lazy("no cluster"),
    "industry": gettext_lazy("no industry"),
    "leader": gettext_lazy("no leader"),
    "unit": gettext_lazy("no unit"),
}


def split_of(selection: Selection, dimension: str, param: str, model, rollups: dict) -> Split:
    if model is None:
        labelled = [(value, str(label)) for value, label in Level.choices if value in rollups]
    else:
        labelled = [(obj.pk, str(obj)) for obj in model.objects.filter(pk__in=[k for k in rollups if k])]
    if None in rollups:
        labelled.append((None, str(NONE_LABELS[dimension])))
    rows = [
        SplitRow(
            key=key,
            label=label,
            rollup=rollups[key],
            url=link(selection, **{param: _null(key)}),
            planned_url=link(selection, **{param: _null(key), "on_plan": "true"}),
            lagging_url=link(selection, **{param: _null(key), "lagging": "true"}),
        )
        for key, label in labelled
    ]
    return Split(dimension=dimension, title=str(SPLIT_TITLES[dimension]), rows=rows)


# --- The whole dashboard ---------------------------------------------------------------


@dataclass
class Dashboard:
    selection: Selection
    headline: figures.Rollup
    links: dict[str, str]
    splits: dict[str, Split]
    trend: list[dict]
    funnel: list[dict]
    lifecycle: dict
    batches: list[dict]
    lagging: list
    unreported: list
    unreported_count: int
    milestones: dict
    problems: dict | None
    rankings: dict[str, list[dict]]
    today: datetime.date

    @cached_property
    def charts(self) -> dict:
        """What the charts draw (``chart_data``)."""
        return chart_data(self)


def summary(selection: Selection, dimensions=("level", "park")) -> tuple[figures.Rollup, dict[str, Split]]:
    """The headline and the splits by ``dimensions``, from one rollup query; by default the level
    and park splits the JSON endpoint returns."""
    period = selection.period
    wanted = [split for split in SPLITS if split[0] in dimensions]
    rollups = figures.rollups(
        selection.projects,
        year=period.year,
        month=period.month,
        include_submitted=selection.include_submitted,
        by=[grouped for _, grouped, _, _ in wanted],
    )
    splits = {
        dimension: split_of(selection, dimension, param, model, rollups.by[grouped])
        for dimension, grouped, param, model in wanted
    }
    return rollups.headline, splits


# What the dashboard's page shows besides the projects' own tables (core.caching): the
# procedures, the month's publication, the problem tickets and their enterprises, and the names of
# the units, parks, clusters and leaders its tables and filters show.
PAGE_TRACKED = (
    ApprovalMilestone,
    MonthPublication,
    ProblemTicket,
    Enterprise,
    Department,
    Park,
    Cluster,
    Leader,
)


def page_part(user, selection: Selection, params: QueryDict) -> caching.Part:
    """The dashboard page's body as one cached part: the same for every reader with the same scope
    (the projects and the problem tickets they may read), asking the same thing on the same day in
    the same language, until the data under it changes."""
    tickets = readable_tickets(user)
    return caching.Part(
        key=(
            "dashboard",
            caching.queryset_key(selection.projects),
            caching.queryset_key(tickets),
            selection.period,
            sorted(params.lists()),
            get_language(),
            timezone.localdate(),
        ),
        using=selection.projects.db,
        extra=PAGE_TRACKED,
    )


def build(user, selection: Selection) -> Dashboard:
    period = selection.period
    today = timezone.localdate()
    projects = selection.projects
    headline, splits = summary(selection, dimensions=[split[0] for split in SPLITS])
    date_from, date_to = figures.year_to_month(period.year, period.month)
    links = {
        "all": link(selection),
        "planned": link(selection, on_plan="true"),
        "lagging": link(selection, lagging="true", ordering="rate"),
        "unplanned": link(selection, on_plan="false"),
        "unreported": link(selection, on_plan="true", reported="false"),
    }
    return Dashboard(
        selection=selection,
        headline=headline,
        links=links,
        splits=splits,
        trend=_trend(selection, headline),
        funnel=[
            {"figure": f, "label": Stage(f.stage).label, "url": link(selection, stage=f.stage)}
            for f in caching.cached_figures(
                ("funnel", caching.queryset_key(projects)),
                lambda: figures.stage_funnel(projects),
                using=projects.db,
            )
        ],
        lifecycle=_lifecycle(selection, date_from, date_to),
        batches=_batches(selection),
        lagging=_lagging(selection),
        **_unreported(selection),
        milestones=_milestones(selection, today),
        problems=_problems(user, date_from, date_to, today),
        rankings={
            dimension: [
                {"ranked": ranked, "url": link(selection, **{param: ranked.key, "on_plan": "true"})}
                for ranked in figures.rank_by_completion(
                    [
                        (row.key, row.label, row.rollup)
                        for row in splits[dimension].rows
                        if row.key is not None
                    ]
                )
            ]
            for dimension, param in (("park", "park"), ("unit", "responsible_unit"))
        },
        today=today,
    )


def _trend(selection: Selection, headline: figures.Rollup) -> list[dict]:
    period = selection.period
    points = caching.cached_figures(
        ("trend", caching.queryset_key(selection.projects), period, selection.include_submitted),
        lambda: figures.monthly_trend(
            selection.projects,
            year=period.year,
            month=period.month,
            planned=headline.planned_investment,
            include_submitted=selection.include_submitted,
        ),
        using=selection.projects.db,
    )
    return [{"point": p, "url": link(selection, month=p.month, on_plan="true")} for p in points]


def _lifecycle(selection: Selection, date_from, date_to) -> dict:
    # The stage history it reads is written with the project's own (services.project_update), so
    # the projects' data version covers it.
    counts = caching.cached_figures(
        ("lifecycle", caching.queryset_key(selection.projects), date_from, date_to),
        lambda: figures.lifecycle_counts(selection.projects, date_from=date_from, date_to=date_to),
        using=selection.projects.db,
    )
    bounds = {"after": date_from.isoformat(), "before": date_to.isoformat()}
    return {
        "started": counts["started"],
        "started_url": link(selection, started_after=bounds["after"], started_before=bounds["before"]),
        "into_production": counts["into_production"],
        "into_production_url": link(
            selection, into_production_after=bounds["after"], into_production_before=bounds["before"]
        ),
    }


def batch_memberships(selection: Selection):
    """The "三个一批" memberships of the selection's projects, in the chosen batch if any."""
    memberships = BatchMembership.objects.filter(project__in=selection.projects.values("pk"))
    batch = selection.filterset.form.cleaned_data.get("batch") if selection.filterset.is_valid() else None
    if batch is not None:
        memberships = memberships.filter(batch=batch)
    return memberships


def _batches(selection: Selection) -> list[dict]:
    memberships = batch_memberships(selection)
    rows = []
    batch_figures = caching.cached_figures(
        ("batches", caching.queryset_key(memberships)),
        lambda: figures.batch_rates_by_batch(memberships),
        using=memberships.db,
    )
    for figure in batch_figures:
        members = {"batch": figure.batch_id, "batch_role": figure.role}
        rates = []
        for name, rate in figure.rates.items():
            stage = figures.BATCH_RATE_RULES[name][1]
            achieved_stages = [s for s in Stage.values if s >= stage]
            rates.append(
                {"name": name, "figure": rate, "url": link(selection, stage=achieved_stages, **members)}
            )
        rows.append(
            {
                "figure": figure,
                "role_label": BatchRole(figure.role).label,
                "url": link(selection, **members),
                "rates": rates,
            }
        )
    return rows


def _lagging(selection: Selection) -> list:
    """The ten furthest behind. Ranking every project's figures is the page's slowest query, so the
    ten ids are cached (core.caching) and only their rows are read each time."""
    period = selection.period
    ids = caching.cached_figures(
        ("lagging", caching.queryset_key(selection.projects), period, selection.include_submitted),
        lambda: list(
            figures.lagging_projects(
                selection.projects,
                year=period.year,
                month=period.month,
                include_submitted=selection.include_submitted,
            )
            .order_by("completion_ratio", "name", "pk")
            .values_list("pk", flat=True)[:LIST_LIMIT]
        ),
        using=selection.projects.db,
    )
    rows = figures.annotate_year_figures(
        Project.objects.filter(pk__in=ids).select_related("responsible_leader", "responsible_unit", "park"),
        year=period.year,
        month=period.month,
        include_submitted=selection.include_submitted,
    ).order_by("completion_ratio", "name", "pk")
    rows = list(rows)
    for project in rows:
        project.figures = figures.figures_of(project, month=period.month)
    return rows


def _unreported(selection: Selection) -> dict:
    """The first projects on the roster without the month's report, and how many there are."""
    unreported = unreported_projects(selection)
    ids, count = caching.cached_figures(
        ("unreported", caching.queryset_key(selection.projects), selection.period),
        lambda: (list(unreported.values_list("pk", flat=True)[:LIST_LIMIT]), unreported.count()),
        using=selection.projects.db,
    )
    first = Project.objects.filter(pk__in=ids).select_related("responsible_unit", "staff_in_charge")
    return {"unreported": list(first.order_by("name", "pk")), "unreported_count": count}


def unreported_projects(selection: Selection):
    period = selection.period
    return (
        figures.annotate_year_figures(selection.projects, year=period.year, month=period.month)
        .filter(figures.on_roster_q(), has_month_report=False)
        .select_related("responsible_unit", "staff_in_charge")
        .order_by("name", "pk")
    )


def _milestones(selection: Selection, today: datetime.date) -> dict:
    milestones = ApprovalMilestone.objects.filter(project__in=selection.projects.values("pk"))
    overdue = figures.overdue_milestones(milestones, today=today)
    overdue = overdue.select_related("project", "department").order_by("planned_date", "pk")
    # Overdue is counted against today, so today is part of the key.
    overall, by_kind, overdue_ids, overdue_count = caching.cached_figures(
        ("milestones", caching.queryset_key(milestones), today),
        lambda: (
            figures.milestone_completion(milestones),
            figures.milestone_completion_by(milestones, "kind"),
            list(overdue.values_list("pk", flat=True)[:LIST_LIMIT]),
            overdue.count(),
        ),
        using=milestones.db,
        extra=(ApprovalMilestone,),
    )

    def url(**extra):
        return link(selection, "projects:milestone_list", **extra)

    applicable = [s for s in MilestoneStatus.values if s != MilestoneStatus.NOT_APPLICABLE]
    return {
        "overall": overall,
        "url": url(status=applicable),
        "done_url": url(status=MilestoneStatus.DONE),
        "by_kind": [
            {
                "label": label,
                "figure": by_kind[kind],
                "url": url(kind=kind, status=applicable),
                "done_url": url(kind=kind, status=MilestoneStatus.DONE),
            }
            for kind, label in MilestoneKind.choices
            if kind in by_kind and by_kind[kind].total
        ],
        "overdue": list(overdue.filter(pk__in=overdue_ids)),
        "overdue_count": overdue_count,
        "overdue_url": url(overdue="true"),
    }


def _problems(user, date_from, date_to, today) -> dict:
    problem_kpis = kpis.problem_kpis(
        readable_tickets(user),
        today=today,
        date_from=date_from,
        date_to=date_to,
        dimensions=("level", "unit"),
        cached=True,
    )
    by_level, by_unit = problem_kpis.by_level, problem_kpis.by_unit
    return {
        "kpis": problem_kpis,
        # (title, dimension, rows) as the shared KPI panel lays them out
        "splits": [(_("By level"), "level", by_level), (_("By responsible unit"), "unit", by_unit)],
        "date_from": date_from,
        "date_to": date_to,
    }


def _pct(rate) -> str | None:
    return None if rate is None else str((rate * 100).quantize(figures.MONEY_PLACES))


def chart_data(board: Dashboard) -> dict:
    """What the charts draw (amounts in 亿元, rates in %) and where each bar or point links."""
    period = board.selection.period
    return {
        "labels": {
            "cumulative": _("Completed, cumulative (100M yuan)"),
            "monthly": _("Completed in the month (100M yuan)"),
            "schedule": _("Time schedule of the plan (100M yuan)"),
            "rate": _("Completion rate (%)"),
            "schedule_rate": _("Time schedule (%)"),
            "projects": _("Projects"),
            "investment": _("Total investment (100M yuan)"),
        },
        "schedule_pct": _pct(figures.schedule_progress(period.month)),
        "trend": {
            "months": [_("Month %(month)s") % {"month": t["point"].month} for t in board.trend],
            "cumulative": [str(figures.to_yi(t["point"].cumulative)) for t in board.trend],
            "monthly": [str(figures.to_yi(t["point"].completed)) for t in board.trend],
            "schedule": [str(figures.to_yi(t["point"].schedule)) for t in board.trend],
            "urls": [t["url"] for t in board.trend],
        },
        "funnel": {
            "names": [str(f["label"]) for f in board.funnel],
            "counts": [f["figure"].project_count for f in board.funnel],
            "investment": [str(figures.to_yi(f["figure"].total_investment)) for f in board.funnel],
            "urls": [f["url"] for f in board.funnel],
        },
        "splits": {
            dimension: {
                "names": [row.label for row in split.rows if row.rollup.planned_investment],
                "rates": [
                    _pct(row.rollup.completion_rate) for row in split.rows if row.rollup.planned_investment
                ],
                "urls": [row.planned_url for row in split.rows if row.rollup.planned_investment],
            }
            for dimension, split in board.splits.items()
        },
    }
