"""Excel workbooks of the 万人助万企 problems: the ledger (问题台账) and the weekly summary
(周汇总) and monthly bulletin (月通报) with the units ranked.

The figures come from ``problems.kpis`` and the overdue flag from ``problems.selectors``,
so a workbook says what the KPI panel and the ticket list say. Workbooks are the official
Chinese format whatever language the reader's pages are in, so they are written with the
Chinese labels of the choices.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from operator import attrgetter

from django.conf import settings
from django.db.models import Model, QuerySet
from django.utils import timezone, translation

from core.excel import A4_PORTRAIT, Column, Sheet, Workbook
from problems import kpis
from problems.kpis import ProblemFigures

LANGUAGE = "zh-hans"
CHUNK_SIZE = 2000
SEQ = "seq"
KEY_COLUMNS = 4  # 序号, 编号, 企业名称, 问题描述
DUE_GROUP = "“13710”办理时限"
WEEK = "week"
MONTH = "month"
SUMMARY_KINDS = {WEEK: "周汇总", MONTH: "月通报"}


# --- The ledger ----------------------------------------------------------------------------------


def _name(obj) -> str:
    return "" if obj is None else str(obj)


def _local_day(moment: datetime.datetime | None) -> datetime.date | None:
    return None if moment is None else timezone.localdate(moment)


def _problem_text(ticket) -> str:
    return f"{ticket.title}\n{ticket.description}" if ticket.description else ticket.title


def ledger_columns() -> list[Column]:
    """The ledger's columns in order; the row object is a ticket from ``selectors.ticket_rows``."""
    return [
        Column(SEQ, "序号", "center", 6),
        Column("number", "编号", "center", 8, value=attrgetter("pk")),
        Column("enterprise", "企业名称", "wrap", 24, value=lambda t: t.enterprise.name),
        # With the three before it, the key columns a printed page over several across repeats.
        Column("problem", "问题描述", "wrap", 40, value=_problem_text),
        Column("park", "所属园区", "wrap", 16, value=lambda t: _name(t.enterprise.park)),
        Column("source", "问题来源", "center", 9, value=lambda t: t.get_source_display()),
        Column("category", "问题类别", "center", 10, value=lambda t: t.get_category_display()),
        Column("fence", "围墙内/外", "center", 9, value=lambda t: t.get_fence_display()),
        Column("level", "层级", "center", 7, value=lambda t: t.get_level_display()),
        Column("is_major", "是否重大复杂", "center", 8, value=attrgetter("is_major")),
        Column("unit", "责任单位", "wrap", 14, value=lambda t: _name(t.unit)),
        Column("handler", "承办人", "center", 10, value=lambda t: _name(t.handler)),
        Column("leader", "责任领导", "wrap", 12, value=lambda t: _name(t.responsible_leader)),
        Column("collected_on", "收集日期", "date", 11, value=lambda t: _local_day(t.collected_at)),
        Column("collector", "收集人", "center", 10, value=lambda t: _name(t.created_by)),
        Column("assign_due", "交办期限", "date", 11, DUE_GROUP, attrgetter("assign_due")),
        Column("report_due", "首次报告期限", "date", 11, DUE_GROUP, attrgetter("report_due")),
        Column("resolve_due", "办结期限", "date", 11, DUE_GROUP, attrgetter("resolve_due")),
        Column("committed_date", "承诺办结日期", "date", 11, DUE_GROUP, attrgetter("committed_date")),
        Column("status", "状态", "center", 9, value=lambda t: t.get_status_display()),
        # The list page's flag: selectors.with_overdue, as of the same day.
        Column("overdue", "是否超期", "center", 7, value=attrgetter("is_overdue")),
        Column("plan", "办理计划", "wrap", 24, value=attrgetter("plan")),
        Column("resolution", "办结情况", "wrap", 36, value=attrgetter("resolution")),
        Column("closed_on", "办结日期", "date", 11, value=lambda t: _local_day(t.closed_at)),
        Column("grade", "办结评定", "center", 8, value=lambda t: t.get_closure_grade_display()),
        Column("satisfaction", "满意度", "center", 8, value=lambda t: t.get_satisfaction_display()),
        Column("comment", "企业意见", "wrap", 20, value=attrgetter("satisfaction_comment")),
        Column("project", "关联项目", "wrap", 20, value=lambda t: _name(t.project)),
    ]


def ticket_ledger_workbook(
    tickets_queryset: QuerySet, *, today: datetime.date, title_period: str
) -> Workbook:
    """问题台账: one row per ticket of ``tickets_queryset`` in its order, overdue as of ``today``.

    ``tickets_queryset`` is plain tickets (already filtered and ordered); the related names and
    the overdue flag are added here, and rows are streamed so memory and queries stay flat.
    """
    book = Workbook()
    with book, translation.override(LANGUAGE):
        columns = ledger_columns()
        sheet = book.add_sheet("问题台账", columns=columns, key_columns=KEY_COLUMNS)
        sheet.title(
            f"{settings.ZONE_NAME} 万人助万企问题台账",
            left=title_period,
            right=f"统计截至 {today:%Y-%m-%d}",
            width=len(columns),
        )
        sheet.header(columns)
        rows = tickets_queryset.iterator(chunk_size=CHUNK_SIZE)
        for seq, ticket in enumerate(rows, start=1):
            sheet.data_row(ticket, values={SEQ: seq})
        sheet.finish(freeze_cols=3)
    return book


def _value_text(field, value) -> str:
    if isinstance(value, list | tuple):
        return "、".join(_value_text(field, item) for item in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, Model):
        return str(value)
    if value == getattr(field, "null_value", object()) and getattr(field, "null_label", None):
        return str(field.null_label)
    choices = {str(key): label for key, label in getattr(field, "choices", ())}
    return str(choices.get(str(value), value))


def filter_summary(filterset) -> str:
    """The ticket list's filters in words, for the ledger's subtitle: 问题层级：市级；超期：是 …"""
    if not filterset.is_bound or not filterset.is_valid():
        return "全部问题"
    data = filterset.form.cleaned_data
    parts = []
    with translation.override(LANGUAGE):
        collected_from, collected_to = data.get("collected_from"), data.get("collected_to")
        if collected_from or collected_to:
            start = f"{collected_from:%Y-%m-%d}" if collected_from else "……"
            end = f"{collected_to:%Y-%m-%d}" if collected_to else "……"
            parts.append(f"收集日期：{start} 至 {end}")
        for name, value in data.items():
            if name in ("ordering", "collected_from", "collected_to") or value in (None, "", [], ()):
                continue
            field = filterset.form.fields[name]
            if name == "mine":
                if value:
                    parts.append(str(field.label))
                continue
            if name == "q":
                value = f"“{value.strip()}”"
            parts.append(f"{field.label}：{_value_text(field, value)}")
    return "；".join(parts) or "全部问题"


def ledger_filename(today: datetime.date) -> str:
    return f"问题台账-{today:%Y-%m-%d}.xlsx"


# --- The weekly summary and the monthly bulletin --------------------------------------------------


@dataclass(frozen=True)
class SummaryPeriod:
    """The days a summary covers: a Monday–Sunday week or a calendar month, both inclusive."""

    kind: str
    date_from: datetime.date
    date_to: datetime.date

    @property
    def filename(self) -> str:
        if self.kind == MONTH:
            return f"问题月通报-{self.date_from:%Y-%m}.xlsx"
        return f"问题周汇总-{self.date_from:%Y-%m-%d}至{self.date_to:%Y-%m-%d}.xlsx"


def week_of(day: datetime.date) -> SummaryPeriod:
    monday = day - datetime.timedelta(days=day.weekday())
    return SummaryPeriod(WEEK, monday, monday + datetime.timedelta(days=6))


def last_full_week(today: datetime.date) -> SummaryPeriod:
    """The latest Monday–Sunday week that is over (on a Sunday, the week before)."""
    return week_of(today - datetime.timedelta(days=today.weekday() + 7))


def month_of(year: int, month: int) -> SummaryPeriod:
    last = calendar.monthrange(year, month)[1]
    return SummaryPeriod(MONTH, datetime.date(year, month, 1), datetime.date(year, month, last))


def last_full_month(today: datetime.date) -> SummaryPeriod:
    previous = today.replace(day=1) - datetime.timedelta(days=1)
    return month_of(previous.year, previous.month)


def _period_text(kind: str, date_from: datetime.date, date_to: datetime.date) -> str:
    if kind == MONTH:
        days = f"{date_from:%Y-%m-%d} 至 {date_to:%Y-%m-%d}"
        return f"统计时段：{date_from.year}年{date_from.month}月（{days}，按问题收集日期）"
    return f"统计时段：{date_from:%Y-%m-%d} 至 {date_to:%Y-%m-%d}（按问题收集日期）"


def _rate_column(key: str, header: str, width: int, group: str, *, of: tuple[str, str]) -> Column:
    """A rate of the figures, whose total is worked out from the totals ``of`` (part, whole)."""
    return Column(key, header, "rate", width, group, attrgetter(key), total="ratio", ratio_of=of)


def summary_columns(label_header: str, *, ranked: bool) -> list[Column]:
    """A split's columns; the row object is a ``kpis.ProblemFigures``."""
    handled, rated = "问题办理", "企业评价"
    columns = [
        Column(SEQ, "序号", "center", 6),
        Column("label", label_header, "wrap", 22, value=attrgetter("label")),
        Column("collected", "收集", "count", 9, handled, attrgetter("collected"), total="sum"),
        Column("resolved", "已办结", "count", 9, handled, attrgetter("resolved"), total="sum"),
        _rate_column("resolution_rate", "问题解决率", 11, handled, of=("resolved", "collected")),
        Column("rated", "已评价", "count", 9, rated, attrgetter("rated"), total="sum"),
        Column("satisfied", "满意（含基本满意）", "count", 11, rated, attrgetter("satisfied"), total="sum"),
        _rate_column("satisfaction_rate", "满意率", 10, rated, of=("satisfied", "rated")),
        Column("overdue", "超期", "count", 8, value=attrgetter("overdue"), total="sum"),
        # Days with one decimal: the helpers' two-decimal number format is the nearest kind.
        Column("average_days", "平均办结天数", "money", 10, value=attrgetter("average_days")),
    ]
    if ranked:
        columns.append(Column("rank", "排名", "center", 6))
    return columns


def _rank_key(row: ProblemFigures):
    # 问题解决率 first, then 满意率; a unit nobody has rated yet comes after every rated one.
    satisfaction = row.satisfaction_rate if row.satisfaction_rate is not None else -1
    return (-(row.resolution_rate or 0), -satisfaction)


def ranked(rows: list[ProblemFigures]) -> list[tuple[ProblemFigures, int | None]]:
    """Units best first with their rank (equal rates share a rank: 1, 2, 2, 4); the problems not
    assigned to a unit yet are no unit's, so they come last, unranked."""
    units = sorted((row for row in rows if row.key is not None), key=lambda row: (*_rank_key(row), row.label))
    result, rank, previous = [], 0, None
    for position, row in enumerate(units, start=1):
        if _rank_key(row) != previous:
            rank, previous = position, _rank_key(row)
        result.append((row, rank))
    result += [(row, None) for row in rows if row.key is None]
    return result


def _split_sheet(
    sheet: Sheet,
    *,
    title: str,
    period_text: str,
    today: datetime.date,
    label_header: str,
    rows: list[tuple[ProblemFigures, int | None]],
    total: ProblemFigures,
    ranked_rows: bool,
) -> None:
    columns = summary_columns(label_header, ranked=ranked_rows)
    sheet.columns, sheet.paper = columns, A4_PORTRAIT
    as_of = f"办结、评价、超期状态截至 {today:%Y-%m-%d}"
    sheet.title(title, left=period_text, right=as_of, width=len(columns))
    sheet.header(columns)
    first = sheet.row
    for seq, (row, rank) in enumerate(rows, start=1):
        sheet.data_row(row, values={SEQ: seq, "rank": rank})
    last = sheet.row - 1
    totals = {
        "collected": total.collected,
        "resolved": total.resolved,
        "resolution_rate": total.resolution_rate,
        "rated": total.rated,
        "satisfied": total.satisfied,
        "satisfaction_rate": total.satisfaction_rate,
        "overdue": total.overdue,
    }
    extra = {"average_days": total.average_days}
    if rows:
        sheet.total_row(
            label="合计",
            label_key="label",
            first=first,
            last=last,
            cached=totals,
            marker_key=SEQ,
            extra=extra,
        )
    else:
        # No rows to sum over: the figures themselves.
        sheet.data_row(total, values={"label": "合计", **totals, **extra}, fmt_kind="total")
    sheet.finish(freeze_cols=2)


def ticket_summary_workbook(
    tickets_queryset: QuerySet,
    *,
    today: datetime.date,
    date_from: datetime.date,
    date_to: datetime.date,
    kind: str,
) -> Workbook:
    """周汇总 (``kind="week"``) or 月通报 (``kind="month"``) of the problems collected from
    ``date_from`` to ``date_to``: the units ranked, then the levels and the categories, each
    with a 合计 row equal to ``kpis.totals``."""
    if kind not in SUMMARY_KINDS:
        raise ValueError(f"unknown summary kind {kind}")
    tickets = kpis.in_period(tickets_queryset, date_from, date_to)
    period_text = _period_text(kind, date_from, date_to)
    heading = f"{settings.ZONE_NAME} 万人助万企问题办理情况{SUMMARY_KINDS[kind]}"
    book = Workbook()
    with book, translation.override(LANGUAGE):
        total = kpis.totals(tickets, today=today)
        unranked = [
            [(row, None) for row in kpis.split(tickets, dimension, today=today)]
            for dimension in ("level", "category")
        ]
        sheets = [
            ("按责任单位", "责任单位", ranked(kpis.split(tickets, "unit", today=today)), True),
            ("按层级", "层级", unranked[0], False),
            ("按类别", "问题类别", unranked[1], False),
        ]
        for name, label_header, rows, ranked_rows in sheets:
            _split_sheet(
                book.add_sheet(name),
                title=f"{heading}（{name}）",
                period_text=period_text,
                today=today,
                label_header=label_header,
                rows=rows,
                total=total,
                ranked_rows=ranked_rows,
            )
    return book
