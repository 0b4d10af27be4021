"""Columns the project workbooks share, so every report names and sizes them alike: 序号 with
the project's identification, and the completion rate against the schedule."""

from core.excel import Column


def project_columns(*, name_width: int = 30, enterprise_width: int = 24, place: bool = True) -> list[Column]:
    """序号, 项目名称, 建设单位 and, with ``place``, 级别 and 园区."""
    columns = [
        Column("seq", "序号", "count", width=6),
        Column("name", "项目名称", "wrap", width=name_width),
        Column("enterprise", "建设单位", "wrap", width=enterprise_width),
    ]
    if place:
        columns += [Column("level", "级别", "center", width=8), Column("park", "园区", "wrap", width=16)]
    return columns


def rate_columns(width: int) -> list[Column]:
    """完成率 (a ratio of the sums in total rows), 时序进度 and the gap between them."""
    return [
        Column(
            "completion_rate",
            "完成率",
            "rate",
            width=width,
            total="ratio",
            ratio_of=("completed_investment", "planned_investment"),
        ),
        Column("schedule_progress", "时序进度", "rate", width=width),
        Column("gap_points", "与时序进度差（百分点）", "money", width=12),
    ]
