"""Every filter form, sent as a browser sends it — untouched but for a search term — lists exactly
the rows the search alone lists (issue 20: yes/no selects had no empty choice, so a browser sent
their first option, 是, and a search through the project list's form found nothing).

Two nets. Each page with a GET form in ``templates/`` (found by reading the templates, so a new
one fails ``test_every_get_form_is_covered`` until it has a case here) is opened by every role
that may see it, its form read back as a browser sends it and submitted. And each FilterSet of
the project (found as FilterSet subclasses, so the API's filter forms of the browsable API are in)
must read its own untouched form as no filter at all.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import import_module
from pathlib import Path

import django_filters
import pytest
from django.conf import settings
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import translation
from django_filters.constants import EMPTY_VALUES

from core.history_views import ChangeLogFilter
from core.roles import Role
from problems import services as ticket_services
from projects.choices import MilestoneKind, MilestoneStatus
from projects.filtersets import ProjectFilterSet
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    DepartmentFactory,
    EnterpriseFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    UserFactory,
    make_ticket,
)
from tests.html_forms import form_data, forms_on

TERM = "益海"
ROLES = [Role.ADMIN, Role.LEADER, Role.REVIEWER, Role.SUPERVISOR, Role.STAFF, Role.UNIT]


# --- The world: rows the term finds and rows it does not, with yes and no of every filter --------


@dataclass
class World:
    users: dict
    project: object
    enterprise: object
    ticket: object


@pytest.fixture
def world(db) -> World:
    unit = DepartmentFactory(name="经发局")
    users = {
        Role.ADMIN: UserFactory(username="guanli", roles=[Role.ADMIN]),
        Role.LEADER: UserFactory(username="lingdao", roles=[Role.LEADER]),
        Role.REVIEWER: UserFactory(username="shenhe", roles=[Role.REVIEWER]),
        Role.SUPERVISOR: UserFactory(username="duban", roles=[Role.SUPERVISOR]),
        Role.STAFF: UserFactory(username="zhuanyuan", roles=[Role.STAFF], department=unit),
        Role.UNIT: UserFactory(username="danwei", roles=[Role.UNIT], department=unit),
    }
    staff = users[Role.STAFF]
    oil = EnterpriseFactory(name="益海嘉里（周口）粮油工业有限公司", is_above_scale=True, on_white_list=True)
    feed = EnterpriseFactory(name="周口益海饲料有限公司", is_above_scale=False, on_white_list=False)
    gas = EnterpriseFactory(name="周口华润燃气有限公司", is_above_scale=True, on_white_list=True)
    flour = EnterpriseFactory(name="河南五得利面粉有限公司", is_above_scale=False, on_white_list=False)

    def project(name, enterprise, **extra):
        return ProjectFactory(
            name=name, enterprise=enterprise, responsible_unit=unit, staff_in_charge=staff, **extra
        )

    # Found: one on the white list, on the plan, reported and on schedule; one neither.
    special_oil = project("特种油脂精炼项目", oil, on_white_list=True)
    feed_mill = project("饲料加工扩建项目", feed, on_white_list=False)
    # Not found: the same variety.
    pipeline = project("城区燃气管网改造项目", gas, on_white_list=True)
    project("面粉加工技改项目", flour, on_white_list=False)
    for planned, report in ((special_oil, "3000.00"), (pipeline, "100.00")):
        AnnualPlanFactory(project=planned, year=2023, planned_investment="4000.00")
        MonthlyProgressFactory(project=planned, year=2023, month=3, completed_investment=report)

    past, done_on = datetime.date(2023, 1, 10), datetime.date(2023, 2, 1)
    for listed in (special_oil, feed_mill, pipeline):
        ApprovalMilestoneFactory(
            project=listed,
            kind=MilestoneKind.PROJECT_FILING,
            status=MilestoneStatus.DONE,
            completed_date=done_on,
        )
        # Overdue on one found project and one not; the other found project's has no date.
        planned_date = None if listed is feed_mill else past
        ApprovalMilestoneFactory(
            project=listed, kind="environment", status=MilestoneStatus.IN_PROGRESS, planned_date=planned_date
        )

    office = users[Role.SUPERVISOR]
    tickets = []
    for enterprise, major in ((oil, True), (feed, False), (gas, True)):
        made = make_ticket(user=office, enterprise=enterprise, title="用地手续办理慢")
        tickets.append(ticket_services.ticket_assign(ticket=made, user=office, unit=unit, is_major=major))
    make_ticket(user=office, enterprise=flour, title="用电增容审批慢")
    return World(users=users, project=special_oil, enterprise=oil, ticket=tickets[0])


# --- What a page lists, read from its HTML ---------------------------------------------------


class _Result(HTMLParser):
    """The visible text of a page and the links of its tables' rows, leaving out one form."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = self.in_body_rows = False
        self.skip = 0
        self.text: list[str] = []
        self.rows: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.in_form = True
        elif tag in {"script", "style", "template"}:
            self.skip += 1
        elif tag == "tbody":
            self.in_body_rows = True
        elif tag == "a" and self.in_body_rows and not self.in_form and attrs.get("href"):
            self.rows.add(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag in {"script", "style", "template"}:
            self.skip -= 1
        elif tag == "tbody":
            self.in_body_rows = False

    def handle_data(self, data):
        if not self.in_form and not self.skip:
            self.text.append(data)


@dataclass(frozen=True)
class Listed:
    rows: frozenset[str]
    text: str


def listed(response, form_id: str) -> Listed:
    assert response.status_code == 200, response.status_code
    parser = _Result(form_id)
    parser.feed(response.content.decode())
    return Listed(frozenset(parser.rows), " ".join("".join(parser.text).split()))


# --- The pages with a GET form -----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    view: str
    template: str
    form_id: str
    args: Callable[[World], list] = lambda world: []
    # The form's text search field, typed into; None when the form has none: then the page is
    # opened with ``opened_with`` and its form sent untouched.
    search: str | None = "q"
    opened_with: dict = field(default_factory=dict)


CASES = [
    Case("projects:list", "projects/project_list.html", "project-filters"),
    Case("enterprises:list", "problems/enterprise_list.html", "enterprise-filters"),
    Case("enterprises:ticket_list", "problems/ticket_list.html", "ticket-filters"),
    # The procedure list takes the project list's filters, search included, as hidden fields.
    Case(
        "projects:milestone_list",
        "projects/milestone_list.html",
        "milestone-filters",
        search=None,
        opened_with={"q": TERM},
    ),
    Case("dashboard", "dashboard/dashboard.html", "dashboard-filters", search=None),
    Case("change_log", "core/change_log.html", "change-log-filter", search=None),
    Case(
        "projects:history",
        "core/object_history.html",
        "history-filter",
        lambda world: [world.project.pk],
        search=None,
    ),
    Case(
        "enterprises:history",
        "core/object_history.html",
        "history-filter",
        lambda world: [world.enterprise.pk],
        search=None,
    ),
    Case(
        "enterprises:ticket_history",
        "core/object_history.html",
        "history-filter",
        lambda world: [world.ticket.pk],
        search=None,
    ),
    Case(
        "projects:detail",
        "projects/project_detail.html",
        "detail-period",
        lambda world: [world.project.pk],
        search=None,
    ),
    Case("projects:grid", "projects/progress_grid.html", "grid-period", search=None),
    # The grid's search shows once there is more than a page, or a search was made: opened with one.
    Case(
        "projects:grid", "projects/progress_grid.html", "grid-search", search=None, opened_with={"q": "项目"}
    ),
    Case("enterprises:stats", "problems/problem_stats.html", "period-form", search=None),
    Case("projects:months", "projects/month_list.html", "year-form", search=None),
]

# GET forms that list no rows, so they have no case: what their blanks mean is tested where they are.
NOT_FILTERS = {
    # Downloads the weekly or monthly workbook; blanks mean the last full week or month
    # (tests/problems/test_excel.py).
    ("problems/problem_stats.html", "summary-export"),
}

_FORM_TAG = re.compile(r"<form\b[^>]*>", re.IGNORECASE)
_METHOD_GET = re.compile(r"""\bmethod\s*=\s*["']?get\b""", re.IGNORECASE)
_ID = re.compile(r"""\bid\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def get_forms_in_templates() -> set[tuple[str, str]]:
    """(template, form id) of every GET form in the project's templates."""
    found = set()
    for folder in settings.TEMPLATES[0]["DIRS"]:
        folder = Path(folder)
        for path in folder.rglob("*.html"):
            for tag in _FORM_TAG.findall(path.read_text(encoding="utf-8")):
                if _METHOD_GET.search(tag):
                    match = _ID.search(tag)
                    found.add((path.relative_to(folder).as_posix(), match.group(1) if match else ""))
    return found


def test_every_get_form_is_covered():
    covered = {(case.template, case.form_id) for case in CASES} | NOT_FILTERS
    assert get_forms_in_templates() == covered, (
        "A GET form without a case in tests/test_filter_forms.py (give it an id and a case), "
        "or a case whose form is gone"
    )


@pytest.mark.parametrize("case", CASES, ids=[case.view for case in CASES])
def test_a_form_sent_untouched_but_for_the_search_lists_what_the_search_lists(client, world, case):
    url = reverse(case.view, args=case.args(world))
    seen_by = []
    for role in ROLES:
        client.force_login(world.users[role])
        opened = client.get(url, case.opened_with)
        if opened.status_code in (403, 404):
            continue
        seen_by.append(role)
        assert opened.status_code == 200, (role, opened.status_code)
        assert case.template in [t.name for t in opened.templates], role
        assert any(
            f["id"] == case.form_id and f["method"] == "get" for f in forms_on(opened.content.decode())
        )

        # Given the form as the browser sends it, the search term typed in
        sent = form_data(opened.content.decode(), case.form_id)
        if case.search is not None:
            assert case.search in sent, (role, sent)
            sent[case.search] = TERM
            expected_query = {case.search: TERM}
        else:
            expected_query = case.opened_with
        # When it is submitted
        through_form = listed(client.get(url, sent), case.form_id)
        # Then it lists what the search (or the bare page) lists, row for row and figure for figure
        alone = listed(client.get(url, expected_query), case.form_id)
        assert through_form.rows == alone.rows, (role, sent)
        assert through_form.text == alone.text, (role, sent)
        if TERM in expected_query.values():
            every = listed(client.get(url), case.form_id)
            assert alone.rows, (role, "the term finds nothing: the test proves nothing")
            assert alone.rows < every.rows, (role, "the term finds every row: the test proves nothing")
    assert seen_by, "no role sees the page"


# --- Every FilterSet reads its untouched form as no filter -----------------------------------------


def _filtersets() -> list[type[django_filters.FilterSet]]:
    import_module(settings.ROOT_URLCONF)  # loads every view module, and with them every FilterSet
    apps = ("core.", "reference.", "enterprises.", "projects.", "problems.", "dashboard.")
    found, todo = [], list(django_filters.FilterSet.__subclasses__())
    while todo:
        filterset = todo.pop()
        todo.extend(filterset.__subclasses__())
        if filterset.__module__.startswith(apps):
            found.append(filterset)
    return sorted(set(found), key=lambda f: f"{f.__module__}.{f.__qualname__}")


def _plain(value):
    """Values that filter alike compare alike: every empty value is no filter (django-filter's rule)."""
    if value in EMPTY_VALUES:
        return None
    if isinstance(value, QuerySet):
        return sorted(value.values_list("pk", flat=True))
    if isinstance(value, slice):
        return (value.start, value.stop)
    return value


def _cleaned(filterset) -> dict:
    assert filterset.is_valid(), filterset.errors
    return {name: _plain(value) for name, value in filterset.form.cleaned_data.items()}


def test_every_filterset_is_found():
    names = {filterset.__name__ for filterset in _filtersets()}
    assert {"ProjectFilterSet", "EnterpriseFilterSet", "TicketFilterSet", "MilestoneFilterSet"} <= names
    assert {"DashboardFilterSet", "VisitFilterSet", "StageChangeFilterSet"} <= names


@pytest.mark.parametrize("filterset_class", _filtersets(), ids=lambda f: f.__name__)
def test_an_untouched_filter_form_filters_nothing(world, filterset_class):
    # Given the form as the browsable API and the pages render it, read back as a browser sends it
    html = filterset_class(QueryDict()).form.as_p()
    sent = form_data(html)
    extra = {"q": TERM} if "q" in filterset_class.base_filters else {}
    # Then it means what the bare query (or the search alone) means: no filter of its own
    untouched = QueryDict(mutable=True)
    for name, value in {**sent, **extra}.items():
        untouched.setlist(name, value if isinstance(value, list) else [value])
    bare = QueryDict(mutable=True)
    bare.update(extra)
    assert _cleaned(filterset_class(untouched)) == _cleaned(filterset_class(bare)), sent


# --- The neutral choice: what it says, and that the API's yes and no are unchanged ----------------


def test_single_choice_filters_open_on_all(world):
    with translation.override("zh-hans"):
        project_form = ProjectFilterSet(QueryDict()).form
        log_form = ChangeLogFilter()
        firsts = {
            name: list(project_form.fields[name].choices)[0] for name in ("on_plan", "batch", "ordering")
        }
        firsts["park"] = list(project_form.fields["park"].choices)[0]
        firsts.update({name: list(log_form.fields[name].choices)[0] for name in ("user", "model", "origin")})
        labels = {name: (str(value), str(label)) for name, (value, label) in firsts.items()}
    assert labels == {
        "on_plan": ("", "全部"),
        "batch": ("", "全部"),
        "ordering": ("", "默认排序"),
        "park": ("null", "未归属园区"),  # a multiple select: no empty choice, "none" stays first
        "user": ("", "全部"),
        "model": ("", "全部"),
        "origin": ("", "全部"),
    }


def test_each_box_of_a_date_range_is_named():
    """The range's label points at its first box only: each box names itself (axe: label)."""
    with translation.override("zh-hans"):
        html = str(ProjectFilterSet(QueryDict()).form["started"])
    names = re.findall(r'<input type="(\w+)" name="(started_\w+)"[^>]*aria-label="([^"]+)"', html)
    expected = [("date", "started_after", "开工日期 起"), ("date", "started_before", "开工日期 止")]
    assert names == expected, html
    chosen = ProjectFilterSet(QueryDict("started_after=2026-03-01")).form
    assert 'value="2026-03-01"' in str(chosen["started"])  # as the date box reads it back


def test_the_api_takes_true_false_and_empty_as_before(client, world):
    client.force_login(world.users[Role.LEADER])

    def names(query):
        response = client.get(f"/api/projects/?year=2023&month=3&q={TERM}&{query}")
        assert response.status_code == 200, response.content
        return {row["name"] for row in response.json()["results"]}

    assert names("on_plan=true") == {"特种油脂精炼项目"}
    assert names("on_plan=false") == {"饲料加工扩建项目"}
    assert names("on_plan=") == names("") == {"特种油脂精炼项目", "饲料加工扩建项目"}
    assert client.get("/api/projects/?on_plan=maybe").status_code == 400


@pytest.mark.parametrize(
    ("view", "form_id", "bad"),
    [
        ("enterprises:list", "enterprise-filters", {"park": "999999"}),
        ("enterprises:ticket_list", "ticket-filters", {"unit": "999999"}),
        ("projects:list", "project-filters", {"park": "999999"}),
    ],
)
def test_a_folded_filter_sent_wrong_unfolds_with_its_message(client, world, view, form_id, bad):
    """The lists share their folded filters (includes/more_filters.html): a value that is not a
    choice comes back with the fold open, the message under its field, and the search box kept out
    of the fold."""
    client.force_login(world.users[Role.SUPERVISOR])
    page = client.get(reverse(view), bad).content.decode()
    fold = page[page.index('id="more-filters"') - 40 :]
    fold = fold[: fold.index("</form>")]
    assert 'class="collapse show" id="more-filters"' in fold
    field = next(iter(bad))
    assert f'name="{field}"' in fold and 'name="q"' not in fold
    # Django words it two ways (a plain choice, a model choice): both begin 选择一个有效的选项.
    assert re.search(r"invalid-feedback d-block[^>]*>\s*选择一个有效的选项", html.unescape(fold))
    # Sent right, the fold stays closed (the ticket list opens it for its "mine" default instead).
    if view != "enterprises:ticket_list":
        page = client.get(reverse(view), {"q": "油"}).content.decode()
        assert 'class="collapse" id="more-filters"' in page and f'id="{form_id}"' in page
