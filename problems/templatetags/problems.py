"""Template filters for problem tickets; the rules themselves live in problems.deadlines."""

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from problems import deadlines

register = template.Library()


@register.filter
def clock(ticket):
    """The step the ticket waits on, its last day and whether it is late (``deadlines.NextStep``)."""
    return deadlines.next_step(ticket, timezone.localdate())


STATUS_CLASSES = {
    "pending": "text-bg-secondary",
    "assigned": "text-bg-info",
    "in_progress": "text-bg-primary",
    "under_review": "text-bg-warning",
    "resolved": "text-bg-success",
    "rated": "text-bg-success",
}


@register.filter
def status_class(status):
    return STATUS_CLASSES.get(status, "text-bg-light")


@register.filter
def clock_lines(ticket):
    return deadlines.clock_lines(ticket, timezone.localdate())


@register.simple_tag
def clock_legend():
    """The day counts and the way days are counted, for the clock's one-line legend."""
    return deadlines.legend()


DRILL_FILTERS = {"level": "level", "category": "category", "unit": "unit", "park": "park"}
DRILL_MEASURES = {
    "collected": {},
    "resolved": {"status": ["resolved", "rated"]},
    "overdue": {"overdue": ["true"]},
    "open": {"status": ["pending", "assigned", "in_progress", "under_review"]},
}


@register.simple_tag(takes_context=True)
def drill(context, dimension="", key=None, measure="collected"):
    """The ticket list's URL filtered to exactly the problems behind a figure of the KPI panel."""
    query = QueryDict(mutable=True)
    for name in ("date_from", "date_to"):
        value = context.get(name)
        if value:
            query[name.replace("date_", "collected_")] = value.isoformat()
    if dimension:
        query[DRILL_FILTERS[dimension]] = "null" if key is None else str(key)
    for name, values in DRILL_MEASURES[measure].items():
        query.setlist(name, values)
    return reverse("enterprises:ticket_list") + "?" + query.urlencode()
