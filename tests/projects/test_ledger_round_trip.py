"""Every workbook a user can download, imported back by the same user, changes nothing.

The property (issue 20): for every mix of the month's report states (none, draft, submitted,
returned, approved), every export a user can download (the 台账 approved-only and with submitted
figures, grouped by level, park or not at all; the 月通报 both ways; the 三个一批 report; the
审批手续 matrix) and each role that imports (administrator, a reviewer who also keeps projects,
project staff), the import's preview says 新建 0 行，更新 0 行 with no warning and nothing set to
zero, and confirming it writes nothing: no row and no history row changes.

``test_every_pair_of_states_round_trips`` covers every (February, March) pair of states on one
project each, exhaustively; the Hypothesis test mixes states, amounts (a real 0 among them),
plans, texts and whose projects they are at random, over every export and role.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import imports
from core.history import tracked_models
from core.models import ImportRecord
from core.roles import Role
from projects.choices import (
    BatchRole,
    Level,
    MilestoneKind,
    MilestoneStatus,
    ProgressStatus,
    ProjectImportKind,
    Stage,
)
from projects.excel import importer
from projects.models import StageChange
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchFactory,
    BatchMembershipFactory,
    DepartmentFactory,
    EnterpriseFactory,
    IndustryFactory,
    LeaderFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
)

D = Decimal
YEAR, MONTH = 2025, 3
STATES = (
    None,
    ProgressStatus.DRAFT,
    ProgressStatus.SUBMITTED,
    ProgressStatus.RETURNED,
    ProgressStatus.APPROVED,
)
ROLES = ("admin", "reviewer", "staff")

# Every export a user can download, as (URL name, query).
PERIOD = {"year": YEAR, "month": MONTH}
EXPORTS = {
    **{
        f"ledger {group}{' with submitted' if submitted else ''}": (
            "projects:export",
            {**PERIOD, "group": group, **({"include_submitted": "1"} if submitted else {})},
        )
        for group in ("level", "park", "none")
        for submitted in (False, True)
    },
    "bulletin": ("dashboard_export", {**PERIOD, "report": "bulletin"}),
    "bulletin with submitted": (
        "dashboard_export",
        {**PERIOD, "report": "bulletin", "include_submitted": "1"},
    ),
    "batches": ("dashboard_export", {**PERIOD, "report": "batches"}),
    "milestones": ("projects:milestone_export", PERIOD),
}


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@dataclass(frozen=True)
class Spec:
    """One project of the world: its February and March reports and what else it has."""

    earlier: str | None
    current: str | None
    amount: Decimal = D("3920.00")  # March's figure; 0 is a real 0
    planned: bool = True
    mine: bool = False  # in the staff member's charge
    texts: bool = True  # March's report has 形象进度 and 存在问题


class World:
    pass


def build(specs: list[Spec]) -> World:
    """The zone: reference data, the three users, and a project per spec with its reports, plans,
    a batch membership and an approval procedure, so every export has rows."""
    w = World()
    w.unit, w.other_unit = (
        DepartmentFactory(name="经发局", short_name="经发"),
        DepartmentFactory(name="住建局"),
    )
    w.parks = [ParkFactory(name="健康食品产业园"), ParkFactory(name="生物医药产业园"), None]
    w.industry = IndustryFactory(name="粮油加工")
    # Two leaders of the same name (different titles), and one without a title.
    w.leaders = [
        LeaderFactory(name="张主任", title="副主任"),
        LeaderFactory(name="张主任", title="主任"),
        LeaderFactory(name="李主任", title=""),
        None,
    ]
    w.admin = UserFactory(username="guanli", roles=[Role.ADMIN])
    w.reviewer = UserFactory(username="shenhe", roles=[Role.STAFF, Role.REVIEWER], department=w.other_unit)
    w.staff = UserFactory(username="zhuanyuan", roles=[Role.STAFF], department=w.unit)
    batch = BatchFactory(number=7)
    levels = list(Level.values)
    for index, spec in enumerate(specs):
        project = ProjectFactory(
            name=f"往返项目{index}",
            code=f"XM{index:03d}" if index % 2 else None,
            enterprise=EnterpriseFactory(name=f"往返企业{index}有限公司") if index % 3 else None,
            park=w.parks[index % 3],
            industry=w.industry,
            level=levels[index % len(levels)],
            stage=Stage.UNDER_CONSTRUCTION,
            total_investment=D("12345.67") if index % 4 else D("0.00"),
            construction_content="年产特种油脂20万吨" if index % 2 else "",
            responsible_unit=w.unit if index % 2 else w.other_unit,
            responsible_leader=w.leaders[index % 4],
            staff_in_charge=w.staff if spec.mine else None,
            planned_start=datetime.date(2024, 3, 1),
            actual_start=datetime.date(2024, 4, 15) if index % 2 else None,
        )
        if spec.planned:
            AnnualPlanFactory(project=project, year=YEAR, planned_investment=D("20000.00"))
        MonthlyProgressFactory(project=project, year=YEAR, month=1, completed_investment=D("1000.00"))
        for month, state, amount in ((2, spec.earlier, D("700.50")), (MONTH, spec.current, spec.amount)):
            if state is not None:
                MonthlyProgressFactory(
                    project=project,
                    year=YEAR,
                    month=month,
                    completed_investment=amount,
                    status=state,
                    physical_progress="主体完工" if spec.texts else "",
                    problems="用地指标待落实" if spec.texts else "",
                )
        BatchMembershipFactory(batch=batch, project=project, role=list(BatchRole.values)[index % 3])
        ApprovalMilestoneFactory(
            project=project,
            kind=MilestoneKind.PROJECT_FILING,
            status=MilestoneStatus.DONE,
            completed_date=datetime.date(2024, 2, 1),
        )
    return w


def snapshot() -> dict:
    """Every tracked table's rows and history rows, and the stage changes."""
    state = {}
    for model in [*tracked_models(), StageChange]:
        state[model._meta.label] = list(model._default_manager.order_by("pk").values())
        if hasattr(model, "history"):
            state[f"{model._meta.label} history"] = model.history.count()
    return state


def download(client, user, export: str) -> bytes:
    name, query = EXPORTS[export]
    client.force_login(user)
    response = client.get(reverse(name), query)
    assert response.status_code == 200, (export, response.status_code)
    return b"".join(response.streaming_content) if response.streaming else response.content


def assert_round_trip(client, user, export: str) -> None:
    data = download(client, user, export)
    before = snapshot()
    result = importer.preview(data, user=user)
    described = f"{export} as {user.username}: " + "\n".join(importer.preview_text(result))
    assert result.errors == [], described
    assert result.warnings == [], described
    assert result.erasures == [], described
    assert f"新建 0 行，更新 0 行，无变化 {len(result.unchanged)} 行" in described, described
    record, _applied = imports.record_import(
        kind=ProjectImportKind.PROJECT_LEDGER,
        data=data,
        file_name=f"{export}.xlsx",
        user=user,
        origin="web",
        apply=True,
    )
    assert record.status == ImportRecord.Status.APPLIED
    assert (record.created_count, record.updated_count, record.erasure_count) == (0, 0, 0)
    assert snapshot() == before, described


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_pair_of_states_round_trips(client, role):
    """A project for each (February, March) pair of states, half of them the staff member's: every
    export, imported back by the user who downloaded it, changes nothing."""
    pairs = list(itertools.product(STATES, STATES))
    specs = [
        Spec(earlier=earlier, current=current, mine=index % 2 == 0, texts=index % 3 != 0)
        for index, (earlier, current) in enumerate(pairs)
    ]
    world = build(specs)
    user = getattr(world, role)
    for export in EXPORTS:
        assert_round_trip(client, user, export)


@pytest.mark.django_db
def test_a_reviewer_who_keeps_no_projects_cannot_import_what_they_download(client):
    world = build([Spec(earlier=None, current=ProgressStatus.SUBMITTED)])
    reviewer = UserFactory(username="zhishen", roles=[Role.REVIEWER])
    data = download(client, reviewer, "ledger level")
    before = snapshot()
    with pytest.raises(PermissionDenied):
        importer.preview(data, user=reviewer)
    assert snapshot() == before and world.admin


specs_strategy = st.lists(
    st.builds(
        Spec,
        earlier=st.sampled_from(STATES),
        current=st.sampled_from(STATES),
        amount=st.sampled_from([D("0.00"), D("0.01"), D("3920.00"), D("12345678.90")]),
        planned=st.booleans(),
        mine=st.booleans(),
        texts=st.booleans(),
    ),
    min_size=1,
    max_size=5,
)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    # Each example runs in its own transaction, rolled back at its end (below).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=specs_strategy, role=st.sampled_from(ROLES), export=st.sampled_from(sorted(EXPORTS)))
def test_any_mix_of_states_round_trips(client, specs, role, export):
    with transaction.atomic():
        world = build(specs)
        assert_round_trip(client, getattr(world, role), export)
        transaction.set_rollback(True)
