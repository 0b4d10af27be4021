"""Load the demo world of demo/data/ (read by demo.demo_data): reference data, users, enterprises
and projects with their plans, monthly progress, approvals and batches, and the
万人助万企 visits and problem tickets.

Running it again changes nothing: every row is looked up by its natural key
and only saved when a value differs, so no history rows pile up either.
Problem tickets are written through ``problems.services`` (so their timeline,
clock and history are those of real use) and looked up by enterprise and title:
one already there is left as it is, whatever has been done to it since.
"""

import datetime
import os
import zlib
from collections import Counter
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core import roles
from core.models import User
from demo import demo_data as data
from enterprises.models import Enterprise, EnterpriseYearlyFigure, Honour
from enterprises.validators import credit_code_check_char
from problems import services as tickets
from problems.choices import ClosureGrade, Satisfaction
from problems.models import ProblemTicket, TicketEvent, Visit
from projects import services
from projects.choices import MilestoneKind, MilestoneStatus, PlanCategory, ProgressStatus, Stage
from projects.models import (
    AnnualPlan,
    ApprovalMilestone,
    Batch,
    BatchMembership,
    MonthlyProgress,
    MonthPublication,
    Project,
    StageChange,
)
from reference.models import Cluster, Department, Industry, Leader, Park

ROLE_LABELS = {
    "admin": "管理员 administrator (superuser)",
    "leader": "领导 leader",
    "reviewer": "审核员 reviewer",
    "staff": "项目专员 zone staff",
    "unit": "责任单位 responsible unit",
    "supervisor": "督办 万人助万企 office",
}

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
# Closures are graded in turn; some offices leave the grade out.
GRADES = [ClosureGrade.EXCELLENT, ClosureGrade.GOOD, ClosureGrade.GOOD, "", ClosureGrade.PASS]
# Days an ordinary 2021 problem took to be resolved, in turn (8: one day late).
ZONE_DAYS = [3, 5, 4, 6, 2, 8, 5]

# Days between an approval and the project's start (negative: before it).
DAYS_BEFORE_START = {
    MilestoneKind.LAND_PREAPPROVAL: -85,
    MilestoneKind.LAND_USE_PLANNING: -68,
    MilestoneKind.LAND_TITLE: -40,
    MilestoneKind.ENVIRONMENT: -45,
    MilestoneKind.ENERGY: -40,
    MilestoneKind.WORKS_PLANNING: -25,
    MilestoneKind.DRAWING_REVIEW: -15,
    MilestoneKind.CONSTRUCTION_PERMIT: -5,
}

# A landed project that has not started: the procedures after the land title
# are under way, with these planned dates (energy review already overdue).
LANDED_IN_PROGRESS = {
    MilestoneKind.ENERGY: datetime.date(2023, 9, 30),
    MilestoneKind.WORKS_PLANNING: datetime.date(2023, 11, 20),
    MilestoneKind.DRAWING_REVIEW: datetime.date(2023, 11, 25),
}

# The world goes on after the seeds: a month's share of its year's investment (Jan–Feb slow, the
# year-end push), and when a waiting procedure is planned, in days from today (some already late).
SEASON = [6, 7, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9]
WAITING_DUE_DAYS = [-12, -3, 0, 4, 9, 18, 30, 45, 60]
CENT = Decimal("0.01")
RETURN_REASON = "本月完成投资与统计局联网直报数据不一致，请核实后重新报送。"


def vary(*keys) -> int:
    """A number from 0 to 99 fixed by ``keys``: the same world on every run, no random state."""
    return zlib.crc32("|".join(str(key) for key in keys).encode()) % 100


def previous_month(day: datetime.date) -> tuple[int, int]:
    return (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year, month + 1) if month < 12 else (year + 1, 1)


def spread(total: Decimal, year: int, months: list[int], name: str) -> dict[int, Decimal]:
    """``total`` split over the year's twelve months by season, with a little noise; only
    ``months`` are returned (the year under way stops at its latest reported month)."""
    weights = {m: SEASON[m - 1] * (90 + vary(name, year, m) % 21) for m in range(1, 13)}
    whole = sum(weights.values())
    amounts = {m: (total * weights[m] / whole).quantize(CENT, rounding=ROUND_DOWN) for m in range(1, 13)}
    amounts[12] += total - sum(amounts.values())
    return {m: amounts[m] for m in months}


def days(value: datetime.date, count: int) -> datetime.date:
    return value + datetime.timedelta(days=count)


class Command(BaseCommand):
    help = "Load the demo data (parks, enterprises, projects, demo users). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even when DEBUG is off, on a demo server. The demo users have published "
            "passwords: never under DJANGO_ENV=production, which this option does not override.",
        )
        parser.add_argument(
            "--force-password-change",
            action="store_true",
            default=os.environ.get("DEMO_FORCE_PASSWORD_CHANGE", "").strip().lower() in {"1", "true", "yes"},
            help="Make every demo user choose a new password at the first log-in "
            "(also DEMO_FORCE_PASSWORD_CHANGE=1).",
        )

    def handle(self, *args, force=False, force_password_change=False, **options):
        if settings.PRODUCTION:
            # Whatever the flag: a production install must never carry accounts whose passwords
            # are in the README.
            raise CommandError(
                "load_demo refuses to run under production settings (DJANGO_ENV=production), with "
                "or without --force: its users have published passwords. Create the administrator "
                "with `manage.py createsuperuser`."
            )
        if not settings.DEBUG and not force:
            raise CommandError(
                "load_demo refuses to run with DEBUG off: it creates users with published "
                "passwords. Use --force if this really is a demo server."
            )
        try:
            data.world()
        except data.DemoDataError as error:
            raise CommandError(str(error)) from error
        self.force_password_change = force_password_change
        self.created = Counter()
        self.updated = Counter()
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.history_user = None
        self.now = timezone.now()
        with transaction.atomic():
            self.load()
        self.report()

    # --- Writing rows ---------------------------------------------------------

    def save(self, obj, update_fields=None):
        # The database enforces the unique and check constraints anyway; skipping
        # their extra queries halves the load time. The tests full_clean() every row.
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj._history_user = self.history_user  # simple-history records who made it
        if update_fields is not None and any(f.name == "updated_at" for f in obj._meta.fields):
            update_fields = [*update_fields, "updated_at"]
        obj.save(update_fields=update_fields)

    def upsert(self, model, lookup: dict, values: dict):
        """Create the row or bring it up to date; save only what differs."""
        obj = model._default_manager.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **values)
            self.save(obj)
            self.created[model._meta.label] += 1
            return obj
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            self.save(obj, update_fields=changed)
            self.updated[model._meta.label] += 1
        return obj

    # --- The world ------------------------------------------------------------

    def load(self):
        self.departments = {
            row["short_name"]: self.upsert(
                Department, {"name": row["name"]}, {"short_name": row["short_name"]}
            )
            for row in data.DEPARTMENTS
        }
        self.load_users()
        self.load_groups()
        self.leaders = {}
        for row in data.LEADERS:
            leader = self.upsert(
                Leader,
                {"name": row["name"], "title": row["title"]},
                {
                    "department": self.departments[row["unit"]],
                    "user": self.leader_users.get(row["name"]),
                },
            )
            self.leaders[row["name"]] = leader
        self.parks = {
            row["name"]: self.upsert(
                Park, {"name": row["name"]}, {"alias": row["alias"], "description": row["description"]}
            )
            for row in data.PARKS
        }
        self.industries = {}
        for row in data.CLUSTERS:
            cluster = self.upsert(Cluster, {"name": row["name"]}, {"description": row["description"]})
            for industry in row["industries"]:
                self.industries[industry["name"]] = self.upsert(
                    Industry,
                    {"name": industry["name"]},
                    {
                        "cluster": cluster,
                        "is_leading": industry["is_leading"],
                        "is_strategic_emerging": industry["is_strategic_emerging"],
                    },
                )
        self.honours = {
            name: self.upsert(Honour, {"name": name}, {"rank": rank}) for name, rank in data.HONOURS
        }
        self.load_enterprises()
        self.batches = {
            row["number"]: self.upsert(
                Batch, {"number": row["number"]}, {"announced_on": row["announced_on"], "note": row["note"]}
            )
            for row in data.BATCHES
        }
        self.load_projects()
        self.load_present()
        self.publish_months()
        for row in data.BATCHES:
            for member in row["members"]:
                self.upsert(
                    BatchMembership,
                    {"batch": self.batches[row["number"]], "project": self.projects[member["project"]]},
                    {"role": member["role"]},
                )
        events = TicketEvent.objects.count()
        self.load_past_problems()
        self.load_current_problems()
        self.created[TicketEvent._meta.label] += TicketEvent.objects.count() - events

    def load_users(self):
        self.users = {}
        self.leader_users = {}
        for row in data.USERS:
            values = {
                "display_name": row["display_name"],
                "department": self.departments[row["unit"]],
                "is_staff": True,
                "is_superuser": row["is_superuser"],
                "is_active": True,
            }
            if self.force_password_change:
                # Without the option a flag already set stays as it is (a user may still owe a change).
                values["must_change_password"] = True
            user = User.objects.filter(username=row["username"]).first()
            if user is None:
                user = User(username=row["username"], **values)
                user.set_password(row["password"])
                self.save(user)
                self.created[User._meta.label] += 1
            else:
                user = self.upsert(User, {"username": row["username"]}, values)
                # Checking first keeps the stored hash when the password is already right.
                if not user.check_password(row["password"]):
                    user.set_password(row["password"])
                    user.save(update_fields=["password"])
                    self.updated[User._meta.label] += 1
            self.users[row["username"]] = user
            if "leader" in row:
                self.leader_users[row["leader"]] = user
        self.history_user = self.users["admin"]

    def load_groups(self):
        # The groups exist after migrate; this only puts the demo users in them.
        roles.sync_role_groups()
        for row in data.USERS:
            group = roles.role_group(row["role"])
            self.users[row["username"]].groups.add(group)

    def load_enterprises(self):
        self.enterprises = {}
        for row in data.ENTERPRISES:
            first17 = data.CREDIT_CODE_PREFIX + row["org_code"]
            enterprise = self.upsert(
                Enterprise,
                {"name": row["name"]},
                {
                    "short_name": row["key"],
                    "parent": self.enterprises.get(row["parent"]),
                    "credit_code": first17 + credit_code_check_char(first17),
                    "legal_representative": row["legal_representative"],
                    "industry": self.industries[row["industry"]],
                    "park": self.parks[row["park"]],
                    "is_above_scale": row["is_above_scale"],
                    "on_white_list": row["on_white_list"],
                    "liaison_leader": self.leaders[row["liaison_leader"]],
                    "liaison_unit": self.departments[row["liaison_unit"]],
                    "description": row["description"],
                },
            )
            enterprise.honours.set([self.honours[name] for name in row["honours"]])
            for year, figures in row["figures"].items():
                self.upsert(EnterpriseYearlyFigure, {"enterprise": enterprise, "year": year}, figures)
            self.enterprises[row["key"]] = enterprise

    # --- Projects -------------------------------------------------------------

    def load_projects(self):
        self.projects = {}
        self.document_counters = Counter()
        for index, row in enumerate(data.PROJECTS):
            project = self.load_project(row)
            self.projects[row["name"]] = project
            for year, plan in row["plans"].items():
                self.save_plan(project, year, plan["investment"], plan["category"], plan["goals"])
            if "monthly" in row:
                self.load_progress(project, row)
            if row["stages"][-1][0] >= Stage.SIGNED:
                self.load_milestones(project, row, index)

    def load_project(self, row):
        staff = self.users["staff"]
        enterprise = self.enterprises[row["enterprise"]] if row["enterprise"] else None
        fields = {
            "code": row["code"],
            "name": row["name"],
            "enterprise": enterprise,
            "nature": row["nature"],
            "industry": self.industries[row["industry"]] if row["industry"] else None,
            "park": self.parks[row["park"]] if row["park"] else None,
            "level": row["level"],
            "construction_content": row["construction_content"],
            "total_investment": row["total_investment"],
            "land_area": row["land_area"],
            "planned_start": row["planned_start"],
            "planned_completion": row["planned_completion"],
            "actual_start": row["actual_start"],
            "actual_completion": row["actual_completion"],
            "responsible_leader": self.leaders[row["leader"]],
            "responsible_unit": self.departments[row["unit"]],
            "staff_in_charge": staff,
            "on_white_list": row["on_white_list"],
            "location": row["location"],
        }
        project = Project.objects.filter(name=row["name"], enterprise=enterprise).first()
        if project is not None:
            # The stage history was recorded when the project was created; a
            # second run must not add to it, so only the attributes are synced.
            before = project.updated_at
            services.project_update(project=project, user=staff, data=fields)
            if project.updated_at != before:
                self.updated[Project._meta.label] += 1
            return project
        (first_stage, first_date), *later = row["stages"]
        project = services.project_create(
            user=staff, data=fields, stage=first_stage, stage_changed_on=first_date
        )
        self.created[Project._meta.label] += 1
        for stage, changed_on in later:
            services.project_change_stage(project=project, user=staff, stage=stage, changed_on=changed_on)
        self.created[StageChange._meta.label] += len(row["stages"])
        return project

    def load_progress(self, project, row):
        year = data.PROGRESS_YEAR
        note = ""
        for month, amount in enumerate(row["monthly"], start=1):
            note = row["notes"].get(month, note)
            comment = "季度数据已与统计台账核对一致。" if month % 3 == 0 else ""
            values = self.approved_report(year, month, amount, note, row["problems"].get(month, ""), comment)
            if month > self.approved_through(year):
                values.update(
                    status=ProgressStatus.SUBMITTED, reviewed_by=None, reviewed_at=None, review_comment=""
                )
                if row["october_draft"]:
                    values.update(status=ProgressStatus.DRAFT, submitted_by=None, submitted_at=None)
            self.upsert(MonthlyProgress, {"project": project, "year": year, "month": month}, values)

    def approved_report(self, year, month, amount, progress, problems="", comment="") -> dict:
        """A month's report as approved: it came in on the 5th of the next month, was reviewed on the 8th."""
        return {
            "completed_investment": amount,
            "physical_progress": progress,
            "problems": problems,
            "status": ProgressStatus.APPROVED,
            "submitted_by": self.users["staff"],
            "submitted_at": self.month_after(year, month, 5, 16, 30),
            "reviewed_by": self.users["reviewer"],
            "reviewed_at": self.month_after(year, month, 8, 10),
            "review_comment": comment,
        }

    def month_after(self, year, month, day, hour, minute=0) -> datetime.datetime:
        """A moment in the month after ``year``/``month``, where its reports and publication fall."""
        return datetime.datetime(*next_month(year, month), day, hour, minute, tzinfo=self.tz)

    # --- The present: the seeds' world continued to today ----------------------

    @property
    def under_review(self) -> tuple[int, int]:
        """The month whose reports are coming in now (the one before today's): some submitted,
        one returned, some not sent yet; every month before it is approved and published."""
        return previous_month(timezone.localdate(self.now))

    def approved_through(self, year: int) -> int:
        """The last approved month of ``year`` (0: none)."""
        review_year, review_month = max(
            self.under_review, (data.PROGRESS_YEAR, data.APPROVED_THROUGH_MONTH + 1)
        )
        if year < review_year:
            return 12
        return review_month - 1 if year == review_year else 0

    def load_present(self):
        """Plans and reports from 2022 to the month under review for every project the seeds give
        monthly figures for, continuing each one's pace; the seeds' 2023 figures stay as they are."""
        review_year, _ = self.under_review
        reporting = [row for row in data.PROJECTS if "monthly" in row]
        for index, row in enumerate(reporting):
            project = self.projects[row["name"]]
            total = row["total_investment"]
            seed_plan = row["plans"][data.PROGRESS_YEAR]["investment"]
            completed = Decimal("0")
            for year in range(data.PROGRESS_YEAR - 1, review_year + 1):
                if year == data.PROGRESS_YEAR:
                    completed += self.finish_seed_year(project, row, seed_plan, index)
                    continue
                planned = self.plan_for(project, row, year, total - completed, seed_plan)
                if planned is None:
                    continue
                # A year's result: 90–120 % of its plan, never past the project's total investment.
                target = planned * (90 + vary(row["name"], year) % 31) / 100
                target = min(target, (total - completed) * Decimal("0.9")).quantize(CENT, rounding=ROUND_DOWN)
                months = range(1, 13) if year < review_year else range(1, self.under_review[1] + 1)
                for month, amount in spread(target, year, list(months), row["name"]).items():
                    completed += amount
                    self.save_report(project, year, month, amount, index)

    def plan_for(self, project, row, year, remaining, seed_plan) -> Decimal | None:
        if year in row["plans"]:
            plan = row["plans"][year]
            planned, category, goals = plan["investment"], plan["category"], plan["goals"]
        else:
            # About the seeds' 2023 pace, and never more than half of what is left to invest.
            planned = min(seed_plan * (80 + vary(row["name"], "plan", year) % 41) / 100, remaining / 2)
            planned = planned.quantize(CENT, rounding=ROUND_DOWN)
            category, goals = PlanCategory.CONTINUING, f"{year}年度续建，完成年度投资计划。"
        if planned < 1:
            return None
        self.save_plan(project, year, planned, category, goals)
        return planned

    def save_plan(self, project, year, planned, category, goals):
        self.upsert(
            AnnualPlan,
            {"project": project, "year": year},
            {"planned_investment": planned, "category": category, "goals": goals},
        )

    def finish_seed_year(self, project, row, seed_plan, index) -> Decimal:
        """The seeds stop at October; November and December bring the year to 95–105 % of its plan
        (at least 2 % of it: the year-end push)."""
        year = data.PROGRESS_YEAR
        seeded = sum(row["monthly"])
        if self.under_review <= (year, data.PROGRESS_MONTHS):
            return seeded
        rest = max(seed_plan * (95 + vary(row["name"], year) % 11) / 100 - seeded, seed_plan / 50)
        november = (rest * Decimal("0.45")).quantize(CENT, rounding=ROUND_DOWN)
        amounts = {11: november, 12: rest.quantize(CENT, rounding=ROUND_DOWN) - november}
        months = [m for m in (11, 12) if (year, m) <= self.under_review]
        for month in months:
            self.save_report(project, year, month, amounts[month], index)
        return seeded + sum(amounts[m] for m in months)

    def save_report(self, project, year, month, amount, index):
        """One month's report in the state the calendar gives it."""
        values = self.approved_report(
            year, month, amount, f"{month}月：按年度计划推进，完成投资{amount}万元。"
        )
        if (year, month) == self.under_review:
            # Reports come in from the 1st of the next month: a fixed moment, so a rerun the same
            # month changes nothing.
            sent = min(self.month_after(year, month, 1, 0, 30), self.now)
            values.update(reviewed_by=None, reviewed_at=None, submitted_at=sent)
            turn = index % 5
            if turn == 0:
                return  # not sent yet
            if turn == 2 and index < 5:
                values.update(
                    status=ProgressStatus.RETURNED,
                    reviewed_by=self.users["reviewer"],
                    reviewed_at=sent + HOUR,
                    review_comment=RETURN_REASON,
                )
            elif turn == 3:
                values.update(status=ProgressStatus.DRAFT, submitted_by=None, submitted_at=None)
            else:
                values.update(status=ProgressStatus.SUBMITTED)
        self.upsert(MonthlyProgress, {"project": project, "year": year, "month": month}, values)

    def publish_months(self):
        """Every month before the one under review is published (月报发布) on the 10th of the next."""
        first = data.PROGRESS_YEAR - 1
        review_year, review_month = self.under_review
        for year in range(first, review_year + 1):
            for month in range(1, 13):
                if (year, month) >= (review_year, review_month) or month > self.approved_through(year):
                    continue
                self.upsert(
                    MonthPublication,
                    {"year": year, "month": month},
                    {
                        "is_published": True,
                        "published_by": self.users["reviewer"],
                        "published_at": self.month_after(year, month, 10, 9),
                    },
                )

    def load_milestones(self, project, row, index):
        today = timezone.localdate(self.now)
        for kind, phase, status, planned, completed, note in self.milestone_plan(row):
            department_key, document_format = data.MILESTONE_RULES[kind]
            if status != MilestoneStatus.DONE:
                # Procedures still open are planned around today: a few late, most due soon.
                offset = WAITING_DUE_DAYS[
                    (index * 3 + list(MilestoneKind).index(kind)) % len(WAITING_DUE_DAYS)
                ]
                planned = today + datetime.timedelta(days=offset)
            document_number = ""
            if status == MilestoneStatus.DONE:
                # Numbers run per procedure and year in data order, so a rerun
                # produces the same numbers.
                self.document_counters[kind, completed.year] += 1
                number = 3 + 4 * self.document_counters[kind, completed.year] + index % 4
                if kind == MilestoneKind.LAND_TITLE:
                    number = 8000 + 37 * number
                document_number = document_format.format(
                    year=completed.year, number=number, day=completed, phase=phase
                )
            self.upsert(
                ApprovalMilestone,
                {"project": project, "kind": kind, "phase": phase},
                {
                    "department": self.departments[department_key],
                    "status": status,
                    "planned_date": planned,
                    "completed_date": completed,
                    "document_number": document_number,
                    "note": note,
                },
            )

    def milestone_plan(self, row):
        """(kind, phase, status, planned date, completion date, note) for every procedure,
        consistent with how far the project has got and when it got there."""
        reached = {stage: changed_on for stage, changed_on in row["stages"]}
        stage = row["stages"][-1][0]
        began = reached.get(Stage.SIGNED, row["stages"][0][1])
        started = reached.get(Stage.STARTED)
        landed = reached.get(Stage.LANDED) or (days(started, -60) if started else None)
        produced = reached.get(Stage.IN_PRODUCTION)
        overrides = row["milestones"]

        def done(kind, on, phase=1):
            # Some procedures finish a little late against their plan, most early.
            late = (len(row["name"]) + list(MilestoneKind).index(kind)) % 4 == 0
            planned = days(on, -7) if late else days(on, 10)
            return (kind, phase, MilestoneStatus.DONE, planned, on, "")

        def waiting(kind, status, planned):
            return (kind, 1, status, planned, None, "")

        rows = [done(MilestoneKind.PROJECT_FILING, days(began, 10))]
        if stage >= Stage.LANDED:
            rows += [
                done(MilestoneKind.LAND_PREAPPROVAL, days(landed, -25)),
                done(MilestoneKind.LAND_USE_PLANNING, days(landed, -8)),
                done(MilestoneKind.LAND_TITLE, days(landed, 20)),
            ]
        else:
            rows += [
                waiting(
                    MilestoneKind.LAND_PREAPPROVAL, MilestoneStatus.IN_PROGRESS, datetime.date(2023, 6, 30)
                ),
                *(
                    waiting(
                        kind, MilestoneStatus.NOT_STARTED, days(row["planned_start"], DAYS_BEFORE_START[kind])
                    )
                    for kind in (MilestoneKind.LAND_USE_PLANNING, MilestoneKind.LAND_TITLE)
                ),
            ]
        before_start = [
            MilestoneKind.ENVIRONMENT,
            MilestoneKind.ENERGY,
            MilestoneKind.WORKS_PLANNING,
            MilestoneKind.DRAWING_REVIEW,
        ]
        if started:
            rows += [done(kind, days(started, DAYS_BEFORE_START[kind])) for kind in before_start]
            for phase, on in enumerate(row.get("permit_phases", [days(started, -5)]), start=1):
                if on <= data.AS_OF:
                    rows.append(done(MilestoneKind.CONSTRUCTION_PERMIT, on, phase))
                else:
                    rows.append(
                        (MilestoneKind.CONSTRUCTION_PERMIT, phase, MilestoneStatus.IN_PROGRESS, on, None, "")
                    )
        elif stage >= Stage.LANDED:
            rows.append(done(MilestoneKind.ENVIRONMENT, days(landed, 55)))
            rows += [
                waiting(kind, MilestoneStatus.IN_PROGRESS, LANDED_IN_PROGRESS[kind])
                for kind in before_start[1:]
            ]
            rows.append(
                waiting(
                    MilestoneKind.CONSTRUCTION_PERMIT,
                    MilestoneStatus.NOT_STARTED,
                    days(row["planned_start"], -2),
                )
            )
        else:
            rows += [
                waiting(
                    kind, MilestoneStatus.NOT_STARTED, days(row["planned_start"], DAYS_BEFORE_START[kind])
                )
                for kind in [*before_start, MilestoneKind.CONSTRUCTION_PERMIT]
            ]
        if produced and not row["partly_in_production"]:
            rows.append(done(MilestoneKind.COMPLETION_ACCEPTANCE, days(produced, -10)))
        else:
            status = MilestoneStatus.IN_PROGRESS if produced else MilestoneStatus.NOT_STARTED
            rows.append(waiting(MilestoneKind.COMPLETION_ACCEPTANCE, status, row["planned_completion"]))

        result = []
        for kind, phase, status, planned, completed, note in rows:
            if kind in overrides:
                status, note = overrides[kind]
                planned = completed = None
            result.append((kind, phase, status, planned, completed, note))
        return result

    # --- 万人助万企 problems ----------------------------------------------------

    def handler_of(self, unit):
        """The demo user who works the unit's problems; an administrator stands in for units without one."""
        for row in data.USERS:
            if row["role"] == roles.Role.UNIT and row["unit"] == unit.short_name:
                return self.users[row["username"]]
        return None

    def existing_tickets(self, enterprise, titles) -> dict:
        found = ProblemTicket.objects.filter(enterprise=enterprise, title__in=titles).select_related("visit")
        return {ticket.title: ticket for ticket in found}

    def record_visit(self, enterprise, visited_on, notes, rows) -> dict:
        """The visit and those of its problems not there yet; returns the new tickets by title."""
        existing = self.existing_tickets(enterprise, [row["title"] for row in rows])
        missing = [row for row in rows if row["title"] not in existing]
        if not missing:
            return {}
        problems = [self.ticket_data(row, enterprise) for row in missing]
        visit = next((t.visit for t in existing.values() if t.visit), None) or (
            Visit.objects.filter(enterprise=enterprise, visited_on=visited_on).first()
        )
        staff = self.users["staff"]
        if visit is None:
            visit = tickets.visit_create(
                user=staff,
                data={
                    "enterprise": enterprise,
                    "visited_on": visited_on,
                    "unit": enterprise.liaison_unit,
                    "notes": notes,
                },
                visitors=[staff],
                problems=problems,
            )
            self.created[Visit._meta.label] += 1
        else:
            for problem in problems:
                tickets.ticket_create(user=staff, data={**problem, "enterprise": enterprise}, visit=visit)
        self.created[ProblemTicket._meta.label] += len(missing)
        return self.existing_tickets(enterprise, [row["title"] for row in missing])

    def ticket_data(self, row, enterprise) -> dict:
        major = bool(
            row.get("escalations") or row.get("major")
        )  # the past ones escalated, the current ones say
        return {
            "title": row["title"],
            "description": row.get("description", ""),
            "category": row["category"],
            "fence": row["fence"],
            "is_major": major,
            # A major problem has a leader in charge: the enterprise's liaison leader.
            "responsible_leader": enterprise.liaison_leader if major else None,
        }

    def act(self, action, ticket, at, **kwargs):
        """One step of a ticket's life, taken by whoever takes it in real use, at ``at``."""
        if at > self.now:
            raise CommandError(f"demo data: {action} on “{ticket.title}” would be in the future")
        office, staff = self.users["office"], self.users["staff"]
        handler = self.handler_of(ticket.unit) if ticket.unit else None
        unit_user = handler or self.users["admin"]
        if action == "assign":
            unit = kwargs.pop("unit")
            return tickets.ticket_assign(
                ticket=ticket, user=office, unit=unit, handler=self.handler_of(unit), at=at, **kwargs
            )
        service, user = {
            "reply": (tickets.ticket_reply, unit_user),
            "decline": (tickets.ticket_decline, unit_user),
            "plan": (tickets.ticket_plan, unit_user),
            "resolve": (tickets.ticket_resolve, unit_user),
            "close": (tickets.ticket_close, office),
            "send_back": (tickets.ticket_send_back, office),
            "escalate": (tickets.ticket_escalate, office),
            "rate": (tickets.ticket_rate, staff),
        }[action]
        return service(ticket=ticket, user=user, at=at, **kwargs)

    def load_past_problems(self):
        """Seed 000's year, then the year under way's visits before the month under review: each
        problem assigned, reported on, escalated if need be, resolved, closed and rated."""
        review_year, review_month = self.under_review
        self.play_visits(data.VISITS_2021)
        self.play_visits(
            {**visit, "visited_on": datetime.date(review_year, *visit["on"])}
            for visit in data.VISITS_THIS_YEAR
            if visit["on"][0] < review_month
        )

    def play_visits(self, visits):
        index = 0  # each problem's turn in the replies, durations and grades that rotate
        for visit in visits:
            rows = visit["problems"]
            enterprise = self.enterprises[visit["enterprise"]]
            created = self.record_visit(enterprise, visit["visited_on"], visit["notes"], rows)
            for row in rows:
                if row["title"] in created:
                    self.play_history(created[row["title"]], row, index)
                index += 1

    def play_history(self, ticket, row, index):
        units = self.departments
        at = ticket.collected_at + 4 * HOUR
        if "declined" in row:
            ticket = self.act("assign", ticket, at, unit=units[row["declined"]["unit"]])
            at += 18 * HOUR
            ticket = self.act("decline", ticket, at, reason=row["declined"]["reason"])
            at += 2 * HOUR
        ticket = self.act("assign", ticket, at, unit=units[row["unit"]])
        at += 18 * HOUR
        ticket = self.act("reply", ticket, at, text=data.FIRST_REPLIES[index % len(data.FIRST_REPLIES)])
        escalations = row["escalations"]
        if escalations:
            at += DAY
            ticket = self.act("escalate", ticket, at, reason=escalations[0])
        if "plan" in row:
            at += DAY
            ticket = self.act(
                "plan", ticket, at, plan=row["plan"]["text"], committed_date=row["plan"]["committed"]
            )
        if len(escalations) > 1:
            at += 10 * DAY
            ticket = self.act("escalate", ticket, at, reason=escalations[1])
        for report in row["followed"]:
            ticket = self.act("reply", ticket, self.noon(report["on"]), text=report["text"])
        if row["resolution"] is None:
            return
        if len(escalations) > 1:
            at = self.noon(row["plan"]["committed"]) - 20 * DAY
        elif escalations:
            at = ticket.collected_at + (12 + index * 7 % 20) * DAY + 4 * HOUR
        else:
            at = ticket.collected_at + ZONE_DAYS[index % len(ZONE_DAYS)] * DAY - 2 * HOUR
        if "sent_back" in row:
            sent_back = row["sent_back"]
            ticket = self.act("resolve", ticket, at, resolution=sent_back["first_resolution"])
            ticket = self.act("send_back", ticket, at + DAY, reason=sent_back["reason"])
            ticket = self.act("reply", ticket, at + DAY + 2 * HOUR, text="已按要求补充，正在完善办结材料。")
            at += 2 * DAY
        if "unsatisfied" in row:
            unsatisfied = row["unsatisfied"]
            ticket = self.act("resolve", ticket, at, resolution=unsatisfied["first_resolution"])
            ticket = self.act("close", ticket, at + DAY)
            ticket = self.act(
                "rate",
                ticket,
                at + 2 * DAY,
                satisfaction=Satisfaction.UNSATISFIED,
                comment=unsatisfied["comment"],
            )
            ticket = self.act("reply", ticket, at + 3 * DAY, text="已重新组织审查，正在出具补充意见。")
            at += 5 * DAY
        ticket = self.act("resolve", ticket, at, resolution=row["resolution"])
        ticket = self.act("close", ticket, at + DAY, grade=GRADES[index % len(GRADES)])
        if row["satisfaction"]:  # None: not rated yet
            self.act("rate", ticket, at + 3 * DAY, satisfaction=row["satisfaction"])

    def noon(self, day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(12, 0), tzinfo=self.tz)

    def load_current_problems(self):
        """Problems being worked on now: their clock runs from a few days before the load."""
        today = timezone.localdate(self.now)
        for row in data.CURRENT_PROBLEMS:
            enterprise = self.enterprises[row["enterprise"]]
            if "hours_ago" in row:
                if self.existing_tickets(enterprise, [row["title"]]):
                    continue
                ticket = tickets.ticket_create(
                    user=self.users["staff"],
                    data={
                        **self.ticket_data(row, enterprise),
                        "enterprise": enterprise,
                        "source": row["source"],
                    },
                    collected_at=self.now - row["hours_ago"] * HOUR,
                )
                self.created[ProblemTicket._meta.label] += 1
            else:
                visited_on = today - datetime.timedelta(days=row["days_ago"])
                notes = "走访了解企业近期生产经营和项目推进中的困难。"
                ticket = self.record_visit(enterprise, visited_on, notes, [row]).get(row["title"])
                if ticket is None:
                    continue
            self.play_current(ticket, row, today)

    def play_current(self, ticket, row, today):
        for hours, step in data.CURRENT_STEPS[row["state"]]:
            at = ticket.collected_at + hours * HOUR
            if step == "assign":
                ticket = self.act("assign", ticket, at, unit=self.departments[row["unit"]])
            elif step in ("reply", "reply2"):
                ticket = self.act("reply", ticket, at, text=row[step])
            elif step == "plan":
                committed = today + datetime.timedelta(days=row["plan_days"])
                ticket = self.act("plan", ticket, at, plan=row["plan"], committed_date=committed)
            elif step in ("resolve", "first_resolve"):
                text = row["resolution" if step == "resolve" else "first_resolution"]
                ticket = self.act("resolve", ticket, at, resolution=text)
            elif step == "close":
                ticket = self.act("close", ticket, at, grade=ClosureGrade.GOOD)
            elif step == "send_back":
                ticket = self.act("send_back", ticket, at, reason=row["sent_back"])
            elif step == "unsatisfied":
                ticket = self.act(
                    "rate", ticket, at, satisfaction=Satisfaction.UNSATISFIED, comment=row["unsatisfied"]
                )
            elif step == "escalate":
                ticket = self.act("escalate", ticket, at, reason=row["escalation"])

    # --- Output ---------------------------------------------------------------

    def report(self):
        write = self.stdout.write
        created, updated = sum(self.created.values()), sum(self.updated.values())
        write(self.style.SUCCESS(f"Demo data loaded: {created} rows created, {updated} updated."))
        write("")
        write(f"Log in at {data.LOGIN_URL}")
        write("")
        write(f"  {'username':<10} {'password':<20} role")
        write(f"  {'-' * 10} {'-' * 20} {'-' * 34}")
        for row in data.USERS:
            write(f"  {row['username']:<10} {row['password']:<20} {ROLE_LABELS[row['role']]}")
        write("")
        if self.force_password_change:
            write("Each demo user must choose a new password at the first log-in.")
            write("")
        counts = [
            ("responsible units", Department),
            ("users", User),
            ("groups", Group),
            ("leaders", Leader),
            ("parks", Park),
            ("clusters", Cluster),
            ("industries", Industry),
            ("honours", Honour),
            ("enterprises", Enterprise),
            ("enterprise yearly figures", EnterpriseYearlyFigure),
            ("projects", Project),
            ("stage changes", StageChange),
            ("annual plans", AnnualPlan),
            ("monthly progress reports", MonthlyProgress),
            ("published months", MonthPublication),
            ("approval milestones", ApprovalMilestone),
            ("batches", Batch),
            ("batch memberships", BatchMembership),
            ("enterprise visits", Visit),
            ("problem tickets", ProblemTicket),
            ("ticket events", TicketEvent),
        ]
        write("In the database now:")
        for label, model in counts:
            write(f"  {label:<26} {model._default_manager.count():>5}")
