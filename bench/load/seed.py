"""The load test's seed: projects with plans and approved monthly progress for one year, named for the run.

Bulk inserts without history rows: this is measuring data, not an audited import. Deterministic
for a seed, so two runs measure the same rows.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from enterprises.models import Enterprise
from projects.choices import Level, Nature, ProgressStatus, Stage
from projects.models import AnnualPlan, MonthlyProgress, Project
from reference.models import Cluster, Department, Industry, Leader, Park

BATCH = 5000
PARKS = [
    "豫沪合作周口示范园",
    "周口数字经济双创孵化园",
    "周口青网科技产业园",
    "健康食品产业园",
    "金属新材料产业园",
    "生物医药产业园",
]
UNITS = ["经济发展局", "招商局", "住房和城乡建设局", "自然资源和规划分局", "生态环境分局", "税务局"]
PROGRESS_TEXTS = ["主体结构施工", "钢结构吊装完成60%", "设备安装调试", "基础施工", "厂房封顶，配套工程施工中"]


@transaction.atomic
def generate(*, projects: int, year: int = 2023, month: int = 9, seed: int = 1, prefix: str = "基准") -> None:
    """``projects`` projects named ``{prefix}项目N``, each with a plan for ``year`` and approved
    reports for January to ``month``."""
    rng = random.Random(seed)
    now = timezone.now()
    cluster, _ = Cluster.objects.get_or_create(name="健康食品")
    industry, _ = Industry.objects.get_or_create(name="食品加工", defaults={"cluster": cluster})
    parks = [Park.objects.get_or_create(name=name)[0] for name in PARKS]
    units = [Department.objects.get_or_create(name=name)[0] for name in UNITS]
    leaders = [Leader.objects.get_or_create(name=f"领导{i}", title="副主任")[0] for i in range(12)]
    enterprises = Enterprise.objects.bulk_create(
        [Enterprise(name=f"{prefix}企业{i}有限公司") for i in range(max(projects // 3, 1))], batch_size=BATCH
    )
    levels, natures = list(Level.values), list(Nature.values)
    stages = [Stage.STARTED, Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION, Stage.SIGNED, Stage.LANDED]
    rows, planned = [], []
    for i in range(projects):
        # A year's plan is a part of the whole: the total is 3 to 12 years of it, so a year of
        # reports plus the months a run adds stay below the total (as in a real registry; above
        # it the figure checks would ask the user to confirm, and the load test would count a
        # save refused).
        plan = Decimal(rng.randrange(500, 50000))
        planned.append(plan)
        rows.append(
            Project(
                name=f"{prefix}项目{i}",
                code=f"{prefix}-{year}-{i:06d}",
                enterprise=enterprises[i % len(enterprises)],
                nature=rng.choice(natures),
                level=rng.choice(levels),
                park=rng.choice(parks),
                industry=industry,
                construction_content="建设标准化厂房及配套设施，购置生产线设备，形成年产能规模。",
                total_investment=(plan * rng.randint(3, 12)).quantize(Decimal("1")),
                planned_start=datetime.date(year, rng.randint(1, 12), 1),
                stage=rng.choice(stages),
                responsible_leader=rng.choice(leaders),
                responsible_unit=rng.choice(units),
            )
        )
    created = Project.objects.bulk_create(rows, batch_size=BATCH)
    plans, reports = [], []
    for project, plan in zip(created, planned, strict=True):
        plans.append(AnnualPlan(project=project, year=year, planned_investment=plan))
        for m in range(1, month + 1):
            reports.append(
                MonthlyProgress(
                    project=project,
                    year=year,
                    month=m,
                    completed_investment=(plan / 12 * Decimal(rng.uniform(0.5, 1.3))).quantize(
                        Decimal("0.01")
                    ),
                    physical_progress=rng.choice(PROGRESS_TEXTS),
                    status=ProgressStatus.APPROVED,
                    submitted_at=now,
                    reviewed_at=now,
                )
            )
        if len(reports) >= BATCH * 4:
            MonthlyProgress.objects.bulk_create(reports, batch_size=BATCH)
            reports = []
    AnnualPlan.objects.bulk_create(plans, batch_size=BATCH)
    MonthlyProgress.objects.bulk_create(reports, batch_size=BATCH)
