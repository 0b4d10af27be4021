"""月通报: the monthly bulletin of key projects, the leaders' dashboard as a workbook.

The rows and figures are the dashboard's (``dashboard.selectors``: the same selection, splits and
ranking) and ``projects.figures``'; this module only lays them out, so the workbook a leader takes to
the meeting shows what the dashboard showed. Sheets: by level, by park, by responsible unit (with
the ranking's 红旗/黄旗), every lagging project, every project on the plan without a report for
the month. Text is Chinese whatever the user's language: it is the official format.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet
from django.utils import timezone, translation

from core.excel import OFFICIAL_LANGUAGE, Column, Sheet, Workbook, heading, period_label, styled_row
from dashboard import selectors as dashboard
from projects import figures
from projects.choices import Level
from projects.excel.columns import project_columns, rate_columns
from projects.excel.ledger import ytd_header

FLAGS = {"red": "红旗", "yellow": "黄旗"}
COLOURS = {"red": "红", "yellow": "黄", "green": "绿"}
UNIT = "单位：万元"


def scope_text(selection: dashboard.Selection) -> str:
    """Whose projects and which of the dashboard's filters, as the note line says it."""
    parts = [f"范围：{selection.unit}负责的项目" if selection.unit is not None else "范围：全区项目"]
    filterset = selection.filterset
    if filterset.is_valid():
        for name in dashboard.FILTERS:
            value = filterset.form.cleaned_data.get(name)
            if value in (None, "") or (not isinstance(value, Model) and not value):
                continue
            field = filterset.form.fields[name]
            items = list(value) if isinstance(value, list | tuple | QuerySet) else [value]
            parts.append(f"{field.label}：{'、'.join(_filter_value(field, item) for item in items)}")
    return "；".join(parts)


def _filter_value(field, item) -> str:
    if item == getattr(field, "null_value", "null"):
        return str(field.null_label)
    if isinstance(item, Model):
        return str(item)
    return str(dict(field.choices).get(item, item))


def counting_text(include_submitted: bool) -> str:
    if include_submitted:
        return "统计口径：含已报送未审核的月报数据"
    return "统计口径：仅含已审核的月报数据"


# --- The bulletin ----------------------------------------------------------------------------


def bulletin_workbook(user, selection: dashboard.Selection) -> Workbook:
    """The 月通报 of ``selection`` (from ``dashboard.select(user, …)``, which checked the scope)."""
    with translation.override(OFFICIAL_LANGUAGE):
        return _bulletin(selection)


def _bulletin(selection: dashboard.Selection) -> Workbook:
    period = selection.period
    headline, splits = dashboard.summary(selection, dimensions=("level", "park", "unit"))
    unit_split = splits["unit"]
    context = {
        "title": f"{settings.ZONE_NAME}重点项目建设月通报",
        "left": f"统计期间：{period_label(period.year, period.month)}",
        "right": UNIT,
        "note": "；".join(
            [
                counting_text(selection.include_submitted),
                "完成率、滞后只计有年度计划的项目，无年度计划项目的完成投资列“计划外完成投资”",
                scope_text(selection),
                f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}",
            ]
        ),
    }
    book = Workbook()
    book.book.set_properties(
        {
            "title": context["title"],
            "company": settings.ZONE_NAME,
            "created": timezone.now().replace(tzinfo=None),
        }
    )
    _group_sheet(book, "按级别", "项目级别", splits["level"].rows, headline, context)
    _group_sheet(book, "按园区", "园区", splits["park"].rows, headline, context, ranked=True)
    _group_sheet(book, "按责任单位", "责任单位", unit_split.rows, headline, context, ranked=True)
    _lagging_sheet(book, selection, context)
    _unreported_sheet(book, selection, context)
    return book


def _rollup_values(rollup: figures.Rollup) -> dict[str, Any]:
    return {
        "project_count": rollup.project_count,
        "total_investment": rollup.total_investment,
        "planned_investment": rollup.planned_investment,
        "completed_investment": rollup.completed_investment,
        "completion_rate": rollup.completion_rate,
        "schedule_progress": rollup.schedule_progress,
        "gap_points": rollup.gap_points,
        "lagging_count": rollup.lagging_count,
        "unplanned_completed_investment": rollup.unplanned_completed_investment,
    }


def _total_row(sheet: Sheet, label_key: str, first: int, totals: dict[str, Any]) -> None:
    """The 合计 row under the data rows from ``first``: ``totals`` (``_rollup_values``) cached in
    its formulas, the schedule and the gap, which no column adds up, written as they are."""
    sheet.total_row(
        label="合计",
        label_key=label_key,
        first=first,
        cached=totals,
        extra={"schedule_progress": totals["schedule_progress"], "gap_points": totals["gap_points"]},
    )


def _group_columns(label: str, month: int, *, ranked: bool) -> list[Column]:
    columns = [
        Column("seq", "序号", "count", width=6),
        Column("label", label, "wrap", width=22),
        Column("project_count", "项目个数", "count", width=8, total="sum"),
        Column("total_investment", "总投资", "money", width=14, total="sum"),
        Column("planned_investment", "年度计划投资", "money", width=14, total="sum"),
        Column("completed_investment", ytd_header(month), "money", width=14, total="sum"),
        *rate_columns(10),
        Column("lagging_count", "滞后项目数", "count", width=8, total="sum"),
        Column("unplanned_completed_investment", "计划外完成投资", "money", width=14, total="sum"),
    ]
    if ranked:
        columns += [
            Column("position", "排名", "center", width=6),
            Column("flag", "红旗/黄旗", "center", width=9),
        ]
    return columns


def _ranking(rows: list[dashboard.SplitRow]) -> dict[object, figures.Ranked]:
    # The dashboard's ranking: the groups with a key, by completion rate.
    ranked = figures.rank_by_completion(
        [(row.key, row.label, row.rollup) for row in rows if row.key is not None]
    )
    return {r.key: r for r in ranked}


def headed_sheet(
    book: Workbook,
    name: str,
    columns: list[Column],
    context: dict,
    *,
    key_columns: int = 2,
    note: str = "",
    **overrides,
) -> Sheet:
    """A sheet under the report's heading (``context``, its note followed by ``note``, with
    ``overrides``) and the header row of ``columns``."""
    sheet = book.add_sheet(name, columns=columns, key_columns=key_columns)
    heading(sheet, width=len(columns), **{**context, "note": context["note"] + note, **overrides})
    sheet.header(columns)
    return sheet


def _group_sheet(book, name, label, rows, headline, context, *, ranked: bool = False) -> None:
    period_month = headline.month
    columns = _group_columns(label, period_month, ranked=ranked)
    sheet = headed_sheet(book, name, columns, context)
    ranking = _ranking(rows) if ranked else {}
    if ranked:
        # Ranked groups in their order, then those without a plan, then "none" last.
        order = {key: index for index, key in enumerate(ranking)}
        rows = sorted(rows, key=lambda r: (r.key is None, order.get(r.key, len(order))))
    first = sheet.row
    for seq, row in enumerate(rows, start=1):
        values = {"seq": seq, "label": row.label, **_rollup_values(row.rollup)}
        styles = {}
        place = ranking.get(row.key)
        if place is not None:
            values["position"] = place.position
            values["flag"] = FLAGS.get(place.flag)
            if place.flag:
                styles["flag"] = sheet.formats[place.flag]
        styled_row(sheet, values, styles)
    totals = _rollup_values(headline)
    if rows:
        _total_row(sheet, "label", first, totals)
    else:
        sheet.data_row(None, values={**totals, "label": "合计"}, fmt_kind="total")
    sheet.finish(freeze_cols=2)


def _project_values(project, month: int) -> dict[str, Any]:
    """A project's row; its year-to-date is blank, not 0, while no report of the year counts
    (``project.ytd_counted``, from ``_with_counted``)."""
    shown = figures.figures_of(project, month=month)
    return {
        "name": project.name,
        "enterprise": project.enterprise.name if project.enterprise_id else "",
        "level": Level(project.level).label,
        "park": project.park.name if project.park_id else "",
        "planned_investment": shown.planned,
        "completed_investment": shown.completed if project.ytd_counted else None,
        "completion_rate": shown.completion_rate,
        "schedule_progress": shown.schedule_progress,
        "gap_points": shown.gap_points,
        "colour": COLOURS.get(shown.colour),
        "leader": str(project.responsible_leader) if project.responsible_leader_id else "",
        "unit": str(project.responsible_unit) if project.responsible_unit_id else "",
        "staff": str(project.staff_in_charge) if project.staff_in_charge_id else "",
    }


PROJECT_RELATED = ["enterprise", "park", "responsible_leader", "responsible_unit", "staff_in_charge"]


def _with_counted(projects: QuerySet, selection: dashboard.Selection) -> QuerySet:
    period = selection.period
    return projects.annotate(
        ytd_counted=figures.counted_report_exists(
            year=period.year, month=period.month, include_submitted=selection.include_submitted
        )
    )


def _lagging_sheet(book, selection, context) -> None:
    period = selection.period
    columns = [
        *project_columns(),
        Column("planned_investment", "年度计划投资", "money", width=13, total="sum"),
        Column("completed_investment", ytd_header(period.month), "money", width=13, total="sum"),
        *rate_columns(9),
        Column("colour", "预警", "center", width=6),
        Column("leader", "责任领导", "wrap", width=14),
        Column("unit", "责任单位", "wrap", width=14),
    ]
    sheet = headed_sheet(
        book,
        "滞后项目",
        columns,
        context,
        note="；滞后：完成率低于时序进度；预警：落后10—30个百分点为黄，超过30个百分点为红",
    )
    # The dashboard's lagging list without its limit, in its order: furthest behind first.
    lagging = figures.lagging_projects(
        selection.projects,
        year=period.year,
        month=period.month,
        include_submitted=selection.include_submitted,
    )
    first = sheet.row
    rows = _with_counted(lagging.select_related(*PROJECT_RELATED), selection)
    for seq, project in enumerate(rows.order_by("completion_ratio", "name", "pk").iterator(), start=1):
        values = {"seq": seq, **_project_values(project, period.month)}
        colour = {"红": "red", "黄": "yellow"}.get(values["colour"])
        styled_row(sheet, values, {"colour": sheet.formats[colour]} if colour else None)
    if sheet.row > first:
        totals = _rollup_values(
            figures.rollup_annotated(
                lagging, year=period.year, month=period.month, include_submitted=selection.include_submitted
            )
        )
        _total_row(sheet, "name", first, totals)
    sheet.finish(freeze_cols=2)


def _unreported_sheet(book, selection, context) -> None:
    period = selection.period
    columns = [
        *project_columns(),
        Column("planned_investment", "年度计划投资", "money", width=13),
        Column("completed_investment", ytd_header(period.month), "money", width=13),
        Column("unit", "责任单位", "wrap", width=14),
        Column("staff", "项目专员", "wrap", width=12),
        Column("leader", "责任领导", "wrap", width=14),
    ]
    note = f"；未报送：列入年度计划但{period.month}月未报送月报的项目"
    sheet = headed_sheet(book, "未报送项目", columns, context, note=note)
    unreported = dashboard.unreported_projects(selection).select_related(*PROJECT_RELATED)
    unreported = _with_counted(unreported, selection)
    for seq, project in enumerate(unreported.iterator(), start=1):
        styled_row(sheet, {"seq": seq, **_project_values(project, period.month)})
    sheet.finish(freeze_cols=2)
