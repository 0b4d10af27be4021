"""The 万人助万企 figures of ``problems.kpis``, on tickets built through the services and
counted by hand: the seed-000 set (51 collected, 50 resolved) and small sets for the other figures."""

import datetime
from decimal import Decimal

import pytest

from core.roles import Role
from problems import services
from problems.choices import ProblemCategory, ProblemLevel, Satisfaction
from problems.kpis import problem_kpis, totals
from problems.models import ProblemTicket
from tests.factories import DepartmentFactory, EnterpriseFactory, ParkFactory, UserFactory, at, make_ticket

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = datetime.timedelta(days=1)


class Team:
    """The office, a collector and a unit with its handler: enough to walk a ticket through."""

    def __init__(self, staff, office):
        self.staff, self.office = staff, office
        self.handlers = {}

    def handler(self, unit):
        if unit.pk not in self.handlers:
            self.handlers[unit.pk] = UserFactory(
                username=f"unit{unit.pk}", roles=[Role.UNIT], department=unit
            )
        return self.handlers[unit.pk]

    def collect(self, collected_at, *, enterprise=None, **data):
        return make_ticket(
            user=self.staff, collected_at=collected_at, enterprise=enterprise or EnterpriseFactory(), **data
        )

    def escalate(self, ticket, times, when):
        for step in range(times):
            services.ticket_escalate(
                ticket=ticket,
                user=self.office,
                reason="区级无法解决",
                at=when + datetime.timedelta(minutes=step),
            )

    def assign(self, ticket, unit, when):
        services.ticket_assign(ticket=ticket, user=self.office, unit=unit, at=when)

    def resolve(self, ticket, when):
        services.ticket_resolve(ticket=ticket, user=self.handler(ticket.unit), resolution="已解决", at=when)

    def close(self, ticket, when):
        services.ticket_close(ticket=ticket, user=self.office, at=when)

    def rate(self, ticket, satisfaction, when):
        services.ticket_rate(ticket=ticket, user=self.staff, satisfaction=satisfaction, at=when)

    def closed(self, collected_at, unit, days, **data):
        """Collected, assigned an hour later, resolved the day before closing, closed ``days`` later."""
        ticket = self.collect(collected_at, **data)
        self.assign(ticket, unit, collected_at + datetime.timedelta(hours=1))
        self.resolve(ticket, collected_at + (days - 1) * DAY)
        self.close(ticket, collected_at + days * DAY)
        return ticket


@pytest.fixture
def team(staff, office):
    return Team(staff, office)


def by_key(figures):
    return {row.key: row for row in figures}


class TestSeed000:
    """30 enterprises visited, 51 problems: 2 provincial (1 solved, 1 followed), 20 municipal and
    29 zone-level (all solved)."""

    @pytest.fixture
    def seed(self, team):
        zone_unit = DepartmentFactory(name="区自然资源局")
        city_unit = DepartmentFactory(name="区住建局")
        province_unit = DepartmentFactory(name="区发改委")
        enterprises = [EnterpriseFactory() for _ in range(30)]
        start = at(2021, 3, 1, 9)
        count = 0

        def collect():
            nonlocal count
            ticket = team.collect(start + count * DAY, enterprise=enterprises[count % 30])
            count += 1
            return ticket

        # Zone level: closed 3 days after collection.
        for _ in range(29):
            ticket = collect()
            team.assign(ticket, zone_unit, ticket.collected_at + datetime.timedelta(hours=1))
            team.resolve(ticket, ticket.collected_at + 2 * DAY)
            team.close(ticket, ticket.collected_at + 3 * DAY)
        # City level: escalated once, closed 5 days after collection.
        for _ in range(20):
            ticket = collect()
            team.escalate(ticket, 1, ticket.collected_at + datetime.timedelta(minutes=30))
            team.assign(ticket, city_unit, ticket.collected_at + datetime.timedelta(hours=1))
            team.resolve(ticket, ticket.collected_at + 4 * DAY)
            team.close(ticket, ticket.collected_at + 5 * DAY)
        # Province level: escalated twice; one closed after 10 days, one still being followed.
        solved = collect()
        team.escalate(solved, 2, solved.collected_at + datetime.timedelta(minutes=30))
        team.assign(solved, province_unit, solved.collected_at + datetime.timedelta(hours=1))
        team.resolve(solved, solved.collected_at + 9 * DAY)
        team.close(solved, solved.collected_at + 10 * DAY)
        followed = collect()
        team.escalate(followed, 2, followed.collected_at + datetime.timedelta(minutes=30))
        team.assign(followed, province_unit, followed.collected_at + datetime.timedelta(hours=1))
        services.ticket_reply(
            ticket=followed,
            user=team.handler(province_unit),
            text="已报省发改委协调",
            at=followed.collected_at + DAY,
        )
        # The 51st problem was collected on 2021-04-20 (2021-03-01 + 50 days); 7 days to resolve.
        assert followed.collected_at == at(2021, 4, 20, 9)
        assert followed.resolve_due == D(2021, 4, 27)
        return {"zone": zone_unit, "city": city_unit, "province": province_unit, "followed": followed}

    def test_totals_and_levels(self, seed):
        kpis = problem_kpis(ProblemTicket.objects.all(), today=D(2021, 12, 31))

        total = kpis.total
        assert (total.collected, total.resolved, total.open, total.overdue) == (51, 50, 1, 1)
        assert total.resolution_rate == Decimal("0.9804")  # 50 / 51 = 0.98039…
        # (29 × 3 + 20 × 5 + 1 × 10) / 50 = 197 / 50 = 3.94 days.
        assert total.average_days == Decimal("3.9")
        assert (total.rated, total.satisfaction_rate) == (0, None)

        assert [
            (row.key, row.collected, row.resolved, row.resolution_rate, row.overdue, row.average_days)
            for row in kpis.by_level
        ] == [
            (ProblemLevel.ZONE, 29, 29, Decimal("1.0000"), 0, Decimal("3.0")),
            (ProblemLevel.CITY, 20, 20, Decimal("1.0000"), 0, Decimal("5.0")),
            (ProblemLevel.PROVINCE, 2, 1, Decimal("0.5000"), 1, Decimal("10.0")),
        ]
        assert [row.label for row in kpis.by_level] == ["区级", "市级", "省级"]

        units = by_key(kpis.by_unit)
        assert {
            units[seed[name].pk].label: (units[seed[name].pk].collected, units[seed[name].pk].resolved)
            for name in ("zone", "city", "province")
        } == {"区自然资源局": (29, 29), "区住建局": (20, 20), "区发改委": (2, 1)}
        assert len(kpis.by_unit) == 3
        assert [(row.key, row.collected) for row in kpis.by_category] == [(ProblemCategory.LAND, 51)]

    def test_the_followed_one_is_late_only_after_its_last_day(self, seed):
        tickets = ProblemTicket.objects.all()

        assert totals(tickets, today=D(2021, 4, 27)).overdue == 0
        assert totals(tickets, today=D(2021, 4, 28)).overdue == 1
        late = by_key(problem_kpis(tickets, today=D(2021, 4, 28)).by_unit)
        assert (late[seed["province"].pk].overdue, late[seed["zone"].pk].overdue) == (1, 0)

    def test_the_period_counts_by_collection_day(self, seed):
        # March 2021 holds the first 31 problems (03-01 … 03-31): all zone-level 29, then 2 city.
        kpis = problem_kpis(
            ProblemTicket.objects.all(),
            today=D(2021, 12, 31),
            date_from=D(2021, 3, 1),
            date_to=D(2021, 3, 31),
        )

        assert (kpis.total.collected, kpis.total.resolved) == (31, 31)
        assert [(row.key, row.collected) for row in kpis.by_level] == [
            (ProblemLevel.ZONE, 29),
            (ProblemLevel.CITY, 2),
        ]


class TestSmallSets:
    @pytest.fixture
    def units(self):
        return DepartmentFactory(name="区税务局"), DepartmentFactory(name="区人社局")

    def test_satisfaction_rate(self, team, units):
        tax, _labour = units
        start = at(2021, 5, 10, 9)
        satisfied = team.closed(start, tax, 2)
        basically = team.closed(start, tax, 2)
        also_satisfied = team.closed(start, tax, 2)
        not_rated = team.closed(start, tax, 2)
        unhappy = team.closed(start, tax, 2)
        team.rate(satisfied, Satisfaction.SATISFIED, start + 3 * DAY)
        team.rate(basically, Satisfaction.BASICALLY, start + 3 * DAY)
        team.rate(also_satisfied, Satisfaction.SATISFIED, start + 3 * DAY)
        team.rate(unhappy, Satisfaction.UNSATISFIED, start + 3 * DAY)
        tickets = ProblemTicket.objects.all()

        # The 不满意 reopened its problem; until it is rated again it counts as rated, not satisfied:
        # (2 满意 + 1 基本满意) / 4 rated.
        figures = totals(tickets, today=D(2021, 5, 14))
        assert (figures.collected, figures.resolved, figures.rated, figures.satisfied) == (5, 4, 4, 3)
        assert figures.satisfaction_rate == Decimal("0.7500")
        by_unit = by_key(problem_kpis(tickets, today=D(2021, 5, 14)).by_unit)
        assert (by_unit[tax.pk].rated, by_unit[tax.pk].satisfaction_rate) == (4, Decimal("0.7500"))
        assert not_rated.satisfaction == ""

        # Worked again and rated 满意: 4 / 4.
        team.resolve(unhappy, start + 4 * DAY)
        team.close(unhappy, start + 5 * DAY)
        team.rate(unhappy, Satisfaction.SATISFIED, start + 6 * DAY)
        figures = totals(tickets, today=D(2021, 5, 17))
        assert (figures.resolved, figures.rated, figures.satisfied) == (5, 4, 4)
        assert figures.satisfaction_rate == Decimal("1.0000")

    def test_overdue_per_unit_and_the_due_day_is_not_late(self, team, units):
        tax, labour = units
        # Collected Mon 2021-05-10 09:00: assign by 05-11, report by 05-13, resolve by 05-17.
        start = at(2021, 5, 10, 9)
        waiting_report = team.collect(start)
        team.assign(waiting_report, tax, start + datetime.timedelta(hours=1))
        in_progress = team.collect(start)
        team.assign(in_progress, tax, start + datetime.timedelta(hours=1))
        services.ticket_reply(ticket=in_progress, user=team.handler(tax), text="已对接", at=start + DAY)
        labour_one = team.collect(start)
        team.assign(labour_one, labour, start + datetime.timedelta(hours=1))
        services.ticket_reply(ticket=labour_one, user=team.handler(labour), text="已对接", at=start + DAY)
        pending = team.collect(start + DAY)  # assign by 05-12
        team.closed(start, labour, 2)  # closed: never late
        tickets = ProblemTicket.objects.all()

        def overdue(today):
            kpis = problem_kpis(tickets, today=today)
            units_ = by_key(kpis.by_unit)
            return kpis.total.overdue, units_[tax.pk].overdue, units_[labour.pk].overdue, units_[None].overdue

        assert overdue(D(2021, 5, 12)) == (0, 0, 0, 0)  # the pending one's last day
        assert overdue(D(2021, 5, 13)) == (1, 0, 0, 1)  # pending late; report due today
        assert overdue(D(2021, 5, 14)) == (2, 1, 0, 1)  # the unreported one too
        assert overdue(D(2021, 5, 17)) == (2, 1, 0, 1)  # resolve due today
        assert overdue(D(2021, 5, 18)) == (4, 2, 1, 1)
        assert by_key(problem_kpis(tickets, today=D(2021, 5, 18)).by_unit)[None].label == "尚未交办"
        assert pending.unit is None

    def test_average_days_category_and_park(self, team, units):
        tax, _labour = units
        north, south = ParkFactory(name="金属新材料产业园"), ParkFactory(name="生物医药产业园")
        start = at(2021, 6, 1, 9)
        team.closed(
            start, tax, 2, enterprise=EnterpriseFactory(park=north), category=ProblemCategory.FINANCING
        )
        team.closed(
            start, tax, 4, enterprise=EnterpriseFactory(park=north), category=ProblemCategory.FINANCING
        )
        team.closed(start, tax, 9, enterprise=EnterpriseFactory(park=south), category=ProblemCategory.LABOUR)
        # Closed 12 hours after the end of its third day: 3.5 days.
        half = team.collect(start, enterprise=EnterpriseFactory(park=south), category=ProblemCategory.LABOUR)
        team.assign(half, tax, start + datetime.timedelta(hours=1))
        team.resolve(half, start + 2 * DAY)
        team.close(half, start + datetime.timedelta(days=3, hours=12))
        # Open: counted as collected, not in the average.
        team.collect(start, enterprise=EnterpriseFactory(park=None), category=ProblemCategory.FINANCING)

        kpis = problem_kpis(ProblemTicket.objects.all(), today=D(2021, 6, 30))

        # (2 + 4 + 9 + 3.5) / 4 = 18.5 / 4 = 4.625 → 4.6.
        assert kpis.total.average_days == Decimal("4.6")
        assert [(row.key, row.collected, row.resolved, row.average_days) for row in kpis.by_category] == [
            (ProblemCategory.FINANCING, 3, 2, Decimal("3.0")),  # (2 + 4) / 2
            (ProblemCategory.LABOUR, 2, 2, Decimal("6.3")),  # (9 + 3.5) / 2 = 6.25, half up
        ]
        parks = by_key(kpis.by_park)
        assert (parks[north.pk].label, parks[north.pk].collected, parks[north.pk].average_days) == (
            "金属新材料产业园",
            2,
            Decimal("3.0"),
        )
        assert (parks[south.pk].collected, parks[south.pk].average_days) == (2, Decimal("6.3"))
        assert (parks[None].label, parks[None].collected, parks[None].average_days) == ("未归属园区", 1, None)
        assert len(kpis.by_park) == 3

    def test_the_period_uses_the_local_day_and_is_inclusive(self, team, units):
        tax, _labour = units
        # 00:30 on June 1 in the zone is still May 31 in UTC: it belongs to June.
        early = team.collect(at(2021, 6, 1, 0, 30))
        team.collect(at(2021, 6, 30, 23, 50))
        team.collect(at(2021, 5, 31, 23, 50))
        team.collect(at(2021, 7, 1, 0, 10))
        team.assign(early, tax, at(2021, 6, 1, 9))

        kpis = problem_kpis(
            ProblemTicket.objects.all(), today=D(2021, 7, 2), date_from=D(2021, 6, 1), date_to=D(2021, 6, 30)
        )

        assert kpis.total.collected == 2
        assert {row.key: row.collected for row in kpis.by_unit} == {tax.pk: 1, None: 1}
        # Only a start, or only an end.
        tickets = ProblemTicket.objects.all()
        assert problem_kpis(tickets, today=D(2021, 7, 2), date_from=D(2021, 6, 1)).total.collected == 3
        assert problem_kpis(tickets, today=D(2021, 7, 2), date_to=D(2021, 6, 30)).total.collected == 3

    def test_an_empty_period_has_no_rates(self, team):
        kpis = problem_kpis(ProblemTicket.objects.all(), today=D(2021, 7, 2))

        assert (kpis.total.collected, kpis.total.resolution_rate, kpis.total.average_days) == (0, None, None)
        assert (kpis.by_level, kpis.by_unit, kpis.by_park) == ([], [], [])
