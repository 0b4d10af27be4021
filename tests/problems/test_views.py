"""The enterprise, visit and problem pages: who may open what, actions through the page, bad input,
drill-down links that land on exactly the problems counted, and query counts that do not grow."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from problems import services
from problems.choices import EventKind, ProblemCategory, ProblemLevel, Satisfaction, TicketStatus
from problems.models import ProblemTicket, TicketEvent, Visit
from tests.factories import (
    DepartmentFactory,
    EnterpriseFactory,
    LeaderFactory,
    ParkFactory,
    UserFactory,
    VisitFactory,
    make_ticket,
)
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db

# A 1×1 PNG: attachments are checked by content, so the test needs a real one.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201e1d3a4a90000000049454e44ae426082"
)


@pytest.fixture
def unit_a():
    return DepartmentFactory(name="区自然资源局")


@pytest.fixture
def unit_b():
    return DepartmentFactory(name="区住建局")


@pytest.fixture
def users(unit_a, unit_b):
    return {
        "staff": UserFactory(username="zhuanyuan", roles=[Role.STAFF]),
        "office": UserFactory(username="duban", roles=[Role.SUPERVISOR]),
        "leader": UserFactory(username="lingdao", roles=[Role.LEADER]),
        "reviewer": UserFactory(username="shenhe", roles=[Role.REVIEWER]),
        "unit_a": UserFactory(username="ziran", roles=[Role.UNIT], department=unit_a),
        "unit_b": UserFactory(username="zhujian", roles=[Role.UNIT], department=unit_b),
        "nobody": UserFactory(username="xinren"),
    }


@pytest.fixture
def ticket(users, unit_a):
    """Collected by staff on a visit, assigned by the office to unit A."""
    visit = VisitFactory(visited_on=timezone.localdate(), created_by=users["staff"])
    made = make_ticket(user=users["staff"], visit=visit, title="企业用电增容审批慢")
    return services.ticket_assign(ticket=made, user=users["office"], unit=unit_a)


def as_user(client, user):
    client.force_login(user)
    return client


def reload(ticket):
    return ProblemTicket.objects.get(pk=ticket.pk)


def snapshot(ticket):
    """What an action must leave alone when it is refused."""
    fresh = reload(ticket)
    return fresh.status, fresh.version, fresh.unit_id, fresh.level, fresh.events.count()


def count_on(page_html: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}"[^>]*>\s*(\d+)\s*<', page_html)
    assert match, f"#{element_id} not on the page"
    return int(match.group(1))


# --- Who may open what -------------------------------------------------------------------


def page_urls(ticket):
    return {
        "ticket_list": reverse("enterprises:ticket_list"),
        "ticket_create": reverse("enterprises:ticket_create"),
        "visit_create": reverse("enterprises:visit_create"),
        "stats": reverse("enterprises:stats"),
        "enterprise_list": reverse("enterprises:list"),
        "enterprise_detail": reverse("enterprises:detail", args=[ticket.enterprise_id]),
        "visit_detail": reverse("enterprises:visit_detail", args=[ticket.visit_id]),
        "ticket_detail": reverse("enterprises:ticket_detail", args=[ticket.pk]),
        "ticket_edit": reverse("enterprises:ticket_edit", args=[ticket.pk]),
    }


EVERY_ROLE = {"staff", "office", "leader", "reviewer", "unit_a", "unit_b"}
ZONE_WIDE = {"staff", "office", "leader", "reviewer"}
ALLOWED = {
    "ticket_list": EVERY_ROLE,
    "ticket_create": {"staff", "office"},
    "visit_create": {"staff", "office"},
    "stats": EVERY_ROLE,
    "enterprise_list": EVERY_ROLE,
    "enterprise_detail": EVERY_ROLE,
    "visit_detail": ZONE_WIDE,
    "ticket_detail": ZONE_WIDE | {"unit_a"},
    # Assigned already: only the office corrects its details now.
    "ticket_edit": {"office"},
}


def test_every_page_needs_a_login(client, ticket):
    for name, url in page_urls(ticket).items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("login")), name


def test_role_matrix(client, users, ticket):
    urls = page_urls(ticket)
    for role, user in users.items():
        as_user(client, user)
        opened = {name for name, url in urls.items() if client.get(url).status_code == 200}
        refused = {name for name, url in urls.items() if client.get(url).status_code == 403}
        expected = {name for name, allowed in ALLOWED.items() if role in allowed}
        assert opened == expected, role
        assert refused == set(urls) - expected, role


def test_refusal_is_explained_in_chinese(client, users, ticket):
    response = as_user(client, users["unit_b"]).get(reverse("enterprises:ticket_detail", args=[ticket.pk]))

    assert response.status_code == 403
    assert "这个问题已交办给其他单位" in response.content.decode()


def test_a_unit_lists_only_its_own_units_problems(client, users, ticket, unit_b):
    other = services.ticket_assign(
        ticket=make_ticket(user=users["staff"], title="施工许可"), user=users["office"], unit=unit_b
    )
    pending = make_ticket(user=users["staff"], title="待交办的问题")

    page = as_user(client, users["unit_a"]).get(reverse("enterprises:ticket_list")).content.decode()
    assert f'id="ticket-{ticket.pk}"' in page
    assert f'id="ticket-{other.pk}"' not in page
    assert f'id="ticket-{pending.pk}"' not in page
    assert count_on(page, "list-count") == 1

    page = as_user(client, users["office"]).get(reverse("enterprises:ticket_list")).content.decode()
    assert count_on(page, "list-count") == 3


def test_the_list_is_kept_per_reader_until_a_problem_changes(client, users, ticket, unit_b):
    """Cached whole: a reader with another scope never gets another's list, and a new problem or a
    reassigned one shows at once."""
    url = reverse("enterprises:ticket_list")
    unit_a_page = as_user(client, users["unit_a"]).get(url).content.decode()
    assert count_on(unit_a_page, "list-count") == 1
    assert count_on(as_user(client, users["office"]).get(url).content.decode(), "list-count") == 1
    pending = make_ticket(user=users["staff"], title="待交办的问题")
    assert count_on(as_user(client, users["office"]).get(url).content.decode(), "list-count") == 2
    page = as_user(client, users["unit_a"]).get(url).content.decode()
    assert count_on(page, "list-count") == 1 and f'id="ticket-{pending.pk}"' not in page
    services.ticket_assign(ticket=pending, user=users["office"], unit=users["unit_a"].department)
    page = as_user(client, users["unit_a"]).get(url).content.decode()
    assert count_on(page, "list-count") == 2 and f'id="ticket-{pending.pk}"' in page


def test_list_filters(client, users, ticket, unit_a):
    staff, office = users["staff"], users["office"]
    late = make_ticket(
        user=staff, title="拖欠工程款", collected_at=timezone.now() - datetime.timedelta(days=5)
    )
    escalated = services.ticket_assign(
        ticket=make_ticket(user=staff, title="铁路专用线", category=ProblemCategory.INFRASTRUCTURE),
        user=office,
        unit=unit_a,
    )
    services.ticket_escalate(ticket=escalated, user=office, reason="需市级协调铁路部门")
    as_user(client, office)
    url = reverse("enterprises:ticket_list")

    def listed(**params):
        page = client.get(url, params).content.decode()
        return {int(pk) for pk in re.findall(r'id="ticket-(\d+)"', page)}, count_on(page, "list-count")

    assert listed(status=TicketStatus.PENDING) == ({late.pk}, 1)
    assert listed(status=[TicketStatus.PENDING, TicketStatus.ASSIGNED]) == (
        {late.pk, ticket.pk, escalated.pk},
        3,
    )
    assert listed(level=ProblemLevel.CITY) == ({escalated.pk}, 1)
    assert listed(overdue="true") == ({late.pk}, 1)
    assert listed(overdue="false") == ({ticket.pk, escalated.pk}, 2)
    assert listed(unit="null") == ({late.pk}, 1)
    assert listed(unit=unit_a.pk, category=ProblemCategory.INFRASTRUCTURE) == ({escalated.pk}, 1)
    assert listed(q="工程款") == ({late.pk}, 1)
    assert listed(q=str(ticket.pk))[0] >= {ticket.pk}
    # A bad filter value is a field error, not a crash.
    response = client.get(url, {"status": "nonsense"})
    assert response.status_code == 200


def test_overdue_rows_are_highlighted(client, users, ticket):
    late = make_ticket(user=users["staff"], collected_at=timezone.now() - datetime.timedelta(days=3))
    page = as_user(client, users["office"]).get(reverse("enterprises:ticket_list")).content.decode()

    late_row = re.search(rf'<tr class="([^"]*)" id="ticket-{late.pk}"', page).group(1)
    fresh_row = re.search(rf'<tr class="([^"]*)" id="ticket-{ticket.pk}"', page).group(1)
    assert "overdue" in late_row.split()
    assert "overdue" not in fresh_row.split()
    detail = client.get(reverse("enterprises:ticket_detail", args=[late.pk])).content.decode()
    assert 'id="overdue-badge"' in detail


# --- Actions through the page --------------------------------------------------------------


def post_action(client, ticket, action, page_html=None, **fields):
    """Post an action's form as the page rendered it, with some fields changed."""
    if page_html is None:
        page_html = client.get(reverse("enterprises:ticket_detail", args=[ticket.pk])).content.decode()
    data = form_data(page_html, f"form-{action}")
    data.update({f"{action}-{name}": value for name, value in fields.items()})
    return client.post(reverse("enterprises:ticket_action", args=[ticket.pk, action]), data)


def test_the_whole_round_through_the_pages(client, users, unit_a):
    staff, office, handler = users["staff"], users["office"], users["unit_a"]
    made = make_ticket(user=staff, title="排水管网未接通")

    as_user(client, office)
    response = post_action(client, made, "assign", unit=str(unit_a.pk), handler=str(handler.pk))
    assert response.status_code == 302
    assert (reload(made).status, reload(made).handler) == (TicketStatus.ASSIGNED, handler)

    as_user(client, handler)
    assert post_action(client, made, "reply", text="已现场查看，制定接驳方案").status_code == 302
    assert post_action(client, made, "resolve", resolution="管网已接通并验收").status_code == 302
    assert reload(made).status == TicketStatus.UNDER_REVIEW

    as_user(client, office)
    assert post_action(client, made, "close", grade="excellent").status_code == 302
    assert reload(made).status == TicketStatus.RESOLVED

    as_user(client, staff)
    response = post_action(client, made, "rate", satisfaction=Satisfaction.SATISFIED, comment="很及时")
    assert response.status_code == 302
    done = reload(made)
    assert (done.status, done.satisfaction) == (TicketStatus.RATED, Satisfaction.SATISFIED)
    kinds = list(done.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.ACCEPTED,
        EventKind.REPLIED,
        EventKind.RESOLVED,
        EventKind.CLOSED,
        EventKind.RATED,
    ]
    page = client.get(reverse("enterprises:ticket_detail", args=[made.pk])).content.decode()
    assert "管网已接通并验收" in page and "很及时" in page


def test_page_offers_only_the_actions_the_user_may_take(client, users, ticket):
    def forms_for(user):
        as_user(client, user)
        page = client.get(reverse("enterprises:ticket_detail", args=[ticket.pk])).content.decode()
        return set(re.findall(r'id="form-([a-z_]+)"', page))

    assert {"reply", "accept", "decline"} <= forms_for(users["unit_a"])
    assert "assign" not in forms_for(users["unit_a"])
    assert "reply" not in forms_for(users["office"])
    assert {"escalate", "reassign"} <= forms_for(users["office"])
    assert forms_for(users["reviewer"]) <= {"comment"}


def test_resolving_without_text_re_renders_with_the_error_and_changes_nothing(client, users, ticket):
    services.ticket_reply(ticket=ticket, user=users["unit_a"], text="已联系供电公司")
    before = snapshot(ticket)

    response = post_action(as_user(client, users["unit_a"]), ticket, "resolve", resolution="")

    assert response.status_code == 400
    page = response.content.decode()
    assert "未作任何更改" in page
    form = re.search(r'id="form-resolve".*?</form>', page, re.S).group(0)
    assert "invalid-feedback" in form
    assert snapshot(ticket) == before


def test_rating_an_unresolved_problem_is_refused(client, users, ticket):
    before = snapshot(ticket)
    data = {"rate-version": str(ticket.version), "rate-satisfaction": Satisfaction.SATISFIED}

    response = as_user(client, users["staff"]).post(
        reverse("enterprises:ticket_action", args=[ticket.pk, "rate"]), data
    )

    assert response.status_code == 400
    refused = re.search(r'id="refused"[^>]*>(.*?)</div>\s*</div>', response.content.decode(), re.S)
    assert refused and "已交办" in refused.group(1)
    assert snapshot(ticket) == before


def test_another_unit_cannot_act(client, users, ticket):
    before = snapshot(ticket)
    data = {"reply-version": str(ticket.version), "reply-text": "不是我们的事"}

    response = as_user(client, users["unit_b"]).post(
        reverse("enterprises:ticket_action", args=[ticket.pk, "reply"]), data
    )

    assert response.status_code == 403
    assert snapshot(ticket) == before


def test_two_people_on_the_same_ticket_second_is_refused(client, users, ticket):
    as_user(client, users["unit_a"])
    page = client.get(reverse("enterprises:ticket_detail", args=[ticket.pk])).content.decode()
    assert post_action(client, ticket, "reply", page_html=page, text="第一次答复").status_code == 302
    after_first = snapshot(ticket)

    response = post_action(client, ticket, "reply", page_html=page, text="同时提交的另一份答复")

    assert response.status_code == 400
    assert snapshot(ticket) == after_first
    assert not TicketEvent.objects.filter(text="同时提交的另一份答复").exists()


def test_unknown_action_and_get_are_refused(client, users, ticket):
    as_user(client, users["office"])
    assert client.post(reverse("enterprises:ticket_action", args=[ticket.pk, "delete"])).status_code == 404
    assert client.get(reverse("enterprises:ticket_action", args=[ticket.pk, "assign"])).status_code == 405


def test_escalation_shows_the_new_level_and_keeps_the_path(client, users, ticket):
    as_user(client, users["office"])
    assert post_action(client, ticket, "escalate", text="涉及市级规划调整").status_code == 302
    assert post_action(client, ticket, "escalate", text="需省级部门协调").status_code == 302

    page = client.get(reverse("enterprises:ticket_detail", args=[ticket.pk])).content.decode()
    assert re.search(r'id="ticket-level">\s*省级', page)
    assert "涉及市级规划调整" in page and "需省级部门协调" in page
    assert reload(ticket).level == ProblemLevel.PROVINCE
    response = post_action(client, ticket, "escalate", page_html=page, text="再升一级")
    assert response.status_code in (400, 403)
    assert reload(ticket).level == ProblemLevel.PROVINCE


def test_unsatisfied_rating_reopens_for_the_same_unit(client, users, ticket, unit_a):
    services.ticket_resolve(ticket=ticket, user=users["unit_a"], resolution="已协调供电公司")
    services.ticket_close(ticket=reload(ticket), user=users["office"])

    as_user(client, users["staff"])
    response = post_action(client, ticket, "rate", satisfaction=Satisfaction.UNSATISFIED, comment="仍未通电")

    assert response.status_code == 302
    reopened = reload(ticket)
    assert (reopened.status, reopened.unit) == (TicketStatus.IN_PROGRESS, unit_a)
    assert reopened.events.filter(kind=EventKind.REOPENED).count() == 1


def test_editing_details_keeps_a_history_and_refuses_a_stale_form(client, users, ticket):
    as_user(client, users["office"])
    url = reverse("enterprises:ticket_edit", args=[ticket.pk])
    stale = form_data(client.get(url).content.decode())
    fresh = dict(stale, title="企业用电增容（10千伏）审批慢", is_major="on")

    assert client.post(url, fresh).status_code == 302
    edited = reload(ticket)
    assert (edited.title, edited.is_major) == ("企业用电增容（10千伏）审批慢", True)
    assert edited.events.filter(kind=EventKind.EDITED, actor=users["office"]).count() == 1
    assert edited.history.first().history_user == users["office"]

    response = client.post(url, dict(stale, title="过期表单里的标题"))
    assert response.status_code == 200
    assert reload(ticket).title == "企业用电增容（10千伏）审批慢"


# --- Recording visits and problems -----------------------------------------------------------


def visit_post(client, enterprise, rows):
    """The new-visit form as the page renders it, with the enterprise and problem rows filled in."""
    data = form_data(client.get(reverse("enterprises:visit_create")).content.decode())
    data.update({"enterprise": str(enterprise.pk), "notes": "走访座谈"})
    assert data["problems-TOTAL_FORMS"] == "3"
    for index, row in enumerate(rows):
        data.update({f"problems-{index}-{name}": value for name, value in row.items()})
    return client.post(reverse("enterprises:visit_create"), data)


def test_a_visit_with_a_bad_problem_row_saves_nothing_then_saves_everything(client, users):
    enterprise = EnterpriseFactory()
    as_user(client, users["staff"])
    good = {"title": "招工难", "category": ProblemCategory.LABOUR, "description": "缺熟练工 50 人"}
    bad = {"title": "", "description": "只写了描述"}

    response = visit_post(client, enterprise, [good, bad])

    assert response.status_code == 200
    assert "这个字段是必填项" in response.content.decode()
    assert (Visit.objects.count(), ProblemTicket.objects.count()) == (0, 0)

    # The third row stays blank and is skipped.
    response = visit_post(
        client, enterprise, [good, dict(bad, title="融资难", category=ProblemCategory.FINANCING)]
    )

    assert response.status_code == 302
    visit = Visit.objects.get()
    assert list(visit.visitors.all()) == [users["staff"]]
    assert sorted(visit.problems.values_list("title", flat=True)) == ["招工难", "融资难"]
    assert set(visit.problems.values_list("status", "enterprise_id")) == {
        (TicketStatus.PENDING, enterprise.pk)
    }


def test_a_problem_added_later_to_a_visit_belongs_to_the_visited_enterprise(client, users):
    visit = VisitFactory(visited_on=timezone.localdate() - datetime.timedelta(days=2))
    as_user(client, users["staff"])
    page = client.get(reverse("enterprises:visit_detail", args=[visit.pk])).content.decode()
    url = html.unescape(re.search(r'id="add-problem" href="([^"]+)"', page).group(1))
    data = form_data(client.get(url).content.decode(), "ticket-form")
    data.update(
        title="环评批复未下达", category=ProblemCategory.APPROVALS, enterprise=str(EnterpriseFactory().pk)
    )

    assert client.post(url, data).status_code == 302

    made = ProblemTicket.objects.get()
    assert (made.visit, made.enterprise, made.source) == (visit, visit.enterprise, "visit")
    assert timezone.localtime(made.collected_at).date() == visit.visited_on


def test_office_records_a_problem_and_assigns_it_at_once(client, users, unit_a):
    enterprise = EnterpriseFactory()
    data = {
        "enterprise": str(enterprise.pk),
        "source": "hotline",
        "title": "厂区门前道路积水",
        "category": ProblemCategory.INFRASTRUCTURE,
        "description": "",
        "fence": "outside",
    }

    assert (
        "id_unit"
        not in as_user(client, users["staff"]).get(reverse("enterprises:ticket_create")).content.decode()
    )
    as_user(client, users["office"])
    response = client.post(reverse("enterprises:ticket_create"), dict(data, unit=str(unit_a.pk)))

    assert response.status_code == 302
    made = ProblemTicket.objects.get()
    assert (made.status, made.unit, made.source) == (TicketStatus.ASSIGNED, unit_a, "hotline")


def test_a_problem_collected_in_the_future_is_refused(client, users):
    enterprise = EnterpriseFactory()
    tomorrow = timezone.localtime() + datetime.timedelta(days=1)
    data = {
        "enterprise": str(enterprise.pk),
        "source": "hotline",
        "title": "明天的问题",
        "category": ProblemCategory.OTHER,
        "collected_at": tomorrow.strftime("%Y-%m-%dT%H:%M"),
    }

    response = as_user(client, users["staff"]).post(reverse("enterprises:ticket_create"), data)

    assert response.status_code == 200
    assert "不能" in response.content.decode()
    assert not ProblemTicket.objects.exists()


# --- Attachments -------------------------------------------------------------------------------


def test_attachments_are_served_only_to_those_who_may_open_the_ticket(
    client, users, ticket, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    as_user(client, users["unit_a"])
    upload = SimpleUploadedFile("现场照片.png", PNG, content_type="image/png")
    page = client.get(reverse("enterprises:ticket_detail", args=[ticket.pk])).content.decode()
    data = form_data(page, "form-attach")
    response = client.post(
        reverse("enterprises:ticket_action", args=[ticket.pk, "attach"]), {**data, "attach-file": upload}
    )
    assert response.status_code == 302
    attachment = reload(ticket).attachments.get()
    assert "现场照片" not in attachment.file.name  # stored under a random name
    url = reverse("enterprises:attachment", args=[attachment.pk])

    response = as_user(client, users["office"]).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert as_user(client, users["unit_b"]).get(url).status_code == 403
    assert as_user(client, users["nobody"]).get(url).status_code == 403


def test_a_text_file_named_png_is_refused(client, users, ticket, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    as_user(client, users["unit_a"])
    page = client.get(reverse("enterprises:ticket_detail", args=[ticket.pk])).content.decode()
    fake = SimpleUploadedFile("照片.png", b"<script>alert(1)</script>", content_type="image/png")
    response = client.post(
        reverse("enterprises:ticket_action", args=[ticket.pk, "attach"]),
        {**form_data(page, "form-attach"), "attach-file": fake},
    )

    assert response.status_code == 400
    assert not reload(ticket).attachments.exists()


# --- Figures and their drill-down ----------------------------------------------------------------


def build_mixed_set(users, unit_a, unit_b, size):
    """``size`` rounds of problems at every step, in two parks, two units and three levels."""
    staff, office = users["staff"], users["office"]
    parks = [ParkFactory(name="食品产业园"), ParkFactory(name="金属新材料产业园")]
    leader = LeaderFactory()
    enterprises = [EnterpriseFactory(park=park, liaison_leader=leader) for park in parks]
    enterprises.append(EnterpriseFactory(park=None))
    now = timezone.now()
    made = []
    for index in range(size):
        enterprise = enterprises[index % len(enterprises)]
        unit = (unit_a, unit_b)[index % 2]
        age = datetime.timedelta(days=index % 12, hours=1)
        category = [ProblemCategory.LAND, ProblemCategory.LABOUR, ProblemCategory.FINANCING][index % 3]
        ticket = make_ticket(user=staff, enterprise=enterprise, category=category, collected_at=now - age)
        step = index % 5
        if step >= 1:
            ticket = services.ticket_assign(ticket=ticket, user=office, unit=unit)
        if step == 2:
            ticket = services.ticket_escalate(ticket=ticket, user=office, reason="需市级协调")
        if step >= 3:
            handler = users["unit_a"] if unit == unit_a else users["unit_b"]
            ticket = services.ticket_resolve(ticket=ticket, user=handler, resolution="已解决")
            ticket = services.ticket_close(ticket=ticket, user=office)
        if step == 4:
            satisfaction = [Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.UNSATISFIED][
                index % 3
            ]
            ticket = services.ticket_rate(ticket=ticket, user=staff, satisfaction=satisfaction)
        made.append(ticket)
    VisitFactory(enterprise=enterprises[0], created_by=staff).visitors.add(staff)
    return made


def test_every_figure_links_to_exactly_the_problems_behind_it(client, users, unit_a, unit_b):
    build_mixed_set(users, unit_a, unit_b, 30)
    as_user(client, users["leader"])
    today = timezone.localdate()
    params = {"date_from": (today - datetime.timedelta(days=60)).isoformat(), "date_to": today.isoformat()}
    page = client.get(reverse("enterprises:stats"), params).content.decode()

    links = re.findall(r'<a[^>]*href="(/problems/\?[^"]*)"[^>]*>\s*(\d+)\s*</a>', page)
    assert count_on(page, "kpi-collected") == 30
    assert len(links) > 20
    checked = set()
    for href, shown in links:
        listing = client.get(html.unescape(href)).content.decode()
        assert count_on(listing, "list-count") == int(shown), href
        checked.add(href)
    assert any("overdue=true" in href for href in checked)
    assert any("unit=null" in href for href in checked)
    assert any("park=null" in href for href in checked)


def test_figures_page_counts_what_the_user_may_read(client, users, unit_a, unit_b):
    build_mixed_set(users, unit_a, unit_b, 10)
    as_user(client, users["unit_b"])

    page = client.get(reverse("enterprises:stats"), {"date_from": ""}).content.decode()

    visible = ProblemTicket.objects.filter(unit=unit_b).count()
    assert count_on(page, "kpi-collected") == visible
    assert visible < ProblemTicket.objects.count()


# --- Queries do not grow with the rows ----------------------------------------------------------


def query_counts(client, users, ticket_pk, enterprise_pk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages = [
        ("office", reverse("enterprises:ticket_list")),
        ("office", reverse("enterprises:ticket_list") + "?overdue=true&status=assigned&ordering=-due"),
        ("unit_a", reverse("enterprises:ticket_list")),
        ("office", reverse("enterprises:stats") + "?date_from="),
        ("office", reverse("enterprises:list")),
        ("office", reverse("enterprises:detail", args=[enterprise_pk])),
        ("office", reverse("enterprises:ticket_detail", args=[ticket_pk])),
        ("office", reverse("home")),
        ("unit_a", reverse("home")),
        ("staff", reverse("home")),
    ]
    counts = {}
    for role, url in pages:
        as_user(client, users[role])
        client.get(url)  # warm per-process caches (content types, translations)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[(role, url)] = len(queries)
    return counts


def test_page_queries_do_not_grow_with_the_number_of_problems(client, users, unit_a, unit_b):
    first = build_mixed_set(users, unit_a, unit_b, 10)
    ticket = first[3]
    few = query_counts(client, users, ticket.pk, ticket.enterprise_id)

    build_mixed_set(users, unit_a, unit_b, 200)
    for _ in range(20):
        services.ticket_comment(ticket=ticket, user=users["office"], text="请加快办理")
    many = query_counts(client, users, ticket.pk, ticket.enterprise_id)

    assert ProblemTicket.objects.count() == 210
    assert many == few
    assert max(many.values()) <= 30


def test_my_problems(client, users, ticket, unit_a):
    colleague = UserFactory(username="tongshi", roles=[Role.STAFF], department=unit_a)
    theirs = make_ticket(user=colleague, title="同事收集的问题")
    liaised = make_ticket(
        user=colleague, title="我包联企业的问题", enterprise=EnterpriseFactory(liaison_unit=unit_a)
    )
    url = reverse("enterprises:ticket_list")

    def mine(user):
        page = as_user(client, user).get(url, {"mine": "on"}).content.decode()
        return {int(pk) for pk in re.findall(r'id="ticket-(\d+)"', page)}

    assert mine(users["staff"]) == {ticket.pk}
    assert mine(colleague) == {theirs.pk, liaised.pk}
    assert mine(users["unit_a"]) == {ticket.pk}


# --- The "13710" clock on the ticket page, and the handler picker ----------------------------------


def clock_line(page_html: str, step: str) -> str:
    """The text of one step's line of the clock, tags removed."""
    line = re.search(rf'<li [^>]*data-step="{step}"[^>]*>(.*?)</li>', page_html, re.S)
    assert line, f"no {step} line on the clock"
    return " ".join(re.sub(r"<[^>]+>", " ", line.group(1)).split())


def test_the_clock_says_how_many_days_are_left_or_overdue(client, users, settings):
    settings.PROBLEM_DAY_COUNTING = "calendar"
    today = timezone.localdate()
    # Collected two days ago and not assigned: assign was due yesterday (1 day overdue), resolve is
    # due in 7 − 2 = 5 days.
    collected = timezone.now() - datetime.timedelta(days=2)
    made = make_ticket(user=users["staff"], collected_at=collected, title="园区道路未通")

    page = as_user(client, users["office"]).get(reverse("enterprises:ticket_detail", args=[made.pk]))
    html_text = page.content.decode()

    yesterday, in_five = today - datetime.timedelta(days=1), today + datetime.timedelta(days=5)
    assert clock_line(html_text, "assign") == f"交办责任单位 截止 {yesterday:%Y-%m-%d} 已超期 1 天"
    assert clock_line(html_text, "resolve") == f"办结 截止 {in_five:%Y-%m-%d} 剩余 5 天"
    # The legend says the counts and that they are calendar days, with Chinese punctuation.
    legend = re.search(r'id="clock-legend">(.*?)</div>', html_text, re.S).group(1)
    assert legend == (
        "“13710”：1 天内交办，3 天内首次反馈，7 天内办结（重大复杂问题 1 个月内），"
        "办结后 1 天内审核销号；按自然日计算，自问题收集当日起算。"
    )


def test_the_clock_shows_a_step_done_late_and_one_due_today(client, users, unit_a):
    today = timezone.localdate()
    # Collected three days ago, assigned just now: 2 days late (assign was due the day after
    # collection). The first report is due today.
    made = make_ticket(user=users["staff"], collected_at=timezone.now() - datetime.timedelta(days=3))
    services.ticket_assign(ticket=made, user=users["office"], unit=unit_a)

    page = as_user(client, users["office"]).get(reverse("enterprises:ticket_detail", args=[made.pk]))
    html_text = page.content.decode()

    assert "已完成（逾期 2 天）" in clock_line(html_text, "assign")
    assert clock_line(html_text, "report") == f"首次反馈进展 截止 {today:%Y-%m-%d} 今日到期"


def test_the_legend_says_working_days_when_they_are_counted(client, users, ticket, settings):
    settings.PROBLEM_DAY_COUNTING = "working"

    page = as_user(client, users["office"]).get(reverse("enterprises:ticket_detail", args=[ticket.pk]))

    assert "按工作日计算" in re.search(r'id="clock-legend">(.*?)</div>', page.content.decode()).group(1)


def test_the_handler_picker_asks_for_the_chosen_units_people(client, users, unit_a, unit_b):
    """The page lists no unit's people: the handler select follows the unit select and asks the
    people lookup for that unit's (core.lookups) as one types."""
    made = make_ticket(user=users["staff"])

    page = as_user(client, users["office"]).get(reverse("enterprises:ticket_detail", args=[made.pk]))
    html_text = page.content.decode()

    select = re.search(r'<select name="assign-handler"[^>]*>.*?</select>', html_text, re.S).group(0)
    assert 'data-remote="/lookup/users/"' in select
    assert 'data-remote-with="unit=id_assign-unit"' in select
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select) == ["输入名称搜索…"]
    assert str(users["unit_a"]) not in select and str(users["unit_b"]) not in select
    # The script that makes it follow the unit is a file: the CSP forbids inline scripts.
    assert re.search(r'<script src="[^"]*/js/selects\.js"></script>', html_text)
    assert "<script>" not in html_text

    people = client.get(f"/lookup/users/?q=&unit={unit_a.pk}").json()
    assert [person["value"] for person in people] == [users["unit_a"].pk]


def test_a_handler_of_another_unit_is_refused_without_script(client, users, unit_a, unit_b):
    made = make_ticket(user=users["staff"])
    before = snapshot(made)

    as_user(client, users["office"])
    response = post_action(client, made, "assign", unit=str(unit_a.pk), handler=str(users["unit_b"].pk))

    assert response.status_code == 400
    form = re.search(r'id="form-assign".*?</form>', response.content.decode(), re.S).group(0)
    assert (
        f"{users['unit_b']}不是区自然资源局的人员：请选择该单位的经办人，或者留空，由该单位确定经办人。"
        in html.unescape(form)
    )
    assert snapshot(made) == before
