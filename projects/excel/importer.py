"""Importing a project ledger (重点项目台账): preview first, then all rows or none.

Rules decided here (the README repeats them):

* A project is matched by its project code when the file has one, else by project name and
  builder enterprise. Unmatched rows create projects. Missing enterprises, responsible units
  and leaders are created by name (the preview lists them as new); an unknown park or industry
  is an error, since those are the zone's reference data.
* A blank cell changes nothing: the import fills and corrects, it never erases. The words our
  own ledger writes for a report that does not count in it (``ledger.PENDING_TEXT``: 审核中,
  草稿, 已退回) are blank too.
* A figure lowered to 0 is listed apart in the preview (``Change.erases``) and is written only
  when the user confirms those figures (``apply(…, confirm_erasures=True)``).
* The month's completed investment comes from 本月完成投资 when the file has that column (a
  1—N月累计 that disagrees with it is pointed out). When the file gives only a year-to-date
  figure (1–N月累计), the month's is the year-to-date minus the months already recorded, below
  zero an error; a year-to-date equal to what is recorded, counted any way a report counts it
  (approved; approved and submitted; every report), changes nothing.
* A month with no report and a blank or zero figure and no text creates no report, so a ledger
  exported and imported back changes nothing.
* A month's figure set or changed goes through the sanity checks every entry of a figure passes
  (``projects.checks``), for all rows at once: one beyond ten times the project's total investment
  is an error on its row; one with warnings (cumulative above the total investment, above the
  year's plan, entered in 元?) is listed apart with its named warnings and written only when the
  user confirms those figures (``apply(…, confirm_warnings=True)``); its history row says so.
* A report whose figure the row sets or changes is submitted, or approved when the importing user
  is a reviewer or an administrator; staff cannot change a report that is waiting for review or
  approved. A report whose figure stays as it is keeps its status (the import approves, returns or
  reopens nothing it does not change): only its texts are written. A report created for text
  alone, with no figure in the row, is a draft.
* Every write is made with simple-history's bulk helpers in one transaction, each history row
  carrying the user and "Excel导入 #N（file name）" as its reason.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core import importing
from core.importing import BadFile, Issue, normalise
from core.roles import Role, has_role
from enterprises.models import Enterprise
from projects import checks, services
from projects.choices import Level, Nature, ProgressStatus, Stage
from projects.excel.ledger import PENDING_TEXT
from projects.models import AnnualPlan, MonthlyProgress, Project, StageChange
from projects.permissions import can_create_project, can_edit_project, can_review
from projects.selectors import Period, is_published
from reference.lookup import References
from reference.models import Department, Leader

# (key, pattern over the normalised header; an upper header and the one below are joined)
LEDGER_HEADERS = [
    ("seq", r"序号|编号"),
    ("code", r"项目(统一)?(编码|代码|编号)|统一项目代码"),
    ("name", r"项目名称"),
    ("enterprise", r"(建设|项目|业主)单位|建设主体|项目业主|实施主体"),
    ("nature", r"建设性质|项目性质"),
    ("level", r"项目级别|级别|项目层级"),
    ("park", r"(所属|所在)?园区"),
    ("industry", r"(所属)?产业(类别)?|行业"),
    ("content", r"(主要)?建设(内容及规模|规模及内容|内容)"),
    ("total", r"(项目)?总投资.*"),
    ("ytd", r"(投资情况)?.*(\d+[-—–~至]\d+月|累计).*完成投资.*"),
    ("month", r"(投资情况)?(本月|\d+月(份)?)完成投资.*"),
    ("plan", r"(投资情况)?(\d{4}年)?(度)?(年度)?计划(完成)?投资.*|(投资情况)?(年度)?投资计划.*"),
    ("planned_start", r"(计划开工(时间|日期)|开工(时间|日期)计划|开工(时间|日期))"),
    ("actual_start", r"(实际开工(时间|日期)|开工(时间|日期)实际)"),
    (
        "planned_completion",
        r"(计划(竣工|投产)(时间|日期)|(投产|竣工)(\(竣工\)|\(投产\))?(时间|日期)计划|(竣工|投产)(时间|日期))",
    ),
    ("actual_completion", r"(实际(竣工|投产)(时间|日期)|(投产|竣工)(\(竣工\)|\(投产\))?(时间|日期)实际)"),
    ("stage", r"(当前|项目|进展)阶段"),
    ("physical_progress", r"(形象进度|(项目)?进展情况|工程进度).*"),
    ("problems", r"存在(的)?问题.*|问题及建议"),
    ("leader", r"(责任|分包|包联|分管|联系)领导"),
    ("unit", r"责任(单位|部门)|牵头单位"),
]
match_header = importing.header_matcher(LEDGER_HEADERS)
IGNORED_HEADERS = re.compile(r".*(完成率|时序进度|差|备注|序时).*")
MONEY_KEYS = ("total", "plan", "month", "ytd")
DATE_KEYS = ("planned_start", "actual_start", "planned_completion", "actual_completion")

# What the preview calls each field (the ledger's own words).
FIELD_LABELS = {
    "code": "项目编码",
    "name": "项目名称",
    "enterprise": "建设单位",
    "nature": "建设性质",
    "level": "项目级别",
    "park": "所属园区",
    "industry": "产业",
    "construction_content": "建设内容及规模",
    "total_investment": "总投资",
    "planned_start": "计划开工时间",
    "actual_start": "实际开工时间",
    "planned_completion": "计划投产（竣工）时间",
    "actual_completion": "实际投产（竣工）时间",
    "responsible_leader": "责任领导",
    "responsible_unit": "责任单位",
    "stage": "当前阶段",
    "plan": "年度计划投资",
    "completed_investment": "本月完成投资",
    "physical_progress": "形象进度",
    "problems": "存在问题",
}
COLUMN_LABELS = {
    "seq": "序号",
    "content": "建设内容及规模",
    "total": "总投资",
    "plan": "年度计划投资",
    "month": "本月完成投资",
    "ytd": "累计完成投资",
    "leader": "责任领导",
    "unit": "责任单位",
    **FIELD_LABELS,
}


def _choices(enum, extra: dict[str, object]) -> dict[str, object]:
    with translation.override("zh-hans"):
        mapping = {normalise(str(label)): value for value, label in enum.choices}
    mapping.update({normalise(k): v for k, v in extra.items()})
    return mapping


def choice_maps() -> dict[str, dict[str, object]]:
    return {
        "nature": _choices(
            Nature,
            {
                "新建项目": Nature.NEW,
                "技术改造": Nature.RENOVATION,
                "续建": Nature.NEW,
                "改扩建": Nature.EXPANSION,
            },
        ),
        "level": _choices(
            Level,
            {
                "省重点项目": Level.PROVINCIAL,
                "省级": Level.PROVINCIAL,
                "市重点项目": Level.MUNICIPAL,
                "市级": Level.MUNICIPAL,
                "区重点项目": Level.ZONE,
                "区级": Level.ZONE,
                "一般": Level.ORDINARY,
                "无": Level.ORDINARY,
            },
        ),
        "stage": _choices(
            Stage, {"在建": Stage.UNDER_CONSTRUCTION, "已投产": Stage.IN_PRODUCTION, "前期": Stage.RESERVE}
        ),
    }


def _change(field: str, old, new, *, new_text: str | None = None) -> importing.Change:
    """A change of ``field`` from ``old`` to ``new`` (values), as the preview shows it."""
    return importing.Change(
        field,
        _show(old),
        _show(new) if new_text is None else new_text,
        FIELD_LABELS.get(field, field),
        erases=importing.erases(old, new),
    )


# The ways a report is counted: official (approved), with submitted figures, and every report.
COUNTINGS = (
    frozenset({ProgressStatus.APPROVED}),
    frozenset({ProgressStatus.APPROVED, ProgressStatus.SUBMITTED}),
    frozenset(ProgressStatus.values),
)
PLACEHOLDERS = {normalise(text) for text in PENDING_TEXT.values()}


@dataclass
class RowPlan(importing.RowPlan):
    """What one ledger row will do."""

    project: Project | None = None
    project_data: dict = field(default_factory=dict)
    stage: int | None = None
    plan: Decimal | None = None
    plan_obj: AnnualPlan | None = None
    report: dict | None = None
    report_obj: MonthlyProgress | None = None
    report_restated: bool = False  # its figure is set or changed: it takes the import's status
    figure_warnings: list = field(default_factory=list)  # checks.FigureWarning the user confirms


@dataclass
class LedgerPreview(importing.PreviewRows):
    year: int
    month: int
    rows: list[RowPlan]
    errors: list[Issue]
    unknown_headers: list[str]
    new_enterprises: list[str]
    new_units: list[str]
    new_leaders: list[str]
    report_status: str
    skipped: int = 0
    warnings: list[Issue] = field(default_factory=list)  # shown, not blocking

    @property
    def report_status_label(self) -> str:
        return "已审核（正式数据）" if self.report_status == ProgressStatus.APPROVED else "已报送待审核"

    def notes(self) -> list[str]:
        """What the preview says before the rows: the period, how reports are recorded, new names."""
        return [
            f"填报期间：{self.year}年{self.month}月（1—{self.month}月累计）",
            f"导入的月度完成投资将记为：{self.report_status_label}",
            *importing.named_lists(
                (
                    ("将新建的企业", self.new_enterprises),
                    ("将新建的责任单位", self.new_units),
                    ("将新建的责任领导", self.new_leaders),
                )
            ),
        ]

    def fingerprint(self) -> str:
        return self.digest(f"ledger {self.year}-{self.month}", lambda row: row.project)


def _period_from(sheet: importing.Sheet, year: int | None, month: int | None) -> tuple[int, int]:
    if year and month:
        return year, month
    found = importing.period_in(sheet.title_text)
    if found is None:
        ytd = sheet.headers.get("ytd", "")
        plan_year = re.search(r"(\d{4})年", sheet.headers.get("plan", ""))
        ytd_month = re.search(r"\d+[-—–~至](\d{1,2})月", normalise(ytd))
        if plan_year and ytd_month:
            found = int(plan_year.group(1)), int(ytd_month.group(1))
    if found is None:
        raise BadFile(
            _(
                "The reporting period could not be read from the title (such as 2023年1—9月): "
                "choose the year and month."
            )
        )
    return year or found[0], month or found[1]


class _Lookup(References):
    """Reference objects by the names ledgers use for them, loaded once."""

    def __init__(self, names: dict[str, set[str]]):
        super().__init__()
        # By name, and by name with title as reports print them (张主任（副主任）).
        self.leaders = defaultdict(list)
        wanted = names["leader"] | {re.split(r"[（(]", name)[0].strip() for name in names["leader"]}
        for leader in Leader.objects.filter(name__in=wanted):
            self.leaders[normalise(leader.name)].append(leader)
            if leader.title:
                self.leaders[normalise(str(leader))].append(leader)
        wanted = names["enterprise"]
        self.enterprises = importing.by_name(
            Enterprise.objects.filter(Q(name__in=wanted) | Q(short_name__in=wanted)), also="short_name"
        )


def preview(data: bytes, *, user, year: int | None = None, month: int | None = None) -> LedgerPreview:
    """Read a ledger and work out, without writing anything, what importing it would do."""
    if not can_create_project(user):
        raise PermissionDenied(_("Only project staff and administrators import ledgers."))
    sheet = importing.read_sheet(
        data,
        anchor="项目名称",
        match_header=match_header,
        known_ignored=lambda t: bool(IGNORED_HEADERS.match(t)),
    )
    year, month = _period_from(sheet, year, month)
    today = timezone.localdate()
    if not 2000 <= year <= 2100 or not 1 <= month <= 12:
        raise BadFile(
            _("The reporting period %(year)s-%(month)s is not a month.") % {"year": year, "month": month}
        )
    if (year, month) > (today.year, today.month):
        raise BadFile(
            _("The ledger is for %(year)s-%(month)02d, a month that has not begun.")
            % {"year": year, "month": month}
        )
    return _Planner(sheet, user=user, year=year, month=month).plan()


class _Planner(importing.RowPlanner):
    column_labels = COLUMN_LABELS

    def __init__(self, sheet: importing.Sheet, *, user, year: int, month: int):
        super().__init__(sheet)
        self.user, self.year, self.month = user, year, month
        self.maps = choice_maps()
        title_factor = importing.unit_factor_in(sheet.title_text) or Decimal(1)
        self.factors = {
            key: importing.unit_factor_in(sheet.headers.get(key, "")) or title_factor for key in MONEY_KEYS
        }
        self.report_status = ProgressStatus.APPROVED if can_review(user) else ProgressStatus.SUBMITTED
        self.warnings: list[Issue] = []
        self.new_names = {"enterprise": {}, "unit": {}, "leader": {}}

    def plan(self) -> LedgerPreview:
        if "name" not in self.sheet.columns:
            raise BadFile(_("The header has no “项目名称” column."))
        records, skipped = self.data_rows(empty_name=_("the project name is empty"))
        names = {
            "enterprise": {importing.parse_text(r.get("enterprise")) for _n, r in records} - {""},
            "leader": {importing.parse_text(r.get("leader")) for _n, r in records} - {""},
        }
        self.lookup = _Lookup(names)
        parsed = [(n, self._parse(n, raw)) for n, raw in records]
        parsed = [(n, p) for n, p in parsed if p is not None]
        self._load_existing(parsed)
        rows, seen = [], {}
        for row_number, values in parsed:
            plan = self._plan_row(row_number, values)
            if plan is None:
                continue
            key = plan.project.pk if plan.project else ("new", values["name"], values.get("enterprise_name"))
            if self.already_on_row(
                seen, key, row_number, "name", values["name"], _("the same project is already on row %(row)s")
            ):
                continue
            seen[key] = row_number
            rows.append(plan)
        self._check_figures(rows)
        self.errors.sort(key=lambda issue: issue.row)
        return LedgerPreview(
            year=self.year,
            month=self.month,
            rows=rows,
            errors=self.errors,
            unknown_headers=self.sheet.unknown_headers,
            new_enterprises=sorted(self.new_names["enterprise"].values()),
            new_units=sorted(self.new_names["unit"].values()),
            new_leaders=sorted(self.new_names["leader"].values()),
            report_status=self.report_status,
            skipped=skipped,
            warnings=self.warnings,
        )

    # --- one row's values -------------------------------------------------------------

    def _parse(self, row: int, raw: dict) -> dict | None:
        values, before = {}, len(self.errors)
        values["name"] = importing.parse_text(raw.get("name"))[:200]
        values["code"] = importing.parse_text(raw.get("code"))
        for key in MONEY_KEYS:
            if key in raw:
                if (row - 1, self.sheet.columns[key]) in self.sheet.formula_cells:
                    if key == "ytd" and "month" in raw:
                        continue  # our own ledger's live formula, saved by a tool that does not calculate

                    self.error(
                        row,
                        key,
                        "",
                        _(
                            "the cell holds a formula without a calculated value: "
                            "open the file in Excel, save it, and import it again"
                        ),
                    )
                    continue
                parse = functools.partial(importing.parse_decimal, factor=self.factors[key])
                self.parse_cell(row, raw, key, parse, values)
        for key in DATE_KEYS:
            if key in raw:
                self.parse_cell(row, raw, key, importing.parse_date, values)
        for key in ("nature", "level", "stage"):
            if key in raw and not importing.is_blank(raw[key]):
                choice = self.maps[key].get(normalise(raw[key]))
                if choice is None:
                    options = "、".join(dict.fromkeys(str(k) for k in self.maps[key]))
                    self.error(
                        row, key, raw[key], _("unknown value; use one of %(options)s") % {"options": options}
                    )
                else:
                    values[key] = choice
        for key, target in (
            ("content", "construction_content"),
            ("physical_progress", "physical_progress"),
            ("problems", "problems"),
        ):
            if key in raw and not importing.is_blank(raw[key]):
                text = importing.parse_text(raw[key])
                if key != "content" and normalise(text) in PLACEHOLDERS:
                    continue  # our ledger's word for a report it does not count: no value
                values[target] = text
        if "park" in raw and not importing.is_blank(raw["park"]):
            park = self.lookup.parks.get(normalise(raw["park"]))
            if park is None:
                self.error(
                    row,
                    "park",
                    raw["park"],
                    _("no such park; the parks are %(names)s")
                    % {"names": "、".join(p.name for p in set(self.lookup.parks.values()))},
                )
            values["park"] = park
        if "industry" in raw and not importing.is_blank(raw["industry"]):
            industry = self.lookup.industries.get(normalise(raw["industry"]))
            if industry is None:
                self.error(row, "industry", raw["industry"], _("no such industry in the reference data"))
            values["industry"] = industry
        for key, limit in (("enterprise", 200), ("unit", 100), ("leader", 50)):
            if key in raw and not importing.is_blank(raw[key]):
                values[f"{key}_name"] = importing.parse_text(raw[key])
                self.check_length(row, key, raw[key], values[f"{key}_name"], limit)
        if len(values["code"]) > 50:
            self.error(row, "code", values["code"], _("a project code has at most 50 characters"))
        if values.get("actual_completion") and values["actual_completion"] > timezone.localdate():
            self.error(
                row,
                "actual_completion",
                values["actual_completion"],
                _("an actual date cannot be in the future"),
            )
        if values.get("actual_start") and values["actual_start"] > timezone.localdate():
            self.error(
                row, "actual_start", values["actual_start"], _("an actual date cannot be in the future")
            )
        return values if len(self.errors) == before else None

    def _load_existing(self, parsed) -> None:
        codes = {v["code"] for _n, v in parsed if v["code"]}
        names = {v["name"] for _n, v in parsed}
        projects = list(
            Project.objects.filter(Q(code__in=codes) | Q(name__in=names)).select_related(
                "enterprise", "park", "industry", "responsible_leader", "responsible_unit"
            )
        )
        self.by_code = {p.code: p for p in projects if p.code}
        self.by_name = defaultdict(list)
        for project in projects:
            self.by_name[project.name].append(project)
        ids = [p.pk for p in projects]
        # A published month's reports are locked (月报发布) for the importer as for the pages.
        self.month_published = is_published(Period(self.year, self.month))
        self.plans = {p.project_id: p for p in AnnualPlan.objects.filter(project_id__in=ids, year=self.year)}
        self.reports = {
            r.project_id: r
            for r in MonthlyProgress.objects.filter(project_id__in=ids, year=self.year, month=self.month)
        }
        # The earlier months' totals by status, and over every report.
        self.prior_by_status = defaultdict(lambda: defaultdict(Decimal))
        self.prior_all = defaultdict(Decimal)
        prior = (
            MonthlyProgress.objects.filter(project_id__in=ids, year=self.year, month__lt=self.month)
            .values("project_id", "status")
            .annotate(total=Sum("completed_investment"))
            .order_by()
        )
        for row in prior:
            amount = Decimal(row["total"] or 0).quantize(importing.MONEY_PLACES)
            self.prior_all[row["project_id"]] += amount
            self.prior_by_status[row["project_id"]][row["status"]] += amount

    def _prior(self, pk, counting) -> Decimal:
        """The earlier months' total of a project, counting the reports of the statuses given."""
        return sum((v for k, v in self.prior_by_status[pk].items() if k in counting), Decimal(0))

    def _ref(self, kind: str, name: str | None):
        """The existing object of that name, or the name itself when it is to be created."""
        if not name:
            return None
        key = normalise(name)
        if kind == "enterprise":
            found = self.lookup.enterprises.get(key)
        elif kind == "unit":
            found = self.lookup.units.get(key)
        else:
            matches = self.lookup.leaders.get(key, [])
            found = matches[0] if matches else None
        if found is None:
            self.new_names[kind].setdefault(key, name)
        return found

    def _match(self, row: int, values: dict, enterprise) -> Project | None | bool:
        """The project a row is about: by code, else by name and builder; False when ambiguous."""
        if values["code"] and values["code"] in self.by_code:
            return self.by_code[values["code"]]
        candidates = self.by_name.get(values["name"], [])
        if values.get("enterprise_name"):
            if enterprise is None:
                return None
            return next((p for p in candidates if p.enterprise_id == enterprise.pk), None)
        if len(candidates) > 1:
            self.error(
                row,
                "enterprise",
                "",
                _("several projects have this name: give the builder enterprise or the project code"),
            )
            return False
        return candidates[0] if candidates else None

    def _plan_row(self, row: int, values: dict) -> RowPlan | None:
        enterprise = self._ref("enterprise", values.get("enterprise_name"))
        unit = self._ref("unit", values.get("unit_name"))
        project = self._match(row, values, enterprise)
        if project is False:
            return None
        leader = self._ref("leader", values.get("leader_name"))
        namesakes = self.lookup.leaders.get(normalise(values.get("leader_name") or ""), [])
        if len(namesakes) > 1:
            # The project's own leader is the one meant; another of the same name is ambiguous.
            leader = next((p for p in namesakes if project and p.pk == project.responsible_leader_id), None)
            if leader is None:
                self.error(
                    row,
                    "leader",
                    values["leader_name"],
                    _("several leaders have this name; set it on the project page"),
                )
                return None
        plan = RowPlan(
            row=row, name=values["name"], action="update" if project else "create", project=project
        )
        data = {
            "name": values["name"],
            "code": values["code"] or None,
            "nature": values.get("nature"),
            "level": values.get("level"),
            "park": values.get("park"),
            "industry": values.get("industry"),
            "construction_content": values.get("construction_content"),
            "total_investment": values.get("total"),
            **{key: values.get(key) for key in DATE_KEYS},
        }
        refs = {
            "enterprise": (enterprise, values.get("enterprise_name")),
            "responsible_unit": (unit, values.get("unit_name")),
            "responsible_leader": (leader, values.get("leader_name")),
        }
        for name, value in data.items():
            if value is None or value == "":
                continue
            old = getattr(project, name) if project else None
            if project is None or old != value:
                plan.project_data[name] = value
                plan.changes.append(_change(name, old, value))
        for name, (obj, text) in refs.items():
            if not text:
                continue
            old = getattr(project, name) if project else None
            if obj is None:
                plan.refs[name] = text
                plan.changes.append(_change(name, old, text, new_text=f"{text}（新建）"))
            elif project is None or old != obj:
                plan.project_data[name] = obj
                plan.changes.append(_change(name, old, obj))
        stage = values.get("stage")
        if stage is not None and (project is None or stage != project.stage):
            plan.stage = stage
            old = Stage(project.stage).label if project else None
            with translation.override("zh-hans"):
                plan.changes.append(_change("stage", old, str(Stage(stage).label)))
        if not self._dates_in_order(row, values, project):
            return None
        self._plan_figures(row, values, plan)
        if project is not None and plan.changes and not can_edit_project(self.user, project):
            self.error(
                row,
                "name",
                values["name"],
                _("you may not change this project: it is not in your charge or your unit's"),
            )
            return None
        if project is not None and not plan.changes:
            plan.action = "unchanged"
        return plan

    def _dates_in_order(self, row: int, values: dict, project: Project | None) -> bool:
        """A completion before its start is an error, counting the dates the project already has."""
        ok = True
        for start, end, label in (
            ("planned_start", "planned_completion", _("planned")),
            ("actual_start", "actual_completion", _("actual")),
        ):
            begins = values.get(start) or (getattr(project, start) if project else None)
            ends = values.get(end) or (getattr(project, end) if project else None)
            if begins and ends and ends < begins:
                key = end if values.get(end) else start
                self.error(
                    row,
                    key,
                    values[key],
                    _("the %(which)s completion is before the %(which)s start") % {"which": label},
                )
                ok = False
        return ok

    def _plan_figures(self, row: int, values: dict, plan: RowPlan) -> None:
        project = plan.project
        pk = project.pk if project else None
        if values.get("plan") is not None:
            existing = self.plans.get(pk)
            old = existing.planned_investment if existing else None
            if existing is None or old != values["plan"]:
                plan.plan, plan.plan_obj = values["plan"], existing
                plan.changes.append(_change("plan", old, values["plan"]))
        report = self.reports.get(pk)
        month_value = self._month_figure(row, values, pk, report)
        if month_value is False:
            return
        texts = {k: values[k] for k in ("physical_progress", "problems") if values.get(k)}
        if report is None and month_value in (None, Decimal(0)) and not texts:
            return  # nothing reported, nothing to record: an exported ledger imports back unchanged
        wanted = {}
        if month_value is not None and (report is None or month_value != report.completed_investment):
            wanted["completed_investment"] = month_value
        for key, text in texts.items():
            if report is None or getattr(report, key) != text:
                wanted[key] = text
        if not wanted:
            return
        if self.month_published:
            self.error(
                row,
                "month",
                month_value,
                _(
                    "%(year)s-%(month)02d is published and its figures are locked; "
                    "a reviewer must reopen the month first"
                )
                % {"year": self.year, "month": self.month},
            )
            return
        if report is not None and self.report_status == ProgressStatus.SUBMITTED and not report.is_editable:
            self.error(
                row,
                "month",
                month_value,
                _("the report for %(year)s-%(month)02d is %(status)s; only a reviewer can change it")
                % {"year": self.year, "month": self.month, "status": report.get_status_display()},
            )
            return
        plan.report, plan.report_obj = wanted, report
        plan.report_restated = "completed_investment" in wanted
        for key, value in wanted.items():
            plan.changes.append(_change(key, getattr(report, key) if report else None, value))

    def _check_figures(self, rows: list[RowPlan]) -> None:
        """The sanity checks of every figure the import sets or changes, in one call: a refusal is
        an error on its row, warnings mark the figure's change for the user to confirm. A row that
        also sets the total investment or the plan is checked against those."""
        restated = [row for row in rows if row.report_restated]
        verdicts = checks.check_figures(
            [
                checks.Proposed(
                    row.project or Project(),
                    self.year,
                    self.month,
                    row.report["completed_investment"],
                    total=row.project_data.get("total_investment"),
                    plan=row.plan,
                )
                for row in restated
            ]
        )
        column = "month" if "month" in self.sheet.columns else "ytd"
        for row, verdict in zip(restated, verdicts, strict=True):
            amount = row.report["completed_investment"]
            if verdict.refusal is not None:
                for message in verdict.refusal.messages:
                    self.error(row.row, column, amount, message)
                continue
            if not verdict.warnings:
                continue
            row.figure_warnings = verdict.warnings
            change = next(c for c in row.changes if c.field == "completed_investment")
            change.warnings = tuple(
                {"code": str(w.code), "label": w.label, "message": w.message} for w in verdict.warnings
            )

    def _month_figure(self, row: int, values: dict, pk, report) -> Decimal | None | bool:
        """The month's completed investment the row gives, None when it gives none, False after an
        error: 本月完成投资 when the file has that column, else 1—N月累计 less the earlier months."""
        month_value, ytd_value = values.get("month"), values.get("ytd")
        if ytd_value is None:
            return month_value
        recorded = self.prior_all[pk]
        if month_value is not None:
            if all(ytd_value != self._prior(pk, counting) + month_value for counting in COUNTINGS):
                self._ytd_warning(
                    row,
                    ytd_value,
                    _(
                        "does not equal the earlier months' %(recorded)s plus this month's %(month)s: "
                        "this month's figure is imported"
                    )
                    % {"recorded": recorded, "month": month_value},
                )
            return month_value
        stored = report.completed_investment if report else Decimal(0)
        if any(
            ytd_value == self._prior(pk, counting) + (stored if report and report.status in counting else 0)
            for counting in COUNTINGS
        ):
            return None  # what is recorded, counted one way or another: nothing to change
        if "month" in self.sheet.columns:
            self._ytd_warning(
                row,
                ytd_value,
                _(
                    "does not equal what is recorded for the year (%(recorded)s), and this month's cell "
                    "is blank: nothing is imported for the month"
                )
                % {"recorded": recorded + (stored if report else 0)},
            )
            return None
        month_value = ytd_value - recorded
        if month_value < 0:
            self.error(
                row,
                "ytd",
                ytd_value,
                _("the year-to-date figure is below the %(recorded)s already recorded for earlier months")
                % {"recorded": recorded},
            )
            return False
        return month_value

    def _ytd_warning(self, row: int, value, message: str) -> None:
        self.warnings.append(
            Issue(
                row=row,
                column=self.sheet.headers["ytd"],
                value=importing.cell_text(value),
                message=message,
            )
        )


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    with translation.override("zh-hans"):
        return str(value)


# --- Applying ---------------------------------------------------------------------------


@transaction.atomic
def apply(
    ledger: LedgerPreview,
    *,
    user,
    reason: str,
    confirm_erasures: bool = False,
    confirm_warnings: bool = False,
) -> dict[str, int]:
    """Write a preview with no errors: every row, or (on any failure) none. Figures it lowers to
    zero are written only with ``confirm_erasures``, figures the sanity checks hold back only with
    ``confirm_warnings`` (the user ticked them off in the preview).

    The caller re-plans inside this transaction (``preview`` then ``apply``) so what is
    written is checked against the data as it is now."""
    importing.ensure_importable(ledger, confirm_erasures=confirm_erasures, confirm_warnings=confirm_warnings)
    now = timezone.now()
    history = importing.history_options(user=user, reason=reason, now=now)
    refs = _create_refs(ledger, user=user, history=history)
    created, updated, moves = [], [], []
    # The stage changes this import records, as the services record them.
    move = functools.partial(
        services.stage_change, changed_on=timezone.localdate(now), user=user, reason=reason
    )
    staff = has_role(user, Role.STAFF) and not has_role(user, Role.ADMIN)
    # Lock the projects to update in one query, and refuse if any was saved since it was read.
    wanted = {row.project.pk: row.project.version for row in ledger.updated}
    locked = {p.pk: p for p in Project.objects.select_for_update().filter(pk__in=wanted)}
    if any(locked[pk].version != version for pk, version in wanted.items()):
        raise ValidationError(
            _("A project changed while the import was being confirmed; preview the file again.")
        )
    for row in ledger.rows:
        if row.action == "unchanged":
            continue
        data = importing.with_created(row.project_data, row.refs, refs)
        if row.project is None:
            project = Project(stage=row.stage or Stage.PLANNING, **data)
            if staff:
                project.staff_in_charge = user
            _check_fields(project)
            created.append((row, project))
        else:
            project = locked[row.project.pk]
            for name, value in data.items():
                setattr(project, name, value)
            if row.stage is not None:
                moves.append(move(project, to_stage=row.stage))
                project.stage = row.stage
            if data or row.stage is not None:
                _check_fields(project)
                project.version += 1
                project.updated_at = now
                updated.append(
                    (
                        row,
                        project,
                        [*data, *(["stage"] if row.stage is not None else []), "version", "updated_at"],
                    )
                )
            row.project = project
    with importing.database_refusal():
        _write_projects(created, updated, moves, history, move=move)
        _write_plans(ledger, history, user=user, now=now)
        _write_reports(ledger, history, user=user, now=now)
    return ledger.counts()


def _check_fields(obj) -> None:
    """Field and model rules, without the per-row queries of full_clean: the related objects were
    looked up (or created) in bulk, and the database's constraints back the unique rules."""
    relations = [f.name for f in obj._meta.concrete_fields if f.is_relation]
    obj.clean_fields(exclude=relations)
    obj.clean()


def _create_refs(ledger: LedgerPreview, *, user, history) -> dict[str, dict[str, object]]:
    return {
        "enterprise": importing.create_named(
            Enterprise, ledger.new_enterprises, history, check=_check_fields
        ),
        "responsible_unit": importing.create_named(Department, ledger.new_units, history),
        "responsible_leader": importing.create_named(Leader, ledger.new_leaders, history),
    }


def _write_projects(created, updated, moves: list[StageChange], history, *, move) -> None:
    """The projects created and changed, and the stage changes they record: each new project's
    starting stage (``move`` makes it), then ``moves``, the stage changes of projects moved on."""
    projects = bulk_create_with_history([p for _r, p in created], Project, batch_size=500, **history)
    changes = []
    for (row, _old), project in zip(created, projects, strict=True):
        row.project = project
        changes.append(move(project, to_stage=project.stage, starting=True))
    by_fields = defaultdict(list)
    for _row, project, fields in updated:
        by_fields[tuple(sorted(set(fields)))].append(project)
    for fields, objs in by_fields.items():
        bulk_update_with_history(objs, Project, list(fields), batch_size=500, **history)
    StageChange.objects.bulk_create([*changes, *moves], batch_size=1000)


def _write_plans(ledger: LedgerPreview, history, *, user, now) -> None:
    new, changed = [], []
    for row in ledger.rows:
        if row.plan is None or row.action == "unchanged":
            continue
        if row.plan_obj is None:
            new.append(AnnualPlan(project=row.project, year=ledger.year, planned_investment=row.plan))
        else:
            plan = row.plan_obj
            plan.planned_investment = row.plan
            plan.updated_at = now
            changed.append(plan)
    bulk_create_with_history(new, AnnualPlan, batch_size=1000, **history)
    bulk_update_with_history(
        changed, AnnualPlan, ["planned_investment", "updated_at"], batch_size=1000, **history
    )


def _write_reports(ledger: LedgerPreview, history, *, user, now) -> None:
    """The month's reports: created, or changed. A report takes the import's status only when its
    figure is set or changed (``row.report_restated``); otherwise just its texts are written."""
    if ledger.report_status == ProgressStatus.APPROVED:  # a reviewer's import approves as it submits
        review = services.reviewed(ProgressStatus.APPROVED, user, now, history["default_change_reason"])
    else:  # a report submitted anew carries no earlier review
        review = services.reviewed(ProgressStatus.SUBMITTED, None, None)
    status_fields = {**services.submitted(user, now), **review}
    new, restated, retexted = [], [], []
    existing_ids = [row.report_obj.pk for row in ledger.rows if row.report is not None and row.report_obj]
    locked = {r.pk: r for r in MonthlyProgress.objects.select_for_update().filter(pk__in=existing_ids)}
    for row in ledger.rows:
        if row.report is None:
            continue
        status = status_fields if row.report_restated else {}
        if row.report_obj is None:
            report = MonthlyProgress(
                project=row.project, year=ledger.year, month=ledger.month, **row.report, **status
            )
            _check_fields(report)
            new.append(report)
        else:
            report = locked[row.report_obj.pk]
            if report.version != row.report_obj.version:
                raise ValidationError(
                    _(
                        "A monthly report changed while the import was being confirmed; "
                        "preview the file again."
                    )
                )
            for name, value in {**row.report, **status}.items():
                setattr(report, name, value)
            report.version += 1
            report.updated_at = now
            (restated if row.report_restated else retexted).append(report)
        if row.figure_warnings:
            # The history row says the figure was confirmed; the import itself is its history_import.
            confirmed = checks.confirmation_reason(row.figure_warnings)
            report._change_reason = f"{confirmed}；{history['default_change_reason']}"[:100]
    bulk_create_with_history(new, MonthlyProgress, batch_size=1000, **history)
    texts = ["completed_investment", "physical_progress", "problems", "version", "updated_at"]
    bulk_update_with_history(restated, MonthlyProgress, [*texts, *status_fields], batch_size=1000, **history)
    bulk_update_with_history(retexted, MonthlyProgress, texts, batch_size=1000, **history)


def preview_text(result) -> list[str]:
    """A preview (of a ledger or an enterprise list) as lines of text, for the command line."""
    lines = [
        *result.notes(),
        f"新建 {len(result.created)} 行，更新 {len(result.updated)} 行，无变化 {len(result.unchanged)} 行，"
        f"有错误的行 {result.error_rows} 行，跳过小计/合计/标题行 {result.skipped} 行",
    ]
    if result.unknown_headers:
        lines.append(f"未识别的列（不导入）：{'、'.join(result.unknown_headers)}")
    for row in result.created:
        lines.append(f"第{row.row}行 新建：{row.name}")
    for row in result.updated:
        changes = "；".join(f"{c.label} {c.old} → {c.new}" for c in row.changes)
        lines.append(f"第{row.row}行 更新：{row.name}：{changes}")
    erasures = result.erasures
    if erasures:
        lines.append(_("Figures to be set to zero or cleared: %(count)s") % {"count": len(erasures)})
        for row, change in erasures:
            shown = {"row": row.row, "name": row.name, "label": change.label}
            shown.update(old=change.old, new=change.new)
            lines.append(_("Row %(row)s, %(name)s: %(label)s %(old)s → %(new)s") % shown)
    held = result.held
    if held:
        lines.append(_("Figures to check: %(count)s") % {"count": len(held)})
        for row, change in held:
            shown = {"row": row.row, "name": row.name, "label": change.label, "new": change.new}
            shown["warnings"] = "；".join(f"{w['label']}：{w['message']}" for w in change.warnings)
            lines.append(_("Row %(row)s, %(name)s: %(label)s %(new)s: %(warnings)s") % shown)
    for issue in getattr(result, "warnings", []):
        lines.append(f"第{issue.row}行 提示：{issue.column}「{issue.value}」{issue.message}")
    for issue in result.errors:
        lines.append(f"第{issue.row}行 错误：{issue.column}「{issue.value}」{issue.message}")
    return lines
