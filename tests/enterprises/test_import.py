"""The enterprise list import (企业名录): workbooks laid out as zones keep them — title rows, a
two-level merged header, full-width digits, numbers for phone numbers, a heading and a 合计 row,
blank rows — previewed, refused when any row is wrong, applied with history, recorded through
the shared workflow; permissions, hostile files and query counts."""

import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from django.utils.translation import gettext

from core import imports
from core.importing import OLE_SIGNATURE, BadFile, normalise
from core.imports import record_import
from core.models import ImportRecord
from core.roles import Role
from enterprises import importer
from enterprises.choices import EnterpriseImportKind
from enterprises.models import Enterprise, Honour
from enterprises.validators import CREDIT_CODE_CHARSET, credit_code_check_char
from projects.excel.importer import preview_text
from reference.models import Department, Leader
from tests.factories import (
    DepartmentFactory,
    EnterpriseFactory,
    HonourFactory,
    IndustryFactory,
    LeaderFactory,
    ParkFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TITLE = "周口经济开发区企业名录（2023年）"
SUBTITLE = "填报单位：周口经济开发区经济发展局　　　　填报日期：2023年12月"
# A two-level header: 包联情况 spans 领导 and 单位; every other header spans both rows.
TOP = [
    "序号",
    "企业名称",
    "企业简称",
    "统一社会信用代码",
    "法定代表人",
    "所属园区",
    "所属产业",
    "注册地址",
    "联系人",
    "联系电话",
    "是否规上",
    "“四保”白名单",
    "包联情况",
    None,
    "企业荣誉",
    "备注",
    "2023年产值（万元）",
]
BELOW = [None] * 12 + ["领导", "单位"] + [None] * 3
FLAT = [
    "序号",
    "企业名称",
    "企业简称",
    "统一社会信用代码",
    "法定代表人",
    "所属园区",
    "所属产业",
    "地址",
    "联系人",
    "联系电话",
    "规上企业",
    "四保白名单",
    "包联领导",
    "包联单位",
    "荣誉",
    "企业简介",
]


def code(n: int) -> str:
    """A valid credit code (GB 32100-2015 check character)."""
    first17 = f"91411600MA4{n:06d}"
    return first17 + credit_code_check_char(first17)


def broken(valid: str) -> str:
    """The same code with a wrong check character."""
    wrong = CREDIT_CODE_CHARSET[(CREDIT_CODE_CHARSET.index(valid[17]) + 1) % len(CREDIT_CODE_CHARSET)]
    return valid[:17] + wrong


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def two_level_book(rows: list[list]) -> bytes:
    """A list as the economic development bureau keeps it: title, subtitle, merged two-level header."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "企业名录"
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(TOP))
    sheet.append([SUBTITLE])
    sheet.append(TOP)
    sheet.append(BELOW)
    for col, text in enumerate(TOP, start=1):
        if text and text != "包联情况":
            sheet.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
    sheet.merge_cells(start_row=3, start_column=13, end_row=3, end_column=14)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def flat_book(rows: list[list], header: list[str] = FLAT) -> bytes:
    """A one-level list: the title row, the header row, then rows (row 3 is the first)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([TITLE])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def flat_row(seq, name, credit_code=None, **cells) -> list:
    values = dict(zip(FLAT, [None] * len(FLAT), strict=True))
    values.update({"序号": seq, "企业名称": name, "统一社会信用代码": credit_code})
    values.update(cells)
    return [values[h] for h in FLAT]


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def zone():
    """The zone's reference data and four enterprises already on record."""
    parks = {
        "metal": ParkFactory(name="金属新材料产业园"),
        "food": ParkFactory(name="健康食品产业园"),
        "bio": ParkFactory(name="生物医药产业园", alias="周口临港生物科技园"),
    }
    industries = {
        "metal": IndustryFactory(name="金属新材料"),
        "food": IndustryFactory(name="食品加工"),
        "bio": IndustryFactory(name="生物技术"),
    }
    hightech = HonourFactory(name="高新技术企业", rank=3)
    HonourFactory(name="头雁企业", rank=5)
    leader = LeaderFactory(name="王建国", title="党工委副书记")
    reform = DepartmentFactory(name="周口经济开发区发展和改革委员会", short_name="区发改委")
    tianzi = EnterpriseFactory(
        name="周口天子铝业有限公司",
        short_name="天子铝业",
        credit_code=code(1),
        legal_representative="张三",
        park=parks["metal"],
        industry=industries["metal"],
    )
    tianzi.honours.add(hightech)
    yihai = EnterpriseFactory(
        name="益海嘉里（周口）粮油工业有限公司",
        short_name="益海粮油",
        credit_code=None,
        park=parks["food"],
        industry=industries["food"],
    )
    wudeli = EnterpriseFactory(
        name="周口五得利面粉有限公司",
        short_name="五得利",
        credit_code=code(4),
        legal_representative="王五",
        park=parks["food"],
        industry=industries["food"],
        is_above_scale=True,
    )
    return {
        "parks": parks,
        "industries": industries,
        "leader": leader,
        "reform": reform,
        "tianzi": tianzi,
        "yihai": yihai,
        "wudeli": wudeli,
    }


@pytest.fixture
def staff():
    return UserFactory(username="zhuanyuan", roles=[Role.STAFF])


def zone_list() -> bytes:
    """The list the tests import: a heading, an update, a creation, a blank row, an update found by
    short name, an unchanged row and the 合计 row."""
    blank = [None] * len(TOP)
    return two_level_book(
        [
            ["一、规上工业企业", *[None] * (len(TOP) - 1)],
            [
                1,
                "周口天子铝业有限公司",
                "天子铝业",
                code(1).lower(),
                "张三",
                "金属新材料产业园",
                "金属新材料",
                "周口经济开发区太昊路18号",
                "李四",
                13839400001,
                "是",
                "√",
                "王建国",
                "区发改委",
                "高新技术企业、头雁企业",
                None,
                "125,000.50",
            ],
            [
                "２",
                "周口益常青生物科技有限公司",
                "益常青生物",
                fullwidth(code(2)),
                "赵六",
                "周口临港生物科技园",
                "生物技术",
                "周口经济开发区中原路66号",
                "孙七",
                "０３９４－８８８８８８８",
                "否",
                None,
                "刘志强",
                "区科技局",
                "省级专精特新 高新技术企业",
                "年产2000吨低聚木糖",
                None,
            ],
            blank,
            ["3", "益海粮油", None, code(3), *[None] * 7, "是", *[None] * 5],
            [
                4,
                "周口五得利面粉有限公司",
                "五得利",
                code(4),
                "王五",
                "健康食品产业园",
                "食品加工",
                "—",
                None,
                None,
                "是",
                "否",
                None,
                None,
                "无",
                None,
                "88,000",
            ],
            ["合计", "4家", *[None] * (len(TOP) - 2)],
        ]
    )


def changes_of(row) -> dict[str, tuple[str, str]]:
    return {c.label: (c.old, c.new) for c in row.changes}


# --- Preview ----------------------------------------------------------------------------


def test_preview_reads_the_list_and_says_what_would_change_without_writing(zone, staff):
    before = Enterprise.history.count()

    result = importer.preview(zone_list(), user=staff)

    assert result.errors == []
    assert [(r.row, r.action) for r in result.rows] == [
        (6, "update"),
        (7, "create"),
        (9, "update"),
        (10, "unchanged"),
    ]
    assert (len(result.created), len(result.updated), len(result.unchanged)) == (1, 2, 1)
    assert result.skipped == 2  # the heading and the 合计 row; the blank row is not counted
    assert result.unknown_headers == ["2023年产值（万元）"]
    tianzi, yichangqing, yihai, _wudeli = result.rows
    assert changes_of(tianzi) == {
        "地址": ("—", "周口经济开发区太昊路18号"),
        "联系人": ("—", "李四"),
        "联系电话": ("—", "13839400001"),
        "规上企业": ("否", "是"),
        "四保白名单": ("否", "是"),
        "包联领导": ("—", "王建国"),
        "包联单位": ("—", "周口经济开发区发展和改革委员会"),
        "企业荣誉": ("高新技术企业", "高新技术企业、头雁企业"),
    }
    assert yichangqing.name == "周口益常青生物科技有限公司"
    assert changes_of(yichangqing) == {
        "企业名称": ("—", "周口益常青生物科技有限公司"),
        "企业简称": ("—", "益常青生物"),
        "统一社会信用代码": ("—", code(2)),
        "法定代表人": ("—", "赵六"),
        "所属园区": ("—", "生物医药产业园"),
        "所属产业": ("—", "生物技术"),
        "地址": ("—", "周口经济开发区中原路66号"),
        "联系人": ("—", "孙七"),
        "联系电话": ("—", "0394-8888888"),
        "规上企业": ("—", "否"),
        "包联领导": ("—", "刘志强（新建）"),
        "包联单位": ("—", "区科技局（新建）"),
        "企业荣誉": ("—", "省级专精特新（新建）、高新技术企业"),
        "企业简介": ("—", "年产2000吨低聚木糖"),
    }
    assert yihai.name == "益海嘉里（周口）粮油工业有限公司"
    assert changes_of(yihai) == {"统一社会信用代码": ("—", code(3)), "四保白名单": ("否", "是")}
    assert result.notes() == [
        "将新建的包联单位：区科技局",
        "将新建的包联领导：刘志强",
        "将新建的企业荣誉：省级专精特新",
    ]
    assert "第7行 新建：周口益常青生物科技有限公司" in preview_text(result)
    assert Enterprise.objects.count() == 3
    assert Enterprise.history.count() == before
    assert not Leader.objects.filter(name="刘志强").exists()
    assert not Honour.objects.filter(name="省级专精特新").exists()


def test_apply_writes_exactly_what_the_preview_said_with_history(zone, staff):
    result = importer.preview(zone_list(), user=staff)

    counts = importer.apply(result, user=staff, reason="Excel导入 #7（企业名录.xlsx）")

    assert counts == {"created": 1, "updated": 2, "unchanged": 1}
    tianzi = Enterprise.objects.get(pk=zone["tianzi"].pk)
    assert (tianzi.address, tianzi.contact_person, tianzi.contact_phone) == (
        "周口经济开发区太昊路18号",
        "李四",
        "13839400001",
    )
    assert tianzi.is_above_scale and tianzi.on_white_list
    assert tianzi.liaison_leader == zone["leader"] and tianzi.liaison_unit == zone["reform"]
    assert sorted(tianzi.honours.values_list("name", flat=True)) == ["头雁企业", "高新技术企业"]
    assert tianzi.legal_representative == "张三"

    created = Enterprise.objects.get(name="周口益常青生物科技有限公司")
    assert created.credit_code == code(2)
    assert created.short_name == "益常青生物"
    assert created.park == zone["parks"]["bio"] and created.industry == zone["industries"]["bio"]
    assert created.contact_phone == "0394-8888888"
    assert created.description == "年产2000吨低聚木糖"
    assert not created.is_above_scale and not created.on_white_list
    assert created.liaison_leader == Leader.objects.get(name="刘志强", title="")
    assert created.liaison_unit == Department.objects.get(name="区科技局")
    assert sorted(created.honours.values_list("name", flat=True)) == ["省级专精特新", "高新技术企业"]

    yihai = Enterprise.objects.get(pk=zone["yihai"].pk)
    assert yihai.name == "益海嘉里（周口）粮油工业有限公司"  # found by its short name, not renamed
    assert yihai.credit_code == code(3) and yihai.on_white_list

    history = Enterprise.history.filter(history_change_reason="Excel导入 #7（企业名录.xlsx）")
    assert sorted((h.name, h.history_type) for h in history) == [
        ("周口天子铝业有限公司", "~"),
        ("周口益常青生物科技有限公司", "+"),
        ("益海嘉里（周口）粮油工业有限公司", "~"),
    ]
    assert {h.history_user for h in history} == {staff}
    assert not Enterprise.history.filter(id=zone["wudeli"].pk, history_type="~").exists()


def test_the_same_list_imported_again_changes_nothing(zone, staff):
    importer.apply(importer.preview(zone_list(), user=staff), user=staff, reason="第一次")

    again = importer.preview(zone_list(), user=staff)

    assert again.errors == []
    assert [r.action for r in again.rows] == ["unchanged"] * 4
    assert again.notes() == []


def test_blank_cells_and_dashes_change_nothing(zone, staff):
    tianzi = zone["tianzi"]
    tianzi.address = "太昊路18号"
    tianzi.on_white_list = True
    tianzi.save()
    data = flat_book(
        [
            flat_row(1, "周口天子铝业有限公司", 地址="", 四保白名单=None, 法定代表人="—", 荣誉="无"),
        ]
    )

    result = importer.preview(data, user=staff)

    assert [r.action for r in result.rows] == ["unchanged"]
    importer.apply(result, user=staff, reason="空白")
    tianzi.refresh_from_db()
    assert (tianzi.address, tianzi.on_white_list, tianzi.legal_representative) == ("太昊路18号", True, "张三")
    assert list(tianzi.honours.values_list("name", flat=True)) == ["高新技术企业"]


def test_a_known_code_with_a_new_name_renames_the_enterprise(zone, staff):
    data = flat_book([flat_row(1, "周口天子铝业集团有限公司", code(1))])

    result = importer.preview(data, user=staff)

    assert changes_of(result.rows[0]) == {"企业名称": ("周口天子铝业有限公司", "周口天子铝业集团有限公司")}
    importer.apply(result, user=staff, reason="更名")
    assert Enterprise.objects.get(pk=zone["tianzi"].pk).name == "周口天子铝业集团有限公司"


def test_variant_headers_of_a_single_level_list_are_read(zone, staff):
    header = [
        "序号",
        "单位名称",
        "简称",
        "信用代码",
        "法人",
        "园区",
        "行业",
        "企业地址",
        "联系人",
        "电话",
        "规模以上",
        "白名单",
        "联系领导",
        "联系单位",
        "企业荣誉",
        "简介",
    ]
    data = flat_book(
        [[1, "周口海熙药业有限公司", "海熙药业", code(9), "钱八", "生物医药产业园", "生物技术", "中原路1号",
          "周九", "13900000000", "是", "否", "王建国", "区发改委", "头雁企业", "药品研发"]],
        header=header,
    )  # fmt: skip

    result = importer.preview(data, user=staff)

    assert result.errors == [] and result.unknown_headers == []
    assert set(changes_of(result.rows[0])) == {
        "企业名称",
        "企业简称",
        "统一社会信用代码",
        "法定代表人",
        "所属园区",
        "所属产业",
        "地址",
        "联系人",
        "联系电话",
        "规上企业",
        "四保白名单",
        "包联领导",
        "包联单位",
        "企业荣誉",
        "企业简介",
    }


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("企业名称", "name"),
        ("单位名称", "name"),
        ("企业全称", "name"),
        ("企业名称（全称）", "name"),
        ("企业简称", "short_name"),
        ("简称", "short_name"),
        ("统一社会信用代码", "credit_code"),
        ("社会信用代码", "credit_code"),
        ("信用代码", "credit_code"),
        ("法定代表人", "legal_representative"),
        ("法人代表", "legal_representative"),
        ("法人", "legal_representative"),
        ("所属园区", "park"),
        ("园区", "park"),
        ("所属产业", "industry"),
        ("产业", "industry"),
        ("行业", "industry"),
        ("地址", "address"),
        ("企业地址", "address"),
        ("注册地址", "address"),
        ("联系人", "contact_person"),
        ("联系电话", "contact_phone"),
        ("电话", "contact_phone"),
        ("规上企业", "is_above_scale"),
        ("是否规上", "is_above_scale"),
        ("规模以上", "is_above_scale"),
        ("“四保”白名单", "on_white_list"),
        ("四保白名单", "on_white_list"),
        ("白名单", "on_white_list"),
        ("包联领导", "liaison_leader"),
        ("联系领导", "liaison_leader"),
        ("包联情况领导", "liaison_leader"),
        ("包联单位", "liaison_unit"),
        ("联系单位", "liaison_unit"),
        ("荣誉", "honours"),
        ("企业荣誉", "honours"),
        ("简介", "description"),
        ("企业简介", "description"),
        ("备注", "description"),
        ("2023年产值(万元)", None),
    ],
)
def test_header_variants(header, key):
    assert importer.match_header(normalise(header)) == key


# --- Errors -----------------------------------------------------------------------------


def test_every_bad_row_is_reported_and_nothing_is_imported(zone, staff, media):
    bad_code = broken(code(11))
    data = flat_book(
        [
            flat_row(1, "周口领尚科技有限公司", bad_code, 所属园区="金属新材料产业园"),
            flat_row(2, "周口格德格瑞新材料有限公司", code(12)),
            flat_row(3, "周口龙途新材料有限公司", code(12)),
            flat_row(4, "周口瑞诺电气有限公司", code(14), 所属园区="临港物流园"),
            flat_row(5, "周口宏伟福旺食品有限公司", code(15)),
            flat_row(6, "周口宏伟福旺食品有限公司", code(16)),
        ]
    )

    result = importer.preview(data, user=staff)

    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (3, "统一社会信用代码", bad_code),
        (5, "统一社会信用代码", code(12)),
        (6, "所属园区", "临港物流园"),
        (8, "企业名称", "周口宏伟福旺食品有限公司"),
    ]
    assert result.errors[0].message == f"统一社会信用代码校验位错误：最后一位应为{code(11)[17]}。"
    assert result.errors[1].message == gettext("the same credit code is already on row %(row)s") % {"row": 4}
    parks = "、".join(sorted(["金属新材料产业园", "健康食品产业园", "生物医药产业园"]))
    assert result.errors[2].message == gettext("no such park; the parks are %(names)s") % {"names": parks}
    assert result.errors[3].message == gettext("the same enterprise is already on row %(row)s") % {"row": 7}
    assert result.error_rows == 4
    assert [r.row for r in result.created] == [4, 7]

    with pytest.raises(ValidationError):
        importer.apply(result, user=staff, reason="不应写入")
    record, again = record_import(
        kind="enterprises", data=data, file_name="名录.xlsx", user=staff, origin="command", apply=True
    )
    assert record is None and again.error_rows == 4
    assert Enterprise.objects.count() == 3
    assert not ImportRecord.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("91411600MA4000011", "统一社会信用代码应为18位，当前为17位。"),
        ("91411600MA40000I1X", "统一社会信用代码不能包含字符：I。"),
        ("9141AB00MA40000111", "统一社会信用代码第3至8位为登记管理机关行政区划码，必须是数字。"),
    ],
)
def test_credit_code_errors_say_why_in_chinese(zone, staff, value, message):
    result = importer.preview(flat_book([flat_row(1, "周口科信电缆有限公司", value)]), user=staff)

    assert [(e.row, e.value, e.message) for e in result.errors] == [(3, value, message)]


def test_messages_follow_the_active_language(zone, staff):
    data = flat_book([flat_row(1, "周口科信电缆有限公司", broken(code(21)))])

    with translation.override("en"):
        english = importer.preview(data, user=staff)

    assert english.errors[0].message == (
        "The check character of this unified social credit code is wrong: "
        f"the last character should be {code(21)[17]}."
    )


def test_columns_are_named_as_the_file_writes_them(zone, staff):
    LeaderFactory(name="李强", title="主任")
    LeaderFactory(name="李强", title="副主任")
    row = [1, "周口中北宏远通信有限公司", *[None] * 9, "待定", "李强", None, None, None, None]

    result = importer.preview(two_level_book([row]), user=staff)

    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (5, "“四保”白名单", "待定"),
        (5, "包联情况 / 领导", "李强"),
    ]
    assert result.error_rows == 1


def test_a_code_typed_as_a_number_lost_its_digits(zone, staff):
    result = importer.preview(
        flat_book([flat_row(1, "周口合一抗磨有限公司", 914116001234567890)]), user=staff
    )

    assert [e.message for e in result.errors] == [
        gettext(
            "the code is stored as a number, so Excel has dropped its last digits: "
            "format the column as text and type the code again"
        )
    ]


def test_a_code_already_used_by_another_enterprise_is_an_error(zone, staff):
    data = flat_book(
        [
            flat_row(1, "周口五得利面粉有限公司", code(1)),  # 天子铝业's code on 五得利's row
            flat_row(2, "五得利", code(7)),  # 五得利 is on record with code(4)
        ]
    )

    result = importer.preview(data, user=staff)

    assert [(e.row, e.column) for e in result.errors] == [(3, "统一社会信用代码"), (4, "统一社会信用代码")]
    assert "周口天子铝业有限公司" in result.errors[0].message
    assert code(4) in result.errors[1].message
    assert result.rows == []


def test_unknown_industry_ambiguous_leader_and_bad_yes_no_are_errors(zone, staff):
    LeaderFactory(name="李强", title="主任")
    LeaderFactory(name="李强", title="副主任")
    data = flat_book(
        [
            flat_row(1, "周口永正铝模有限公司", 所属产业="纺织服装"),
            flat_row(2, "周口杭萧钢构有限公司", 包联领导="李强"),
            flat_row(3, "周口斯美特食品有限公司", 规上企业="大概"),
            flat_row("4", None, 法定代表人="某某"),
        ]
    )

    result = importer.preview(data, user=staff)

    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (3, "所属产业", "纺织服装"),
        (4, "包联领导", "李强"),
        (5, "规上企业", "大概"),
        (6, "企业名称", ""),
    ]
    assert result.rows == [] and result.notes() == []


# --- Workflow, staleness, permissions ----------------------------------------------------


def test_record_import_applies_and_records_the_import(zone, staff, media):
    record, result = record_import(
        kind="enterprises",
        data=zone_list(),
        file_name="周口经济开发区企业名录2023.xlsx",
        user=staff,
        origin="command",
        apply=True,
    )

    record.refresh_from_db()
    assert record.kind == EnterpriseImportKind.ENTERPRISES
    assert record.status == ImportRecord.Status.APPLIED
    assert (record.created_count, record.updated_count, record.unchanged_count, record.error_count) == (
        1,
        2,
        1,
        0,
    )
    history = Enterprise.history.filter(history_change_reason=record.change_reason)
    assert history.count() == 3
    assert {h.history_user for h in history} == {staff}
    assert Enterprise.objects.count() == 4


def test_a_confirmation_after_the_data_changed_shows_the_new_preview(zone, staff, media):
    data = zone_list()
    first = imports.preview("enterprises", data, user=staff)
    record = imports.save_preview("enterprises", data, file_name="名录.xlsx", user=staff, result=first)
    tianzi = Enterprise.objects.get(pk=zone["tianzi"].pk)
    tianzi.address = "周口经济开发区太昊路18号"  # what the file sets: one change fewer now
    tianzi.save()

    with pytest.raises(imports.PreviewChanged) as stale:
        imports.confirm(record, user=staff)

    assert "地址" not in changes_of(stale.value.preview.rows[0])
    assert Enterprise.objects.count() == 3
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.PREVIEWED


def test_an_enterprise_changed_after_the_preview_stops_the_import(zone, staff):
    result = importer.preview(zone_list(), user=staff)
    tianzi = Enterprise.objects.get(pk=zone["tianzi"].pk)
    tianzi.contact_person = "另一位同事"
    tianzi.save()

    with pytest.raises(ValidationError):
        importer.apply(result, user=staff, reason="过期")

    assert Enterprise.objects.count() == 3
    assert not Enterprise.history.filter(history_change_reason="过期").exists()
    assert not Leader.objects.filter(name="刘志强").exists()


@pytest.mark.parametrize("role", [Role.LEADER, Role.UNIT, Role.REVIEWER, Role.SUPERVISOR])
def test_only_staff_and_administrators_import(zone, role):
    user = UserFactory(roles=[role], department=zone["reform"])

    with pytest.raises(PermissionDenied):
        importer.preview(zone_list(), user=user)


def test_an_administrator_imports(zone, superuser):
    assert len(importer.preview(zone_list(), user=superuser).created) == 1


# --- Hostile files ----------------------------------------------------------------------


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _with_doctype() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(zone_list()))
    parts = {info.filename: source.read(info) for info in source.infolist()}
    parts["xl/workbook.xml"] = b'<!DOCTYPE lol [<!ENTITY lol "lollollol">]>' + parts["xl/workbook.xml"]
    return _zip(parts)


def _bomb() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/worksheets/sheet1.xml": b"<sheetData>" + b"0" * (40 * 1_048_576) + b"</sheetData>",
        }
    )


NOT_XLSX = "This is not an Excel workbook (.xlsx)."
DAMAGED = "The workbook is damaged and cannot be read."


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(lambda: b"", "The file is empty.", id="empty"),
        pytest.param(lambda: "企业名称,统一社会信用代码\n".encode(), NOT_XLSX, id="csv"),
        pytest.param(
            lambda: OLE_SIGNATURE + b"\0" * 512,
            "This is an old Excel (.xls) file: save it as an .xlsx workbook and try again.",
            id="old-xls",
        ),
        pytest.param(
            lambda: OLE_SIGNATURE + b"\0" * 64 + "EncryptionInfo".encode("utf-16-le"),
            "The workbook is protected by a password: save it without one and try again.",
            id="encrypted",
        ),
        pytest.param(lambda: b"PK\x03\x04" + b"\0" * 100, DAMAGED, id="damaged-zip"),
        pytest.param(lambda: _zip({"word/document.xml": b"<w/>"}), NOT_XLSX, id="not-a-workbook"),
        pytest.param(
            _bomb,
            "The workbook unpacks to far more data than it should (a zip bomb?); it was not read.",
            id="zip-bomb",
        ),
        pytest.param(
            _with_doctype,
            "The workbook contains XML declarations Excel never writes; it was not read.",
            id="doctype-entity",
        ),
        pytest.param(
            lambda: flat_book([[1, "周口某企业"]], header=["序号", "公司"]),
            "No sheet has a header row with “%(anchor)s”: is this the right file?",
            id="no-name-column",
        ),
    ],
)
def test_hostile_or_wrong_files_are_refused_and_nothing_is_written(zone, staff, media, data, reason):
    with pytest.raises(BadFile) as refused:
        record_import(
            kind="enterprises", data=data(), file_name="x.xlsx", user=staff, origin="web", apply=True
        )

    # The framework's own message, in the active language, names the reason.
    assert str(refused.value) == gettext(reason).replace("%(anchor)s", "企业名称")
    assert Enterprise.objects.count() == 3
    assert not ImportRecord.objects.exists()


# --- Query counts -----------------------------------------------------------------------


def _big_list(n: int) -> bytes:
    """n rows: every other one updates an enterprise on record (by code), the rest create one;
    each names a park, an industry, a leader, a unit and honours."""
    rows = []
    for i in range(n):
        number = 1000 + i
        rows.append(
            flat_row(
                i + 1,
                f"周口测试导入企业{number}有限公司",
                code(number),
                所属园区="健康食品产业园",
                所属产业="食品加工",
                联系人=f"联系人{i}",
                包联领导="王建国" if i % 2 else f"新领导{i % 3}",
                包联单位="区发改委" if i % 2 else "区商务局",
                荣誉="高新技术企业、头雁企业" if i % 3 else "新荣誉",
            )
        )
    return flat_book(rows)


def _on_record(n: int, zone) -> None:
    hightech = Honour.objects.get(name="高新技术企业")
    for i in range(0, n, 2):
        number = 1000 + i
        enterprise = EnterpriseFactory(
            name=f"周口测试导入企业{number}有限公司",
            credit_code=code(number),
            park=zone["parks"]["food"],
            industry=zone["industries"]["food"],
        )
        enterprise.honours.add(hightech)


def test_preview_queries_do_not_grow_with_rows(zone, staff, django_assert_max_num_queries):
    _on_record(60, zone)
    small, large = _big_list(5), _big_list(60)

    # roles, parks, industries, units, leaders, honours, enterprises, their honours
    with django_assert_max_num_queries(8):
        five = importer.preview(small, user=staff)
    with django_assert_max_num_queries(8):
        sixty = importer.preview(large, user=staff)

    assert (len(five.updated), len(five.created)) == (3, 2)
    assert (len(sixty.updated), len(sixty.created)) == (30, 30)
    assert sixty.errors == []


@pytest.mark.history_bypass("bulk test data")
@pytest.mark.slow
def test_ten_thousand_rows_preview_and_apply(zone, staff, django_assert_max_num_queries):
    Enterprise.objects.bulk_create(
        [
            Enterprise(name=f"周口测试导入企业{1000 + i}有限公司", credit_code=code(1000 + i))
            for i in range(0, 10_000, 2)
        ]
    )
    data = _big_list(10_000)

    with django_assert_max_num_queries(12):
        result = importer.preview(data, user=staff)
    assert (len(result.created), len(result.updated), result.error_rows) == (5000, 5000, 0)

    importer.apply(result, user=staff, reason="一万行")
    assert Enterprise.objects.count() == 10_003
    assert Enterprise.history.filter(history_change_reason="一万行").count() == 10_000


def test_an_imports_rows_are_tied_to_it_in_the_change_log(zone, staff, media, client):
    from core.history import Origin

    record, _result = record_import(
        kind="enterprises", data=zone_list(), file_name="企业名录.xlsx", user=staff, origin="web", apply=True
    )
    rows = Enterprise.history.filter(history_import=record)
    assert rows.count() == 3
    assert {(r.history_origin, r.history_user) for r in rows} == {(Origin.IMPORT, staff)}
    assert not Enterprise.history.exclude(history_import=record).filter(history_origin=Origin.IMPORT).exists()

    leader = UserFactory(username="import_leader", roles=[Role.LEADER])
    client.force_login(leader)
    response = client.get("/changes/", {"import_record": record.pk})
    entries = response.context["entries"]
    assert {e.import_record for e in entries} == {record}
    assert {e.object_label for e in entries if e.model is Enterprise} == set(
        rows.values_list("name", flat=True)
    )
    html = response.content.decode()
    assert f'href="/changes/?import_record={record.pk}"' in html and record.file_name in html
    # Every entry of the import is one of its rows, row by row.
    assert len([e for e in entries if e.model is Enterprise]) == 3
    first = next(e for e in entries if e.model is Enterprise and e.action == "~")
    assert first.changes and all(c.old != c.new for c in first.changes)
