"""审批手续 matrix: one row per project, a status and a date per approval procedure, and each
project's 办结率 (done over the procedures that apply), with the overall 办结率 last.

Four queries whatever the number of rows: the projects, their procedures (grouped here per
project), and the two 办结率 figures from ``projects.figures``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation

from core.excel import OFFICIAL_LANGUAGE, Column, Workbook, heading, styled_row
from projects import figures
from projects.choices import MilestoneKind, MilestoneStatus
from projects.excel.columns import project_columns

PHASES = {1: "一期", 2: "二期", 3: "三期"}


def milestone_workbook(milestones: QuerySet, projects: QuerySet) -> Workbook:
    """A row for each of ``projects`` (the caller picks them, e.g. those with a listed procedure),
    showing their procedures among ``milestones``."""
    with translation.override(OFFICIAL_LANGUAGE):
        return _matrix(milestones, projects)


def _columns() -> list[Column]:
    columns = project_columns(name_width=24, enterprise_width=18, place=False)
    for kind in MilestoneKind:
        phased = kind == MilestoneKind.CONSTRUCTION_PERMIT
        columns += [
            Column(
                f"{kind}_status",
                "状态",
                "wrap" if phased else "center",
                width=26 if phased else 8,
                group=str(kind.label),
            ),
            Column(f"{kind}_date", "日期", "date", width=11, group=str(kind.label)),
        ]
    columns += [
        Column("applicable", "应办（项）", "count", width=9, total="sum"),
        Column("done", "已办结（项）", "count", width=9, total="sum"),
        Column("rate", "办结率", "rate", width=9, total="ratio", ratio_of=("done", "applicable")),
    ]
    return columns


def _date_of(status: str, planned, completed):
    """The completion date when done, else the planned date; none for a procedure that does not apply."""
    if status == MilestoneStatus.DONE:
        return completed
    if status == MilestoneStatus.NOT_APPLICABLE:
        return None
    return planned


def _phases_text(rows: list[tuple]) -> str:
    """一期已办结 2023-03-01；二期办理中（计划 2024-06-30）"""
    parts = []
    for phase, status, planned, completed in rows:
        text = f"{PHASES.get(phase, phase)}{MilestoneStatus(status).label}"
        date = _date_of(status, planned, completed)
        if date is not None:
            text += f" {date:%Y-%m-%d}" if status == MilestoneStatus.DONE else f"（计划 {date:%Y-%m-%d}）"
        parts.append(text)
    return "；".join(parts)


def _kind_values(kind: str, rows: list[tuple]) -> dict[str, Any]:
    if len(rows) == 1 and rows[0][0] == 1:
        _phase, status, planned, completed = rows[0]
        return {
            f"{kind}_status": MilestoneStatus(status).label,
            f"{kind}_date": _date_of(status, planned, completed),
        }
    return {f"{kind}_status": _phases_text(rows)}


def _matrix(milestones: QuerySet, projects: QuerySet) -> Workbook:
    by_project = figures.milestone_completion_by(milestones, "project")
    overall = figures.milestone_completion(milestones)
    grouped: dict[int, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for project_id, kind, phase, status, planned, completed in (
        milestones.order_by("project_id", "kind", "phase")
        .values_list("project_id", "kind", "phase", "status", "planned_date", "completed_date")
        .iterator()
    ):
        grouped[project_id][kind].append((phase, status, planned, completed))

    columns = _columns()
    title = f"{settings.ZONE_NAME}重点项目审批手续办理进度表"
    book = Workbook()
    book.book.set_properties(
        {"title": title, "company": settings.ZONE_NAME, "created": timezone.now().replace(tzinfo=None)}
    )
    sheet = book.add_sheet("审批手续", columns=columns, key_columns=2)
    heading(
        sheet,
        width=len(columns),
        title=title,
        left=f"数据截至：{timezone.localdate():%Y年%m月%d日}",
        right="",
        note="日期：已办结的为办结日期，其余为计划办结日期；施工许可证分期办理的逐期列出；"
        "办结率＝已办结项数÷（全部项数－不涉及项数）",
    )
    sheet.header(columns)
    first = sheet.row
    rows = projects.select_related("enterprise").order_by("name", "pk")
    for seq, project in enumerate(rows.iterator(), start=1):
        values: dict[str, Any] = {
            "seq": seq,
            "name": project.name,
            "enterprise": project.enterprise.name if project.enterprise_id else "",
        }
        for kind, kind_rows in grouped.pop(project.pk, {}).items():
            values.update(_kind_values(kind, kind_rows))
        completion = by_project.get(project.pk)
        if completion is not None:
            values.update(applicable=completion.total, done=completion.achieved, rate=completion.rate)
        styled_row(sheet, values)
    totals = {"applicable": overall.total, "done": overall.achieved, "rate": overall.rate}
    if sheet.row > first:
        sheet.total_row(
            label="合计（总体办结率）",
            label_key="name",
            first=first,
            cached=totals,
        )
    else:
        sheet.data_row(None, values={**totals, "name": "合计（总体办结率）"}, fmt_kind="total")
    sheet.finish(freeze_cols=2)
    return book
