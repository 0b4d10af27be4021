"""A generated zone — or a whole province — for benchmarks and trials at scale.

``manage.py generate_data`` calls :func:`generate`. It writes parks, clusters, units, leaders and
users through the ORM (a few hundred rows), then streams everything else straight to the database
in batches: COPY on PostgreSQL, ``executemany`` on SQLite. Primary keys are handed out here, so
children can point at parents that are still in a buffer (a child's batch flushes its parents'
first). Every tracked row gets its history row afterwards, one ``INSERT … SELECT`` per table and
range of ids, stamped as made by a command in one bulk operation (``history_type`` "+"); the
many-to-many links (honours, visitors, user groups) get theirs too.

The data follow the rules the services enforce: stages, dates and approval procedures in order,
plans and monthly figures that fit each project's total investment, report statuses by month
(older months approved, the last two partly submitted, returned or draft), problem tickets played
through the "13710" clock (``problems.deadlines``) up to the moment of generation, with their
timelines. Names and texts come from ``demo.demo_data``. The same seed on the same day gives
the same data: the story is cut at the start of the day, not at the second it runs.
"""

from __future__ import annotations

import datetime
import functools
import io
import itertools
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from core import history, roles
from core.models import User
from demo import demo_data
from demo.management.commands import load_demo
from enterprises.models import Enterprise, EnterpriseYearlyFigure, Honour
from enterprises.validators import CREDIT_CODE_CHARSET, credit_code_check_char
from problems import deadlines
from problems.choices import (
    LEVEL_ORDER,
    ClosureGrade,
    EventKind,
    Fence,
    ProblemCategory,
    ProblemLevel,
    ProblemSource,
    Satisfaction,
    TicketStatus,
)
from problems.models import ProblemTicket, TicketEvent, Visit
from projects import services as project_services
from projects.choices import (
    BatchRole,
    Level,
    MilestoneKind,
    MilestoneStatus,
    Nature,
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
    MonthPublication,
    Project,
    StageChange,
)
from reference.models import Cluster, Department, Industry, Leader, Park

BATCH_SIZE = 10_000
HISTORY_CHUNK = 250_000


@dataclass(frozen=True)
class Profile:
    """How much to generate: projects, enterprises, years of monthly progress, problem tickets."""

    projects: int
    enterprises: int
    years: int
    tickets: int

    def __post_init__(self):
        if self.projects < 0 or self.enterprises < 0 or self.tickets < 0:
            raise ValueError(_("Counts cannot be negative."))
        if not 1 <= self.years <= 20:
            raise ValueError(_("Years must be between 1 and 20."))
        if self.projects and not self.enterprises:
            raise ValueError(_("Projects need at least one enterprise to build them."))
        if self.tickets and not self.enterprises:
            raise ValueError(_("Problem tickets need at least one enterprise."))


PROFILES = {
    "zone": Profile(projects=500, enterprises=1_000, years=2, tickets=1_000),
    "province": Profile(projects=50_000, enterprises=100_000, years=5, tickets=200_000),
}


class GenerationRefused(Exception):
    """The database is not one the generator may add to; nothing was written."""


@dataclass
class Result:
    counts: dict[str, int]
    seconds: float
    admin_username: str
    admin_password: str
    first_year: int
    last_period: tuple[int, int]


Progress = Callable[[str, int, int], None]

# --- Words ---------------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力斌"
    "宇浩凯鹏飞俊峰晨阳雪梅志国海波东林亮晓光荣新春永成立宏博翔鑫振启恒"
)
TRADE_CHARS = (
    "华鑫恒泰盛源丰瑞达通宏远金诚信德隆昌兴旺佳联创众合睿博"
    "宇航润康益嘉晟豪鼎新力中豫龙凯星辰安顺永茂祥和天弘亿腾"
)
PLACES = ["河南", "周口", "河南省", "周口市", "河南中原", ""]
FORMS = ["有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司"]
INDUSTRY_WORDS = {
    "食品加工": ["食品", "食业", "食品科技"],
    "粮油加工": ["粮油", "面业", "油脂", "粮食"],
    "电子信息制造": ["电子", "光电", "智能科技"],
    "数字经济": ["数字科技", "信息技术", "网络科技"],
    "电子商务": ["电子商务", "网络科技", "供应链管理"],
    "金属新材料": ["铝业", "新材料", "金属材料"],
    "钢结构": ["钢构", "钢结构", "建筑科技"],
    "装备制造": ["机械", "装备制造", "精密机械"],
    "生物技术": ["生物科技", "生物工程"],
    "医药制造": ["药业", "制药"],
    "医药流通": ["医药", "医药物流"],
    "健康服务": ["健康管理", "医疗科技"],
}
GENERIC_WORDS = ["实业", "科技", "新材料"]
PRODUCTS = {
    "健康食品": [
        "年产{n}万吨小麦粉生产线",
        "年产{n}万吨挂面及方便食品",
        "休闲食品智能化生产基地",
        "年产{n}万吨食用油精炼",
        "速冻食品冷链加工",
        "年产{n}万吨饮料生产线",
    ],
    "电子信息": [
        "智能终端产业园",
        "5G通信设备生产基地",
        "年产{n}万台智能终端",
        "电子元器件生产线",
        "数据中心及云计算平台",
        "电商直播基地",
    ],
    "新型材料": [
        "年产{n}万吨高性能铝型材",
        "年产{n}万吨铝合金板带箔",
        "装配式钢结构生产基地",
        "年产{n}万吨新型建材",
        "新能源汽车零部件生产线",
        "智能装备制造基地",
    ],
    "生物医药": [
        "现代中药生产基地",
        "生物制剂研发及产业化",
        "医疗器械生产线",
        "年产{n}吨原料药",
        "医药物流中心",
        "健康产业园",
    ],
}
GENERIC_PRODUCTS = ["标准化厂房及配套设施", "智能化生产线技术改造", "研发中心及检测平台"]
BUILDINGS = ["生产车间", "标准化厂房", "综合仓库", "研发楼", "办公楼", "职工宿舍", "污水处理站"]
EQUIPMENT = ["自动化生产线", "智能仓储系统", "检测设备", "环保设施", "数控加工设备"]
ROADS = [
    "中原路",
    "文昌大道",
    "太昊路",
    "周商路",
    "八一大道",
    "工农路",
    "光明路",
    "经一路",
    "纬三路",
    "淮河路",
]
CORNERS = ["东北角", "西南角", "东南侧", "西北侧"]
PRE_TEXTS = ["项目前期手续办理中", "规划设计方案编制中", "土地组卷报批中", "施工图设计审查中"]
BUILD_TEXTS = [
    "场地平整及基础施工",
    "主体结构施工",
    "钢结构吊装完成{p}%",
    "厂房封顶，内部装修施工中",
    "设备基础施工",
    "设备安装调试，完成{p}%",
    "配套工程施工中",
    "主体完工，室外管网施工",
]
RUN_TEXTS = [
    "已投产，产能逐步释放",
    "生产线稳定运行，技改设备调试",
    "达产运行，配套工程收尾",
    "二期设备采购安装中",
]
RETURN_REASONS = [
    "本月完成投资与形象进度不匹配，请核实后重新报送。",
    "缺少形象进度照片，请补充后重新提交。",
    "本月完成投资较上月增幅过大，请附支撑材料。",
]
GOALS = {
    PlanCategory.NEW_START: "完成前期手续，实现开工建设。",
    PlanCategory.CONTINUING: "完成主体工程建设，推进设备采购安装。",
    PlanCategory.DUE_TO_COMPLETE: "完成设备安装调试，实现竣工投产。",
}
VISIT_NOTES = [
    "了解企业生产经营情况和项目推进中的困难。",
    "走访生产车间，听取企业扩产计划和要素保障需求。",
    "宣讲惠企政策，收集企业诉求。",
    "召开座谈会，协调解决企业反映的问题。",
]
REPLIES = [
    "已召开协调会，明确时间节点，正在推进。",
    "已与相关部门对接，办理中。",
    "已完成现场核查，方案报批中。",
]
SEND_BACK_REASONS = ["未附办结佐证材料，请补充后再报。", "办理结果与企业诉求不一致，请进一步核实。"]
UNSATISFIED_COMMENTS = ["问题只解决了一部分，仍影响生产。", "办理时间过长，结果不理想。"]
DECLINE_REASONS = ["该事项不属于本单位职责，建议交由其他单位办理。"]
ESCALATE_REASONS = ["区级无权限协调，需市级统筹解决。", "涉及省级审批权限，需省级协调。"]
PLANS = ["分步推进：先完成方案论证，再报批实施，按承诺时限办结。"]
EXTRA_PARK_CITIES = [
    "郑州",
    "洛阳",
    "开封",
    "商丘",
    "许昌",
    "漯河",
    "驻马店",
    "信阳",
    "南阳",
    "平顶山",
    "新乡",
    "焦作",
    "安阳",
    "鹤壁",
    "濮阳",
    "三门峡",
    "济源",
    "周口",
]
EXTRA_PARK_THEMES = [
    "高新技术",
    "装备制造",
    "现代物流",
    "绿色食品",
    "新材料",
    "电子信息",
    "生物医药",
    "纺织服装",
]
LEADER_TITLES = ["管委会副主任", "党工委委员", "二级调研员", "三级调研员"]
# Which units handle which kind of problem (demo_data's short names).
CATEGORY_UNITS = {
    ProblemCategory.FINANCING: ["财政局", "经发局"],
    ProblemCategory.LABOUR: ["人社局"],
    ProblemCategory.LAND: ["自然资源和规划局"],
    ProblemCategory.APPROVALS: ["自然资源和规划局", "住建局", "经发局", "生态环境分局"],
    ProblemCategory.UTILITIES: ["经发局"],
    ProblemCategory.INFRASTRUCTURE: ["住建局"],
    ProblemCategory.POLICY: ["财政局", "经发局", "招商局", "税务局"],
    ProblemCategory.MARKET: ["经发局", "招商局"],
    ProblemCategory.LEGACY: ["自然资源和规划局", "党政办"],
    ProblemCategory.OTHER: ["营商办"],
}
UNIT_WEIGHTS = {"经发局": 30, "招商局": 25, "住建局": 10, "自然资源和规划局": 10}

STAGE_WEIGHTS = {
    Stage.PLANNING: 5,
    Stage.RESERVE: 5,
    Stage.SIGNED: 8,
    Stage.LANDED: 7,
    Stage.STARTED: 8,
    Stage.UNDER_CONSTRUCTION: 35,
    Stage.IN_PRODUCTION: 16,
    Stage.AT_CAPACITY: 9,
    Stage.IN_STATISTICS: 7,
}
LEVEL_WEIGHTS = {Level.PROVINCIAL: 8, Level.MUNICIPAL: 20, Level.ZONE: 30, Level.ORDINARY: 42}
# Total investment range per level, 万元.
LEVEL_INVESTMENT = {
    Level.PROVINCIAL: (50_000, 500_000),
    Level.MUNICIPAL: (20_000, 200_000),
    Level.ZONE: (5_000, 80_000),
    Level.ORDINARY: (1_000, 30_000),
}
NATURE_WEIGHTS = {
    Nature.NEW: 55,
    Nature.EXPANSION: 20,
    Nature.RENOVATION: 15,
    Nature.REBUILD: 5,
    Nature.RELOCATION: 5,
}
CATEGORY_WEIGHTS = {
    ProblemCategory.APPROVALS: 20,
    ProblemCategory.INFRASTRUCTURE: 15,
    ProblemCategory.LAND: 14,
    ProblemCategory.POLICY: 10,
    ProblemCategory.UTILITIES: 10,
    ProblemCategory.FINANCING: 9,
    ProblemCategory.LABOUR: 8,
    ProblemCategory.MARKET: 6,
    ProblemCategory.LEGACY: 4,
    ProblemCategory.OTHER: 4,
}
SOURCE_WEIGHTS = {
    ProblemSource.VISIT: 60,
    ProblemSource.HOTLINE: 15,
    ProblemSource.MEETING: 10,
    ProblemSource.SELF_REPORTED: 10,
    ProblemSource.OTHER: 5,
}
HONOUR_SHARES = [0.005, 0.03, 0.08, 0.01, 0.05]  # in the order of demo_data.HONOURS
# The grade an office gives on closure; "" when it gives none.
GRADES = [ClosureGrade.EXCELLENT, ClosureGrade.GOOD, ClosureGrade.GOOD, ClosureGrade.PASS, "", ""]
# Spending by month: little around the Spring Festival, a push before the year ends.
SEASON = [0.45, 0.55, 0.95, 1.0, 1.05, 1.05, 1.0, 1.0, 1.05, 1.05, 1.15, 1.4]
SEASON_TOTAL = sum(SEASON)
# Days between a procedure's approval and the project's start (negative: before it): load_demo's,
# with the filing the demo's projects already have.
DAYS_BEFORE_START = {MilestoneKind.PROJECT_FILING: -150, **load_demo.DAYS_BEFORE_START}
LAND_KINDS = (MilestoneKind.LAND_PREAPPROVAL, MilestoneKind.LAND_USE_PLANNING, MilestoneKind.LAND_TITLE)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def _weighted(mapping: dict) -> tuple[list, list]:
    return list(mapping), list(itertools.accumulate(mapping.values()))


def _demo_problem_texts():
    """Titles and resolutions of the demo's problems, by category."""
    titles, resolutions = {}, {}
    rows = [p for visit in demo_data.VISITS_2021 for p in visit["problems"]] + demo_data.CURRENT_PROBLEMS
    for row in rows:
        titles.setdefault(row["category"], []).append(row["title"])
        text = row.get("resolution")
        if text:
            resolutions.setdefault(row["category"], []).append(text)
    return titles, resolutions


def _demo_progress_problems() -> list[str]:
    return [text for row in demo_data.PROJECTS for text in row.get("problems", {}).values()]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# --- Writing rows --------------------------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _pg_format(field: models.Field):
    if isinstance(field, models.BooleanField):
        return lambda v: "\\N" if v is None else ("t" if v else "f")
    if isinstance(field, models.DateTimeField):
        return lambda v: "\\N" if v is None else v.isoformat(" ") + "+00"
    if isinstance(field, models.DateField):
        return lambda v: "\\N" if v is None else v.isoformat()
    if isinstance(field, models.CharField | models.TextField):
        return lambda v: "\\N" if v is None else v.translate(_COPY_ESCAPES)
    return lambda v: "\\N" if v is None else str(v)


def _sqlite_format(field: models.Field):
    # Datetimes are naive UTC here, the way Django stores them in SQLite.
    if isinstance(field, models.DateTimeField | models.DateField):
        return lambda v: (
            None if v is None else v.isoformat(" ") if isinstance(v, datetime.datetime) else v.isoformat()
        )
    if isinstance(field, models.BooleanField):
        return lambda v: None if v is None else int(v)
    return lambda v: v


class Sink:
    """Rows for one table, written in batches; ``parents`` are flushed first (foreign keys)."""

    def __init__(self, writer: Writer, model, columns: list[str], parents=()):
        self.writer, self.model, self.columns, self.parents = writer, model, columns, parents
        self.table = model._meta.db_table
        by_column = {f.column: f for f in model._meta.concrete_fields}
        make = _pg_format if writer.postgres else _sqlite_format
        self.formats = [make(by_column[name]) for name in columns]
        self.rows: list[tuple] = []
        self.count = 0
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        if writer.postgres:
            self.sql = f"COPY {connection.ops.quote_name(self.table)} ({quoted}) FROM STDIN"
        else:
            marks = ", ".join(["%s"] * len(columns))
            self.sql = f"INSERT INTO {connection.ops.quote_name(self.table)} ({quoted}) VALUES ({marks})"

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        for parent in self.parents:
            parent.flush()
        if not self.rows:
            return
        formats = self.formats
        with connection.cursor() as cursor:
            if self.writer.postgres:
                lines = ["\t".join([f(v) for f, v in zip(formats, row, strict=True)]) for row in self.rows]
                lines.append("")
                cursor.cursor.copy_expert(self.sql, io.StringIO("\n".join(lines)))
            else:
                cursor.executemany(
                    self.sql, [[f(v) for f, v in zip(formats, row, strict=True)] for row in self.rows]
                )
        self.count += len(self.rows)
        self.rows = []


class Writer:
    """Hands out primary keys and keeps the sinks; one per run."""

    def __init__(self, progress: Progress | None):
        self.postgres = connection.vendor == "postgresql"
        self.progress = progress
        self.sinks: list[Sink] = []
        self.first_ids: dict[type, int] = {}
        self.step, self.done, self.total = "", 0, 0
        self.step_started = 0.0
        self.log: Callable[[str], None] | None = None

    def sink(self, model, columns, parents=()) -> Sink:
        sink = Sink(self, model, columns, parents)
        self.sinks.append(sink)
        return sink

    def next_id(self, model) -> int:
        """The first free id of the table; the caller counts on from there."""
        top = model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0
        self.first_ids[model] = top + 1
        return top + 1

    def begin(self, step: str, total: int) -> None:
        self.finish()
        self.step, self.done, self.total = step, 0, total
        self.step_started = time.perf_counter()
        self.report()

    def finish(self) -> None:
        """Say how long the step took (on ``stdout``, when given)."""
        if self.step and self.log is not None:
            self.log(f"{self.step}: {self.done:,} in {time.perf_counter() - self.step_started:.1f} s")
            self.step = ""

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.done % 1000 == 0 or self.done == self.total:
            self.report()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.step, min(self.done, self.total), self.total)

    def flush_all(self) -> None:
        for sink in self.sinks:
            sink.flush()


# --- Time ----------------------------------------------------------------------------------------


class Clock:
    """Local days and times, kept as naive UTC datetimes (cheap to add to and to format)."""

    def __init__(self, as_of: datetime.datetime):
        self.zone = ZoneInfo(settings.TIME_ZONE)
        local = as_of.astimezone(self.zone)
        # The story stops at the start of the day: the same seed gives the same data all day.
        self.today = local.date()
        self.cut = self.at(self.today, 0)

    @functools.lru_cache(maxsize=65_536)  # noqa: B019 (one clock per run)
    def at(self, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
        local = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
        return local.astimezone(datetime.UTC).replace(tzinfo=None)

    def local_day(self, moment: datetime.datetime) -> datetime.date:
        return moment.replace(tzinfo=datetime.UTC).astimezone(self.zone).date()

    def aware(self, moment: datetime.datetime) -> datetime.datetime:
        return moment.replace(tzinfo=datetime.UTC)


@functools.lru_cache(maxsize=16_384)
def _dues(day: datetime.date, major: bool) -> deadlines.Dues:
    return deadlines.dues_from(day, major=major)


@functools.lru_cache(maxsize=16_384)
def _resolve_due(day: datetime.date, major: bool) -> datetime.date:
    return deadlines.resolve_due(day, major=major)


@functools.lru_cache(maxsize=16_384)
def _review_due(day: datetime.date) -> datetime.date:
    return deadlines.review_due(day)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, min(day.day, 28))


# --- The run -------------------------------------------------------------------------------------


@dataclass
class _Org:
    """Reference rows the bulk part points at."""

    units: dict[str, int] = field(default_factory=dict)  # short name → id
    unit_ids: list[int] = field(default_factory=list)
    parks: list[tuple[int, str]] = field(default_factory=list)
    industries: list[tuple[int, str, str]] = field(default_factory=list)  # id, name, cluster name
    leaders: list[int] = field(default_factory=list)
    honours: list[int] = field(default_factory=list)
    staff: dict[int, list[int]] = field(default_factory=dict)  # unit id → staff user ids
    handlers: dict[int, list[int]] = field(default_factory=dict)  # unit id → unit user ids
    reviewers: list[int] = field(default_factory=list)
    office: list[int] = field(default_factory=list)
    batches: list[tuple[int, datetime.date]] = field(default_factory=list)
    admin: User | None = None


@dataclass
class _Enterprise:
    short_name: str
    industry: int
    cluster: str
    park: int
    leader: int | None
    unit: int | None


def generate(
    profile: Profile,
    *,
    seed: int,
    progress: Progress | None = None,
    stdout=None,
    append: bool = False,
    as_of: datetime.datetime | None = None,
) -> Result:
    """Generate ``profile``'s data; refuses (GenerationRefused) a database with projects unless
    ``append``. ``progress(step, done, total)`` is called as the work advances."""
    started = time.perf_counter()
    run = _Run(profile, seed=seed, progress=progress, stdout=stdout, as_of=as_of or timezone.now())
    with transaction.atomic(), history.recording(origin=history.Origin.COMMAND, batch=True) as context:
        if Project.objects.exists() and not append:
            raise GenerationRefused(
                _(
                    "The database already has projects: the generator only fills an empty one. "
                    "Use --append to add a second set beside them."
                )
            )
        run.batch = context.batch
        run.go()
    if run.writer.postgres:
        # After a bulk load the planner knows nothing of the new rows until autovacuum comes round,
        # and no page is marked all-visible, so the dashboard's index-only scans would still read
        # every row from the table (bench/RESULTS.md: 550 ms before VACUUM). VACUUM cannot run
        # inside a transaction (the tests' own), where ANALYZE alone is done.
        tables = sorted(run.analyze_tables)
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        run.writer.begin(_("Planner statistics (ANALYZE)"), len(tables))
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"{command} {connection.ops.quote_name(table)}")
                run.writer.advance()
    run.writer.finish()
    return Result(
        counts=run.counts,
        seconds=time.perf_counter() - started,
        admin_username=run.org.admin.username,
        admin_password=run.admin_password,
        first_year=run.first_year,
        last_period=run.last_period,
    )


class _Run:
    def __init__(self, profile, *, seed, progress, stdout, as_of):
        self.profile, self.seed, self.stdout = profile, seed, stdout
        self.writer = Writer(progress)
        self.writer.log = self.note
        self.clock = Clock(as_of)
        today = self.clock.today
        self.last_period = (today.year, today.month)
        self.first_year = today.year - profile.years + 1
        self.org = _Org()
        self.counts: dict[str, int] = {}
        self.analyze_tables: set[str] = set()
        self.batch: uuid.UUID | None = None
        self.admin_password = ""
        self.titles, self.resolutions = _demo_problem_texts()
        self.report_problems = _demo_progress_problems()

    def rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{part}")

    def note(self, text: str) -> None:
        if self.stdout is not None:
            self.stdout.write(text)

    def go(self) -> None:
        if self.writer.postgres:
            with connection.cursor() as cursor:
                # Foreign keys checked per statement, not queued to the commit for millions of rows.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.reference()
        self.users()
        enterprises = self.enterprises()
        owned = self.projects(enterprises)
        self.publish_months()
        self.tickets(enterprises, owned)
        self.writer.flush_all()
        self.reset_sequences()
        self.write_history()
        for sink in self.writer.sinks:
            self.counts[sink.model._meta.db_table] = (
                self.counts.get(sink.model._meta.db_table, 0) + sink.count
            )
            self.analyze_tables.add(sink.table)

    def publish_months(self) -> None:
        """Every month before the last but one is all approved, so published (月报发布); the last
        but one is still being reviewed and the month under way is being reported. Through the ORM:
        a few hundred rows at most, their history by the usual signals."""
        last_year, last_month = self.last_period
        previous = (last_year, last_month - 1) if last_month > 1 else (last_year - 1, 12)
        reviewer = User.objects.get(pk=self.org.reviewers[0])
        published = set(MonthPublication.objects.values_list("year", "month"))
        for year in range(self.first_year, last_year + 1):
            for month in range(1, 13):
                if (year, month) >= previous or (year, month) in published:
                    continue
                publication = MonthPublication(
                    year=year,
                    month=month,
                    published_by=reviewer,
                    published_at=self.clock.aware(
                        self.clock.at(datetime.date(year + month // 12, month % 12 + 1, 10), 9)
                    ),
                )
                publication._history_user = reviewer
                publication.save()
                self.counts[MonthPublication._meta.db_table] = (
                    self.counts.get(MonthPublication._meta.db_table, 0) + 1
                )

    # --- Reference data through the ORM (history rows by the usual signals) ---------------------

    def reference(self) -> None:
        self.writer.begin(_("Reference data"), 1)
        rng = self.rng("reference")
        org = self.org
        for row in demo_data.DEPARTMENTS:
            unit, _new = Department.objects.get_or_create(
                name=row["name"], defaults={"short_name": row["short_name"]}
            )
            org.units[unit.short_name or unit.name] = unit.pk
        org.unit_ids = sorted(org.units.values())
        park_names = [row["name"] for row in demo_data.PARKS]
        extra = max(0, self.profile.projects // 500 - len(park_names))
        for theme, city in itertools.product(EXTRA_PARK_THEMES, EXTRA_PARK_CITIES):
            if extra <= 0:
                break
            if f"{city}{theme}产业园" not in park_names:
                park_names.append(f"{city}{theme}产业园")
                extra -= 1
        demo_parks = {row["name"]: row for row in demo_data.PARKS}
        for name in park_names:
            row = demo_parks.get(name, {})
            park, _new = Park.objects.get_or_create(
                name=name, defaults={"alias": row.get("alias", ""), "description": row.get("description", "")}
            )
            org.parks.append((park.pk, park.name))
        for row in demo_data.CLUSTERS:
            cluster, _new = Cluster.objects.get_or_create(
                name=row["name"], defaults={"description": row["description"]}
            )
            for item in row["industries"]:
                industry, _new = Industry.objects.get_or_create(
                    name=item["name"],
                    defaults={
                        "cluster": cluster,
                        "is_leading": item.get("is_leading", False),
                        "is_strategic_emerging": item.get("is_strategic_emerging", False),
                    },
                )
                org.industries.append((industry.pk, industry.name, cluster.name))
        for name, rank in demo_data.HONOURS:
            org.honours.append(Honour.objects.get_or_create(name=name, defaults={"rank": rank})[0].pk)
        office = org.units.get("党政办", org.unit_ids[0])
        wanted = [(row["name"], row["title"]) for row in demo_data.LEADERS]
        seen = set(wanted)
        while len(wanted) < max(len(demo_data.LEADERS), self.profile.projects // 1000):
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            key = (name, rng.choice(LEADER_TITLES))
            if key not in seen:
                seen.add(key)
                wanted.append(key)
        for name, title in wanted:
            leader, _new = Leader.objects.get_or_create(
                name=name, title=title, defaults={"department_id": office}
            )
            org.leaders.append(leader.pk)
        # Henan's "三个一批" batches come once a quarter; numbered on from any already there.
        first = datetime.date(self.first_year - 1, 3, 28)
        number = (Batch.objects.aggregate(top=models.Max("number"))["top"] or 0) + 1
        existing = {b.announced_on: b for b in Batch.objects.exclude(announced_on=None)}
        day = first
        while day <= self.clock.today:
            batch = existing.get(day)
            if batch is None:
                batch = Batch.objects.create(
                    number=number, announced_on=day, note=f"第{number}期“三个一批”项目建设活动"
                )
                number += 1
            org.batches.append((batch.pk, day))
            day = _add_months(day, 3)
        self.writer.advance()

    def users(self) -> None:
        """A realistic set of accounts per unit; only the administrator can log in."""
        org, profile = self.org, self.profile
        self.writer.begin(_("Users"), 1)
        rng = self.rng("users")
        roles.sync_role_groups()
        groups = {role: roles.role_group(role) for role in roles.GROUP_NAMES}
        prefix = "gen"
        if User.objects.filter(username="gen_admin").exists():
            prefix = next(
                f"gen{k}"
                for k in itertools.count(2)
                if not User.objects.filter(username=f"gen{k}_admin").exists()
            )
        created = 0

        def make(username, role, unit, **extra):
            nonlocal created
            user = User(
                username=f"{prefix}_{username}",
                display_name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
                department_id=unit,
                is_staff=True,
                **extra,
            )
            if role == roles.Role.ADMIN:
                self.admin_password = (
                    get_random_string(6) + get_random_string(2, "0123456789") + get_random_string(6)
                )
                user.set_password(self.admin_password)
            else:
                user.set_unusable_password()
            history.save_with_links(user, {"groups": [] if role == roles.Role.ADMIN else [groups[role]]})
            created += 1
            return user

        office = org.units.get("党政办", org.unit_ids[0])
        org.admin = make("admin", roles.Role.ADMIN, office, is_superuser=True)
        per_unit_staff = max(1, -(-profile.projects // (100 * len(org.unit_ids))))
        per_unit_handlers = max(1, profile.tickets // (2_000 * len(org.unit_ids)))
        for unit in org.unit_ids:
            index = org.unit_ids.index(unit) + 1
            org.staff[unit] = [
                make(f"staff_{index}_{i + 1}", roles.Role.STAFF, unit).pk for i in range(per_unit_staff)
            ]
            org.handlers[unit] = [
                make(f"unit_{index}_{i + 1}", roles.Role.UNIT, unit).pk for i in range(per_unit_handlers)
            ]
        review_unit = org.units.get("经发局", org.unit_ids[0])
        org.reviewers = [
            make(f"reviewer_{i + 1}", roles.Role.REVIEWER, review_unit).pk
            for i in range(max(1, profile.projects // 5_000))
        ]
        supervisor_unit = org.units.get("营商办", org.unit_ids[0])
        org.office = [
            make(f"office_{i + 1}", roles.Role.SUPERVISOR, supervisor_unit).pk
            for i in range(max(1, profile.tickets // 50_000 + 1))
        ]
        # Half the leaders log in to read the dashboard.
        for index, leader in enumerate(
            Leader.objects.filter(pk__in=org.leaders[::2], user=None).order_by("pk")
        ):
            user = make(f"leader_{index + 1}", roles.Role.LEADER, leader.department_id or office)
            leader.user = user
            leader.save(update_fields=["user", "updated_at"])
        self.counts[User._meta.db_table] = created
        self.writer.advance()

    # --- Enterprises -------------------------------------------------------------------------

    def enterprises(self) -> list[_Enterprise]:
        profile, org, clock = self.profile, self.org, self.clock
        rng = self.rng("enterprises")
        w = self.writer
        w.begin(_("Enterprises"), profile.enterprises)
        first_id = w.next_id(Enterprise)
        sink = w.sink(
            Enterprise,
            [
                "id",
                "name",
                "short_name",
                "parent_id",
                "credit_code",
                "legal_representative",
                "industry_id",
                "park_id",
                "address",
                "contact_person",
                "contact_phone",
                "is_above_scale",
                "on_white_list",
                "liaison_leader_id",
                "liaison_unit_id",
                "description",
                "created_at",
                "updated_at",
            ],
        )
        self.enterprise_sink = sink
        through = Enterprise.honours.through
        honours_sink = w.sink(through, ["id", "enterprise_id", "honour_id"], parents=[sink])
        honour_id = w.next_id(through)
        figures_sink = w.sink(
            EnterpriseYearlyFigure,
            ["id", "enterprise_id", "year", "output_value", "revenue", "taxes", "employees"],
            parents=[sink],
        )
        figure_id = w.next_id(EnterpriseYearlyFigure)
        used_names = set(Enterprise.objects.values_list("name", flat=True))
        used_codes = set(Enterprise.objects.exclude(credit_code=None).values_list("credit_code", flat=True))
        honour_shares = list(zip(org.honours, HONOUR_SHARES, strict=False))
        result = []
        span = (clock.today - datetime.date(self.first_year - 3, 1, 1)).days
        base_day = datetime.date(self.first_year - 3, 1, 1)
        code_space = 31**7
        for index in range(profile.enterprises):
            pk = first_id + index
            industry, industry_name, cluster = rng.choice(org.industries)
            for attempt in itertools.count():
                trade = "".join(rng.sample(TRADE_CHARS, 2))
                word = rng.choice(INDUSTRY_WORDS.get(industry_name, GENERIC_WORDS))
                place = rng.choice(PLACES)
                name = f"{place}{trade}{word}{rng.choice(FORMS)}"
                if attempt > 5:
                    name = f"{place}{trade}{word}（{attempt}）{FORMS[0]}"
                if name not in used_names:
                    break
            used_names.add(name)
            # A bijection of the id onto seven characters after "MA": distinct ids, distinct codes.
            number = (pk * 7_919 + 104_729) % code_space
            while True:
                digits = []
                for _i in range(7):
                    number, rest = divmod(number, 31)
                    digits.append(CREDIT_CODE_CHARSET[rest])
                first17 = "91411600MA" + "".join(digits)
                code = first17 + credit_code_check_char(first17)
                if code not in used_codes:
                    break
                number = (pk * 7_919 + 104_729 + len(used_codes)) % code_space
            park = rng.choice(org.parks)[0]
            leader = rng.choice(org.leaders) if rng.random() < 0.3 else None
            unit = rng.choice(org.unit_ids) if rng.random() < 0.5 else None
            above = rng.random() < 0.2
            parent = first_id + rng.randrange(index) if index > 10 and rng.random() < 0.01 else None
            created = clock.at(
                base_day + datetime.timedelta(days=rng.randrange(span // 2)), 9, rng.randrange(60)
            )
            person = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            sink.add(
                (
                    pk,
                    name,
                    f"{trade}{word}"[:50],
                    parent,
                    code,
                    person,
                    industry,
                    park,
                    f"周口经济开发区{rng.choice(ROADS)}{rng.randrange(1, 300)}号",
                    rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2)),
                    f"13{rng.randrange(100_000_000, 999_999_999)}",
                    above,
                    rng.random() < 0.05,
                    leader,
                    unit,
                    "",
                    created,
                    created,
                )
            )
            for honour, share in honour_shares:
                if rng.random() < share * (3 if above else 1):
                    honours_sink.add((honour_id, pk, honour))
                    honour_id += 1
            if above:
                output = rng.randrange(20_000, 500_000) * 100
                employees = max(20, output // 100 // rng.randrange(80, 200))
                for year in range(self.first_year, clock.today.year):
                    revenue = output * rng.randrange(90, 100) // 100
                    taxes = revenue * rng.randrange(2, 5) // 100
                    figures_sink.add(
                        (figure_id, pk, year, _money(output), _money(revenue), _money(taxes), employees)
                    )
                    figure_id += 1
                    output = output * rng.randrange(100, 116) // 100
                    employees = employees * rng.randrange(98, 110) // 100
            short = f"{trade}{word}"[:50]
            result.append(_Enterprise(short, industry, cluster, park, leader, unit))
            w.advance()
        return result

    # --- Projects and everything about them ----------------------------------------------------

    def projects(self, enterprises: list[_Enterprise]) -> dict[int, list[int]]:
        """Projects with stage history, plans, monthly progress, procedures and batches.

        Returns the projects of each enterprise (by its index), for the tickets."""
        profile, org, clock, w = self.profile, self.org, self.clock, self.writer
        rng = self.rng("projects")
        w.begin(_("Projects and monthly progress"), profile.projects)
        first_id = w.next_id(Project)
        projects = w.sink(
            Project,
            [
                "id",
                "code",
                "name",
                "enterprise_id",
                "nature",
                "industry_id",
                "park_id",
                "level",
                "construction_content",
                "total_investment",
                "land_area",
                "planned_start",
                "planned_completion",
                "actual_start",
                "actual_completion",
                "stage",
                "responsible_leader_id",
                "responsible_unit_id",
                "staff_in_charge_id",
                "on_white_list",
                "location",
                "contact_person",
                "contact_phone",
                "version",
                "created_at",
                "updated_at",
            ],
            parents=[self.enterprise_sink],
        )
        self.project_sink = projects
        changes = w.sink(
            StageChange,
            ["project_id", "from_stage", "to_stage", "changed_on", "reason", "changed_by_id", "recorded_at"],
            parents=[projects],
        )
        plans = w.sink(
            AnnualPlan,
            [
                "id",
                "project_id",
                "year",
                "planned_investment",
                "category",
                "goals",
                "created_at",
                "updated_at",
            ],
            parents=[projects],
        )
        reports = w.sink(
            MonthlyProgress,
            [
                "id",
                "project_id",
                "year",
                "month",
                "completed_investment",
                "physical_progress",
                "problems",
                "status",
                "submitted_by_id",
                "submitted_at",
                "reviewed_by_id",
                "reviewed_at",
                "review_comment",
                "version",
                "created_at",
                "updated_at",
            ],
            parents=[projects],
        )
        milestones = w.sink(
            ApprovalMilestone,
            [
                "id",
                "project_id",
                "kind",
                "phase",
                "department_id",
                "status",
                "planned_date",
                "completed_date",
                "document_number",
                "note",
                "version",
                "created_at",
                "updated_at",
            ],
            parents=[projects],
        )
        memberships = w.sink(BatchMembership, ["id", "batch_id", "project_id", "role"], parents=[projects])
        self.ids = {
            AnnualPlan: w.next_id(AnnualPlan),
            MonthlyProgress: w.next_id(MonthlyProgress),
            ApprovalMilestone: w.next_id(ApprovalMilestone),
            BatchMembership: w.next_id(BatchMembership),
        }
        self.doc_numbers: dict[tuple[str, int], int] = {}
        stage_values, stage_cum = _weighted(STAGE_WEIGHTS)
        level_values, level_cum = _weighted(LEVEL_WEIGHTS)
        nature_values, nature_cum = _weighted(NATURE_WEIGHTS)
        unit_names = list(org.units)
        unit_cum = list(itertools.accumulate(UNIT_WEIGHTS.get(name, 4) for name in unit_names))
        owned: dict[int, list[int]] = {}
        names_of: dict[int, set[str]] = {}
        # Builders: a third of the enterprises, some with several projects.
        builders = max(1, min(len(enterprises), profile.projects * 2 // 3 + 1))
        begin_from = datetime.date(self.first_year - 2, 1, 1)
        begin_span = (datetime.date(self.first_year, 1, 1) - begin_from).days - 1
        for index in range(profile.projects):
            pk = first_id + index
            ent_index = rng.randrange(builders)
            ent = enterprises[ent_index]
            enterprise_id = w.first_ids[Enterprise] + ent_index
            product = rng.choice(PRODUCTS.get(ent.cluster, GENERIC_PRODUCTS)).format(
                n=rng.choice((1, 2, 3, 5, 10, 20))
            )
            name = f"{ent.short_name}{product}项目"
            taken = names_of.setdefault(ent_index, set())
            phase = 2
            while name in taken:
                name = f"{ent.short_name}{product}{'二三四五六七八九'[min(phase - 2, 7)]}期项目"
                if phase > 9:
                    name = f"{ent.short_name}{product}项目（{phase}）"
                phase += 1
            taken.add(name)
            owned.setdefault(ent_index, []).append(pk)
            level = rng.choices(level_values, cum_weights=level_cum)[0]
            nature = rng.choices(nature_values, cum_weights=nature_cum)[0]
            low, high = LEVEL_INVESTMENT[level]
            total = int(low * (high / low) ** rng.random()) * 100  # cents of 万元, log-uniform
            land = None
            if nature in (Nature.NEW, Nature.EXPANSION, Nature.RELOCATION) or rng.random() < 0.3:
                land = max(100, total // rng.randrange(150, 600))  # cents of 亩: 150–600 万元 a mu
            stage = rng.choices(stage_values, cum_weights=stage_cum)[0]
            begin = begin_from + datetime.timedelta(days=rng.randrange(begin_span))
            path = self.stage_path(rng, stage, begin)
            dates = dict(path)
            started = dates.get(Stage.STARTED)
            produced = dates.get(Stage.IN_PRODUCTION)
            if started:
                planned_start = started + datetime.timedelta(days=rng.randrange(-30, 60))
            else:
                planned_start = clock.today + datetime.timedelta(days=rng.randrange(-60, 360))
            planned_completion = _add_months(planned_start, rng.randrange(12, 37))
            actual_completion = None
            if produced:
                actual_completion = max(started, produced - datetime.timedelta(days=rng.randrange(0, 30)))
            unit = org.units[rng.choices(unit_names, cum_weights=unit_cum)[0]]
            staff = rng.choice(org.staff[unit])
            leader = None
            if level in (Level.PROVINCIAL, Level.MUNICIPAL) or rng.random() < (
                0.8 if level == Level.ZONE else 0.4
            ):
                leader = rng.choice(org.leaders)
            park = ent.park if rng.random() < 0.9 else rng.choice(org.parks)[0]
            created = clock.at(begin, 10, rng.randrange(60))
            content = (
                f"总投资{total / 1_000_000:.2f}亿元，"
                + (f"占地约{land // 100}亩，" if land else "利用既有厂房，")
                + f"新建{'、'.join(rng.sample(BUILDINGS, 2))}，购置{rng.choice(EQUIPMENT)}，"
                f"建成后形成{product}能力。"
            )
            projects.add(
                (
                    pk,
                    f"{begin.year}-411600-{rng.randrange(13, 90)}-02-{pk:06d}",
                    name,
                    enterprise_id,
                    nature,
                    ent.industry,
                    park,
                    level,
                    content,
                    _money(total),
                    _money(land) if land else None,
                    planned_start,
                    planned_completion,
                    started,
                    actual_completion,
                    int(stage),
                    leader,
                    unit,
                    staff,
                    rng.random() < (0.25 if level == Level.PROVINCIAL else 0.04),
                    f"周口经济开发区{rng.choice(ROADS)}与{rng.choice(ROADS)}交叉口{rng.choice(CORNERS)}",
                    rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2)),
                    f"13{rng.randrange(100_000_000, 999_999_999)}",
                    1,
                    created,
                    created,
                )
            )
            previous = None
            for to_stage, on in path:
                changes.add((pk, previous, int(to_stage), on, "", staff, clock.at(on, 16)))
                previous = int(to_stage)
            self.progress_rows(
                rng, plans, reports, pk, total, dates, planned_start, planned_completion, staff
            )
            self.milestone_rows(
                rng, milestones, pk, stage, dates, planned_start, planned_completion, land, nature
            )
            self.membership_rows(rng, memberships, pk, level, stage, dates)
            w.advance()
        return owned

    def stage_path(
        self, rng: random.Random, stage: int, begin: datetime.date
    ) -> list[tuple[int, datetime.date]]:
        """The stage history: where the project began, then one step at a time up to ``stage``."""
        first = Stage.PLANNING if stage < Stage.SIGNED or rng.random() < 0.4 else Stage.SIGNED
        steps = list(range(first, stage + 1))
        if len(steps) == 1:
            return [(steps[0], begin)]
        # Reached its stage some time in the last years; the steps between spread over the way there.
        latest = (self.clock.today - begin).days - 1
        reached = rng.randrange(max(1, latest // 3), max(2, latest))
        offsets = (
            sorted(rng.sample(range(1, reached), min(len(steps) - 2, reached - 1))) if reached > 1 else []
        )
        days = [0, *offsets, reached][: len(steps)]
        while len(days) < len(steps):
            days.append(days[-1])
        return [(s, begin + datetime.timedelta(days=d)) for s, d in zip(steps, days, strict=True)]

    def progress_rows(
        self, rng, plans, reports, pk, total, dates, planned_start, planned_completion, staff
    ) -> None:
        """A plan per year and a report per month, spending fitting the plan and the total."""
        clock = self.clock
        started = dates.get(Stage.STARTED)
        produced = dates.get(Stage.IN_PRODUCTION)
        build_end = produced or max(planned_completion, clock.today + datetime.timedelta(days=90))
        # Spending while built; a little before (design, land) and after (equipment, final payments).
        build_months = (
            max(1, (build_end.year - started.year) * 12 + build_end.month - started.month + 1)
            if started
            else 0
        )
        monthly_rate = total * 85 // 100 // build_months if started else 0
        side_rate = total // 600
        lagging = rng.random() < 0.2
        spent = 0
        last_year, last_month = self.last_period
        previous = (last_year, last_month - 1) if last_month > 1 else (last_year - 1, 12)
        for year in range(self.first_year, last_year + 1):
            planned = 0
            active = []
            for month in range(1, 13):
                day = datetime.date(year, month, 15)
                if started and started <= day <= build_end:
                    rate = monthly_rate
                elif started and day > build_end:
                    rate = side_rate // 2
                else:
                    rate = side_rate
                active.append(rate)
                planned += int(rate * SEASON[month - 1] * 12 / SEASON_TOTAL)
            # A round number of 万元, a little above or below what the year's work needs.
            planned = max(100, planned * rng.randrange(85, 120) // 100 // 100 * 100) if planned else 0
            if (started or planned_start).year == year:
                category = PlanCategory.NEW_START
            elif (produced or planned_completion).year == year:
                category = PlanCategory.DUE_TO_COMPLETE
            else:
                category = PlanCategory.CONTINUING
            plan_made = clock.at(datetime.date(year - 1, 12, rng.randrange(10, 29)), 10)
            plan_id = self.ids[AnnualPlan]
            self.ids[AnnualPlan] += 1
            plans.add((plan_id, pk, year, _money(planned), category, GOALS[category], plan_made, plan_made))
            performance = rng.uniform(0.45, 0.85) if lagging else rng.uniform(0.9, 1.15)
            for month in range(1, 13):
                if (year, month) > self.last_period:
                    break
                amount = int(
                    active[month - 1]
                    * SEASON[month - 1]
                    * 12
                    / SEASON_TOTAL
                    * performance
                    * rng.uniform(0.7, 1.3)
                )
                amount = max(0, min(amount, total - spent))
                spent += amount
                day = datetime.date(year, month, 15)
                if started and started <= day:
                    texts = RUN_TEXTS if produced and produced <= day else BUILD_TEXTS
                else:
                    texts = PRE_TEXTS
                text = rng.choice(texts)
                if "{p}" in text:
                    text = text.format(p=rng.randrange(20, 100, 10))
                problem = rng.choice(self.report_problems) if rng.random() < 0.03 else ""
                status, submitted_at, reviewed_at, reviewer, comment, created = self.report_state(
                    rng, year, month, previous
                )
                # The fields a submission and a review set, as the services set them (by id here).
                state = {
                    **project_services.submitted(staff if submitted_at else None, submitted_at),
                    **project_services.reviewed(status, reviewer, reviewed_at, comment),
                }
                report_id = self.ids[MonthlyProgress]
                self.ids[MonthlyProgress] += 1
                reports.add(
                    (
                        report_id,
                        pk,
                        year,
                        month,
                        _money(amount),
                        text,
                        problem,
                        state["status"],
                        state["submitted_by"],
                        state["submitted_at"],
                        state["reviewed_by"],
                        state["reviewed_at"],
                        state["review_comment"],
                        1,
                        created,
                        reviewed_at or submitted_at or created,
                    )
                )

    def report_state(self, rng, year, month, previous):
        """Older months approved; the last one mostly approved; the month under way mostly not yet."""
        clock = self.clock
        next_month = datetime.date(year + month // 12, month % 12 + 1, 1)
        current = (year, month) == self.last_period
        if current:
            opened = clock.at(datetime.date(year, month, 1), 9)
            window = int((clock.cut - opened).total_seconds())
            if window <= 3600:
                return ProgressStatus.DRAFT, None, None, None, "", clock.cut
            offset = rng.randrange(window // 2)
            created = opened + datetime.timedelta(seconds=offset)
            if rng.random() < 0.55:
                return ProgressStatus.DRAFT, None, None, None, "", created
            submitted = opened + datetime.timedelta(seconds=rng.randrange(offset + 1, window))
            return ProgressStatus.SUBMITTED, submitted, None, None, "", created
        created = clock.at(next_month, 9) + datetime.timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        created = min(created, clock.cut - datetime.timedelta(minutes=30))
        submitted = created + datetime.timedelta(minutes=rng.randrange(5, 600))
        submitted = min(submitted, clock.cut - datetime.timedelta(minutes=20))
        reviewed = submitted + datetime.timedelta(minutes=rng.randrange(30, 4 * 24 * 60))
        reviewed = min(reviewed, clock.cut - datetime.timedelta(minutes=10))
        reviewer = rng.choice(self.org.reviewers)
        if (year, month) == previous:
            roll = rng.random()
            if roll < 0.08:
                return ProgressStatus.SUBMITTED, submitted, None, None, "", created
            if roll < 0.11:
                return (
                    ProgressStatus.RETURNED,
                    submitted,
                    reviewed,
                    reviewer,
                    rng.choice(RETURN_REASONS),
                    created,
                )
            if roll < 0.13:
                return ProgressStatus.DRAFT, None, None, None, "", created
        return ProgressStatus.APPROVED, submitted, reviewed, reviewer, "", created

    def document_number(self, kind: str, on: datetime.date, phase: int) -> str:
        key = (kind, on.year)
        number = self.doc_numbers.get(key, 0) + 1
        self.doc_numbers[key] = number
        pattern = demo_data.MILESTONE_RULES[kind][1]
        return pattern.format(year=on.year, number=number % 100_000, day=on, phase=phase)

    def milestone_rows(
        self, rng, sink, pk, stage, dates, planned_start, planned_completion, land, nature
    ) -> None:
        """The approval procedures, as far as the project's stage implies (load_demo's rules)."""
        org, clock = self.org, self.clock
        started = dates.get(Stage.STARTED)
        landed = dates.get(Stage.LANDED)
        signed = dates.get(Stage.SIGNED)
        produced = dates.get(Stage.IN_PRODUCTION)
        rows = []

        def done(kind, on, phase=1):
            on = min(on, clock.today - DAY)
            planned = on + datetime.timedelta(days=rng.randrange(-7, 15))
            rows.append(
                (kind, phase, MilestoneStatus.DONE, planned, on, self.document_number(kind, on, phase), "")
            )

        def waiting(kind, status, planned):
            rows.append((kind, 1, status, planned, None, "", ""))

        anchor = started or planned_start

        def ahead(kind, *, under_way: bool):
            """Not approved yet: planned the usual days before the (planned) start."""
            status = MilestoneStatus.IN_PROGRESS if under_way else MilestoneStatus.NOT_STARTED
            waiting(kind, status, anchor + datetime.timedelta(days=DAYS_BEFORE_START[kind]))

        if signed:
            done(MilestoneKind.PROJECT_FILING, signed + datetime.timedelta(days=rng.randrange(5, 30)))
        else:
            waiting(
                MilestoneKind.PROJECT_FILING,
                MilestoneStatus.IN_PROGRESS,
                clock.today + datetime.timedelta(days=rng.randrange(10, 90)),
            )
        for kind in LAND_KINDS:
            if land is None:
                rows.append(
                    (kind, 1, MilestoneStatus.NOT_APPLICABLE, None, None, "", demo_data._LAND_NOT_NEEDED)
                )
            elif landed:
                done(
                    kind,
                    landed + datetime.timedelta(days={LAND_KINDS[0]: -25, LAND_KINDS[1]: -8}.get(kind, 20)),
                )
            else:
                ahead(kind, under_way=bool(signed))
        energy_exempt = rng.random() < 0.3
        for kind in (
            MilestoneKind.ENVIRONMENT,
            MilestoneKind.ENERGY,
            MilestoneKind.WORKS_PLANNING,
            MilestoneKind.DRAWING_REVIEW,
        ):
            if kind == MilestoneKind.ENERGY and energy_exempt:
                rows.append(
                    (kind, 1, MilestoneStatus.NOT_APPLICABLE, None, None, "", "年综合能耗低于审查标准")
                )
            elif started:
                done(kind, started + datetime.timedelta(days=DAYS_BEFORE_START[kind]))
            else:
                ahead(kind, under_way=bool(landed))
        if started:
            phases = 1 if rng.random() < 0.8 else rng.choice((2, 3))
            for phase in range(1, phases + 1):
                on = started + datetime.timedelta(days=-5 + (phase - 1) * rng.randrange(60, 200))
                if on < clock.today:
                    done(MilestoneKind.CONSTRUCTION_PERMIT, on, phase)
                else:
                    rows.append(
                        (
                            MilestoneKind.CONSTRUCTION_PERMIT,
                            phase,
                            MilestoneStatus.IN_PROGRESS,
                            on,
                            None,
                            "",
                            "",
                        )
                    )
        else:
            waiting(
                MilestoneKind.CONSTRUCTION_PERMIT,
                MilestoneStatus.NOT_STARTED,
                anchor - datetime.timedelta(days=2),
            )
        if produced:
            done(MilestoneKind.COMPLETION_ACCEPTANCE, produced - datetime.timedelta(days=10))
        else:
            status = (
                MilestoneStatus.IN_PROGRESS
                if stage == Stage.UNDER_CONSTRUCTION and rng.random() < 0.3
                else MilestoneStatus.NOT_STARTED
            )
            waiting(MilestoneKind.COMPLETION_ACCEPTANCE, status, planned_completion)
        made = clock.at(signed or clock.today - DAY, 11)
        for kind, phase, status, planned, completed, number, note in rows:
            unit = org.units.get(demo_data.MILESTONE_RULES[kind][0])
            sink.add(
                (
                    self.ids[ApprovalMilestone],
                    pk,
                    kind,
                    phase,
                    unit,
                    status,
                    planned,
                    completed,
                    number,
                    note,
                    1,
                    made,
                    made,
                )
            )
            self.ids[ApprovalMilestone] += 1

    def membership_rows(self, rng, sink, pk, level, stage, dates) -> None:
        """Key projects join the "三个一批" batch after they sign, start or go into production;
        the latest batches also hold projects that have yet to take that step."""
        batches = self.org.batches
        if not batches or not (level in (Level.PROVINCIAL, Level.MUNICIPAL) or rng.random() < 0.1):
            return
        taken = set()
        for role, step in (
            (BatchRole.SIGN, Stage.SIGNED),
            (BatchRole.START, Stage.STARTED),
            (BatchRole.PRODUCE, Stage.IN_PRODUCTION),
        ):
            on = dates.get(step)
            if on is not None:
                batch = next((b for b, day in batches if day >= on), None)
            elif stage == step - 1:
                batch = batches[-1][0] if rng.random() < 0.5 else None
            else:
                batch = None
            if batch is None or batch in taken:
                continue
            taken.add(batch)
            sink.add((self.ids[BatchMembership], batch, pk, role))
            self.ids[BatchMembership] += 1

    # --- Visits and problem tickets ------------------------------------------------------------

    def tickets(self, enterprises: list[_Enterprise], owned: dict[int, list[int]]) -> None:
        profile, org, clock, w = self.profile, self.org, self.clock, self.writer
        if not profile.tickets:
            return
        rng = self.rng("tickets")
        w.begin(_("Visits and problem tickets"), profile.tickets)
        ent_first = w.first_ids[Enterprise]
        visits = w.sink(
            Visit,
            [
                "id",
                "enterprise_id",
                "visited_on",
                "unit_id",
                "notes",
                "created_by_id",
                "created_at",
                "updated_at",
            ],
            parents=[self.enterprise_sink],
        )
        visitor_through = Visit.visitors.through
        visitors = w.sink(visitor_through, ["id", "visit_id", "user_id"], parents=[visits])
        tickets = w.sink(
            ProblemTicket,
            [
                "id",
                "enterprise_id",
                "project_id",
                "visit_id",
                "source",
                "category",
                "title",
                "description",
                "fence",
                "level",
                "is_major",
                "status",
                "unit_id",
                "handler_id",
                "responsible_leader_id",
                "collected_at",
                "created_by_id",
                "assigned_at",
                "first_reply_at",
                "resolved_at",
                "closed_at",
                "rated_at",
                "assign_due",
                "report_due",
                "resolve_due",
                "review_due",
                "resolve_clock_from",
                "plan",
                "committed_date",
                "resolution",
                "closure_grade",
                "satisfaction",
                "satisfaction_comment",
                "version",
                "created_at",
                "updated_at",
            ],
            parents=[self.project_sink, visits],
        )
        events = w.sink(
            TicketEvent,
            [
                "ticket_id",
                "kind",
                "actor_id",
                "at",
                "text",
                "from_status",
                "to_status",
                "from_level",
                "to_level",
                "unit_id",
                "date",
                "value",
            ],
            parents=[tickets],
        )
        ticket_id = w.next_id(ProblemTicket)
        visit_id = w.next_id(Visit)
        visitor_id = w.next_id(visitor_through)
        category_values, category_cum = _weighted(CATEGORY_WEIGHTS)
        source_values, source_cum = _weighted(SOURCE_WEIGHTS)
        all_staff = [user for unit in org.unit_ids for user in org.staff[unit]]
        start = datetime.date(self.first_year, 1, 1)
        span = max(1, (clock.today - start).days)
        made = 0
        while made < profile.tickets:
            ent_index = rng.randrange(len(enterprises))
            ent = enterprises[ent_index]
            source = rng.choices(source_values, cum_weights=source_cum)[0]
            # Some of the problems are this month's work, still on the clock; the rest spread over the years.
            if rng.random() < 0.15:
                day = clock.today - datetime.timedelta(days=rng.randrange(1, min(span, 10) + 1))
            else:
                day = start + datetime.timedelta(days=rng.randrange(span))
            collector = rng.choice(all_staff)
            visit = None
            count = 1
            if source == ProblemSource.VISIT:
                count = min(rng.choice((1, 1, 2, 2, 3)), profile.tickets - made)
                visit = visit_id
                visit_id += 1
                visit_made = clock.at(day, 17, rng.randrange(60))
                visits.add(
                    (
                        visit,
                        ent_first + ent_index,
                        day,
                        ent.unit or rng.choice(org.unit_ids),
                        rng.choice(VISIT_NOTES),
                        collector,
                        visit_made,
                        visit_made,
                    )
                )
                visitors.add((visitor_id, visit, collector))
                visitor_id += 1
                collected = clock.at(day, 12)
            else:
                collected = clock.at(day, rng.randrange(8, 18), rng.randrange(60))
            for _n in range(count):
                category = rng.choices(category_values, cum_weights=category_cum)[0]
                projects = owned.get(ent_index)
                project = rng.choice(projects) if projects and rng.random() < 0.3 else None
                self.ticket(
                    rng,
                    tickets,
                    events,
                    ticket_id,
                    ent_first + ent_index,
                    ent,
                    project,
                    visit,
                    source,
                    category,
                    collected,
                    collector,
                )
                ticket_id += 1
                made += 1
                w.advance()

    def ticket(
        self, rng, tickets, events, pk, enterprise, ent, project, visit, source, category, collected, creator
    ):
        """Play one problem's life on the "13710" clock, up to the start of today."""
        org, clock = self.org, self.clock
        cut = clock.cut
        major = rng.random() < 0.1
        units = [org.units[name] for name in CATEGORY_UNITS[category] if name in org.units] or org.unit_ids
        unit = rng.choice(units)
        office = rng.choice(org.office)
        collected_on = clock.local_day(collected)
        dues = _dues(collected_on, major)
        t = {
            "status": TicketStatus.PENDING,
            "level": ProblemLevel.ZONE,
            "unit": None,
            "handler": None,
            "assigned_at": None,
            "first_reply_at": None,
            "resolved_at": None,
            "closed_at": None,
            "rated_at": None,
            "assign_due": dues.assign,
            "report_due": dues.report,
            "resolve_due": dues.resolve,
            "review_due": None,
            "clock_from": collected_on,
            "plan": "",
            "committed": None,
            "resolution": "",
            "grade": "",
            "satisfaction": "",
            "comment": "",
            "updated": collected,
        }
        timeline = []

        def event(
            kind,
            at,
            actor,
            text="",
            from_status="",
            to_status="",
            from_level="",
            to_level="",
            unit_id=None,
            date=None,
            value="",
        ):
            timeline.append(
                (
                    pk,
                    kind,
                    actor,
                    at,
                    text,
                    from_status,
                    to_status,
                    from_level,
                    to_level,
                    unit_id,
                    date,
                    value,
                )
            )
            t["updated"] = at

        def move(kind, at, actor, to_status, **extra):
            event(kind, at, actor, from_status=t["status"], to_status=to_status, **extra)
            t["status"] = to_status

        # The whole story, step by step; it stops at the first step that falls after the cut.
        def steps():
            at = collected
            yield at, "created", {}
            if rng.random() < 0.03:
                at += HOUR * rng.randrange(2, 20)
                wrong = rng.choice([u for u in org.unit_ids if u != unit] or [unit])
                yield at, "assign", {"unit": wrong}
                at += HOUR * rng.randrange(4, 30)
                yield at, "decline", {}
            at += HOUR * (rng.randrange(1, 22) if rng.random() < 0.92 else rng.randrange(25, 96))
            yield at, "assign", {"unit": unit}
            at += HOUR * (rng.randrange(3, 70) if rng.random() < 0.9 else rng.randrange(73, 200))
            yield at, "reply", {"text": rng.choice(demo_data.FIRST_REPLIES)}
            escalated = 0
            if major:
                if rng.random() < 0.35:
                    at += DAY * rng.randrange(1, 6)
                    yield at, "escalate", {}
                    escalated = 1
                if rng.random() < 0.8:
                    at += HOUR * rng.randrange(6, 120)
                    yield at, "plan", {"committed": clock.local_day(at) + DAY * rng.randrange(20, 60)}
                if escalated and rng.random() < 0.25:
                    at += DAY * rng.randrange(5, 20)
                    yield at, "escalate", {}
                    escalated = 2
                for _i in range(rng.randrange(1, 4)):
                    at += DAY * rng.randrange(5, 20)
                    yield at, "reply", {"text": rng.choice(REPLIES)}
            if rng.random() < 0.03:
                return  # stuck: never resolved, overdue for as long as it waits
            if t["committed"] is not None:
                due = clock.at(t["committed"], 15)
                resolve_at = (
                    due - DAY * rng.randrange(0, 10)
                    if rng.random() < 0.85
                    else due + DAY * rng.randrange(1, 30)
                )
            elif major:
                resolve_at = collected + DAY * rng.randrange(10, 40 + 40 * escalated)
            else:
                resolve_at = collected + (
                    DAY * rng.randrange(1, 7) if rng.random() < 0.85 else DAY * rng.randrange(8, 25)
                )
            at = max(at + HOUR, resolve_at)
            if rng.random() < 0.06:
                yield at, "resolve", {}
                at += HOUR * rng.randrange(4, 30)
                yield at, "send_back", {}
                at += HOUR * rng.randrange(2, 48)
                yield at, "reply", {"text": "已按要求补充，正在完善办结材料。"}
                at += DAY * rng.randrange(1, 5)
            yield at, "resolve", {}
            at += HOUR * rng.randrange(2, 22) if rng.random() < 0.9 else DAY * rng.randrange(2, 6)
            yield at, "close", {}
            if rng.random() < 0.04:
                at += DAY * rng.randrange(1, 4)
                yield at, "unsatisfied", {}
                at += HOUR * rng.randrange(4, 48)
                yield at, "reply", {"text": rng.choice(REPLIES)}
                at += DAY * rng.randrange(2, 7)
                yield at, "resolve", {}
                at += HOUR * rng.randrange(2, 22)
                yield at, "close", {}
            if rng.random() < 0.92:
                at += DAY * rng.randrange(1, 7)
                yield at, "rate", {}

        handler_of = org.handlers
        resolutions = self.resolutions.get(category) or [r for rs in self.resolutions.values() for r in rs]
        for at, step, extra in steps():
            if at >= cut:
                break
            if step == "created":
                event(
                    EventKind.CREATED, at, creator, to_status=TicketStatus.PENDING, to_level=ProblemLevel.ZONE
                )
            elif step == "assign":
                t["unit"], t["handler"], t["assigned_at"] = (
                    extra["unit"],
                    rng.choice(handler_of[extra["unit"]]),
                    at,
                )
                move(EventKind.ASSIGNED, at, office, TicketStatus.ASSIGNED, unit_id=extra["unit"])
            elif step == "decline":
                move(
                    EventKind.DECLINED,
                    at,
                    t["handler"],
                    TicketStatus.PENDING,
                    text=rng.choice(DECLINE_REASONS),
                    unit_id=t["unit"],
                )
                t["unit"], t["handler"], t["assigned_at"] = None, None, None
            elif step == "reply":
                if t["status"] == TicketStatus.ASSIGNED:
                    move(EventKind.ACCEPTED, at, t["handler"], TicketStatus.IN_PROGRESS)
                event(EventKind.REPLIED, at, t["handler"], text=extra["text"])
                t["first_reply_at"] = t["first_reply_at"] or at
            elif step == "escalate":
                position = LEVEL_ORDER.index(t["level"])
                to_level = LEVEL_ORDER[position + 1]
                event(
                    EventKind.ESCALATED,
                    at,
                    office,
                    text=ESCALATE_REASONS[position],
                    from_level=t["level"],
                    to_level=to_level,
                )
                t["level"] = to_level
            elif step == "plan":
                t["plan"], t["committed"] = rng.choice(PLANS), extra["committed"]
                t["resolve_due"] = deadlines.planned_resolve_due(
                    t["resolve_due"], extra["committed"], clock.local_day(at)
                )
                event(EventKind.PLANNED, at, t["handler"], text=t["plan"], date=extra["committed"])
            elif step == "resolve":
                t["resolution"], t["resolved_at"] = rng.choice(resolutions), at
                t["review_due"] = _review_due(clock.local_day(at))
                t["first_reply_at"] = t["first_reply_at"] or at
                move(EventKind.RESOLVED, at, t["handler"], TicketStatus.UNDER_REVIEW, text=t["resolution"])
            elif step == "send_back":
                move(
                    EventKind.SENT_BACK,
                    at,
                    office,
                    TicketStatus.IN_PROGRESS,
                    text=rng.choice(SEND_BACK_REASONS),
                )
                t["resolved_at"], t["review_due"] = None, None
            elif step == "close":
                t["closed_at"], t["grade"] = at, rng.choice(GRADES)
                move(EventKind.CLOSED, at, office, TicketStatus.RESOLVED, value=t["grade"])
            elif step == "unsatisfied":
                comment = rng.choice(UNSATISFIED_COMMENTS)
                event(EventKind.RATED, at, creator, text=comment, value=Satisfaction.UNSATISFIED)
                move(
                    EventKind.REOPENED,
                    at,
                    creator,
                    TicketStatus.IN_PROGRESS,
                    unit_id=t["unit"],
                    text="企业不满意，责任单位重新办理。",
                )
                day = clock.local_day(at)
                t.update(
                    clock_from=day,
                    resolve_due=_resolve_due(day, major),
                    committed=None,
                    resolution="",
                    resolved_at=None,
                    closed_at=None,
                    review_due=None,
                    grade="",
                )
            elif step == "rate":
                roll = rng.random()
                t["satisfaction"] = Satisfaction.SATISFIED if roll < 0.82 else Satisfaction.BASICALLY
                t["rated_at"] = at
                move(EventKind.RATED, at, creator, TicketStatus.RATED, value=t["satisfaction"])
        title = rng.choice(self.titles[category])
        tickets.add(
            (
                pk,
                enterprise,
                project,
                visit,
                source,
                category,
                title,
                "",
                rng.choice((Fence.INSIDE, Fence.OUTSIDE)),
                t["level"],
                major,
                t["status"],
                t["unit"],
                t["handler"],
                ent.leader if major else None,
                collected,
                creator,
                t["assigned_at"],
                t["first_reply_at"],
                t["resolved_at"],
                t["closed_at"],
                t["rated_at"],
                t["assign_due"],
                t["report_due"],
                t["resolve_due"],
                t["review_due"],
                t["clock_from"],
                t["plan"],
                t["committed"],
                t["resolution"],
                t["grade"],
                t["satisfaction"],
                t["comment"],
                1,
                collected,
                t["updated"],
            )
        )
        for row in timeline:
            events.add(row)

    # --- After the rows: sequences and history -------------------------------------------------

    def reset_sequences(self) -> None:
        models_written = {sink.model for sink in self.writer.sinks}
        statements = connection.ops.sequence_reset_sql(no_style(), sorted(models_written, key=str))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def write_history(self) -> None:
        """One "+" history row per row written, copied from the table in ranges of ids."""
        w = self.writer
        tracked = [
            s for s in w.sinks if s.count and hasattr(s.model._meta, "simple_history_manager_attribute")
        ]
        links = [s for s in w.sinks if s.count and s.model._meta.auto_created]
        total = sum(s.count for s in tracked) + sum(s.count for s in links)
        w.begin(_("History rows"), total)
        now = timezone.now()
        user = self.org.admin.pk
        for sink in tracked:
            model = sink.model
            hist = model.history.model
            columns = [f.column for f in hist._meta.concrete_fields if not f.column.startswith("history_")]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            sql = (
                f"INSERT INTO {connection.ops.quote_name(hist._meta.db_table)} ({quoted}, history_date, "
                "history_change_reason, history_type, history_user_id, history_origin, history_import_id, "
                f"history_batch) SELECT {quoted}, %s, NULL, '+', %s, %s, NULL, %s "
                f"FROM {connection.ops.quote_name(sink.table)} WHERE id >= %s AND id < %s ORDER BY id"
            )
            batch = hist._meta.get_field("history_batch").get_db_prep_value(self.batch, connection)
            date = connection.ops.adapt_datetimefield_value(now)
            first = w.first_ids[model]
            with connection.cursor() as cursor:
                for low in range(first, first + sink.count, HISTORY_CHUNK):
                    high = min(low + HISTORY_CHUNK, first + sink.count)
                    cursor.execute(sql, [date, user, history.Origin.COMMAND, batch, low, high])
                    w.advance(high - low)
                    w.report()
            self.counts[hist._meta.db_table] = sink.count
            self.analyze_tables.add(hist._meta.db_table)
        for sink in links:
            through = sink.model
            owner_field, other_field = [f for f in through._meta.concrete_fields if f.is_relation]
            owner = owner_field.related_model
            hist = owner.history.model
            m2m_field = next(f for f in owner._meta.many_to_many if f.remote_field.through is through)
            m2m_history = owner._tracked_records.m2m_models[m2m_field]
            table = connection.ops.quote_name
            owner_column, other_column = owner_field.column, other_field.column
            sql = (
                f"INSERT INTO {table(m2m_history._meta.db_table)} (id, {owner_column}, {other_column}, "
                f"history_id) SELECT l.id, l.{owner_column}, l.{other_column}, h.history_id "
                f"FROM {table(sink.table)} l JOIN {table(hist._meta.db_table)} h "
                f"ON h.id = l.{owner_column} AND h.history_batch = %s AND h.history_type = '+' "
                "WHERE l.id >= %s"
            )
            batch = hist._meta.get_field("history_batch").get_db_prep_value(self.batch, connection)
            with connection.cursor() as cursor:
                cursor.execute(sql, [batch, w.first_ids[through]])
            w.advance(sink.count)
            w.report()
            self.counts[m2m_history._meta.db_table] = sink.count
            self.analyze_tables.add(m2m_history._meta.db_table)
