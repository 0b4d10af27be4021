"""demo/data/: the demo world's files load, and a malformed one is refused naming the file and entry."""

import shutil
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from demo import demo_data
from demo.demo_data import DATA_DIR, DemoDataError, read_world
from problems.choices import ProblemCategory, Satisfaction
from projects.choices import MilestoneKind, Stage


def test_the_files_load_the_whole_world():
    world = read_world()

    assert len(world["DEPARTMENTS"]) == 10
    assert len(world["PARKS"]) == 6
    assert sum(len(cluster["industries"]) for cluster in world["CLUSTERS"]) == 12
    assert len(world["HONOURS"]) == 5
    assert len(world["LEADERS"]) == 6
    assert len(world["USERS"]) == 7
    assert len(world["ENTERPRISES"]) == 34
    assert len(world["PROJECTS"]) == 17
    assert sum(len(batch["members"]) for batch in world["BATCHES"]) == 23
    # Seed 000's year: 30 enterprises visited, 51 problems collected.
    assert len(world["VISITS_2021"]) == 30
    assert sum(len(visit["problems"]) for visit in world["VISITS_2021"]) == 51
    assert len(world["CURRENT_PROBLEMS"]) == 11
    assert set(world["MILESTONE_RULES"]) == set(MilestoneKind)


def test_values_come_back_as_the_code_uses_them():
    world = read_world()
    project = world["PROJECTS"][0]
    tianzi = world["ENTERPRISES"][0]

    assert project["name"] == "周口中兴新业港产业园项目"
    assert project["total_investment"] == Decimal("200000.00")
    assert project["stages"][0] == (Stage.SIGNED, project["stages"][0][1])
    assert project["monthly"][0] == Decimal("285.03")
    assert project["notes"][3] == "人才公寓精装修完成60%，园区道路及绿化提升同步推进。"
    assert tianzi["figures"][2023]["output_value"] == Decimal("268000.00")
    assert world["VISITS_2021"][0]["problems"][0]["category"] is ProblemCategory.UTILITIES
    # Left out: satisfied; "not_rated": None.
    ratings = [problem["satisfaction"] for visit in world["VISITS_2021"] for problem in visit["problems"]]
    assert ratings.count(None) == 3
    assert ratings.count(Satisfaction.BASICALLY) + ratings.count(Satisfaction.SATISFIED) == 48


def test_the_module_names_read_the_files():
    assert demo_data.PROJECTS == read_world()["PROJECTS"]
    assert demo_data.PROGRESS_YEAR == 2023
    with pytest.raises(AttributeError):
        demo_data.NO_SUCH_SECTION  # noqa: B018


@pytest.fixture
def data_dir(tmp_path):
    directory = tmp_path / "data"
    shutil.copytree(DATA_DIR, directory)
    return directory


def edit(directory, name, old, new):
    path = directory / name
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "projects.toml",
            '{ stage = "signed", on = 2019-03-18 }',
            '{ stage = "sined", on = 2019-03-18 }',
            "projects: entry 1 (周口中兴新业港产业园项目): stages: entry 1 (sined): stage: "
            "'sined' is not one of planning, reserve, signed",
        ),
        (
            "projects.toml",
            'total_investment = "200000.00"',
            "total_investment = 200000.5",
            "projects: entry 1 (周口中兴新业港产业园项目): total_investment: expected an amount in quotes",
        ),
        (
            "enterprises.toml",
            'org_code = "MADU1YK4P"\n',
            "",
            "enterprises: entry 1 (天子铝业): org_code is missing",
        ),
        (
            "enterprises.toml",
            'liaison_unit = "经发局"',
            'liaison_unit = "经济局"',
            "enterprises: entry 1 (天子铝业): liaison_unit: there is no unit with the short name '经济局'",
        ),
        (
            "enterprises.toml",
            "is_above_scale = true",
            "is_above_scal = true",
            "enterprises: entry 1 (天子铝业): unknown key is_above_scal",
        ),
        (
            "problems.toml",
            'reply = "已梳理申报材料清单并告知企业，待企业提交总平面图后3个工作日内核发。"\n',
            "",
            "current_problems: entry 5 (电池托盘项目建设用地规划许可证办理): state in_progress needs reply",
        ),
        (
            "batches.toml",
            '{ project = "益海特油项目", role = "start" }',
            '{ project = "益海特油", role = "start" }',
            "batches: entry 1 (1): members: entry 1 (益海特油): project: there is no project named",
        ),
        (
            "reference.toml",
            'unit = "党政办"',
            'unit = "党办"',
            "leaders: entry 1 (周文博): unit: there is no unit with the short name '党办'",
        ),
        ("users.toml", 'login_url = "', "login_url = ", "not valid TOML"),
    ],
)
def test_a_malformed_file_is_refused_naming_file_and_entry(data_dir, name, old, new, message):
    edit(data_dir, name, old, new)

    with pytest.raises(DemoDataError) as refused:
        read_world(data_dir)

    assert str(refused.value).startswith(f"{data_dir / name}: ")
    assert message in str(refused.value)


def test_a_missing_file_is_named(data_dir):
    (data_dir / "batches.toml").unlink()

    with pytest.raises(DemoDataError, match=r"batches\.toml: the file is missing"):
        read_world(data_dir)


def test_load_demo_stops_with_the_message_before_writing(data_dir, monkeypatch):
    edit(data_dir, "reference.toml", 'short_name = "经发局"', 'short_name = "经济局"')
    monkeypatch.setattr(demo_data, "world", lambda: read_world(data_dir))

    # No database access is allowed here: the command stops before it writes anything.
    with pytest.raises(
        CommandError, match=r"users\.toml: users: entry 3 \(reviewer\): unit: there is no unit"
    ):
        call_command("load_demo", "--force")
