"""The "13710" clock: due dates in calendar and working days, plans for major problems, and
"overdue" said the same way in Python (``next_step``) and in SQL (``overdue_q``)."""

import datetime

import chinese_calendar
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from problems import deadlines, services
from problems.choices import EventKind, Satisfaction, Step, TicketStatus
from problems.models import ProblemTicket, TicketEvent
from problems.selectors import with_overdue
from tests.factories import at, make_ticket

pytestmark = pytest.mark.django_db

D = datetime.date


def dues(ticket):
    return ticket.assign_due, ticket.report_due, ticket.resolve_due


class TestCalendarDays:
    def test_ordinary_problem_gets_1_3_7_days_from_the_day_it_was_collected(self, staff):
        ticket = make_ticket(user=staff, collected_at=at(2026, 3, 2, 10))

        ticket.refresh_from_db()
        assert ticket.resolve_clock_from == D(2026, 3, 2)
        assert dues(ticket) == (D(2026, 3, 3), D(2026, 3, 5), D(2026, 3, 9))
        assert ticket.review_due is None

    def test_counting_runs_over_the_end_of_february(self, staff):
        # 2026 is not a leap year: Feb 27 + 1 = Feb 28, + 3 = Mar 2, + 7 = Mar 6.
        ticket = make_ticket(user=staff, collected_at=at(2026, 2, 27, 16))

        assert dues(ticket) == (D(2026, 2, 28), D(2026, 3, 2), D(2026, 3, 6))

    def test_the_local_day_counts_not_the_utc_day(self, staff):
        # 00:30 in Shanghai on March 2 is still March 1 in UTC.
        collected = at(2026, 3, 2, 0, 30)
        assert collected.astimezone(datetime.UTC).date() == D(2026, 3, 1)

        ticket = make_ticket(user=staff, collected_at=collected)

        assert ticket.resolve_clock_from == D(2026, 3, 2)
        assert dues(ticket) == (D(2026, 3, 3), D(2026, 3, 5), D(2026, 3, 9))

    @pytest.mark.parametrize(
        ("collected_on", "due"),
        [
            (D(2026, 3, 2), D(2026, 4, 2)),
            (D(2026, 1, 31), D(2026, 2, 28)),  # no Feb 31: the month's last day
            (D(2024, 1, 31), D(2024, 2, 29)),  # leap year
            (D(2026, 3, 31), D(2026, 4, 30)),
            (D(2026, 12, 15), D(2027, 1, 15)),  # over the year end
        ],
    )
    def test_major_problem_gets_one_calendar_month(self, collected_on, due):
        result = deadlines.dues_from(collected_on, major=True)

        assert result.resolve == due
        # The first two steps do not change for a major problem.
        assert (result.assign, result.report) == (
            collected_on + datetime.timedelta(days=1),
            collected_on + datetime.timedelta(days=3),
        )

    def test_major_ticket_is_stored_with_the_month(self, staff):
        ticket = make_ticket(user=staff, collected_at=at(2026, 1, 31, 9), is_major=True)

        ticket.refresh_from_db()
        assert dues(ticket) == (D(2026, 2, 1), D(2026, 2, 3), D(2026, 2, 28))

    def test_counts_come_from_settings(self, settings, staff, office, unit, handler):
        settings.PROBLEM_DEADLINES = {"assign": 2, "report": 5, "resolve": 15, "major_months": 2, "review": 3}

        ordinary = make_ticket(user=staff, collected_at=at(2026, 3, 2))
        major = make_ticket(user=staff, collected_at=at(2026, 3, 2), is_major=True)
        services.ticket_assign(ticket=ordinary, user=office, unit=unit, at=at(2026, 3, 2, 11))
        services.ticket_resolve(ticket=ordinary, user=handler, resolution="已办结", at=at(2026, 3, 5, 15))

        ordinary.refresh_from_db()
        assert dues(ordinary) == (D(2026, 3, 4), D(2026, 3, 7), D(2026, 3, 17))
        assert ordinary.review_due == D(2026, 3, 8)
        assert major.resolve_due == D(2026, 5, 2)

    def test_unknown_counting_mode_is_refused(self, settings):
        settings.PROBLEM_DAY_COUNTING = "lunar"

        with pytest.raises(ValueError, match="lunar"):
            deadlines.dues_from(D(2026, 3, 2), major=False)


class TestWorkingDays:
    @pytest.fixture(autouse=True)
    def working_days(self, settings):
        settings.PROBLEM_DAY_COUNTING = "working"

    def test_the_holiday_table_is_what_the_following_tests_count_on(self):
        # The State Council's 2026 schedule as chinese-calendar holds it: Mid-Autumn
        # Sep 25–27 off, National Day Oct 1–7 off, Sun Sep 20 and Sat Oct 10 worked.
        off = [D(2026, 9, 25), D(2026, 9, 26), D(2026, 9, 27), D(2026, 10, 11)]
        off += [D(2026, 10, day) for day in range(1, 8)]
        on = [D(2026, 9, 20), D(2026, 9, 28), D(2026, 9, 29), D(2026, 9, 30)]
        on += [D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10), D(2026, 10, 12)]
        assert [day for day in off if chinese_calendar.is_workday(day)] == []
        assert [day for day in on if not chinese_calendar.is_workday(day)] == []

    def test_friday_evening_before_the_holidays_is_due_after_them(self, staff):
        ticket = make_ticket(user=staff, collected_at=at(2026, 9, 25, 19, 30))

        # Working days after Fri Sep 25: Sep 28 (1), 29, 30 (3), Oct 8, 9, 10 (make-up Sat), 12 (7).
        ticket.refresh_from_db()
        assert dues(ticket) == (D(2026, 9, 28), D(2026, 9, 30), D(2026, 10, 12))
        assert ticket.resolve_clock_from == D(2026, 9, 25)

    def test_the_same_ticket_in_calendar_days(self, settings, staff):
        settings.PROBLEM_DAY_COUNTING = "calendar"

        ticket = make_ticket(user=staff, collected_at=at(2026, 9, 25, 19, 30))

        assert dues(ticket) == (D(2026, 9, 26), D(2026, 9, 28), D(2026, 10, 2))

    def test_a_make_up_sunday_counts(self, staff):
        # Collected Sat Sep 19; Sun Sep 20 is worked: 20 (1), 21, 22 (3), 23, 24, [25–27 off], 28, 29 (7).
        ticket = make_ticket(user=staff, collected_at=at(2026, 9, 19, 9))

        assert dues(ticket) == (D(2026, 9, 20), D(2026, 9, 22), D(2026, 9, 29))

    @pytest.mark.parametrize(
        ("collected_on", "due"),
        [
            (D(2026, 8, 31), D(2026, 9, 30)),  # a working Wednesday: stays
            (D(2026, 9, 3), D(2026, 10, 8)),  # Oct 3 is National Day: first working day after
            (D(2026, 9, 10), D(2026, 10, 10)),  # Sat Oct 10 is a make-up working day: stays
            (D(2026, 9, 11), D(2026, 10, 12)),  # Sun Oct 11 is off: Monday
        ],
    )
    def test_major_problem_month_rolls_to_the_next_working_day(self, collected_on, due):
        assert deadlines.dues_from(collected_on, major=True).resolve == due

    def test_major_ticket_stored_with_the_rolled_date(self, staff):
        ticket = make_ticket(user=staff, collected_at=at(2026, 9, 3, 15), is_major=True)

        ticket.refresh_from_db()
        assert ticket.resolve_due == D(2026, 10, 8)

    def test_years_without_holiday_data_fall_back_to_monday_to_friday(self):
        # chinese-calendar only knows the years the State Council has published.
        with pytest.raises(NotImplementedError):
            chinese_calendar.is_workday(D(2099, 1, 2))

        # Thu 2099-01-01 (New Year's Day, unknown to the table): Fri 2 (1), Mon 5, Tue 6 (3),
        # Wed 7, Thu 8, Fri 9, Mon 12 (7).
        result = deadlines.dues_from(D(2099, 1, 1), major=False)
        assert (result.assign, result.report, result.resolve) == (
            D(2099, 1, 2),
            D(2099, 1, 6),
            D(2099, 1, 12),
        )
        # Jan 28 + 1 month = Sat Feb 28 → Mon Mar 2.
        assert deadlines.dues_from(D(2099, 1, 28), major=True).resolve == D(2099, 3, 2)

    def test_review_due_counts_working_days(self, staff, office, unit, handler):
        ticket = make_ticket(user=staff, collected_at=at(2026, 9, 21, 9))
        services.ticket_assign(ticket=ticket, user=office, unit=unit, at=at(2026, 9, 21, 10))

        services.ticket_resolve(ticket=ticket, user=handler, resolution="已协调解决", at=at(2026, 9, 30, 16))

        # Resolved Wed Sep 30; the next working day is Thu Oct 8.
        assert ticket.review_due == D(2026, 10, 8)


class TestMajorPlan:
    """A major problem's unit may commit to a date within the month; later it stays late."""

    @pytest.fixture
    def major(self, staff, office, unit, handler):
        # Collected Mon 2026-03-02: the month runs to Apr 2; the first report came in time.
        ticket = make_ticket(user=staff, collected_at=at(2026, 3, 2), is_major=True)
        services.ticket_assign(ticket=ticket, user=office, unit=unit, at=at(2026, 3, 2, 11))
        services.ticket_reply(ticket=ticket, user=handler, text="已成立专班", at=at(2026, 3, 4))
        return ticket

    def test_plan_on_the_last_day_of_the_month_sets_the_deadline(self, major, handler):
        assert major.resolve_due == D(2026, 4, 2)

        services.ticket_plan(
            ticket=major,
            user=handler,
            plan="协调电力公司新建专线，分三步实施",
            committed_date=D(2026, 5, 20),
            at=at(2026, 4, 2, 17),
        )

        major.refresh_from_db()
        assert (major.plan, major.committed_date) == ("协调电力公司新建专线，分三步实施", D(2026, 5, 20))
        assert major.resolve_due == D(2026, 5, 20)
        event = TicketEvent.objects.get(ticket=major, kind=EventKind.PLANNED)
        assert (event.actor, event.date, event.text) == (handler, D(2026, 5, 20), major.plan)
        assert not deadlines.next_step(major, D(2026, 5, 20)).overdue
        assert deadlines.next_step(major, D(2026, 5, 21)).overdue

    def test_plan_after_the_month_is_kept_but_the_deadline_is_not_moved(self, major, handler):
        services.ticket_plan(
            ticket=major,
            user=handler,
            plan="协调电力公司新建专线",
            committed_date=D(2026, 5, 20),
            at=at(2026, 4, 3, 9),
        )

        major.refresh_from_db()
        assert (major.plan, major.committed_date) == ("协调电力公司新建专线", D(2026, 5, 20))
        assert major.resolve_due == D(2026, 4, 2)
        assert deadlines.next_step(major, D(2026, 4, 3)).overdue
        assert ProblemTicket.objects.filter(deadlines.overdue_q(D(2026, 4, 3)), pk=major.pk).exists()

    def test_plan_recorded_now_for_a_ticket_collected_over_a_month_ago(self, staff, office, unit, handler):
        today = timezone.localdate()
        ticket = make_ticket(
            user=staff, collected_at=timezone.now() - datetime.timedelta(days=40), is_major=True
        )
        services.ticket_assign(ticket=ticket, user=office, unit=unit)
        month_due = ticket.resolve_due
        assert month_due < today

        services.ticket_plan(
            ticket=ticket,
            user=handler,
            plan="列入市级专班协调",
            committed_date=today + datetime.timedelta(days=30),
        )

        ticket.refresh_from_db()
        assert ticket.committed_date == today + datetime.timedelta(days=30)
        assert ticket.resolve_due == month_due
        assert deadlines.next_step(ticket, today).overdue
        assert ProblemTicket.objects.filter(deadlines.overdue_q(today), pk=ticket.pk).exists()

    def test_plan_recorded_now_within_the_month(self, staff, office, unit, handler):
        today = timezone.localdate()
        ticket = make_ticket(
            user=staff, collected_at=timezone.now() - datetime.timedelta(days=3), is_major=True
        )
        services.ticket_assign(ticket=ticket, user=office, unit=unit)
        services.ticket_reply(ticket=ticket, user=handler, text="已成立专班")

        services.ticket_plan(
            ticket=ticket, user=handler, plan="分期实施", committed_date=today + datetime.timedelta(days=45)
        )

        ticket.refresh_from_db()
        assert ticket.resolve_due == today + datetime.timedelta(days=45)
        assert not deadlines.next_step(ticket, today).overdue

    def refused(self, ticket, handler, **kwargs):
        before = ProblemTicket.objects.get(pk=ticket.pk)
        events = TicketEvent.objects.filter(ticket=ticket).count()
        with pytest.raises(ValidationError) as error:
            services.ticket_plan(ticket=ticket, user=handler, **kwargs)
        after = ProblemTicket.objects.get(pk=ticket.pk)
        assert (after.plan, after.committed_date, after.resolve_due, after.version) == (
            before.plan,
            before.committed_date,
            before.resolve_due,
            before.version,
        )
        assert TicketEvent.objects.filter(ticket=ticket).count() == events
        return error.value

    def test_not_for_an_ordinary_problem(self, staff, office, unit, handler):
        ticket = make_ticket(user=staff, collected_at=timezone.now() - datetime.timedelta(days=1))
        services.ticket_assign(ticket=ticket, user=office, unit=unit)

        error = self.refused(
            ticket,
            handler,
            plan="分期实施",
            committed_date=timezone.localdate() + datetime.timedelta(days=20),
        )
        assert error.code == "status"
        assert "plan" not in services.allowed_actions(handler, ticket)

    def test_committed_date_in_the_past_is_refused(self, staff, office, unit, handler):
        ticket = make_ticket(
            user=staff, collected_at=timezone.now() - datetime.timedelta(days=3), is_major=True
        )
        services.ticket_assign(ticket=ticket, user=office, unit=unit)

        error = self.refused(
            ticket, handler, plan="分期实施", committed_date=timezone.localdate() - datetime.timedelta(days=1)
        )
        assert "committed_date" in error.message_dict

    def test_missing_date_or_plan_is_refused(self, staff, office, unit, handler):
        ticket = make_ticket(
            user=staff, collected_at=timezone.now() - datetime.timedelta(days=3), is_major=True
        )
        services.ticket_assign(ticket=ticket, user=office, unit=unit)

        error = self.refused(ticket, handler, plan="分期实施", committed_date=None)
        assert "committed_date" in error.message_dict
        error = self.refused(
            ticket, handler, plan="   ", committed_date=timezone.localdate() + datetime.timedelta(days=20)
        )
        assert "plan" in error.message_dict


class TestOverdueAgreement:
    """``next_step`` and ``overdue_q`` agree for every status, before, on and after the due day."""

    @pytest.fixture
    def tickets(self, staff, office, unit, handler):
        # Every ticket collected Mon 2026-03-02 10:00: assign by 03-03, report by 03-05, resolve by 03-09.
        def new(**data):
            return make_ticket(user=staff, collected_at=at(2026, 3, 2), **data)

        def assigned(**data):
            ticket = new(**data)
            services.ticket_assign(ticket=ticket, user=office, unit=unit, at=at(2026, 3, 2, 11))
            return ticket

        pending = new(title="待受理")
        declined = assigned(title="退回")
        services.ticket_decline(
            ticket=declined, user=handler, reason="不属于本单位职责", at=at(2026, 3, 2, 12)
        )
        waiting_report = assigned(title="已交办未报进展")
        replied = assigned(title="办理中")
        services.ticket_reply(ticket=replied, user=handler, text="已对接企业", at=at(2026, 3, 4, 10))
        major = assigned(title="重大问题", is_major=True)
        services.ticket_reply(ticket=major, user=handler, text="已成立专班", at=at(2026, 3, 4, 10))
        under_review = assigned(title="待审核")
        services.ticket_resolve(ticket=under_review, user=handler, resolution="已办结", at=at(2026, 3, 6))
        resolved = assigned(title="已办结")
        services.ticket_resolve(ticket=resolved, user=handler, resolution="已办结", at=at(2026, 3, 6))
        services.ticket_close(ticket=resolved, user=office, at=at(2026, 3, 7))
        rated = assigned(title="已评价")
        services.ticket_resolve(ticket=rated, user=handler, resolution="已办结", at=at(2026, 3, 6))
        services.ticket_close(ticket=rated, user=office, at=at(2026, 3, 7))
        services.ticket_rate(ticket=rated, user=staff, satisfaction=Satisfaction.SATISFIED, at=at(2026, 3, 8))

        # The first day each one is overdue, worked out by hand; None: never.
        return [
            (pending, TicketStatus.PENDING, D(2026, 3, 4)),  # assign by 03-03
            (declined, TicketStatus.PENDING, D(2026, 3, 4)),  # back to assign, still by 03-03
            (waiting_report, TicketStatus.ASSIGNED, D(2026, 3, 6)),  # report by 03-05
            (replied, TicketStatus.IN_PROGRESS, D(2026, 3, 10)),  # resolve by 03-09
            (major, TicketStatus.IN_PROGRESS, D(2026, 4, 3)),  # resolve by 04-02
            (under_review, TicketStatus.UNDER_REVIEW, D(2026, 3, 8)),  # review by 03-07
            (resolved, TicketStatus.RESOLVED, None),
            (rated, TicketStatus.RATED, None),
        ]

    def test_python_and_sql_agree_and_the_due_day_is_not_late(self, tickets):
        days = [D(2026, 3, 1) + datetime.timedelta(days=n) for n in range(40)]  # to 04-09
        for ticket, status, first_late_day in tickets:
            ticket.refresh_from_db()
            assert ticket.status == status, ticket.title
            for today in days:
                step = deadlines.next_step(ticket, today)
                in_python = step is not None and step.overdue
                in_sql = ProblemTicket.objects.filter(deadlines.overdue_q(today), pk=ticket.pk).exists()
                annotated = with_overdue(ProblemTicket.objects.filter(pk=ticket.pk), today).get().is_overdue
                expected = first_late_day is not None and today >= first_late_day
                assert (in_python, in_sql, annotated) == (expected, expected, expected), (ticket.title, today)

    def test_the_step_each_ticket_waits_on(self, tickets):
        today = D(2026, 3, 2)
        waiting = {}
        for ticket, _status, _late in tickets:
            ticket.refresh_from_db()
            step = deadlines.next_step(ticket, today)
            waiting[ticket.title] = None if step is None else (step.step, step.due)

        assert waiting == {
            "待受理": (Step.ASSIGN, D(2026, 3, 3)),
            "退回": (Step.ASSIGN, D(2026, 3, 3)),
            "已交办未报进展": (Step.REPORT, D(2026, 3, 5)),
            "办理中": (Step.RESOLVE, D(2026, 3, 9)),
            "重大问题": (Step.RESOLVE, D(2026, 4, 2)),
            "待审核": (Step.REVIEW, D(2026, 3, 7)),
            "已办结": (Step.RATE, None),
            "已评价": None,
        }

    def test_a_pending_ticket_is_late_when_its_resolve_day_has_passed_even_if_assign_did_too(self, staff):
        ticket = make_ticket(user=staff, collected_at=at(2026, 3, 2))

        # Both steps are unfinished: the earliest is shown, lateness counts either.
        step = deadlines.next_step(ticket, D(2026, 3, 10))
        assert (step.step, step.due, step.overdue) == (Step.ASSIGN, D(2026, 3, 3), True)
        assert ProblemTicket.objects.filter(deadlines.overdue_q(D(2026, 3, 10))).count() == 1

    def test_overdue_q_with_a_prefix_filters_through_a_relation(self, staff):
        late = make_ticket(user=staff, collected_at=at(2026, 3, 2))
        make_ticket(user=staff, collected_at=timezone.now())

        matched = TicketEvent.objects.filter(deadlines.overdue_q(D(2026, 3, 4), prefix="ticket__"))

        assert {event.ticket_id for event in matched} == {late.pk}


# --- The clock as the ticket page shows it: days left, overdue, late -----------------------------


def lines_of(ticket, today):
    """(step, due, state, days) of each clock line, in the order shown."""
    return [(line.step, line.due, line.state, line.days) for line in deadlines.clock_lines(ticket, today)]


class TestClockDays:
    @pytest.fixture
    def late_assigned(self, staff, office, unit):
        # Collected Mon Mar 2: assign by Mar 3, report by Mar 5, resolve by Mar 9. Assigned Mar 4.
        ticket = make_ticket(user=staff, collected_at=at(2026, 3, 2, 10))
        services.ticket_assign(ticket=ticket, user=office, unit=unit, at=at(2026, 3, 4, 9))
        return ProblemTicket.objects.get(pk=ticket.pk)

    def test_calendar_days_left_overdue_and_late(self, late_assigned):
        # On Mar 6: assigned 1 day late (Mar 4 − Mar 3), the report 1 day overdue (Mar 6 − Mar 5),
        # 3 days left to resolve (Mar 9 − Mar 6); the review has no day until a resolution.
        assert lines_of(late_assigned, D(2026, 3, 6)) == [
            (Step.ASSIGN, D(2026, 3, 3), "late", 1),
            (Step.REPORT, D(2026, 3, 5), "overdue", 1),
            (Step.RESOLVE, D(2026, 3, 9), "waiting", 3),
            (Step.REVIEW, None, "", None),
        ]

    def test_the_last_day_is_due_today_and_the_day_after_is_overdue(self, late_assigned):
        assert lines_of(late_assigned, D(2026, 3, 9))[2] == (Step.RESOLVE, D(2026, 3, 9), "waiting", 0)
        assert lines_of(late_assigned, D(2026, 3, 10))[2] == (Step.RESOLVE, D(2026, 3, 9), "overdue", 1)
        # Report due Mar 5, still not sent on Mar 10: 5 days overdue.
        assert lines_of(late_assigned, D(2026, 3, 10))[1] == (Step.REPORT, D(2026, 3, 5), "overdue", 5)

    def test_steps_done_on_time_and_the_review_once_resolved(self, late_assigned, handler):
        services.ticket_reply(ticket=late_assigned, user=handler, text="已对接", at=at(2026, 3, 5, 16))
        services.ticket_resolve(
            ticket=late_assigned, user=handler, resolution="已办结", at=at(2026, 3, 6, 11)
        )
        ticket = ProblemTicket.objects.get(pk=late_assigned.pk)

        # Review within 1 day of the resolution (Mar 6): due Mar 7, 1 day left on Mar 6, and shown
        # before the resolution's own last day (Mar 9).
        assert lines_of(ticket, D(2026, 3, 6)) == [
            (Step.ASSIGN, D(2026, 3, 3), "late", 1),
            (Step.REPORT, D(2026, 3, 5), "done", None),
            (Step.REVIEW, D(2026, 3, 7), "waiting", 1),
            (Step.RESOLVE, D(2026, 3, 9), "done", None),
        ]

    def test_lines_come_in_the_order_of_their_last_days(self, staff, office, unit, handler):
        # A major problem (a month to resolve) resolved early: its review (Mar 4) is due before
        # the resolution's month (Apr 2) and comes before it.
        ticket = make_ticket(user=staff, collected_at=at(2026, 3, 2, 10), is_major=True)
        services.ticket_assign(ticket=ticket, user=office, unit=unit, at=at(2026, 3, 2, 11))
        services.ticket_resolve(ticket=ticket, user=handler, resolution="已办结", at=at(2026, 3, 3, 9))
        ticket = ProblemTicket.objects.get(pk=ticket.pk)

        assert [(step, due) for step, due, _state, _days in lines_of(ticket, D(2026, 3, 3))] == [
            (Step.ASSIGN, D(2026, 3, 3)),
            (Step.REVIEW, D(2026, 3, 4)),
            (Step.REPORT, D(2026, 3, 5)),
            (Step.RESOLVE, D(2026, 4, 2)),
        ]

    def test_working_days_are_counted_as_the_due_dates_are(self, settings, staff, office, unit):
        settings.PROBLEM_DAY_COUNTING = "working"
        # Collected Fri Sep 25 evening: assign by Mon Sep 28, report by Sep 30, resolve by Oct 12
        # (TestWorkingDays). Assigned Thu Oct 8, after the National Day holidays.
        ticket = make_ticket(user=staff, collected_at=at(2026, 9, 25, 19, 30))
        services.ticket_assign(ticket=ticket, user=office, unit=unit, at=at(2026, 10, 8, 9))
        ticket = ProblemTicket.objects.get(pk=ticket.pk)

        # On Fri Oct 9. Assigned late by Sep 29, 30, Oct 8: 3 working days (10 calendar days).
        # The report overdue by Oct 8, 9: 2 (9 calendar days). To resolve: Sat Oct 10 (a
        # make-up working day) and Mon Oct 12: 2 left (3 calendar days).
        assert lines_of(ticket, D(2026, 10, 9)) == [
            (Step.ASSIGN, D(2026, 9, 28), "late", 3),
            (Step.REPORT, D(2026, 9, 30), "overdue", 2),
            (Step.RESOLVE, D(2026, 10, 12), "waiting", 2),
            (Step.REVIEW, None, "", None),
        ]
        # On Sun Oct 4, in the holidays: overdue since Sep 30 with no working day between, 1 day.
        assert lines_of(ticket, D(2026, 10, 4))[1] == (Step.REPORT, D(2026, 9, 30), "overdue", 1)

    def test_days_between_counts_like_add_days(self, settings):
        settings.PROBLEM_DAY_COUNTING = "working"
        # Fri Sep 25 → Mon Sep 28: 1 working day; back again: −1; over the holidays to Oct 8: 4.
        assert deadlines.days_between(D(2026, 9, 25), D(2026, 9, 28)) == 1
        assert deadlines.days_between(D(2026, 9, 28), D(2026, 9, 25)) == -1
        assert deadlines.days_between(D(2026, 9, 25), D(2026, 10, 8)) == 4
        assert deadlines.days_between(D(2026, 9, 25), D(2026, 9, 25)) == 0
        assert deadlines.days_between(D(2026, 9, 25), D(2026, 10, 8), mode="calendar") == 13

    def test_the_legend_says_the_counts_and_how_days_are_counted(self, settings):
        settings.PROBLEM_DEADLINES = {"assign": 1, "report": 3, "resolve": 7, "major_months": 1, "review": 1}
        assert deadlines.legend() == deadlines.Legend(1, 3, 7, 1, 1, working_days=False)
        settings.PROBLEM_DAY_COUNTING = "working"
        assert deadlines.legend().working_days is True
