"""The monthly workflow in a real browser: staff fill the grid, a reviewer approves, the figure shows."""

from decimal import Decimal

import pytest

from core.roles import Role, sync_role_groups
from projects import selectors
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress
from tests.browser.helpers import log_in
from tests.factories import AnnualPlanFactory, DepartmentFactory, ProjectFactory, UserFactory


@pytest.fixture
def world(transactional_db):
    sync_role_groups()  # a transactional test's flush empties the groups migrate made
    period = selectors.current_month()
    unit = DepartmentFactory(name="经发局")
    staff = UserFactory(username="zhang", display_name="张浩然", department=unit, roles=[Role.STAFF])
    reviewer = UserFactory(username="yang", display_name="杨慧敏", roles=[Role.REVIEWER])
    first = ProjectFactory(name="益海特油项目", staff_in_charge=staff)
    second = ProjectFactory(name="中兴新业港项目", staff_in_charge=staff)
    AnnualPlanFactory(project=first, year=period.year, planned_investment=Decimal("1200.00"))
    AnnualPlanFactory(project=second, year=period.year, planned_investment=Decimal("600.00"))
    return {"period": period, "staff": staff, "reviewer": reviewer, "first": first, "second": second}


def test_staff_report_reviewer_approves_project_shows_it(world, live_server, browser, artifacts):
    base = live_server.url
    period, first, second = world["period"], world["first"], world["second"]
    grid = f"{base}/projects/progress/?year={period.year}&month={period.month}"

    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    log_in(page, base, "zhang")
    page.goto(grid)
    page.fill(f"[name=p{first.pk}-completed_investment]", "-5")
    page.fill(f"[name=p{second.pk}-completed_investment]", "150.50")
    page.fill(f"[name=p{second.pk}-physical_progress]", "主体结构封顶")
    page.click("button[name=submit]")
    page.wait_for_selector(".alert-danger")
    bad_row = page.locator(f"#row-{first.pk}")
    assert "border-danger" in bad_row.get_attribute("class")
    assert bad_row.locator(".row-error").count() == 1
    assert MonthlyProgress.objects.count() == 0

    page.fill(f"[name=p{first.pk}-completed_investment]", "300")
    page.click("button[name=submit]")
    page.wait_for_selector(".alert-success")
    assert set(MonthlyProgress.objects.values_list("status", flat=True)) == {ProgressStatus.SUBMITTED}
    page.screenshot(path=artifacts / "progress-grid-1280.png", full_page=True)

    phone = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True)
    phone_page = phone.new_page()
    log_in(phone_page, base, "zhang")
    phone_page.goto(grid)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    phone_page.screenshot(path=artifacts / "progress-grid-375.png", full_page=True)

    review = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(review, base, "yang")
    review.goto(f"{base}/projects/progress/review/")
    review.check("[data-check-all=report]")
    review.click("button[name=approve]")
    review.wait_for_selector(".alert-success")
    assert set(MonthlyProgress.objects.values_list("status", flat=True)) == {ProgressStatus.APPROVED}

    detail = f"{base}/projects/{first.pk}/?year={period.year}&month={period.month}"
    review.goto(detail)
    assert review.inner_text("#ytd-completed").strip() == "300.00"
    review.wait_for_selector(".progress-chart svg")
    review.screenshot(path=artifacts / "project-1280.png", full_page=True)
    phone_page.goto(detail)
    phone_page.wait_for_selector(".progress-chart svg")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    phone_page.screenshot(path=artifacts / "project-375.png", full_page=True)
