"""重点项目台账: the project ledger, one row per project, with group subtotals and a total.

The columns are also the import's: ``projects.excel.importer`` reads this layout back (and the
layouts zones keep), so exporting, editing figures in Excel and importing updates exactly
the edited figures.

A figure the ledger does not know is a blank cell, never 0.00: 本月完成投资 of a month without a
report, or whose report does not count in this ledger (a draft, a returned report, one under
review in the approved-only ledger), and 1—N月累计 when no report of the year counts yet. For such
a report 形象进度 and 存在问题 say where it stands (``PENDING_TEXT``), which the import reads as
no value. A real 0 stays 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.utils import translation
from xlsxwriter.utility import xl_col_to_name

from core.excel import Column, Formula, Sheet, Workbook, period_label
from projects import figures
from projects.choices import Level, Nature, ProgressStatus, Stage
from projects.models import MonthlyProgress
from projects.selectors import Period

GROUPINGS = ("level", "park", "none")
SEQ = "seq"
NAME = "name"
INVESTMENT = "投资情况（万元）"
START = "开工时间"
COMPLETION = "投产（竣工）时间"

# What 形象进度 and 存在问题 say for a month whose report is not counted in the ledger (approved
# reports always are). The import takes these words for "no value".
PENDING_TEXT = {
    ProgressStatus.DRAFT: "草稿",
    ProgressStatus.SUBMITTED: "审核中",
    ProgressStatus.RETURNED: "已退回",
}


def ytd_header(month: int) -> str:
    return f"1—{month}月累计完成投资" if month > 1 else "1月累计完成投资"


def _get(key: str):
    return lambda row: row[key]


def _month(row):
    # Blank, not 0, when the month has no report that counts here: the figure is not known.
    return row["figures"].month_completed if row["month_counted"] else None


def _ytd(row):
    # Earlier months plus this month's cell, so editing the month in Excel keeps the row consistent;
    # blank while no report of the year counts.
    f = row["figures"]
    month = f"{MONTH_COLUMN}{{row}}"
    if not row["ytd_counted"]:
        return Formula(f'=IF({month}="","",{month})', None)
    return Formula(f"={f.completed - f.month_completed}+{month}", f.completed)


def _rate(row):
    # N(): a blank year-to-date counts as nothing completed, as in the official rate.
    f = row["figures"]
    plan, ytd = f"{PLAN_COLUMN}{{row}}", f"{YTD_COLUMN}{{row}}"
    return Formula(f'=IF({plan}>0,N({ytd})/{plan},"")', f.completion_rate)


def _month_text(key: str):
    """形象进度 or 存在问题 of the month: the counted report's, or where an uncounted report stands."""

    def value(row):
        status = row["month_status"]
        if status is None:
            return ""
        if row["month_counted"]:
            return row[key]
        return PENDING_TEXT.get(status, "")

    return value


def _label_of(field: str, choices):
    """A choice field's Chinese label, looked up once per export rather than once per cell."""
    with translation.override("zh-hans"):
        labels = {value: str(label) for value, label in choices}
    return lambda row: labels.get(row[field], "")


def ledger_columns(period: Period) -> list[Column]:
    """The ledger's columns in order; the import recognises every header written here.

    A row is a dict of ``ROW_FIELDS`` plus ``month_counted`` and ``figures``
    (``figures.ProjectFigures``)."""
    money, rate = "money", "rate"
    return [
        Column(SEQ, "序号", "center", 6),
        # Wide enough for a national code (2019-411600-65-03-002137) in two lines at its hyphens.
        Column("code", "项目编码", "text", 14, value=_get("code")),
        Column(NAME, "项目名称", "wrap", 28, value=_get("name")),
        Column("enterprise", "建设单位", "wrap", 24, value=_get("enterprise__name")),
        Column("nature", "建设性质", "center", 8, value=_label_of("nature", Nature.choices)),
        Column("level", "项目级别", "center", 9, value=_label_of("level", Level.choices)),
        Column("park", "所属园区", "wrap", 16, value=_get("park__name")),
        Column("industry", "产业", "wrap", 10, value=_get("industry__name")),
        Column("content", "建设内容及规模", "wrap", 36, value=_get("construction_content")),
        Column("total", "总投资", money, 12, INVESTMENT, _get("total_investment"), total="sum"),
        Column("plan", "年度计划投资", money, 12, INVESTMENT, _get("planned_investment"), total="sum"),
        Column("month", "本月完成投资", money, 12, INVESTMENT, _month, total="sum"),
        Column("ytd", ytd_header(period.month), money, 13, INVESTMENT, _ytd, total="sum"),
        Column("rate", "完成率", rate, 9, INVESTMENT, _rate, total="ratio", ratio_of=("ytd", "plan")),
        Column("schedule", "时序进度", rate, 9, INVESTMENT, lambda row: row["figures"].schedule_progress),
        Column("planned_start", "计划", "date", 11, START, _get("planned_start")),
        Column("actual_start", "实际", "date", 11, START, _get("actual_start")),
        Column("planned_completion", "计划", "date", 11, COMPLETION, _get("planned_completion")),
        Column("actual_completion", "实际", "date", 11, COMPLETION, _get("actual_completion")),
        Column("stage", "当前阶段", "center", 10, value=_label_of("stage", Stage.choices)),
        Column("physical_progress", "形象进度", "wrap", 32, value=_month_text("month_physical_progress")),
        Column("problems", "存在问题", "wrap", 24, value=_month_text("month_problems")),
        Column("leader", "责任领导", "wrap", 12, value=_get("responsible_leader__name")),
        Column("unit", "责任单位", "wrap", 14, value=_get("responsible_unit__name")),
    ]


# Read as plain values, not model instances: a 50,000-row ledger builds no 350,000 objects.
ROW_FIELDS = [
    "code",
    "name",
    "enterprise__name",
    "nature",
    "level",
    "park_id",
    "park__name",
    "industry__name",
    "construction_content",
    "total_investment",
    "planned_investment",
    "ytd_completed",
    "month_completed",
    "planned_start",
    "actual_start",
    "planned_completion",
    "actual_completion",
    "stage",
    "month_status",
    "ytd_counted",
    "month_physical_progress",
    "month_problems",
    "responsible_leader__name",
    "responsible_unit__name",
]


def _with_month_report(projects: QuerySet, period: Period, include_submitted: bool) -> QuerySet:
    """The month's report's status, 形象进度 and 存在问题, and whether any report of the year counts."""
    report = MonthlyProgress.objects.filter(
        project=OuterRef("pk"), year=period.year, month=period.month
    ).order_by()  # one report a month: no need for the default ordering's join
    return projects.annotate(
        month_status=Subquery(report.values("status")[:1]),
        month_physical_progress=Subquery(report.values("physical_progress")[:1]),
        month_problems=Subquery(report.values("problems")[:1]),
        ytd_counted=figures.counted_report_exists(
            year=period.year, month=period.month, include_submitted=include_submitted
        ),
    )


def _level_order():
    return Case(
        *[When(level=value, then=Value(index)) for index, value in enumerate(Level.values)],
        output_field=IntegerField(),
    )


@dataclass
class _Sums:
    """What a group's SUMIFS formulas come to, kept while its rows stream past."""

    count: int = 0
    total: Decimal = figures.ZERO
    plan: Decimal = figures.ZERO
    month: Decimal = figures.ZERO
    ytd: Decimal = figures.ZERO
    ytd_on_plan: Decimal = figures.ZERO

    def add(self, row: dict) -> None:
        f = row["figures"]
        self.count += 1
        self.total += row["total_investment"]
        self.plan += f.planned or figures.ZERO
        self.month += f.month_completed
        self.ytd += f.completed
        if f.planned:
            self.ytd_on_plan += f.completed

    def cached(self) -> dict:
        return {
            "total": self.total,
            "plan": self.plan,
            "month": self.month,
            "ytd": self.ytd,
            "rate": figures.completion_rate(self.ytd_on_plan, self.plan),
        }


def _group_of(grouping: str):
    """The grouping's key of a project, and the label of a key (called once per group)."""
    if grouping == "level":
        with translation.override("zh-hans"):
            labels = {value: str(label) for value, label in Level.choices}
        return (lambda r: r["level"]), (lambda r: labels[r["level"]])
    if grouping == "park":
        return (lambda r: r["park_id"]), (lambda r: r["park__name"] or "未分园区")
    return (lambda r: None), (lambda r: "")


def write_ledger(
    book: Workbook,
    projects: QuerySet,
    *,
    period: Period,
    include_submitted: bool = False,
    grouping: str = "level",
    chunk_size: int = 2000,
) -> int:
    """Write the ledger sheet of ``projects`` (already annotated with the year figures, as the
    project list's rows are) into ``book``; returns the number of project rows.

    Rows are streamed from the database in chunks, so memory stays flat however many rows."""
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping}")
    columns = ledger_columns(period)
    sheet = book.add_sheet("重点项目台账", columns=columns, key_columns=3)
    status = "含已报送未审核数据" if include_submitted else "已审核数据"
    sheet.title(
        f"{settings.ZONE_NAME}重点项目建设台账",
        left=f"填报期间：{period_label(period.year, period.month)}（{status}）",
        right="单位：万元",
        width=len(columns),
    )
    sheet.header(columns)

    order = ["name", "pk"]
    if grouping == "level":
        order = [_level_order().asc(), *order]
    elif grouping == "park":
        order = ["park__name", *order]
    rows = _with_month_report(projects, period, include_submitted).order_by(*order)
    if grouping == "park":
        # Projects without a park last, whatever the database's NULL ordering.
        rows = rows.order_by(Case(When(park__isnull=True, then=Value(1)), default=Value(0)), *order)

    grand, group, group_first, current = _Sums(), _Sums(), sheet.row, object()
    seq = 0
    label = None
    key_of, label_of = _group_of(grouping)
    counted = set(figures.counted_statuses(include_submitted=include_submitted))
    for row in rows.values(*ROW_FIELDS).iterator(chunk_size=chunk_size):
        row["month_counted"] = row["month_status"] in counted
        row["figures"] = figures.project_figures(
            month=period.month,
            planned=row["planned_investment"],
            completed=row["ytd_completed"],
            month_completed=row["month_completed"],
        )
        key = key_of(row)
        if grouping != "none" and key != current:
            if group.count:
                _subtotal(sheet, label, group, group_first)
            group, group_first, current, label = _Sums(), sheet.row, key, label_of(row)
        seq += 1
        sheet.data_row(row, values={SEQ: seq})
        group.add(row)
        grand.add(row)
    if grouping != "none" and group.count:
        _subtotal(sheet, label, group, group_first)
    data_first, data_last = sheet.first_data_row, max(sheet.row - 1, sheet.first_data_row)
    sheet.total_row(
        label=f"合计（{grand.count}个）",
        label_key=NAME,
        first=data_first,
        last=data_last,
        cached=grand.cached(),
        marker_key=SEQ,
        extra={"schedule": figures.schedule_progress(period.month)},
    )
    sheet.ws.autofilter(sheet.header_rows[1], 0, max(data_last, sheet.header_rows[1] + 1), len(columns) - 1)
    sheet.finish(freeze_cols=3)
    return grand.count


def _subtotal(sheet: Sheet, label: str, sums: _Sums, first: int) -> None:
    sheet.total_row(
        label=f"小计：{label}（{sums.count}个）",
        label_key=NAME,
        first=first,
        cached=sums.cached(),
        marker_key=SEQ,
    )


# Where the per-row formulas point: fixed by ledger_columns' order (checked by the tests).
_KEYS = [c.key for c in ledger_columns(Period(2000, 1))]
MONTH_COLUMN, PLAN_COLUMN, YTD_COLUMN = (xl_col_to_name(_KEYS.index(k)) for k in ("month", "plan", "ytd"))


def ledger_filename(period: Period) -> str:
    return f"重点项目台账-{period_label(period.year, period.month)}.xlsx"
