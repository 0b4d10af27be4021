"""Each role's first week in the demo world, through the pages only (clicks and form fills), at
1366 px and at 375 px: one window of each width, the steps done in one or the other, and after
every main step both windows show its page, checked for layout (nothing scrolls sideways, no
button label on two lines) and photographed to test-artifacts/<role>-<step>-<width>.png.

The journeys share the demo world and run in the order of a week: staff report and record a
visit, the reviewer reviews and publishes the month, the leader reads the dashboard, the unit and
the office work the problems, the administrator keeps users and reference data. Each also runs
alone: it takes its work from what the demo has waiting, not from an earlier journey.
"""

import io
import re

import pytest
from django.utils import timezone, translation
from PIL import Image
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook

from core.models import User
from problems.choices import Fence, ProblemCategory, TicketStatus
from projects.choices import ProgressStatus
from reference.models import Park
from tests.browser.helpers import act, layout_problems, pick
from tests.browser.roles.pages import DESKTOP, PHONE

# Run alone after the parallel pass (make test): a whole first week in two windows per role, whose
# steps wait on a live server that a second worker's tests would slow past its time-outs.
pytestmark = pytest.mark.serial

# A problem as staff write it down at the enterprise, with the address of the notice it is about:
# an unbroken run of Latin characters that must wrap on a phone, not widen the page.
NOTICE = (
    "https://www.zhoukou.gov.cn/zwgk/tzgg/2026/ydgh-xzxk-bljd-zhoukou-kaifaqu-shuidian-jieru-tongzhi.html"
)


def zh(choice) -> str:
    """A choice's label as the pages show it (zh-hans), whatever the catalogue says today."""
    with translation.override("zh-hans"):
        return str(choice.label)


def words(message: str, context: str | None = None) -> str:
    """A message of the interface as the pages show it (zh-hans)."""
    with translation.override("zh-hans"):
        return translation.pgettext(context, message) if context else translation.gettext(message)


@pytest.fixture(scope="module")
def names(demo_world):
    """What the steps look for by name, read before any window opens."""
    unit = User.objects.select_related("department").get(username="unit")
    return {"unit": str(unit.department), "park": Park.objects.order_by("pk").first().name}


class Journey:
    """One user in two windows, 1366 and 375 px wide."""

    def __init__(self, open_as, artifacts, role):
        self.role = role
        self.artifacts = artifacts
        self.desktop = open_as(role, DESKTOP)
        self.phone = open_as(role, PHONE)

    def shot(self, step, done_in):
        """The step's page in both windows: the one that did it as it stands, the other opened at
        its address; both checked for layout and photographed."""
        for page in (self.desktop, self.phone):
            if page is not done_in:
                page.goto(done_in.url)  # the next step may go on from here, in this window
            width = page.viewport_size["width"]
            assert layout_problems(page) == [], f"{self.role} {step} at {width} px"
            page.screenshot(path=self.artifacts / f"{self.role}-{step}-{width}.png", full_page=True)


def unfold_menu(page):
    """Open the folded main menu on a phone. Its toggle works once Bootstrap's script has run (at
    the end of the page), so a click right after a navigation waits for the load first."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        page.wait_for_load_state("load")
        toggler.click()
        expect(page.locator("#main-nav")).to_be_visible()


def open_menu(page, link_text):
    """Follow a link of the main menu, opening it first where it is folded (a phone)."""
    unfold_menu(page)
    # The name may end with the link's badge (a count fetched after the page loads).
    link = page.locator("#main-nav").get_by_role("link", name=re.compile("^" + re.escape(link_text))).first
    with page.expect_navigation():
        link.click()


def open_user_menu(page, item_text):
    unfold_menu(page)
    page.click("#user-menu")
    with page.expect_navigation():  # a busy machine takes longer than expect()'s 5 s to draw a page
        page.locator("#main-nav .dropdown-menu").get_by_text(item_text, exact=True).click()


def a_photo() -> dict:
    image = Image.new("RGB", (800, 600), (70, 110, 160))
    data = io.BytesIO()
    image.save(data, "JPEG")
    return {"name": "工地现场.jpg", "mimeType": "image/jpeg", "buffer": data.getvalue()}


def send_grid(page, button, project, status):
    """Press the grid's save or submit button; figures the sanity checks hold back wait for the
    user's confirmation: give it and press again. The project's row then shows the status."""
    with page.expect_navigation():
        page.click(button)
    boxes = page.locator(".figure-warnings input[type=checkbox]")
    if boxes.count():
        for index in range(boxes.count()):
            boxes.nth(index).check()
        with page.expect_navigation():
            page.click(button)
    expect(page.locator(".alert-success")).to_be_visible()
    row = page.locator(f".grid-row[data-project='{project}']")
    expect(row.locator(f".badge.status-{status}")).to_be_visible()


def test_staff_report_the_month_add_a_photo_and_record_a_visit(open_as, artifacts, demo_server):
    staff = Journey(open_as, artifacts, "staff")
    desktop, phone = staff.desktop, staff.phone

    # Home says which month's reports are due, by when, and how many are still missing.
    due = desktop.locator("#reports-due")
    expect(due).to_be_visible()
    missing = int(due.locator(".card-header .badge").inner_text())
    assert missing > 0
    expect(desktop.locator("#due-date")).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    staff.shot("1-home", desktop)

    # The grid: a figure for the first project on the list of those due, saved as a draft.
    project = due.locator(".list-group-item a").first.inner_text().strip()
    due.get_by_role("link", name=words("Fill in the month")).click()
    desktop.wait_for_selector("#progress-grid")
    row = desktop.locator(f".grid-row[data-project='{project}']")
    expect(row).to_be_visible()
    row.locator("[name$=-completed_investment]").fill("86.50")
    row.locator("[name$=-physical_progress]").fill("厂房主体钢结构吊装完成 60%，设备基础施工中")
    send_grid(desktop, "button[name=save]", project, ProgressStatus.DRAFT)
    staff.shot("2-grid-draft", desktop)

    # On site, on the phone: the draft report gets a photo of the works.
    phone.locator(f".grid-row[data-project='{project}'] a.fw-medium").click()
    phone.wait_for_selector("#photo-form")
    phone.set_input_files("#photo-form [name=image]", a_photo())
    phone.fill("#photo-form [name=caption]", "1号厂房钢结构吊装")
    with phone.expect_navigation():
        phone.click("#photo-form button[type=submit]")
    expect(phone.locator("#photos .photo-thumb img")).to_have_count(1)
    expect(phone.locator("#photos figcaption").first).to_contain_text("1号厂房钢结构吊装")
    staff.shot("3-report-photo", phone)

    # Back at the desk: the month goes to review.
    desktop.go_back()
    desktop.reload()
    send_grid(desktop, "button[name=submit]", project, ProgressStatus.SUBMITTED)
    staff.shot("4-grid-submitted", desktop)

    # A visit to an enterprise, recorded on the phone with the problem collected there.
    open_menu(phone, words("Problems", context="tickets"))
    phone.get_by_role("link", name=words("Record a visit")).click()
    phone.wait_for_selector("#visit-form")
    pick(phone, "id_enterprise", "五得利", "五得利集团周口面粉有限公司")
    phone.fill("#id_visited_on", timezone.localdate().isoformat())
    phone.fill("#id_notes", "走访了解二期项目用水用电需求。")
    phone.fill("[name=problems-0-title]", "二期车间10千伏专线接入迟缓")
    phone.select_option("[name=problems-0-category]", ProblemCategory.UTILITIES, force=True)
    phone.select_option("[name=problems-0-fence]", Fence.OUTSIDE, force=True)
    phone.fill("[name=problems-0-description]", f"企业反映专线接入方案未批复，见通知 {NOTICE}")
    with phone.expect_navigation():
        phone.click("#visit-form button[type=submit]")
    expect(phone.locator(".alert-success")).to_be_visible()
    expect(phone.locator(".ticket-row")).to_have_count(1)
    staff.shot("5-visit", phone)

    phone.locator(".ticket-row a.fw-medium").click()
    expect(phone.locator("h1")).to_contain_text("二期车间10千伏专线接入迟缓")
    expect(phone.locator("#ticket-status")).to_have_text(zh(TicketStatus.PENDING))
    expect(phone.get_by_text(NOTICE)).to_be_visible()
    staff.shot("6-problem", phone)


def test_reviewer_returns_one_approves_the_others_and_publishes_the_month(open_as, artifacts):
    reviewer = Journey(open_as, artifacts, "reviewer")
    desktop, phone = reviewer.desktop, reviewer.phone

    # Home counts the reports waiting; the queue lists them.
    queue = phone.locator("#review-queue")
    waiting = int(queue.locator(".card-header .badge").inner_text())
    assert waiting > 1
    reviewer.shot("1-home", phone)
    queue.locator(".card-header a.btn").click()
    rows = phone.locator("#review-form tbody tr:has(input[name=report])")
    expect(rows).to_have_count(waiting)
    # The month to publish: the oldest listed (the demo's backlog). The newest may be the month the
    # staff journey has just reported on, which from the due day on is the month still running.
    month = rows.last.locator("td.text-nowrap").first.inner_text().strip()  # 2026-11
    reviewer.shot("2-queue", phone)

    # One figure does not match the ledger: returned with the reason, on the phone.
    # Known by its id: the staff journey may have put a second month of the same project on the list.
    returned = rows.first.locator("input[name=report]")
    returned_id = returned.get_attribute("value")
    returned.check()
    phone.fill("#review-form [name=reason]", "本月完成投资与入统数据不一致，请核实后重新报送。")
    with phone.expect_navigation():
        phone.click("#review-form button[name=return]")
    expect(phone.locator(".alert-success")).to_be_visible()
    expect(rows).to_have_count(waiting - 1)
    expect(phone.locator(f"#review-form input[name=report][value='{returned_id}']")).to_have_count(0)
    reviewer.shot("3-returned", phone)

    # The others are approved together at the desk.
    desktop.check("[data-check-all=report]")
    with desktop.expect_navigation():
        desktop.click("#review-form button[name=approve]")
    expect(desktop.locator(".alert-success")).to_be_visible()
    expect(desktop.locator("#review-form input[name=report]")).to_have_count(0)
    reviewer.shot("4-approved", desktop)

    # Nothing waits for review any more: the month is published.
    open_menu(desktop, words("Publishing"))
    year, number = (int(part) for part in month.split("-"))
    desktop.select_option("#months-year", str(year), force=True)
    row = desktop.locator(f"#months tr[data-month='{number}']")
    expect(row.locator(".fig-submitted")).to_have_text("0")
    with desktop.expect_navigation():
        row.locator(".publish-form button").click()
    expect(desktop.locator(".alert-success")).to_be_visible()
    expect(row.locator(".month-state .badge")).to_have_text(words("Published"))
    reviewer.shot("5-published", desktop)


def test_leader_drills_from_a_figure_to_a_project_and_takes_the_bulletin(open_as, artifacts):
    leader = Journey(open_as, artifacts, "leader")
    desktop, phone = leader.desktop, leader.phone
    leader.shot("1-home", desktop)

    # On the phone: the dashboard, the projects behind schedule, one of them.
    phone.click("#home-dashboard")
    lagging = phone.locator("#card-lagging")
    count = int(lagging.get_attribute("data-value"))
    assert count > 0
    phone.wait_for_selector("#trend canvas, .chart canvas, .chart svg")
    leader.shot("2-dashboard", phone)
    lagging.click()
    expect(phone.locator("#sum-count")).to_have_attribute("data-value", str(count))
    expect(phone.locator("#sum-lagging")).to_have_attribute("data-value", str(count))
    expect(phone.locator(".project-table tbody tr")).to_have_count(count)
    leader.shot("3-behind-schedule", phone)
    first = phone.locator(".project-table tbody tr a.fw-medium").first
    name = first.inner_text().strip()
    first.click()
    expect(phone.locator("h1")).to_contain_text(name)
    phone.wait_for_selector(".progress-chart canvas, .progress-chart svg")
    leader.shot("4-project", phone)

    # At the desk: the monthly bulletin for the meeting.
    open_menu(desktop, words("Dashboard"))
    with desktop.expect_download() as download:
        desktop.click("#export-bulletin")
    workbook = download.value
    assert workbook.suggested_filename.endswith(".xlsx")
    path = artifacts / f"leader-bulletin-{workbook.suggested_filename}"
    workbook.save_as(path)
    book = CalamineWorkbook.from_path(str(path))
    sheets = [book.get_sheet_by_index(index).to_python() for index in range(len(book.sheet_names))]
    assert "月通报" in sheets[0][0][0]  # 周口经济开发区重点项目建设月通报
    assert any(name in row for sheet in sheets for row in sheet), f"{name} is not in the bulletin"
    leader.shot("5-dashboard-export", desktop)


def test_unit_replies_to_a_problem_and_resolves_it(open_as, artifacts):
    unit = Journey(open_as, artifacts, "unit")
    desktop, phone = unit.desktop, unit.phone

    # Home lists the unit's problems; one just assigned is taken up and answered on the phone.
    mine = phone.locator("#home-unit")
    expect(mine.locator(".ticket-row").first).to_be_visible()
    unit.shot("1-home", phone)
    assigned = mine.locator(".ticket-row", has=phone.get_by_text(zh(TicketStatus.ASSIGNED), exact=True)).first
    assigned.locator("a.fw-medium").click()
    expect(phone.locator("#ticket-status")).to_have_text(zh(TicketStatus.ASSIGNED))
    act(phone, "reply", {"text": "已安排规划科现场踏勘，3个工作日内出具用地规划意见。"})
    expect(phone.locator("#ticket-status")).to_have_text(zh(TicketStatus.IN_PROGRESS))
    expect(phone.locator("#timeline")).to_contain_text("已安排规划科现场踏勘")
    unit.shot("2-replied", phone)

    # At the desk: the resolution, for the office to review.
    act(desktop, "resolve", {"resolution": "用地规划意见已出具，企业已领取建设用地规划许可证。"})
    expect(desktop.locator("#ticket-status")).to_have_text(zh(TicketStatus.UNDER_REVIEW))
    expect(desktop.locator("#ticket-resolution")).to_contain_text("建设用地规划许可证")
    unit.shot("3-resolved", desktop)


def test_office_assigns_a_new_problem_and_closes_a_resolved_one(open_as, artifacts, names):
    office = Journey(open_as, artifacts, "office")
    desktop, phone = office.desktop, office.phone

    # A problem waiting to be assigned goes to the land office, at the desk.
    waiting = desktop.locator("#home-to_assign .ticket-row")
    expect(waiting.first).to_be_visible()
    office.shot("1-home", desktop)
    waiting.first.locator("a.fw-medium").click()
    act(desktop, "assign", {"unit": {"label": names["unit"]}, "note": "请自然资源和规划局3日内与企业对接。"})
    expect(desktop.locator("#ticket-status")).to_have_text(zh(TicketStatus.ASSIGNED))
    expect(desktop.locator("#ticket-unit")).to_contain_text(names["unit"])
    office.shot("2-assigned", desktop)

    # A resolution waiting for review is read and closed on the phone.
    open_menu(phone, words("My work"))
    to_review = phone.locator("#home-to_review .ticket-row")
    expect(to_review.first).to_be_visible()
    to_review.first.locator("a.fw-medium").click()
    expect(phone.locator("#ticket-status")).to_have_text(zh(TicketStatus.UNDER_REVIEW))
    act(phone, "close", {"grade": {"value": "good"}, "comment": "办理及时，企业认可。"})
    expect(phone.locator("#ticket-status")).to_have_text(zh(TicketStatus.RESOLVED))
    office.shot("3-closed", phone)


def test_admin_adds_a_user_keeps_reference_data_and_reads_the_change_log(open_as, artifacts, names):
    admin = Journey(open_as, artifacts, "admin")
    desktop, phone = admin.desktop, admin.phone

    open_menu(desktop, words("Administration"))
    expect(desktop.locator("#site-name")).to_be_visible()
    admin.shot("1-admin-index", desktop)

    # A new member of the zone staff: the account, then its name and role.
    desktop.click("a[href$='/admin/core/user/add/']")
    desktop.fill("#id_username", "wangfang")
    if desktop.locator("#id_usable_password_0").count():
        desktop.check("#id_usable_password_0")  # password-based authentication
    desktop.fill("#id_password1", "Zhoukou2026kfq")
    desktop.fill("#id_password2", "Zhoukou2026kfq")
    desktop.fill("#id_display_name", "王芳")
    with desktop.expect_navigation():
        desktop.click("input[name=_continue]")
    expect(desktop.locator(".messagelist .success")).to_be_visible()
    desktop.select_option("#id_groups_from", label="项目专员")
    desktop.click("#id_groups_add")  # the arrow of the two-list picker
    with desktop.expect_navigation():
        desktop.click("input[name=_save]")
    expect(desktop.locator(".messagelist .success")).to_be_visible()
    expect(desktop.locator("#result_list")).to_contain_text("wangfang")
    admin.shot("2-user", desktop)

    # Reference data: a park's area, corrected on the phone.
    phone.click("#site-name a")
    phone.click("a[href$='/admin/reference/park/']")
    phone.get_by_role("link", name=names["park"], exact=True).click()
    phone.fill("#id_area_km2", "12.50")
    with phone.expect_navigation():
        phone.click("input[name=_save]")
    expect(phone.locator(".messagelist .success")).to_be_visible()
    admin.shot("3-park", phone)

    # The change log shows both, newest first.
    phone.click("#user-tools a[href='/']")  # back to the portal
    open_user_menu(phone, words("Change log"))
    log = phone.locator("main")
    expect(log).to_contain_text(names["park"])
    expect(log).to_contain_text("wangfang")
    admin.shot("4-change-log", phone)
