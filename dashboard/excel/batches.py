"""“三个一批” report: per batch the members of each role and the rates taken over them, then every
member project with whether it has got as far as its role asks.

The members are the dashboard's (the selection's projects, narrowed to its batch filter) and the
rates are ``figures.batch_rates_by_batch``'s, so the workbook and the dashboard's batch panel agree.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone, translation

from core.excel import OFFICIAL_LANGUAGE, Column, Workbook, styled_row
from dashboard import selectors as dashboard
from dashboard.excel.bulletin import headed_sheet, scope_text
from projects import figures
from projects.choices import BatchRole, Stage

# rate name → (achieved header, rate header)
RATE_HEADERS = {
    "signing_rate": ("已签约", "签约率"),
    "start_rate": ("已开工", "开工率"),
    "production_rate": ("已投产", "投产率"),
    "capacity_rate": ("已达产", "达产率"),
}
# The rate that says whether a member has done what its role asks (投产一批 also shows 达产).
ROLE_RATE = {
    BatchRole.SIGN: "signing_rate",
    BatchRole.START: "start_rate",
    BatchRole.PRODUCE: "production_rate",
}
ROLE_ORDER = list(BatchRole.values)


def batch_label(number: int) -> str:
    return f"第{number}期"


def batch_workbook(user, selection: dashboard.Selection) -> Workbook:
    """The batch report of ``selection`` (from ``dashboard.select(user, …)``, which checked the scope)."""
    with translation.override(OFFICIAL_LANGUAGE):
        return _batches(selection)


def _batches(selection: dashboard.Selection) -> Workbook:
    memberships = dashboard.batch_memberships(selection)
    today = timezone.localdate()
    title = f"{settings.ZONE_NAME}“三个一批”项目推进情况"
    context = {
        "title": title,
        "left": f"数据截至：{today:%Y年%m月%d日}（按项目当前所处阶段）",
        "note": "；".join(
            [
                "签约率＝签约及以后阶段的签约一批项目数÷签约一批项目数",
                "开工率＝开工及以后阶段的开工一批项目数÷开工一批项目数",
                "投产率、达产率＝投产（达产）及以后阶段的投产一批项目数÷投产一批项目数",
                scope_text(selection),
            ]
        ),
    }
    book = Workbook()
    book.book.set_properties(
        {"title": title, "company": settings.ZONE_NAME, "created": timezone.now().replace(tzinfo=None)}
    )
    _rates_sheet(book, memberships, context)
    _members_sheet(book, memberships, context)
    return book


def _rate_columns() -> list[Column]:
    columns = [
        Column("seq", "序号", "count", width=6),
        Column("batch", "批次", "center", width=9),
        Column("members", "项目个数", "count", width=8, total="sum"),
    ]
    for role in BatchRole:
        group = role.label
        columns.append(Column(f"{role}_members", "项目个数", "count", width=8, group=group, total="sum"))
        for name, (rate_role, _stage) in figures.BATCH_RATE_RULES.items():
            if rate_role != role:
                continue
            achieved, rate = RATE_HEADERS[name]
            columns += [
                Column(f"{name}_achieved", achieved, "count", width=8, group=group, total="sum"),
                Column(
                    name,
                    rate,
                    "rate",
                    width=9,
                    group=group,
                    total="ratio",
                    ratio_of=(f"{name}_achieved", f"{role}_members"),
                ),
            ]
    return columns


def _figure_values(role: str, members: int, rates: dict[str, figures.RateFigure]) -> dict[str, Any]:
    values: dict[str, Any] = {f"{role}_members": members}
    for name, rate in rates.items():
        values[f"{name}_achieved"] = rate.achieved
        values[name] = rate.rate
    return values


def _rates_sheet(book: Workbook, memberships: QuerySet, context: dict) -> None:
    columns = _rate_columns()
    sheet = headed_sheet(book, "分批次完成情况", columns, context, right="单位：个")
    # One row per batch, newest first, with a group of columns per role.
    by_batch: dict[int, list[figures.BatchRoleFigures]] = defaultdict(list)
    for figure in figures.batch_rates_by_batch(memberships):
        by_batch[figure.batch_number].append(figure)
    first = sheet.row
    for seq, (number, role_figures) in enumerate(by_batch.items(), start=1):
        values: dict[str, Any] = {
            "seq": seq,
            "batch": batch_label(number),
            "members": sum(f.member_count for f in role_figures),
        }
        for figure in role_figures:
            values.update(_figure_values(figure.role, figure.member_count, figure.rates))
        styled_row(sheet, values)
    overall = figures.batch_rates(memberships)
    totals: dict[str, Any] = {}
    for role in BatchRole:
        name = ROLE_RATE[role]
        rates = {n: r for n, r in overall.items() if figures.BATCH_RATE_RULES[n][0] == role}
        totals.update(_figure_values(role, overall[name].total, rates))
    totals["members"] = sum(overall[ROLE_RATE[role]].total for role in BatchRole)
    if by_batch:
        sheet.total_row(label="合计", label_key="batch", first=first, cached=totals)
    else:
        sheet.data_row(None, values={**totals, "batch": "合计"}, fmt_kind="total")
    sheet.finish(freeze_cols=2)


def _members_sheet(book: Workbook, memberships: QuerySet, context: dict) -> None:
    columns = [
        Column("seq", "序号", "count", width=6),
        Column("batch", "批次", "center", width=9),
        Column("role", "类别", "center", width=11),
        Column("name", "项目名称", "wrap", width=30),
        Column("enterprise", "建设单位", "wrap", width=24),
        Column("park", "园区", "wrap", width=16),
        Column("stage", "当前阶段", "center", width=9),
        Column("achieved", "是否达成（签约/开工/投产）", "center", width=12),
        Column("at_capacity", "是否达产（投产一批）", "center", width=10),
        Column("total_investment", "总投资（万元）", "money", width=14),
    ]
    sheet = headed_sheet(book, "项目清单", columns, context, key_columns=4, right="")
    role_rank = Case(
        *(When(role=role, then=Value(index)) for index, role in enumerate(ROLE_ORDER)),
        output_field=IntegerField(),
    )
    rows = (
        memberships.select_related("batch", "project__enterprise", "project__park")
        .annotate(role_rank=role_rank)
        .order_by("-batch__number", "role_rank", "project__name", "project_id")
    )
    rules = figures.BATCH_RATE_RULES
    for seq, membership in enumerate(rows.iterator(), start=1):
        project = membership.project
        values = {
            "seq": seq,
            "batch": batch_label(membership.batch.number),
            "role": BatchRole(membership.role).label,
            "name": project.name,
            "enterprise": project.enterprise.name if project.enterprise_id else "",
            "park": project.park.name if project.park_id else "",
            "stage": Stage(project.stage).label,
            # The rates' own rule: the stage the rate counts as achieved, or later.
            "achieved": project.stage >= rules[ROLE_RATE[membership.role]][1],
            "at_capacity": project.stage >= rules["capacity_rate"][1]
            if membership.role == BatchRole.PRODUCE
            else None,
            "total_investment": project.total_investment,
        }
        styled_row(sheet, values)
    sheet.finish(freeze_cols=4)
