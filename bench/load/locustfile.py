"""Simulated portal users for bench/load/run.py, which seeds the zone and starts the server.

Each user logs in through the login form with its own 项目专员 account and then, with a pause of
one to three seconds between steps, browses project lists (filters, pages, sorting), opens
projects, the dashboard and its home page, and saves monthly progress through the real form:
GET the form, POST it back with the CSRF token and the version it showed. A user saves only to
the projects in its charge, so every save should be accepted; each accepted save is written to
this process's file in LOAD_SAVES_DIR, which run.py compares with the database afterwards.

Every answer is checked: a status other than the expected one, or a page without what it should
show, counts as a failure. LOAD_MAX_REQUESTS bounds the run whatever the clock says.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from decimal import Decimal
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
SAVES_DIR = Path(os.environ["LOAD_SAVES_DIR"])
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "0"))
YEAR = PLAN["year"]
PROJECT_IDS = [int(pk) for pk in PLAN["projects"]]
ORDERINGS = ["name", "-total_investment", "rate", "-ytd_completed", "park", "stage"]

_accounts = itertools.count()
_saves = (SAVES_DIR / f"saves-{os.getpid()}.jsonl").open("a")
_requests = itertools.count(1)
_environment = None


@events.init.add_listener
def _keep_environment(environment, **kwargs):
    global _environment
    _environment = environment


@events.request.add_listener
def _cap_requests(request_type, name, exception=None, **kwargs):
    """The request guard: past LOAD_MAX_REQUESTS the run stops, whatever --run-time says. Failures
    are written down as they happen, for run.py to show."""
    if exception is not None:
        with (SAVES_DIR / "failures.txt").open("a") as failures:
            failures.write(f"{request_type} {name}: {exception}\n")
    if MAX_REQUESTS and next(_requests) == MAX_REQUESTS:
        (SAVES_DIR / "capped").touch()
        gevent.spawn(_environment.runner.quit)


def hidden_value(html: str, name: str) -> str | None:
    """The value of the form input called ``name`` ("" when it has none), None when it is absent."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


class PortalUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.index = next(_accounts)
        if self.index >= len(PLAN["users"]):
            raise StopUser(f"only {len(PLAN['users'])} accounts were seeded")
        account = PLAN["users"][self.index]
        self.username = account["username"]
        self.projects = account["projects"]
        self.saves = 0
        self.submitted = set()  # project-months this user submitted: locked now
        self.log_in()

    def log_in(self):
        with self.client.get("/accounts/login/", name="login form", catch_response=True) as response:
            token = hidden_value(response.text, "csrfmiddlewaretoken")
            if response.status_code != 200 or not token:
                response.failure(f"no login form ({response.status_code})")
                raise StopUser()
        data = {"username": self.username, "password": PLAN["password"], "csrfmiddlewaretoken": token}
        with self.client.post(
            "/accounts/login/", data=data, name="log in", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302 or response.headers.get("Location") != "/":
                response.failure(f"login refused ({response.status_code})")
                raise StopUser()

    def page(self, url, *, name, expect=None, params=None):
        """GET a page; a failure unless it is a 200 holding ``expect``."""
        with self.client.get(url, params=params, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif expect is not None and expect not in response.text:
                response.failure(f"the page lacks {expect!r}")
            return response

    @task(4)
    def project_list(self):
        params = random.choice(
            [
                {},
                {"page": random.randint(1, PLAN["pages"])},
                {"stage": random.choice(PLAN["stages"])},
                {"level": random.choice(PLAN["levels"]), "page": random.randint(1, 3)},
                {"park": random.choice(PLAN["parks"])},
                {"q": f"压测项目{random.randint(1, 99)}"},
                {"ordering": random.choice(ORDERINGS), "page": random.randint(1, PLAN["pages"])},
            ]
        )
        self.page(
            "/projects/",
            params=params,
            name="/projects/ " + ("?" + ",".join(sorted(params)) if params else "(first page)"),
            expect="</table>",
        )

    @task(3)
    def project_detail(self):
        pk = random.choice(PROJECT_IDS)
        self.page(f"/projects/{pk}/", name="/projects/<id>/", expect=PLAN["projects"][str(pk)])

    @task(1)
    def dashboard(self):
        self.page("/dashboard/", name="/dashboard/")

    @task(1)
    def home(self):
        self.page("/", name="/ (home)")

    @task(3)
    def save_progress(self):
        months = [(p, m) for p in self.projects for m in range(1, 13) if (p, m) not in self.submitted]
        if not months:
            return
        project, month = random.choice(months)
        url = f"/projects/{project}/progress/{YEAR}-{month}/"
        form = self.page(url, name="/projects/<id>/progress/<month>/ (form)")
        token = hidden_value(form.text, "csrfmiddlewaretoken")
        version = hidden_value(form.text, "version")
        if token is None or version is None:
            return  # counted as a failure above when the page was wrong
        # A value this user never saved before, so every save changes the report.
        self.saves += 1
        value = f"{self.saves}.{self.index % 100:02d}"
        submit = random.random() < 0.1
        data = {
            "csrfmiddlewaretoken": token,
            "version": version,
            "completed_investment": value,
            "physical_progress": f"压测 {self.username} 第{self.saves}次填报",
            "problems": "",
        }
        if submit:
            data["submit"] = "1"
        with self.client.post(
            url,
            data=data,
            name="/projects/<id>/progress/<month>/ (save)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or response.headers.get("Location") != url:
                # 200 is the form again with an error: a save refused that nobody else touched.
                response.failure(f"save refused ({response.status_code})")
                return
        status = "submitted" if submit else "draft"
        record = {"user": self.username, "project": project, "year": YEAR, "month": month, "value": value}
        _saves.write(json.dumps({**record, "status": status, "version_seen": version}) + "\n")
        _saves.flush()
        if submit:
            self.submitted.add((project, month))
        # The browser follows the redirect: the report shows what was just saved, in the form while a
        # draft, as the figure (with thousands separators) once submitted.
        shown = f'id="report-amount">{Decimal(value):,.2f}<' if submit else f'value="{value}"'
        self.page(url, name="/projects/<id>/progress/<month>/ (after save)", expect=shown)
