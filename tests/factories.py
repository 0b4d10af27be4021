"""Factories for every model, with valid defaults; tests override what they check."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from core.models import User
from enterprises.models import Enterprise, EnterpriseYearlyFigure, Honour
from enterprises.validators import credit_code_check_char
from problems.choices import ProblemCategory
from problems.models import Visit
from problems.services import ticket_create
from projects.choices import (
    BatchRole,
    Level,
    MilestoneKind,
    MilestoneStatus,
    PlanCategory,
    ProgressStatus,
    Stage,
)
from projects.models import (
    AnnualPlan,
    ApprovalMilestone,
    Batch,
    BatchMembership,
    MonthlyProgress,
    Project,
    StageChange,
)
from reference.models import Cluster, Department, Industry, Leader, Park


def valid_credit_code(n: int) -> str:
    first17 = f"91411600{n:09d}"
    return first17 + credit_code_check_char(first17)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"责任单位{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.django.Password("test-pass-123")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """``UserFactory(roles=[Role.STAFF])`` puts the user in those role groups."""
        if create and extracted:
            self.groups.add(*Group.objects.filter(role__code__in=extracted))  # by code, as roles_of


class ParkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Park
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"产业园{n}")


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cluster
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"产业集群{n}")


class IndustryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Industry
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"产业{n}")
    cluster = factory.SubFactory(ClusterFactory)


class LeaderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Leader

    name = factory.Sequence(lambda n: f"领导{n}")
    title = "副主任"


class HonourFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Honour
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"荣誉{n}")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"周口测试企业{n}有限公司")
    credit_code = factory.Sequence(valid_credit_code)
    industry = factory.SubFactory(IndustryFactory)
    park = factory.SubFactory(ParkFactory)


class EnterpriseYearlyFigureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnterpriseYearlyFigure

    enterprise = factory.SubFactory(EnterpriseFactory)
    year = 2023
    output_value = Decimal("1000.00")
    revenue = Decimal("900.00")
    taxes = Decimal("50.00")
    employees = 100


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"测试项目{n}")
    enterprise = factory.SubFactory(EnterpriseFactory)
    park = factory.SubFactory(ParkFactory)
    industry = factory.SubFactory(IndustryFactory)
    level = Level.ZONE
    total_investment = Decimal("10000.00")
    stage = Stage.UNDER_CONSTRUCTION


class StageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageChange

    project = factory.SubFactory(ProjectFactory)
    from_stage = None
    to_stage = Stage.PLANNING
    changed_on = datetime.date(2023, 1, 1)


class AnnualPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnualPlan

    project = factory.SubFactory(ProjectFactory)
    year = 2023
    planned_investment = Decimal("1200.00")
    category = PlanCategory.CONTINUING


class MonthlyProgressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonthlyProgress

    project = factory.SubFactory(ProjectFactory)
    year = 2023
    month = 1
    completed_investment = Decimal("100.00")
    status = ProgressStatus.APPROVED
    physical_progress = "主体结构施工"
    submitted_at = factory.LazyFunction(timezone.now)
    reviewed_at = factory.LazyFunction(timezone.now)


class ApprovalMilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApprovalMilestone

    project = factory.SubFactory(ProjectFactory)
    kind = MilestoneKind.PROJECT_FILING
    status = MilestoneStatus.NOT_STARTED


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch
        django_get_or_create = ["number"]

    number = factory.Sequence(lambda n: n + 1)


class BatchMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BatchMembership

    batch = factory.SubFactory(BatchFactory)
    project = factory.SubFactory(ProjectFactory)
    role = BatchRole.START


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    enterprise = factory.SubFactory(EnterpriseFactory)
    visited_on = datetime.date(2023, 6, 1)


def make_ticket(*, user, collected_at=None, **data):
    """A ticket created through the service, so its "13710" clock is set as in real use."""
    data.setdefault("enterprise", data.get("enterprise") or EnterpriseFactory())
    data.setdefault("category", ProblemCategory.LAND)
    data.setdefault("title", "用地手续办理慢")
    visit = data.pop("visit", None)
    return ticket_create(user=user, data=data, visit=visit, collected_at=collected_at)


SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=10, minute=0):
    """A moment in the zone's local time."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
