"""Sanity checks of a month's completed investment (本月完成投资): the one home of their rules.

The report page, the batch grid, the API and the ledger import all ask ``check_figures``, so a
figure is held back, or refused, for the same reasons wherever it is entered.

* **Refused outright**: a month's figure above ten times the project's total investment (总投资).
  No ledger overrun comes near that; it is a typing or unit error.
* **Held back until the user confirms** (real ledgers do show overruns, so a confirmed figure is
  kept, and its history row says it was confirmed):

  - ``above_total``: the project's cumulative completion would exceed its total investment.
    Cumulative completion is every other month's figure the project has recorded, in every year
    and whatever the report's status (draft, submitted, returned or approved: each is a figure
    someone saved and expects to count), plus this one.
  - ``above_plan``: the year-to-date including this month would exceed the year's planned
    investment (年度计划投资): the year's earlier months, whatever their status, plus this one.
  - ``looks_like_yuan``: the figure is at least 1,000 times the project's typical month, as if it
    were entered in 元 instead of 万元. The typical month is the mean of the project's other
    non-zero monthly figures; a project with none has no typical month and is not checked.

* A project whose total investment is not recorded (0) has no total-based rule; one with no plan
  for the year, or a plan of 0, has no plan rule (as in ``figures``: no plan, no rate).
* A figure of 0 is never held back, and a figure equal to the one already stored for that month
  is not checked again: editing a report's text does not ask to confirm its figure once more.

The figures come from the database: two queries for any number of figures of the same month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Q, Sum
from django.utils import translation
from django.utils.translation import gettext as _

from core.formatting import money
from projects.choices import FigureCheck
from projects.models import AnnualPlan, MonthlyProgress, Project

REFUSE_ABOVE_TOTAL_TIMES = Decimal(10)
YUAN_TIMES = Decimal(1000)
ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Proposed:
    """A month's completed investment someone wants to record for a project.

    ``project`` may be unsaved (a project an import is about to create): it has no history yet.
    ``total`` and ``plan`` stand for the project's total investment and the year's plan when the
    same change sets them (an import row that also corrects them); otherwise the stored ones count."""

    project: Project
    year: int
    month: int
    amount: Decimal | None
    total: Decimal | None = None
    plan: Decimal | None = None


@dataclass(frozen=True)
class FigureWarning:
    """One named reason to hold a figure back: ``code`` is a ``FigureCheck``, ``message`` says why
    with the numbers."""

    code: str
    message: str

    @property
    def label(self) -> str:
        return str(FigureCheck(self.code).label)


@dataclass
class Verdict:
    """What the checks say about one proposed figure."""

    warnings: list[FigureWarning] = field(default_factory=list)
    refusal: ValidationError | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None and not self.warnings


@dataclass(frozen=True)
class _History:
    others: Decimal = ZERO  # every other month's figure, all years
    ytd_before: Decimal = ZERO  # the year's earlier months
    typical: Decimal | None = None  # mean of the other non-zero months
    current: Decimal | None = None  # the figure stored for this month, if any


def check_figures(proposed: Sequence[Proposed]) -> list[Verdict]:
    """A verdict for each proposed figure, in order. Two queries per distinct month, whatever the
    number of figures (a grid or an import proposes them all for the same month)."""
    by_period: dict[tuple[int, int], set[int]] = defaultdict(set)
    for item in proposed:
        if item.project.pk is not None and item.amount is not None:
            by_period[(item.year, item.month)].add(item.project.pk)
    histories, plans = {}, {}
    for (year, month), ids in by_period.items():
        histories.update(_histories(ids, year=year, month=month))
        plans.update(
            {
                (project_id, year): planned
                for project_id, planned in AnnualPlan.objects.filter(project_id__in=ids, year=year)
                .order_by()
                .values_list("project_id", "planned_investment")
            }
        )
    return [
        _verdict(
            item,
            histories.get((item.project.pk, item.year, item.month), _History()),
            item.plan if item.plan is not None else plans.get((item.project.pk, item.year)),
        )
        for item in proposed
    ]


def check_figure(*, project: Project, year: int, month: int, amount: Decimal | None) -> Verdict:
    return check_figures([Proposed(project, year, month, amount)])[0]


def _histories(ids: set[int], *, year: int, month: int) -> dict[tuple[int, int, int], _History]:
    this_month = Q(year=year, month=month)
    rows = (
        MonthlyProgress.objects.filter(project_id__in=ids)
        .values("project_id")
        .annotate(
            total=Sum("completed_investment"),
            current=Sum("completed_investment", filter=this_month),
            has_current=Count("pk", filter=this_month),
            ytd_before=Sum("completed_investment", filter=Q(year=year, month__lt=month)),
            typical=Avg("completed_investment", filter=Q(completed_investment__gt=0) & ~this_month),
        )
        .order_by()
    )
    return {
        (row["project_id"], year, month): _History(
            others=_cents(row["total"]) - _cents(row["current"]),
            ytd_before=_cents(row["ytd_before"]),
            typical=_cents(row["typical"]) if row["typical"] else None,
            current=_cents(row["current"]) if row["has_current"] else None,
        )
        for row in rows
    }


def _cents(value) -> Decimal:
    # SQLite sums and averages decimals as floats: back to 万元 with two decimals.
    return Decimal(str(value or 0)).quantize(CENT)


def _verdict(item: Proposed, history: _History, planned: Decimal | None) -> Verdict:
    amount = item.amount
    verdict = Verdict()
    if amount is None or amount <= 0 or amount == history.current:
        return verdict
    total = Decimal((item.total if item.total is not None else item.project.total_investment) or 0)
    if total > 0 and amount > total * REFUSE_ABOVE_TOTAL_TIMES:
        verdict.refusal = ValidationError(
            {
                "completed_investment": ValidationError(
                    _(
                        "%(amount)s (10k yuan) in one month is more than ten times the project's "
                        "total investment (%(total)s 10k yuan): check the figure and its unit."
                    )
                    % {"amount": money(amount), "total": money(total)},
                    code="implausible",
                )
            }
        )
        return verdict
    cumulative = history.others + amount
    if total > 0 and cumulative > total:
        verdict.warnings.append(
            FigureWarning(
                FigureCheck.ABOVE_TOTAL,
                _(
                    "The cumulative completed investment would be %(cumulative)s 10k yuan, above the "
                    "project's total investment (%(total)s 10k yuan)."
                )
                % {"cumulative": money(cumulative), "total": money(total)},
            )
        )
    ytd = history.ytd_before + amount
    if planned and ytd > planned:
        verdict.warnings.append(
            FigureWarning(
                FigureCheck.ABOVE_PLAN,
                _(
                    "The completed investment for months 1–%(month)s of %(year)s would be %(ytd)s 10k yuan, "
                    "above the year's planned investment (%(plan)s 10k yuan)."
                )
                % {"month": item.month, "year": item.year, "ytd": money(ytd), "plan": money(planned)},
            )
        )
    if history.typical and amount >= history.typical * YUAN_TIMES:
        verdict.warnings.append(
            FigureWarning(
                FigureCheck.LOOKS_LIKE_YUAN,
                _(
                    "This figure is %(times)s times the project's typical month (%(typical)s 10k yuan): "
                    "was it entered in yuan instead of 10k yuan?"
                )
                % {"times": f"{int(amount / history.typical):,}", "typical": money(history.typical)},
            )
        )
    return verdict


def confirmation_reason(warnings: Sequence[FigureWarning]) -> str:
    """The history row's reason for a figure saved despite its warnings, in the portal's language
    (it is part of the record), within simple-history's 100 characters."""
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Confirmed by the user despite: %(checks)s") % {
            "checks": "、".join(warning.label for warning in warnings)
        }
    return reason[:100]
