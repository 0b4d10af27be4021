"""Problem tickets through the API: who may read and take each step, what each step records, and that
the list means what the problem list page means."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from problems import selectors, services
from problems.choices import ClosureGrade, EventKind, ProblemLevel, Satisfaction, TicketStatus
from problems.filtersets import TicketFilterSet
from problems.models import ProblemTicket, TicketAttachment, TicketEvent
from problems.permissions import readable_tickets
from tests.api.matrix import CALLERS, expected_codes
from tests.factories import EnterpriseFactory, ProjectFactory, VisitFactory, make_ticket
from tests.problems.test_ticket_services import png_bytes

pytestmark = pytest.mark.django_db

LIST = "/api/tickets/"


def url(ticket, action=None):
    return f"{LIST}{ticket.pk}/" + (f"{action}/" if action else "")


def build(state, people, units, *, major=False, enterprise=None):
    """A ticket collected now by staff_in, brought to ``state`` by the office and unit U1."""
    office, handler = people["supervisor"], people["unit_in"]
    ticket = make_ticket(
        user=people["staff_in"], enterprise=enterprise or EnterpriseFactory(), is_major=major
    )
    if state == TicketStatus.PENDING:
        return ticket
    services.ticket_assign(ticket=ticket, user=office, unit=units.U1)
    if state == TicketStatus.ASSIGNED:
        return ticket
    services.ticket_accept(ticket=ticket, user=handler)
    if state == TicketStatus.IN_PROGRESS:
        return ticket
    services.ticket_resolve(ticket=ticket, user=handler, resolution="已协调供电公司完成增容")
    if state == TicketStatus.UNDER_REVIEW:
        return ticket
    services.ticket_close(ticket=ticket, user=office)
    assert state == TicketStatus.RESOLVED
    return ticket


def snapshot(ticket):
    fresh = ProblemTicket.objects.get(pk=ticket.pk)
    return (
        fresh.status,
        fresh.version,
        fresh.unit_id,
        fresh.level,
        fresh.closure_grade,
        fresh.satisfaction,
        fresh.plan,
        fresh.title,
        fresh.events.count(),
        fresh.history.count(),
        fresh.attachments.count(),
    )


def last_event(ticket):
    return TicketEvent.objects.filter(ticket=ticket).order_by("-at", "-pk").first()


def run_matrix(api_as, people, units, *, state, action, body, allowed, hidden, check, ok=200, major=False):
    """Each caller on a fresh ticket in ``state``: the exact status codes, the ticket and its timeline
    changed as ``check`` says for the allowed, untouched for the refused."""
    codes = {}
    for who in CALLERS:
        ticket = build(state, people, units, major=major)
        before = snapshot(ticket)
        events = ticket.events.count()
        response = api_as(who).post(url(ticket, action), body, format="json")
        codes[who] = response.status_code
        if response.status_code == ok:
            fresh = ProblemTicket.objects.get(pk=ticket.pk)
            event = last_event(ticket)
            assert event.actor == people[who]
            assert fresh.events.count() > events
            if ok == 200:  # a step that changes the ticket; a comment only adds to the timeline
                assert fresh.history.first().history_user == people[who]
            check(fresh, event, response.json(), people[who])
        else:
            assert snapshot(ticket) == before, who
    assert codes == expected_codes(allowed, ok, hidden)


def answered_with(fresh, data):
    """A step answers with the ticket as it now is."""
    assert data["id"] == fresh.pk
    assert data["status"] == fresh.status
    assert data["version"] == fresh.version


# --- Reading ------------------------------------------------------------------------------------------


def test_list_and_detail_role_matrix(api_as, people, units):
    u1 = build(TicketStatus.ASSIGNED, people, units)
    pending = build(TicketStatus.PENDING, people, units)
    listed, detail = {}, {}
    for who in CALLERS:
        response = api_as(who).get(LIST)
        listed[who] = (
            (response.status_code, [row["id"] for row in response.json()["results"]])
            if response.status_code == 200
            else response.status_code
        )
        detail[who] = api_as(who).get(url(u1)).status_code

    both = [pending.pk, u1.pk]  # newest first, as the page
    assert listed == {
        "admin": (200, both),
        "leader": (200, both),
        "reviewer": (200, both),
        "supervisor": (200, both),
        "staff_in": (200, both),
        "staff_out": (200, both),
        "unit_in": (200, [u1.pk]),
        "unit_out": (200, []),
        "norole": 403,
        None: 401,
    }
    assert detail == expected_codes(
        allowed={"admin", "leader", "reviewer", "supervisor", "staff_in", "staff_out", "unit_in"},
        ok=200,
        hidden={"unit_out"},
    )


def test_detail_carries_the_clock_labels_and_the_callers_actions(api_as, people, units):
    ticket = build(TicketStatus.ASSIGNED, people, units)
    fresh = ProblemTicket.objects.get(pk=ticket.pk)

    data = api_as("unit_in").get(url(ticket)).json()

    assert data["status"] == "assigned"
    assert data["status_label"] == "已交办"
    assert data["unit"] == units.U1.pk
    assert data["unit_name"] == "经济发展局"
    assert data["level_label"] == "区级"
    assert data["assign_due"] == fresh.assign_due.isoformat()
    assert data["report_due"] == fresh.report_due.isoformat()
    assert data["resolve_due"] == fresh.resolve_due.isoformat()
    assert data["is_overdue"] is False
    assert data["collected_at"].endswith("+08:00")
    assert data["allowed_actions"] == ["accept", "decline", "reply", "resolve", "comment", "attach"]
    office = api_as("supervisor").get(url(ticket))
    assert office.json()["allowed_actions"] == ["escalate", "reassign", "comment", "attach", "edit"]
    assert office["ETag"] == f'"{fresh.version}"'
    assert api_as("reviewer").get(url(ticket)).json()["allowed_actions"] == ["comment"]


def test_a_unit_without_a_unit_cannot_list(api_as, people, units):
    people["unit_in"].department = None
    people["unit_in"].save()

    response = api_as("unit_in").get(LIST)

    assert response.status_code == 403


def test_list_queries_do_not_grow_with_rows(api_as, people, units, django_assert_max_num_queries):
    enterprises = [EnterpriseFactory() for _ in range(5)]
    staff, office = people["staff_in"], people["supervisor"]
    for number in range(210):
        ticket = make_ticket(user=staff, enterprise=enterprises[number % 5], title=f"问题{number}")
        if number % 3 == 0:
            services.ticket_assign(ticket=ticket, user=office, unit=units.U1, handler=people["unit_in"])
    admin, handler = api_as("admin"), api_as("unit_in")

    # Token (read, last use), roles, count, rows: six queries whether 1 row or 210.
    with django_assert_max_num_queries(6):
        response = admin.get(LIST, {"page_size": 500})
    assert response.json()["count"] == 210
    assert len(response.json()["results"]) == 210
    with django_assert_max_num_queries(6):
        response = handler.get(LIST, {"page_size": 500, "ordering": "due"})
    assert response.json()["count"] == 70


# --- The list means what the page means ------------------------------------------------------------------


@pytest.fixture
def mixed(people, units):
    """Tickets in every status, with U1, with U2 and with nobody."""
    tickets = [build(status, people, units) for status in TicketStatus.values if status != TicketStatus.RATED]
    elsewhere = build(TicketStatus.ASSIGNED, people, units)
    services.ticket_reassign(ticket=elsewhere, user=people["supervisor"], unit=units.U2)
    second = build(TicketStatus.ASSIGNED, people, units)
    return [*tickets, elsewhere, second]


def query_dict(query: dict) -> QueryDict:
    """The query string as the page and the API receive it (lists as repeated parameters)."""
    data = QueryDict(mutable=True)
    for name, value in query.items():
        data.setlist(name, [str(item) for item in value] if isinstance(value, list) else [str(value)])
    return data


def page_ids(client, user, query):
    client.force_login(user)
    page = client.get(reverse("enterprises:ticket_list"), query).context["page"]
    return [ticket.pk for ticket in page.object_list]


@pytest.mark.parametrize(
    "query",
    [
        {"status": "assigned", "unit": "U1"},
        {"status": ["assigned", "in_progress"]},
        {"unit": "U2"},
        {"q": "用地", "ordering": "collected"},
        {"mine": "true"},
        {"overdue": "false", "level": "zone"},
    ],
)
@pytest.mark.parametrize("who", ["supervisor", "staff_out", "unit_in"])
def test_filters_return_exactly_what_the_page_lists(api_as, people, units, mixed, client, query, who):
    if "unit" in query:
        query = {**query, "unit": getattr(units, query["unit"]).pk}
    user = people[who]

    response = api_as(who).get(LIST, query)

    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    filterset = TicketFilterSet(
        query_dict(query), queryset=selectors.ticket_rows(readable_tickets(user)), user=user
    )
    expected = filterset.qs if "ordering" in query else filterset.qs.order_by("-collected_at", "-pk")
    assert ids == [ticket.pk for ticket in expected]
    assert ids == page_ids(client, user, query)


def test_status_and_unit_filter_by_hand(api_as, people, units, mixed):
    """?status=assigned&unit=U1: the two assigned to U1 (not the one moved to U2), newest first."""
    response = api_as("admin").get(LIST, {"status": "assigned", "unit": units.U1.pk})

    assigned_u1 = [mixed[-1].pk, mixed[1].pk]
    assert [row["id"] for row in response.json()["results"]] == assigned_u1


def test_a_bad_filter_is_a_400(api_as, people, units):
    response = api_as("admin").get(LIST, {"status": "lost"})

    assert response.status_code == 400
    assert "status" in response.json()


# --- Creating and correcting ------------------------------------------------------------------------


def test_create_role_matrix(api_as, people, units):
    enterprise = EnterpriseFactory()
    codes = {}
    for who in CALLERS:
        before = ProblemTicket.objects.count()
        response = api_as(who).post(
            LIST,
            {"enterprise": enterprise.pk, "category": "utilities", "title": f"电力增容（{who}）"},
            format="json",
        )
        codes[who] = response.status_code
        if response.status_code == 201:
            ticket = ProblemTicket.objects.get(pk=response.json()["id"])
            assert (ticket.title, ticket.created_by, ticket.status) == (
                f"电力增容（{who}）",
                people[who],
                TicketStatus.PENDING,
            )
            assert ticket.history.first().history_user == people[who]
            assert [(e.kind, e.actor) for e in ticket.events.all()] == [(EventKind.CREATED, people[who])]
            assert response.json()["allowed_actions"]
        else:
            assert ProblemTicket.objects.count() == before
    assert codes == expected_codes({"admin", "supervisor", "staff_in", "staff_out"}, 201)


def test_create_from_a_visit_takes_its_enterprise_and_day(api_as, people):
    visit = VisitFactory(visited_on=timezone.localdate() - datetime.timedelta(days=2))

    response = api_as("staff_in").post(
        LIST, {"visit": visit.pk, "category": "labour", "title": "招工难", "source": "hotline"}, format="json"
    )

    assert response.status_code == 201
    ticket = ProblemTicket.objects.get(pk=response.json()["id"])
    assert (ticket.visit, ticket.enterprise, ticket.source) == (visit, visit.enterprise, "visit")
    assert timezone.localdate(ticket.collected_at) == visit.visited_on
    # The "13710" clock runs from the visit's day: assign by the next day.
    assert ticket.assign_due == visit.visited_on + datetime.timedelta(days=1)


def test_create_refusals_name_the_field(api_as, people):
    enterprise = EnterpriseFactory()
    client = api_as("staff_in")

    missing = client.post(LIST, {"enterprise": enterprise.pk, "category": "land"}, format="json")
    future = client.post(
        LIST,
        {
            "enterprise": enterprise.pk,
            "category": "land",
            "title": "用地",
            "collected_at": (timezone.now() + datetime.timedelta(hours=2)).isoformat(),
        },
        format="json",
    )
    foreign = client.post(
        LIST,
        {"enterprise": enterprise.pk, "category": "land", "title": "用地", "project": ProjectFactory().pk},
        format="json",
    )
    nobody = client.post(LIST, {"category": "land", "title": "用地"}, format="json")

    assert (missing.status_code, missing.json()) == (400, {"title": ["这个字段是必填项。"]})
    assert (future.status_code, future.json()) == (400, {"collected_at": ["问题的收集时间不能晚于现在。"]})
    assert (foreign.status_code, foreign.json()) == (400, {"project": ["该项目不属于这家企业。"]})
    assert nobody.status_code == 400
    assert list(nobody.json()) == ["enterprise"]
    assert ProblemTicket.objects.count() == 0


def test_update_role_matrix_on_a_pending_ticket(api_as, people, units):
    """The office, and the collector (staff_in) before assignment; units see no pending tickets."""
    codes = {}
    for who in CALLERS:
        ticket = build(TicketStatus.PENDING, people, units)
        before = snapshot(ticket)
        response = api_as(who).patch(
            url(ticket), {"title": "新标题", "version": ticket.version}, format="json"
        )
        codes[who] = response.status_code
        if response.status_code == 200:
            fresh = ProblemTicket.objects.get(pk=ticket.pk)
            assert (fresh.title, fresh.version) == ("新标题", ticket.version + 1)
            assert fresh.history.first().history_user == people[who]
            assert last_event(ticket).kind == EventKind.EDITED
            assert response.json()["title"] == "新标题"
            assert response["ETag"] == f'"{fresh.version}"'
        else:
            assert snapshot(ticket) == before
    assert codes == expected_codes({"admin", "supervisor", "staff_in"}, 200, hidden={"unit_in", "unit_out"})


def test_update_role_matrix_on_an_assigned_ticket(api_as, people, units):
    codes = {}
    for who in CALLERS:
        ticket = build(TicketStatus.ASSIGNED, people, units)
        before = snapshot(ticket)
        response = api_as(who).patch(
            url(ticket), {"is_major": True, "version": ticket.version}, format="json"
        )
        codes[who] = response.status_code
        if response.status_code == 200:
            fresh = ProblemTicket.objects.get(pk=ticket.pk)
            # Major: a month from the day it was collected instead of 7 days.
            assert fresh.is_major is True
            assert fresh.resolve_due > ticket.resolve_due
        else:
            assert snapshot(ticket) == before
    assert codes == expected_codes({"admin", "supervisor"}, 200, hidden={"unit_out"})


def test_update_needs_the_version_and_refuses_a_stale_one(api_as, people, units):
    ticket = build(TicketStatus.PENDING, people, units)
    read = ticket.version
    # Someone else saves first.
    assert api_as("staff_in").patch(url(ticket), {"description": "补充", "version": read}).status_code == 200
    client = api_as("supervisor", language="en")
    before = snapshot(ticket)

    missing = client.patch(url(ticket), {"title": "新标题"}, format="json")
    stale = client.patch(url(ticket), {"title": "新标题", "version": read}, format="json")
    stale_header = client.patch(url(ticket), {"title": "新标题"}, format="json", HTTP_IF_MATCH=f'"{read}"')

    assert missing.status_code == 400
    assert list(missing.json()) == ["version"]
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    assert "Someone else saved this problem ticket" in stale.json()["detail"]
    assert stale_header.status_code == 412
    assert snapshot(ticket) == before

    current = client.patch(url(ticket), {"title": "新标题"}, format="json", HTTP_IF_MATCH=f'"{read + 1}"')
    assert current.status_code == 200
    assert ProblemTicket.objects.get(pk=ticket.pk).title == "新标题"
    assert current["ETag"] == f'"{read + 2}"'


def test_put_replaces_the_details_but_never_the_enterprise(api_as, people, units):
    ticket = build(TicketStatus.PENDING, people, units)
    other = EnterpriseFactory()

    response = api_as("supervisor").put(
        url(ticket),
        {
            "enterprise": other.pk,
            "category": "financing",
            "title": "贷款贴息未兑现",
            "description": "2023年贴息",
            "fence": "inside",
            "version": ticket.version,
        },
        format="json",
    )

    assert response.status_code == 200
    fresh = ProblemTicket.objects.get(pk=ticket.pk)
    assert (fresh.category, fresh.title, fresh.fence) == ("financing", "贷款贴息未兑现", "inside")
    assert fresh.enterprise_id == ticket.enterprise_id


def test_tickets_are_never_deleted(api_as, people, units):
    ticket = build(TicketStatus.PENDING, people, units)

    assert api_as("admin").delete(url(ticket)).status_code == 405
    assert ProblemTicket.objects.filter(pk=ticket.pk).exists()


# --- Each step: the exact set of callers, and what it records ------------------------------------------


def test_assign(api_as, people, units):
    def check(fresh, event, data, user):
        assert (fresh.status, fresh.unit, fresh.handler, fresh.is_major) == (
            TicketStatus.ASSIGNED,
            units.U1,
            people["unit_in"],
            True,
        )
        assert (event.kind, event.text, event.unit) == (EventKind.ASSIGNED, "三日内反馈", units.U1)
        answered_with(fresh, data)

    body = {"unit": units.U1.pk, "handler": people["unit_in"].pk, "is_major": True, "note": "三日内反馈"}
    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.PENDING,
        action="assign",
        body=body,
        allowed={"admin", "supervisor"},
        hidden={"unit_in", "unit_out"},
        check=check,
    )


def test_accept(api_as, people, units):
    def check(fresh, event, data, user):
        assert fresh.status == TicketStatus.IN_PROGRESS
        assert fresh.handler == user
        assert (event.kind, event.from_status, event.to_status) == (
            EventKind.ACCEPTED,
            "assigned",
            "in_progress",
        )
        answered_with(fresh, data)

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.ASSIGNED,
        action="accept",
        body={},
        allowed={"admin", "unit_in"},
        hidden={"unit_out"},
        check=check,
    )


def test_decline(api_as, people, units):
    def check(fresh, event, data, user):
        assert (fresh.status, fresh.unit) == (TicketStatus.PENDING, None)
        assert (event.kind, event.text, event.unit) == (EventKind.DECLINED, "属于住建局职责", units.U1)
        # Answered with the problem as the step left it, though it has left the unit (and its reach).
        answered_with(fresh, data)
        if user == people["unit_in"]:
            assert api_as("unit_in").get(url(fresh)).status_code == 404

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.ASSIGNED,
        action="decline",
        body={"reason": "属于住建局职责"},
        allowed={"admin", "unit_in"},
        hidden={"unit_out"},
        check=check,
    )


def test_reply(api_as, people, units):
    def check(fresh, event, data, user):
        assert fresh.status == TicketStatus.IN_PROGRESS
        assert fresh.first_reply_at is not None
        assert (event.kind, event.text) == (EventKind.REPLIED, "已对接供电公司")

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.ASSIGNED,
        action="reply",
        body={"text": "已对接供电公司"},
        allowed={"admin", "unit_in"},
        hidden={"unit_out"},
        check=check,
    )


def test_plan(api_as, people, units):
    committed = timezone.localdate() + datetime.timedelta(days=20)

    def check(fresh, event, data, user):
        # Recorded within the month: the committed date becomes the deadline.
        assert (fresh.plan, fresh.committed_date, fresh.resolve_due) == ("分两期增容", committed, committed)
        assert (event.kind, event.date) == (EventKind.PLANNED, committed)
        assert data["committed_date"] == committed.isoformat()

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.IN_PROGRESS,
        action="plan",
        body={"plan": "分两期增容", "committed_date": committed.isoformat()},
        allowed={"admin", "unit_in"},
        hidden={"unit_out"},
        check=check,
        major=True,
    )


def test_resolve(api_as, people, units):
    def check(fresh, event, data, user):
        assert (fresh.status, fresh.resolution) == (TicketStatus.UNDER_REVIEW, "已完成增容")
        assert fresh.review_due is not None
        assert (event.kind, event.to_status) == (EventKind.RESOLVED, "under_review")

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.IN_PROGRESS,
        action="resolve",
        body={"resolution": "已完成增容"},
        allowed={"admin", "unit_in"},
        hidden={"unit_out"},
        check=check,
    )


def test_close(api_as, people, units):
    def check(fresh, event, data, user):
        assert (fresh.status, fresh.closure_grade) == (TicketStatus.RESOLVED, ClosureGrade.GOOD)
        assert (event.kind, event.value, event.text) == (EventKind.CLOSED, "good", "材料齐全")
        assert data["closure_grade_label"] == "良好"

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.UNDER_REVIEW,
        action="close",
        body={"grade": "good", "comment": "材料齐全"},
        allowed={"admin", "supervisor"},
        hidden={"unit_out"},
        check=check,
    )


def test_send_back(api_as, people, units):
    def check(fresh, event, data, user):
        assert (fresh.status, fresh.resolved_at) == (TicketStatus.IN_PROGRESS, None)
        assert (event.kind, event.text) == (EventKind.SENT_BACK, "缺少供电公司回执")

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.UNDER_REVIEW,
        action="send_back",
        body={"reason": "缺少供电公司回执"},
        allowed={"admin", "supervisor"},
        hidden={"unit_out"},
        check=check,
    )


def test_grade(api_as, people, units):
    def check(fresh, event, data, user):
        assert (fresh.status, fresh.closure_grade) == (TicketStatus.RESOLVED, ClosureGrade.EXCELLENT)
        assert (event.kind, event.value) == (EventKind.GRADED, "excellent")

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.RESOLVED,
        action="grade",
        body={"grade": "excellent"},
        allowed={"admin", "supervisor"},
        hidden={"unit_out"},
        check=check,
    )


def test_rate(api_as, people, units):
    def check(fresh, event, data, user):
        assert (fresh.status, fresh.satisfaction, fresh.satisfaction_comment) == (
            TicketStatus.RATED,
            Satisfaction.BASICALLY,
            "速度还可以更快",
        )
        assert (event.kind, event.value) == (EventKind.RATED, "basically")
        assert data["satisfaction_label"] == "基本满意"

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.RESOLVED,
        action="rate",
        body={"satisfaction": "basically", "comment": "速度还可以更快"},
        allowed={"admin", "supervisor", "staff_in", "staff_out"},
        hidden={"unit_out"},
        check=check,
    )


def test_an_unsatisfied_rating_reopens_for_the_same_unit(api_as, people, units):
    ticket = build(TicketStatus.RESOLVED, people, units)

    response = api_as("staff_out").post(url(ticket, "rate"), {"satisfaction": "unsatisfied"}, format="json")

    assert response.status_code == 200
    fresh = ProblemTicket.objects.get(pk=ticket.pk)
    assert (fresh.status, fresh.unit, fresh.resolution) == (TicketStatus.IN_PROGRESS, units.U1, "")
    assert [e.kind for e in fresh.events.order_by("at", "pk")][-2:] == [EventKind.RATED, EventKind.REOPENED]


def test_escalate(api_as, people, units):
    def check(fresh, event, data, user):
        assert fresh.level == ProblemLevel.CITY
        assert (event.kind, event.from_level, event.to_level) == (EventKind.ESCALATED, "zone", "city")
        assert data["level_label"] == "市级"

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.ASSIGNED,
        action="escalate",
        body={"reason": "涉及市级电网规划"},
        allowed={"admin", "supervisor"},
        hidden={"unit_out"},
        check=check,
    )


def test_reassign(api_as, people, units):
    def check(fresh, event, data, user):
        assert (fresh.status, fresh.unit, fresh.handler) == (
            TicketStatus.ASSIGNED,
            units.U2,
            people["unit_out"],
        )
        assert (event.kind, event.unit, event.text) == (EventKind.REASSIGNED, units.U2, "属于住建局职责")
        assert data["unit_name"] == "住房和城乡建设局"

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.IN_PROGRESS,
        action="reassign",
        body={"unit": units.U2.pk, "handler": people["unit_out"].pk, "reason": "属于住建局职责"},
        allowed={"admin", "supervisor", "leader"},
        hidden={"unit_out"},
        check=check,
    )


def test_comment(api_as, people, units):
    def check(fresh, event, data, user):
        assert (event.kind, event.text) == (EventKind.COMMENTED, "请加快办理")
        assert fresh.status == TicketStatus.ASSIGNED
        assert (data["id"], data["kind"], data["kind_label"], data["actor"]) == (
            event.pk,
            "commented",
            "留言",
            user.pk,
        )

    run_matrix(
        api_as,
        people,
        units,
        state=TicketStatus.ASSIGNED,
        action="comment",
        body={"text": "请加快办理"},
        allowed={"admin", "leader", "reviewer", "supervisor", "staff_in", "staff_out", "unit_in"},
        hidden={"unit_out"},
        check=check,
        ok=201,
    )


# --- Refusals: status, fields, versions, language ----------------------------------------------------------


def test_a_step_in_the_wrong_status_is_a_400_in_chinese_or_english(api_as, people, units):
    ticket = build(TicketStatus.PENDING, people, units)
    before = snapshot(ticket)

    chinese = api_as("admin").post(url(ticket, "accept"), {}, format="json")
    english = api_as("admin", language="en").post(url(ticket, "accept"), {}, format="json")

    assert chinese.status_code == 400
    assert chinese.json() == {"non_field_errors": ["问题当前为“待交办”，不能“受理”。"]}
    assert english.status_code == 400
    assert english.json() == {
        "non_field_errors": ["“Accept” is not possible while the problem is “Awaiting assignment”."]
    }
    assert snapshot(ticket) == before


def test_a_refused_role_hears_why(api_as, people, units):
    ticket = build(TicketStatus.ASSIGNED, people, units)

    response = api_as("leader").post(url(ticket, "accept"), {}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "只有承办该问题的责任单位才能进行此操作。"


def test_the_role_is_checked_before_the_body(api_as, people, units):
    """A body the step would refuse still answers 403 to a caller who may not take the step."""
    ticket = build(TicketStatus.PENDING, people, units)

    response = api_as("staff_in").post(url(ticket, "assign"), {"unit": "x"}, format="json")

    assert response.status_code == 403


def test_step_messages_name_the_field(api_as, people, units):
    assigned = build(TicketStatus.ASSIGNED, people, units)
    pending = build(TicketStatus.PENDING, people, units)
    before = snapshot(assigned), snapshot(pending)

    decline = api_as("unit_in").post(url(assigned, "decline"), {"reason": "  "}, format="json")
    reply = api_as("unit_in").post(url(assigned, "reply"), {}, format="json")
    no_unit = api_as("supervisor").post(url(pending, "assign"), {}, format="json")
    wrong_handler = api_as("supervisor").post(
        url(pending, "assign"), {"unit": units.U1.pk, "handler": people["unit_out"].pk}, format="json"
    )
    plan = api_as("unit_in").post(url(assigned, "plan"), {"plan": "分期"}, format="json")
    grade = api_as("supervisor").post(url(assigned, "grade"), {"grade": "perfect"}, format="json")

    assert (decline.status_code, decline.json()) == (
        400,
        {"reason": ["请说明该问题不属于本单位职责的原因。"]},
    )
    assert (reply.status_code, reply.json()) == (400, {"text": ["请填写已采取的措施和办理进展。"]})
    assert (no_unit.status_code, list(no_unit.json())) == (400, ["unit"])
    # The handler is named with the unit, so a caller sees what to correct.
    assert (wrong_handler.status_code, wrong_handler.json()) == (
        400,
        {
            "handler": [
                f"{people['unit_out']}不是{units.U1}的人员：请选择该单位的经办人，或者留空，由该单位确定经办人。"
            ]
        },
    )
    # Not a major problem: no plan with its own date.
    assert plan.status_code == 400
    assert (grade.status_code, list(grade.json())) == (400, ["grade"])
    assert (snapshot(assigned), snapshot(pending)) == before


def test_a_stale_version_is_a_409_and_a_stale_if_match_a_412(api_as, people, units):
    ticket = build(TicketStatus.PENDING, people, units)
    read = ticket.version
    # The collector corrects the title after the office opened the problem.
    assert api_as("staff_in").patch(url(ticket), {"title": "用电增容", "version": read}).status_code == 200
    before = snapshot(ticket)
    body = {"unit": units.U1.pk}

    stale = api_as("supervisor").post(url(ticket, "assign"), {**body, "version": read}, format="json")
    header = api_as("supervisor").post(url(ticket, "assign"), body, format="json", HTTP_IF_MATCH=f'"{read}"')

    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    assert header.status_code == 412
    assert snapshot(ticket) == before

    current = api_as("supervisor").post(
        url(ticket, "assign"), body, format="json", HTTP_IF_MATCH=f'"{read + 1}"'
    )
    assert current.status_code == 200
    assert current["ETag"] == f'"{read + 2}"'
    assert ProblemTicket.objects.get(pk=ticket.pk).status == TicketStatus.ASSIGNED


def test_steps_answer_only_to_post(api_as, people, units):
    ticket = build(TicketStatus.PENDING, people, units)

    assert api_as("admin").get(url(ticket, "assign")).status_code == 405


def test_a_problem_at_the_province_cannot_go_higher(api_as, people, units):
    ticket = build(TicketStatus.ASSIGNED, people, units)
    client = api_as("supervisor", language="en")
    assert client.post(url(ticket, "escalate"), {"reason": "市级"}, format="json").status_code == 200
    assert client.post(url(ticket, "escalate"), {"reason": "省级"}, format="json").status_code == 200
    before = snapshot(ticket)

    response = client.post(url(ticket, "escalate"), {"reason": "更高"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["The problem is already at the province; it cannot go higher."]
    }
    assert snapshot(ticket) == before


# --- Timeline and files --------------------------------------------------------------------------------


def test_events_are_the_timeline(api_as, people, units):
    ticket = build(TicketStatus.UNDER_REVIEW, people, units)

    codes = {who: api_as(who).get(url(ticket, "events")).status_code for who in CALLERS}
    data = api_as("unit_in").get(url(ticket, "events")).json()

    assert codes == expected_codes(
        {"admin", "leader", "reviewer", "supervisor", "staff_in", "staff_out", "unit_in"}, 200, {"unit_out"}
    )
    assert [(row["kind"], row["actor"]) for row in data] == [
        ("created", people["staff_in"].pk),
        ("assigned", people["supervisor"].pk),
        ("accepted", people["unit_in"].pk),
        ("resolved", people["unit_in"].pk),
    ]
    assert data[1]["unit_name"] == "经济发展局"
    assert data[3]["text"] == "已协调供电公司完成增容"
    assert (data[3]["from_status_label"], data[3]["to_status_label"]) == ("办理中", "待审核")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_attachments_role_matrix(api_as, people, units, media):
    codes = {}
    for who in CALLERS:
        ticket = build(TicketStatus.ASSIGNED, people, units)
        before = snapshot(ticket)
        upload = SimpleUploadedFile("现场照片.png", png_bytes(), content_type="image/png")
        response = api_as(who).post(url(ticket, "attachments"), {"file": upload}, format="multipart")
        codes[who] = response.status_code
        if response.status_code == 201:
            attachment = TicketAttachment.objects.get(ticket=ticket)
            assert (attachment.name, attachment.content_type, attachment.uploaded_by) == (
                "现场照片.png",
                "image/png",
                people[who],
            )
            assert (last_event(ticket).kind, last_event(ticket).text) == (EventKind.ATTACHED, "现场照片.png")
            assert response.json()["url"].endswith(reverse("api:attachment-file", args=[attachment.pk]))
        else:
            assert snapshot(ticket) == before
    assert codes == expected_codes(
        {"admin", "supervisor", "staff_in", "staff_out", "unit_in"}, 201, hidden={"unit_out"}
    )


def test_attachments_are_listed_to_readers_and_refused_by_content(api_as, people, units, media):
    ticket = build(TicketStatus.ASSIGNED, people, units)
    upload = SimpleUploadedFile("批复.png", png_bytes())
    assert api_as("unit_in").post(url(ticket, "attachments"), {"file": upload}).status_code == 201
    fake = SimpleUploadedFile("假图片.png", "这不是图片".encode())

    refused = api_as("unit_in", language="en").post(url(ticket, "attachments"), {"file": fake})
    listed = api_as("reviewer").get(url(ticket, "attachments"))

    assert refused.status_code == 400
    assert list(refused.json()) == ["file"]
    assert "not accepted" in refused.json()["file"][0]
    assert listed.status_code == 200
    assert [(row["name"], row["size"], row["uploaded_by"]) for row in listed.json()] == [
        ("批复.png", len(png_bytes()), people["unit_in"].pk)
    ]
    assert api_as("unit_out").get(url(ticket, "attachments")).status_code == 404
    assert TicketAttachment.objects.count() == 1

    # The file itself, to token clients who may open the ticket; another unit gets a 404.
    file_url = listed.json()[0]["url"]
    download = api_as("unit_in").get(file_url)
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == png_bytes()
    assert "attachment;" in download["Content-Disposition"]
    assert api_as("unit_out").get(file_url).status_code == 404
    assert api_as(None).get(file_url).status_code == 401


def test_a_handler_who_left_the_unit_cannot_act(api_as, people, units):
    """Scope is read at each request: moved to U2, unit_in no longer finds U1's ticket."""
    ticket = build(TicketStatus.ASSIGNED, people, units)
    people["unit_in"].department = units.U2
    people["unit_in"].save()

    assert api_as("unit_in").post(url(ticket, "accept"), {}, format="json").status_code == 404
    assert ProblemTicket.objects.get(pk=ticket.pk).status == TicketStatus.ASSIGNED


def test_an_unknown_category_is_refused(api_as, people, units):
    enterprise = EnterpriseFactory()

    response = api_as("staff_in").post(
        LIST, {"enterprise": enterprise.pk, "category": "weather", "title": "天气"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["category"]
    assert ProblemTicket.objects.count() == 0
