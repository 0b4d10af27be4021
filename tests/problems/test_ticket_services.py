"""The problem-ticket workflow through ``problems.services``: who may do what, in which status,
what each step records on the ticket and its timeline, and that a refusal changes nothing."""

import datetime
import re
import struct
import zlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.locking import StaleVersion
from core.roles import Role
from problems import deadlines, services
from problems.choices import (
    ClosureGrade,
    EventKind,
    ProblemCategory,
    ProblemLevel,
    ProblemSource,
    Satisfaction,
    TicketStatus,
)
from problems.models import ProblemTicket, TicketAttachment, TicketEvent, Visit
from tests.factories import SHANGHAI, DepartmentFactory, EnterpriseFactory, UserFactory, at, make_ticket

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def colleague(unit):
    return UserFactory(username="ziranziyuan2", roles=[Role.UNIT], department=unit)


@pytest.fixture
def ticket(staff):
    """Collected Mon 2026-03-02 09:00: assign by 03-03, report by 03-05, resolve by 03-09."""
    return make_ticket(user=staff, collected_at=at(2026, 3, 2, 9))


@pytest.fixture
def assigned(ticket, office, unit):
    services.ticket_assign(ticket=ticket, user=office, unit=unit, at=at(2026, 3, 2, 15))
    return ticket


@pytest.fixture
def under_review(assigned, handler):
    services.ticket_resolve(
        ticket=assigned, user=handler, resolution="已协调办理用地手续", at=at(2026, 3, 5, 16)
    )
    return assigned


@pytest.fixture
def resolved(under_review, office):
    services.ticket_close(ticket=under_review, user=office, at=at(2026, 3, 6, 9))
    return under_review


def timeline(ticket):
    """(kind, actor, from status, to status) of every event, oldest first."""
    return [
        (event.kind, event.actor.username, event.from_status, event.to_status)
        for event in TicketEvent.objects.filter(ticket=ticket).select_related("actor").order_by("at", "pk")
    ]


def last_event(ticket):
    return TicketEvent.objects.filter(ticket=ticket).order_by("-at", "-pk").first()


def refused(ticket, exception, action, **kwargs):
    """Run ``action`` expecting ``exception``; the ticket, its timeline and its history are unchanged."""
    before = ProblemTicket.objects.get(pk=ticket.pk)
    events = TicketEvent.objects.filter(ticket=ticket).count()
    history = before.history.count()
    with pytest.raises(exception) as error:
        action(ticket=ticket, **kwargs)
    after = ProblemTicket.objects.get(pk=ticket.pk)
    assert (after.status, after.version, after.unit_id, after.level, after.handler_id) == (
        before.status,
        before.version,
        before.unit_id,
        before.level,
        before.handler_id,
    )
    assert TicketEvent.objects.filter(ticket=ticket).count() == events
    assert after.history.count() == history
    return error.value


class TestHappyPath:
    def test_collect_assign_reply_resolve_close_rate(
        self, staff, office, unit, handler, other_unit, other_handler
    ):
        # Collected.
        ticket = make_ticket(user=staff, collected_at=at(2026, 3, 2, 9))
        ticket.refresh_from_db()
        assert (ticket.status, ticket.level, ticket.unit, ticket.version) == (
            TicketStatus.PENDING,
            ProblemLevel.ZONE,
            None,
            1,
        )
        assert ticket.created_by == staff
        assert timeline(ticket) == [(EventKind.CREATED, "zhuanyuan", "", TicketStatus.PENDING)]
        assert last_event(ticket).at == at(2026, 3, 2, 9)

        # A handler of another unit cannot be named.
        error = refused(
            ticket,
            ValidationError,
            services.ticket_assign,
            user=office,
            unit=unit,
            handler=other_handler,
            at=at(2026, 3, 2, 15),
        )
        assert "handler" in error.message_dict

        # Assigned to the unit, with a named handler.
        services.ticket_assign(
            ticket=ticket, user=office, unit=unit, handler=handler, note="请尽快对接", at=at(2026, 3, 2, 15)
        )
        assert ticket.unit == unit  # the caller's object is brought up to date too
        ticket.refresh_from_db()
        assert (ticket.status, ticket.unit, ticket.handler, ticket.version) == (
            TicketStatus.ASSIGNED,
            unit,
            handler,
            2,
        )
        assert ticket.assigned_at == at(2026, 3, 2, 15)
        assert ticket.first_reply_at is None
        event = last_event(ticket)
        assert (event.kind, event.actor, event.unit, event.text, event.at) == (
            EventKind.ASSIGNED,
            office,
            unit,
            "请尽快对接",
            at(2026, 3, 2, 15),
        )
        assert timeline(ticket)[1:] == [
            (EventKind.ASSIGNED, "duban", TicketStatus.PENDING, TicketStatus.ASSIGNED)
        ]

        # The unit's first report accepts the problem.
        services.ticket_reply(ticket=ticket, user=handler, text="已现场踏勘，正在组卷", at=at(2026, 3, 4, 10))
        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.IN_PROGRESS
        assert ticket.first_reply_at == at(2026, 3, 4, 10)
        assert ticket.version == 3
        assert timeline(ticket)[2:] == [
            (EventKind.ACCEPTED, "ziranziyuan", TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS),
            (EventKind.REPLIED, "ziranziyuan", "", ""),
        ]
        assert last_event(ticket).text == "已现场踏勘，正在组卷"

        # A second report does not move the first one.
        services.ticket_reply(ticket=ticket, user=handler, text="已报市局审批", at=at(2026, 3, 5, 10))
        ticket.refresh_from_db()
        assert ticket.first_reply_at == at(2026, 3, 4, 10)
        assert timeline(ticket)[4:] == [(EventKind.REPLIED, "ziranziyuan", "", "")]

        # The resolution goes to the office for review; it reviews by the next day.
        services.ticket_resolve(
            ticket=ticket, user=handler, resolution="用地手续已办结，不动产权证已发放", at=at(2026, 3, 6, 16)
        )
        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.UNDER_REVIEW
        assert ticket.resolution == "用地手续已办结，不动产权证已发放"
        assert ticket.resolved_at == at(2026, 3, 6, 16)
        assert ticket.review_due == D(2026, 3, 7)
        assert timeline(ticket)[5:] == [
            (EventKind.RESOLVED, "ziranziyuan", TicketStatus.IN_PROGRESS, TicketStatus.UNDER_REVIEW)
        ]

        # The office closes it out with a grade.
        services.ticket_close(
            ticket=ticket, user=office, grade=ClosureGrade.GOOD, comment="办结材料齐全", at=at(2026, 3, 7, 9)
        )
        ticket.refresh_from_db()
        assert (ticket.status, ticket.closure_grade, ticket.closed_at) == (
            TicketStatus.RESOLVED,
            ClosureGrade.GOOD,
            at(2026, 3, 7, 9),
        )
        event = last_event(ticket)
        assert (event.value, event.text) == (ClosureGrade.GOOD, "办结材料齐全")
        assert timeline(ticket)[6:] == [
            (EventKind.CLOSED, "duban", TicketStatus.UNDER_REVIEW, TicketStatus.RESOLVED)
        ]

        # Zone staff record the enterprise's rating.
        services.ticket_rate(
            ticket=ticket,
            user=staff,
            satisfaction=Satisfaction.SATISFIED,
            comment="办理及时",
            at=at(2026, 3, 8, 10),
        )
        ticket.refresh_from_db()
        assert (ticket.status, ticket.satisfaction, ticket.satisfaction_comment, ticket.rated_at) == (
            TicketStatus.RATED,
            Satisfaction.SATISFIED,
            "办理及时",
            at(2026, 3, 8, 10),
        )
        assert ticket.version == 7  # one more per step: create, assign, 2 replies, resolve, close, rate
        assert [kind for kind, *_rest in timeline(ticket)] == [
            EventKind.CREATED,
            EventKind.ASSIGNED,
            EventKind.ACCEPTED,
            EventKind.REPLIED,
            EventKind.REPLIED,
            EventKind.RESOLVED,
            EventKind.CLOSED,
            EventKind.RATED,
        ]
        assert timeline(ticket)[-1] == (
            EventKind.RATED,
            "zhuanyuan",
            TicketStatus.RESOLVED,
            TicketStatus.RATED,
        )
        assert last_event(ticket).value == Satisfaction.SATISFIED
        # Nothing is left to wait on.
        assert deadlines.next_step(ticket, D(2026, 3, 20)) is None

    def test_history_records_each_change_with_the_acting_user(self, resolved, staff, office, handler):
        services.ticket_rate(
            ticket=resolved, user=office, satisfaction=Satisfaction.BASICALLY, at=at(2026, 3, 7, 10)
        )

        rows = list(resolved.history.order_by("history_id"))
        assert [(row.history_type, row.status, row.history_user) for row in rows] == [
            ("+", TicketStatus.PENDING, staff),
            ("~", TicketStatus.ASSIGNED, office),
            ("~", TicketStatus.UNDER_REVIEW, handler),
            ("~", TicketStatus.RESOLVED, office),
            ("~", TicketStatus.RATED, office),
        ]

    def test_the_office_may_rate_and_accept_may_come_before_a_report(self, assigned, handler, office):
        services.ticket_accept(ticket=assigned, user=handler, at=at(2026, 3, 3, 9))
        assigned.refresh_from_db()
        assert assigned.status == TicketStatus.IN_PROGRESS
        assert assigned.first_reply_at is None  # accepting is not the "3" report
        assert timeline(assigned)[-1] == (
            EventKind.ACCEPTED,
            "ziranziyuan",
            TicketStatus.ASSIGNED,
            TicketStatus.IN_PROGRESS,
        )


class TestRefusals:
    def test_rating_an_unresolved_ticket(self, assigned, staff):
        error = refused(
            assigned, ValidationError, services.ticket_rate, user=staff, satisfaction=Satisfaction.SATISFIED
        )
        assert error.code == "status"

    def test_rating_needs_a_known_value(self, resolved, staff):
        error = refused(resolved, ValidationError, services.ticket_rate, user=staff, satisfaction="")
        assert "satisfaction" in error.message_dict

    def test_a_unit_cannot_rate_its_own_work(self, resolved, handler):
        refused(resolved, PermissionDenied, services.ticket_rate, user=handler, satisfaction="satisfied")

    def test_resolving_without_a_resolution(self, assigned, handler):
        error = refused(assigned, ValidationError, services.ticket_resolve, user=handler, resolution="  \n ")
        assert "resolution" in error.message_dict
        assert error.message_dict["resolution"] != [""]

    def test_reply_without_text(self, assigned, handler):
        error = refused(assigned, ValidationError, services.ticket_reply, user=handler, text="")
        assert "text" in error.message_dict

    def test_a_unit_of_another_department_cannot_act(self, assigned, other_handler):
        for action, kwargs in [
            (services.ticket_accept, {}),
            (services.ticket_reply, {"text": "已办理"}),
            (services.ticket_resolve, {"resolution": "已办理"}),
            (services.ticket_decline, {"reason": "不是我们的"}),
        ]:
            error = refused(assigned, PermissionDenied, action, user=other_handler, **kwargs)
            assert str(error)
        with pytest.raises(PermissionDenied):
            services.ticket_comment(ticket=assigned, user=other_handler, text="看看")

    def test_a_unit_cannot_act_before_assignment(self, ticket, handler):
        refused(ticket, PermissionDenied, services.ticket_reply, user=handler, text="已办理")

    def test_staff_cannot_assign(self, ticket, staff, unit):
        error = refused(ticket, PermissionDenied, services.ticket_assign, user=staff, unit=unit)
        assert str(error) == str(services.ONLY_OFFICE)

    def test_assign_needs_a_unit(self, ticket, office):
        error = refused(ticket, ValidationError, services.ticket_assign, user=office, unit=None)
        assert "unit" in error.message_dict

    def test_a_handler_of_another_unit_is_refused_in_chinese(self, ticket, office, unit, other_handler):
        # other_handler (用户N of 区住建局) is not of 区自然资源局: refused on assigning and on reassigning.
        expected = (
            f"{other_handler}不是区自然资源局的人员：请选择该单位的经办人，或者留空，由该单位确定经办人。"
        )
        error = refused(
            ticket, ValidationError, services.ticket_assign, user=office, unit=unit, handler=other_handler
        )
        assert error.message_dict == {"handler": [expected]}

        services.ticket_assign(ticket=ticket, user=office, unit=DepartmentFactory(name="区发改委"))
        error = refused(
            ticket, ValidationError, services.ticket_reassign, user=office, unit=unit, handler=other_handler
        )
        assert error.message_dict == {"handler": [expected]}

    def test_assigning_twice(self, assigned, office, other_unit):
        error = refused(assigned, ValidationError, services.ticket_assign, user=office, unit=other_unit)
        assert error.code == "status"

    def test_decline_without_reason(self, assigned, handler):
        error = refused(assigned, ValidationError, services.ticket_decline, user=handler, reason=" ")
        assert "text" in error.message_dict

    def test_escalate_without_reason(self, ticket, office):
        error = refused(ticket, ValidationError, services.ticket_escalate, user=office, reason="")
        assert "text" in error.message_dict

    def test_staff_cannot_escalate(self, ticket, staff):
        refused(ticket, PermissionDenied, services.ticket_escalate, user=staff, reason="需市级协调")

    def test_reassign_to_the_same_unit(self, assigned, office, unit):
        error = refused(assigned, ValidationError, services.ticket_reassign, user=office, unit=unit)
        assert "unit" in error.message_dict

    def test_a_unit_cannot_close_its_own_resolution(self, under_review, handler):
        refused(under_review, PermissionDenied, services.ticket_close, user=handler)

    def test_stale_version(self, assigned, handler):
        assert assigned.version == 2

        error = refused(
            assigned, StaleVersion, services.ticket_reply, user=handler, text="已办理", expected_version=1
        )
        assert error.code == "stale"

        # The current version goes through.
        services.ticket_reply(ticket=assigned, user=handler, text="已办理", expected_version=2)
        assert assigned.version == 3

    def test_a_moment_in_the_future_or_before_collection(self, assigned, handler):
        error = refused(
            assigned,
            ValidationError,
            services.ticket_reply,
            user=handler,
            text="已办理",
            at=datetime.datetime(2999, 1, 1, tzinfo=SHANGHAI),
        )
        assert "at" in error.message_dict
        error = refused(
            assigned, ValidationError, services.ticket_reply, user=handler, text="已办理", at=at(2026, 3, 1)
        )
        assert "at" in error.message_dict

    def test_a_unit_user_cannot_collect(self, handler):
        with pytest.raises(PermissionDenied):
            make_ticket(user=handler, collected_at=at(2026, 3, 2))
        assert ProblemTicket.objects.count() == 0


class TestDeclineAndSendBack:
    def test_decline_sends_it_back_to_the_office_who_assigns_elsewhere(
        self, assigned, handler, office, unit, other_unit, other_handler
    ):
        # The object a page would hold, with its unit loaded.
        held = ProblemTicket.objects.select_related("unit", "handler").get(pk=assigned.pk)
        assert held.unit == unit

        services.ticket_decline(ticket=held, user=handler, reason="属于住建部门职责", at=at(2026, 3, 2, 17))

        assert (held.status, held.unit, held.handler) == (TicketStatus.PENDING, None, None)
        ticket = ProblemTicket.objects.get(pk=assigned.pk)
        assert (ticket.status, ticket.unit, ticket.handler, ticket.assigned_at) == (
            TicketStatus.PENDING,
            None,
            None,
            None,
        )
        event = last_event(ticket)
        assert (event.kind, event.actor, event.unit, event.text) == (
            EventKind.DECLINED,
            handler,
            unit,
            "属于住建部门职责",
        )
        assert (event.from_status, event.to_status) == (TicketStatus.ASSIGNED, TicketStatus.PENDING)
        # The unit that declined has no more hold on it.
        assert not services.allowed_actions(handler, ticket)
        refused(ticket, PermissionDenied, services.ticket_reply, user=handler, text="补充")

        services.ticket_assign(ticket=ticket, user=office, unit=other_unit, at=at(2026, 3, 3, 9))
        ticket.refresh_from_db()
        assert (ticket.status, ticket.unit, ticket.assigned_at) == (
            TicketStatus.ASSIGNED,
            other_unit,
            at(2026, 3, 3, 9),
        )
        assert [kind for kind, *_rest in timeline(ticket)] == [
            EventKind.CREATED,
            EventKind.ASSIGNED,
            EventKind.DECLINED,
            EventKind.ASSIGNED,
        ]
        assert "reply" in services.allowed_actions(other_handler, ticket)

    def test_office_sends_a_resolution_back_to_the_same_unit(self, under_review, office, handler, unit):
        error = refused(under_review, ValidationError, services.ticket_send_back, user=office, reason="")
        assert "text" in error.message_dict

        services.ticket_send_back(
            ticket=under_review, user=office, reason="缺少不动产权证复印件", at=at(2026, 3, 6, 9)
        )

        under_review.refresh_from_db()
        assert (
            under_review.status,
            under_review.unit,
            under_review.resolved_at,
            under_review.review_due,
        ) == (
            TicketStatus.IN_PROGRESS,
            unit,
            None,
            None,
        )
        assert timeline(under_review)[-1] == (
            EventKind.SENT_BACK,
            "duban",
            TicketStatus.UNDER_REVIEW,
            TicketStatus.IN_PROGRESS,
        )
        assert last_event(under_review).text == "缺少不动产权证复印件"

        services.ticket_resolve(
            ticket=under_review, user=handler, resolution="已补齐材料", at=at(2026, 3, 7, 10)
        )
        under_review.refresh_from_db()
        assert (under_review.status, under_review.review_due) == (TicketStatus.UNDER_REVIEW, D(2026, 3, 8))

    def test_reassign_moves_it_to_another_unit_as_assigned(
        self, under_review, leader, other_unit, other_handler, handler
    ):
        services.ticket_reassign(
            ticket=under_review, user=leader, unit=other_unit, reason="涉及规划许可", at=at(2026, 3, 6, 9)
        )

        under_review.refresh_from_db()
        assert (under_review.status, under_review.unit, under_review.handler) == (
            TicketStatus.ASSIGNED,
            other_unit,
            None,
        )
        assert (under_review.resolved_at, under_review.review_due) == (None, None)
        event = last_event(under_review)
        assert (event.kind, event.actor, event.unit, event.from_status, event.to_status) == (
            EventKind.REASSIGNED,
            leader,
            other_unit,
            TicketStatus.UNDER_REVIEW,
            TicketStatus.ASSIGNED,
        )
        assert services.allowed_actions(handler, under_review) == []
        assert "resolve" in services.allowed_actions(other_handler, under_review)


class TestEscalation:
    def test_zone_to_city_to_province_and_no_higher(self, ticket, office, staff):
        services.ticket_escalate(
            ticket=ticket, user=office, reason="用地指标需市级统筹", at=at(2026, 3, 2, 11)
        )
        ticket.refresh_from_db()
        assert ticket.level == ProblemLevel.CITY
        assert ticket.get_level_display() == "市级"
        assert ticket.status == TicketStatus.PENDING  # escalation does not move the status

        services.ticket_escalate(ticket=ticket, user=office, reason="涉及省级审批权限", at=at(2026, 3, 3, 11))
        ticket.refresh_from_db()
        assert ticket.level == ProblemLevel.PROVINCE
        assert ticket.get_level_display() == "省级"

        escalations = [
            (event.actor, event.at, event.from_level, event.to_level, event.text)
            for event in ticket.events.filter(kind=EventKind.ESCALATED).order_by("at", "pk")
        ]
        assert escalations == [
            (office, at(2026, 3, 2, 11), ProblemLevel.ZONE, ProblemLevel.CITY, "用地指标需市级统筹"),
            (office, at(2026, 3, 3, 11), ProblemLevel.CITY, ProblemLevel.PROVINCE, "涉及省级审批权限"),
        ]
        # The collection event keeps the level it started at.
        assert ticket.events.get(kind=EventKind.CREATED).to_level == ProblemLevel.ZONE
        # History says why.
        assert ticket.history.order_by("history_id").last().history_change_reason == "涉及省级审批权限"

        error = refused(ticket, ValidationError, services.ticket_escalate, user=office, reason="再上报")
        assert error.code == "level"
        assert "escalate" not in services.allowed_actions(office, ticket)

    def test_a_resolved_problem_is_not_escalated(self, resolved, office):
        error = refused(resolved, ValidationError, services.ticket_escalate, user=office, reason="再上报")
        assert error.code == "status"


class TestUnsatisfiedRating:
    def test_unsatisfied_reopens_for_the_same_unit_with_a_fresh_clock(
        self, resolved, staff, office, unit, handler
    ):
        services.ticket_grade(ticket=resolved, user=office, grade=ClosureGrade.PASS, at=at(2026, 3, 6, 10))
        assert resolved.closure_grade == ClosureGrade.PASS
        events = resolved.events.count()

        services.ticket_rate(
            ticket=resolved,
            user=staff,
            satisfaction=Satisfaction.UNSATISFIED,
            comment="证书还没拿到",
            at=at(2026, 3, 10, 15),
        )

        ticket = ProblemTicket.objects.get(pk=resolved.pk)
        assert (ticket.status, ticket.unit, ticket.handler) == (TicketStatus.IN_PROGRESS, unit, handler)
        assert (ticket.resolve_clock_from, ticket.resolve_due) == (D(2026, 3, 10), D(2026, 3, 17))
        assert (ticket.satisfaction, ticket.satisfaction_comment, ticket.rated_at) == ("", "", None)
        assert (ticket.resolution, ticket.resolved_at, ticket.closed_at, ticket.closure_grade) == (
            "",
            None,
            None,
            "",
        )
        rated, reopened = ticket.events.order_by("at", "pk")[events:]
        assert (rated.kind, rated.actor, rated.value, rated.text) == (
            EventKind.RATED,
            staff,
            Satisfaction.UNSATISFIED,
            "证书还没拿到",
        )
        assert (reopened.kind, reopened.actor, reopened.unit, reopened.from_status, reopened.to_status) == (
            EventKind.REOPENED,
            staff,
            unit,
            TicketStatus.RESOLVED,
            TicketStatus.IN_PROGRESS,
        )
        # Seven days from the rating day: the 17th is the last day, the 18th is late.
        assert not deadlines.next_step(ticket, D(2026, 3, 17)).overdue
        assert deadlines.next_step(ticket, D(2026, 3, 18)).overdue
        assert "resolve" in services.allowed_actions(handler, ticket)

        # Worked again, resolved, closed, rated.
        services.ticket_resolve(ticket=ticket, user=handler, resolution="证书已送达企业", at=at(2026, 3, 12))
        services.ticket_close(ticket=ticket, user=office, at=at(2026, 3, 13))
        services.ticket_rate(
            ticket=ticket, user=staff, satisfaction=Satisfaction.BASICALLY, at=at(2026, 3, 14)
        )
        ticket.refresh_from_db()
        assert (ticket.status, ticket.satisfaction, ticket.resolution) == (
            TicketStatus.RATED,
            Satisfaction.BASICALLY,
            "证书已送达企业",
        )
        assert [kind for kind, *_rest in timeline(ticket)][events:] == [
            EventKind.RATED,
            EventKind.REOPENED,
            EventKind.RESOLVED,
            EventKind.CLOSED,
            EventKind.RATED,
        ]

    def test_a_rated_ticket_is_not_rated_again(self, resolved, staff):
        services.ticket_rate(ticket=resolved, user=staff, satisfaction="satisfied", at=at(2026, 3, 7))

        error = refused(
            resolved, ValidationError, services.ticket_rate, user=staff, satisfaction="unsatisfied"
        )
        assert error.code == "status"


class TestAllowedActions:
    def test_pending(self, ticket, office, staff, handler, leader):
        assert services.allowed_actions(office, ticket) == ["assign", "escalate", "comment", "attach", "edit"]
        # The collector may still correct it before it is assigned.
        assert services.allowed_actions(staff, ticket) == ["comment", "attach", "edit"]
        other_staff = UserFactory(username="zhuanyuan2", roles=[Role.STAFF])
        assert services.allowed_actions(other_staff, ticket) == ["comment", "attach"]
        assert services.allowed_actions(handler, ticket) == []
        assert services.allowed_actions(leader, ticket) == ["comment"]

    def test_assigned(self, assigned, office, staff, handler, other_handler, leader):
        assert services.allowed_actions(handler, assigned) == [
            "accept",
            "decline",
            "reply",
            "resolve",
            "comment",
            "attach",
        ]
        assert services.allowed_actions(other_handler, assigned) == []
        assert services.allowed_actions(office, assigned) == [
            "escalate",
            "reassign",
            "comment",
            "attach",
            "edit",
        ]
        assert services.allowed_actions(staff, assigned) == ["comment", "attach"]
        assert services.allowed_actions(leader, assigned) == ["reassign", "comment"]

    def test_a_major_problem_offers_a_plan(self, staff, office, unit, handler):
        ticket = make_ticket(user=staff, collected_at=at(2026, 3, 2), is_major=True)
        services.ticket_assign(ticket=ticket, user=office, unit=unit, at=at(2026, 3, 2, 11))

        assert "plan" in services.allowed_actions(handler, ticket)

    def test_under_review(self, under_review, office, handler, staff):
        assert services.allowed_actions(office, under_review) == [
            "close",
            "send_back",
            "escalate",
            "reassign",
            "comment",
            "attach",
            "edit",
        ]
        assert services.allowed_actions(handler, under_review) == ["comment", "attach"]
        assert services.allowed_actions(staff, under_review) == ["comment", "attach"]

    def test_resolved_and_rated(self, resolved, office, staff, handler, other_handler, leader):
        assert services.allowed_actions(office, resolved) == ["grade", "rate", "comment", "attach"]
        assert services.allowed_actions(staff, resolved) == ["rate", "comment", "attach"]
        assert services.allowed_actions(handler, resolved) == ["comment", "attach"]
        assert services.allowed_actions(other_handler, resolved) == []
        assert services.allowed_actions(leader, resolved) == ["comment"]

        services.ticket_rate(ticket=resolved, user=staff, satisfaction="satisfied", at=at(2026, 3, 7))

        assert services.allowed_actions(office, resolved) == ["grade", "comment", "attach"]
        assert services.allowed_actions(staff, resolved) == ["comment", "attach"]


class TestTimelineIsAppendOnly:
    def test_an_event_cannot_be_changed_or_removed(self, assigned):
        event = TicketEvent.objects.filter(ticket=assigned).first()
        event.text = "改写"

        with pytest.raises(ValueError, match="append-only"):
            event.save()
        with pytest.raises(ValueError, match="append-only"):
            event.delete()

        assert TicketEvent.objects.get(pk=event.pk).text == ""
        assert TicketEvent.objects.filter(ticket=assigned).count() == 2


def png_bytes() -> bytes:
    """A valid 1×1 grey PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\x80")  # filter byte, one pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


class TestAttachments:
    @pytest.fixture(autouse=True)
    def media(self, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        return tmp_path

    def test_a_png_is_stored_under_a_random_name(self, assigned, handler, media):
        content = png_bytes()
        upload = SimpleUploadedFile("现场照片.PNG", content, content_type="application/octet-stream")

        attachment = services.attachment_add(ticket=assigned, user=handler, upload=upload)

        attachment.refresh_from_db()
        assert (attachment.name, attachment.content_type, attachment.size, attachment.uploaded_by) == (
            "现场照片.PNG",
            "image/png",
            len(content),
            handler,
        )
        assert re.fullmatch(r"problems/\d{4}/\d{2}/[0-9a-f]{32}\.png", attachment.file.name)
        assert (media / attachment.file.name).read_bytes() == content
        event = last_event(assigned)
        assert (event.kind, event.actor, event.text) == (EventKind.ATTACHED, handler, "现场照片.PNG")

    def test_a_text_file_named_pdf_is_refused(self, assigned, staff):
        events = assigned.events.count()
        upload = SimpleUploadedFile("批复.pdf", "这不是PDF文件".encode(), content_type="application/pdf")

        with pytest.raises(ValidationError) as error:
            services.attachment_add(ticket=assigned, user=staff, upload=upload)

        assert "file" in error.value.message_dict
        assert TicketAttachment.objects.count() == 0
        assert assigned.events.count() == events

    def test_a_file_over_the_limit_is_refused(self, assigned, staff, settings):
        settings.MAX_ATTACHMENT_BYTES = 50
        content = png_bytes()
        assert len(content) > 50

        with pytest.raises(ValidationError) as error:
            services.attachment_add(
                ticket=assigned, user=staff, upload=SimpleUploadedFile("照片.png", content)
            )

        assert "file" in error.value.message_dict
        assert TicketAttachment.objects.count() == 0

    def test_another_unit_cannot_attach(self, assigned, other_handler):
        with pytest.raises(PermissionDenied):
            services.attachment_add(
                ticket=assigned, user=other_handler, upload=SimpleUploadedFile("照片.png", png_bytes())
            )
        assert TicketAttachment.objects.count() == 0


class TestVisitCreate:
    def test_all_problems_of_a_visit_are_saved_on_the_visit_day(self, staff):
        enterprise = EnterpriseFactory()

        visit = services.visit_create(
            user=staff,
            data={"enterprise": enterprise, "visited_on": D(2026, 3, 2)},
            visitors=[staff],
            problems=[
                {"category": ProblemCategory.LAND, "title": "用地手续办理慢"},
                {"category": ProblemCategory.LABOUR, "title": "招工难", "is_major": True},
            ],
        )

        tickets = list(visit.problems.order_by("pk"))
        assert [(t.title, t.enterprise, t.source, t.status) for t in tickets] == [
            ("用地手续办理慢", enterprise, ProblemSource.VISIT, TicketStatus.PENDING),
            ("招工难", enterprise, ProblemSource.VISIT, TicketStatus.PENDING),
        ]
        # Counted from noon of the visit day: 7 days for the ordinary one, a month for the major one.
        assert [t.collected_at for t in tickets] == [at(2026, 3, 2, 12), at(2026, 3, 2, 12)]
        assert [t.resolve_due for t in tickets] == [D(2026, 3, 9), D(2026, 4, 2)]
        assert list(visit.visitors.all()) == [staff]

    def test_one_bad_row_saves_nothing(self, staff):
        enterprise = EnterpriseFactory()

        with pytest.raises(services.ProblemRowErrors) as error:
            services.visit_create(
                user=staff,
                data={"enterprise": enterprise, "visited_on": D(2026, 3, 2)},
                problems=[
                    {"category": ProblemCategory.LAND, "title": "用地手续办理慢"},
                    {"category": ProblemCategory.LABOUR, "title": "   "},
                    {"category": ProblemCategory.FINANCING, "title": "贷款难"},
                    {"category": "weather", "title": "天气不好"},
                ],
            )

        assert sorted(error.value.errors) == [1, 3]
        assert "title" in error.value.errors[1].message_dict
        assert "category" in error.value.errors[3].message_dict
        assert Visit.objects.count() == 0
        assert ProblemTicket.objects.count() == 0
        assert TicketEvent.objects.count() == 0
        assert Visit.history.count() == 0
