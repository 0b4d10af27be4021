"""A problem's whole life in a real browser: collected on a visit, assigned, answered, closed, reopened."""

import pytest
from django.utils import translation

from core.roles import Role, sync_role_groups
from problems.choices import EventKind, ProblemCategory, ProblemSource, TicketStatus
from problems.models import ProblemTicket, Visit
from tests.browser.helpers import act, pick
from tests.factories import DepartmentFactory, EnterpriseFactory, UserFactory

PASSWORD = "test-pass-123"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def world(transactional_db):
    sync_role_groups()  # a transactional test's flush empties the groups migrate made
    service_centre = DepartmentFactory(name="企业服务中心")
    unit_a = DepartmentFactory(name="供电公司")
    unit_b = DepartmentFactory(name="住建局")
    UserFactory(username="zhang", display_name="张浩然", department=service_centre, roles=[Role.STAFF])
    UserFactory(username="li", display_name="李督办", roles=[Role.SUPERVISOR])
    handler_a = UserFactory(username="wang", display_name="王建军", department=unit_a, roles=[Role.UNIT])
    UserFactory(username="zhao", display_name="赵立新", department=unit_b, roles=[Role.UNIT])
    EnterpriseFactory(name="周口中兴新业有限公司")
    enterprise = EnterpriseFactory(name="周口益海粮油有限公司")
    return {"enterprise": enterprise, "unit_a": unit_a, "handler_a": handler_a}


def log_in(browser, base, username, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport, is_mobile=viewport["width"] < 600, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def label(choice) -> str:
    """A choice's label as the zh-hans pages show it, whatever the catalogue says today."""
    with translation.override("zh-hans"):
        return str(choice.label)


def kinds(ticket):
    return list(ticket.events.order_by("at", "pk").values_list("kind", flat=True))


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_visit_problem_assigned_answered_closed_reopened(world, live_server, browser, artifacts):
    base = live_server.url
    enterprise, unit_a = world["enterprise"], world["unit_a"]

    # 1. Staff record a visit with two problems; a half-filled row stops the whole save.
    staff = log_in(browser, base, "zhang")
    staff.goto(f"{base}/visits/new/")
    pick(staff, "id_enterprise", "益海", enterprise.name)
    staff.fill("[name=problems-0-title]", "新厂区供电线路未接通")
    staff.select_option("[name=problems-0-category]", ProblemCategory.UTILITIES)
    staff.fill("[name=problems-0-description]", "二期车间已建成，10千伏专线尚未接入。")
    staff.fill("[name=problems-1-description]", "土地证办理进度慢")
    staff.click("#visit-form button[type=submit]")
    staff.wait_for_selector(".alert-danger")
    bad_row = staff.locator("#problem-1")
    assert "border-danger" in bad_row.get_attribute("class")
    assert bad_row.locator(".invalid-feedback").count() == 2  # title and category
    assert staff.locator("#problem-0 .invalid-feedback").count() == 0
    assert staff.input_value("[name=problems-0-title]") == "新厂区供电线路未接通"
    assert Visit.objects.count() == 0
    assert ProblemTicket.objects.count() == 0
    staff.screenshot(path=artifacts / "visit-form-errors-1280.png", full_page=True)

    staff.fill("[name=problems-1-title]", "土地证办理进度慢")
    staff.select_option("[name=problems-1-category]", ProblemCategory.LAND)
    with staff.expect_navigation():
        staff.click("#visit-form button[type=submit]")
    staff.wait_for_selector(".alert-success")
    visit = Visit.objects.get()
    assert staff.url == f"{base}/visits/{visit.pk}/"
    assert visit.enterprise == enterprise
    tickets = list(ProblemTicket.objects.order_by("pk"))
    assert [t.title for t in tickets] == ["新厂区供电线路未接通", "土地证办理进度慢"]
    assert {(t.status, t.visit_id, t.source, t.enterprise_id) for t in tickets} == {
        (TicketStatus.PENDING, visit.pk, ProblemSource.VISIT, enterprise.pk)
    }
    assert staff.locator(".ticket-row").count() == 2
    ticket, other = tickets
    ticket_url = f"{base}/problems/{ticket.pk}/"

    # 2. The office sees both waiting and assigns the first to unit A.
    office = log_in(browser, base, "li")
    assert office.locator("#home-to_assign .ticket-row").count() == 2
    office.goto(f"{base}/problems/")
    for pending in tickets:
        assert office.inner_text(f"#ticket-{pending.pk} .badge").strip() == label(TicketStatus.PENDING)
    office.click(f"#ticket-{ticket.pk} a[href='/problems/{ticket.pk}/']")
    office.wait_for_url(ticket_url)
    act(office, "assign", {"unit": str(unit_a.pk), "note": "请尽快对接供电公司现场勘查。"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.unit, ticket.handler) == (TicketStatus.ASSIGNED, unit_a, None)
    assert ticket.assigned_at is not None
    assert kinds(ticket) == [EventKind.CREATED, EventKind.ASSIGNED]
    assert office.inner_text("#ticket-status").strip() == label(TicketStatus.ASSIGNED)
    assert unit_a.name in office.inner_text("#ticket-unit")
    other.refresh_from_db()
    assert other.status == TicketStatus.PENDING

    # 3. Unit A finds it on its home page, reports progress, then submits the resolution.
    unit = log_in(browser, base, "wang")
    assert unit.locator("#home-unit .ticket-row").count() == 1
    unit.goto(f"{base}/problems/")
    assert unit.locator(".ticket-row").count() == 1
    unit.click(f"#ticket-{ticket.pk} a[href='/problems/{ticket.pk}/']")
    unit.wait_for_url(ticket_url)
    act(unit, "reply", {"text": "已安排现场勘查，线路设计方案本周完成。"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert ticket.handler == world["handler_a"]
    assert ticket.first_reply_at is not None
    assert kinds(ticket)[-2:] == [EventKind.ACCEPTED, EventKind.REPLIED]
    assert unit.inner_text("#ticket-status").strip() == label(TicketStatus.IN_PROGRESS)

    act(unit, "resolve", {"resolution": "10千伏专线已接入，企业二期车间恢复供电。"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.UNDER_REVIEW
    assert ticket.resolution == "10千伏专线已接入，企业二期车间恢复供电。"
    assert kinds(ticket)[-1] == EventKind.RESOLVED
    assert "10千伏专线已接入" in unit.inner_text("#ticket-resolution")

    # 4. The office reviews the resolution and closes the problem out.
    office.goto(f"{base}/")
    assert office.locator(f"#home-to_review #ticket-{ticket.pk}").count() == 1
    office.goto(ticket_url)
    act(office, "close", {"grade": "good", "comment": "办理及时。"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert ticket.closed_at is not None
    assert ticket.closure_grade == "good"
    assert kinds(ticket)[-1] == EventKind.CLOSED
    assert office.inner_text("#ticket-status").strip() == label(TicketStatus.RESOLVED)

    # 5. The enterprise is not satisfied: staff record it and the problem goes back to unit A.
    staff.goto(ticket_url)
    act(staff, "rate", {"satisfaction": "unsatisfied", "comment": "车间仍频繁停电。"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.unit) == (TicketStatus.IN_PROGRESS, unit_a)
    assert ticket.resolution == ""
    assert ticket.closed_at is None
    assert ticket.satisfaction == ""
    assert kinds(ticket)[-2:] == [EventKind.RATED, EventKind.REOPENED]
    assert staff.inner_text("#ticket-status").strip() == label(TicketStatus.IN_PROGRESS)
    assert staff.locator("#timeline .event-reopened").count() == 1
    assert "车间仍频繁停电。" in staff.inner_text("#timeline .event-rated")
    unit.goto(f"{base}/")
    assert unit.locator(f"#home-unit #ticket-{ticket.pk}").count() == 1
    unit.goto(ticket_url)
    assert unit.locator("button[data-action=resolve]").count() == 1

    # 6. Another unit's handler can neither open the problem nor see it listed.
    outsider = log_in(browser, base, "zhao")
    response = outsider.goto(ticket_url)
    assert response.status == 403
    outsider.goto(f"{base}/problems/")
    assert outsider.locator(".ticket-row").count() == 0
    ticket.refresh_from_db()
    assert ticket.unit == unit_a
    assert not ticket.events.filter(actor__username="zhao").exists()

    # 7. The ticket page and the list on a desktop and on a phone.
    office.goto(ticket_url)
    office.screenshot(path=artifacts / "problem-ticket-1280.png", full_page=True)
    phone = log_in(browser, base, "li", viewport=PHONE)
    phone.goto(ticket_url)
    assert phone.inner_text("#ticket-status").strip() == label(TicketStatus.IN_PROGRESS)
    assert fits_phone(phone)
    phone.screenshot(path=artifacts / "problem-ticket-375.png", full_page=True)
    phone.goto(f"{base}/problems/")
    assert phone.locator(".ticket-row").count() == 2
    assert fits_phone(phone)
    phone.screenshot(path=artifacts / "problem-list-375.png", full_page=True)
