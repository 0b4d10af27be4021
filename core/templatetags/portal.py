"""Filters that write figures for people; the figures themselves come from the apps' figures modules."""

from django import template
from django.http import QueryDict
from django.utils.safestring import mark_safe

from core import formatting

register = template.Library()


@register.filter
def money(value):
    return formatting.money(value)


@register.filter
def yi(value):
    """万元 shown as 亿元."""
    return formatting.money(formatting.to_yi(value))


@register.filter
def percent(value):
    return formatting.percent(value)


@register.filter
def points(value):
    return formatting.points(value)


@register.filter
def words(value: str) -> list[str]:
    """``"q mine overdue"|words``: a list written in a template, such as the names of fields."""
    return value.split()


COLOUR_CLASSES = {"green": "text-success", "yellow": "text-warning-emphasis", "red": "text-danger"}


@register.filter
def lag_class(colour):
    return COLOUR_CLASSES.get(colour, "text-secondary")


@register.simple_tag(takes_context=True)
def sort_link(context, field):
    """The list's query string sorting by ``field``, flipping the direction when already sorted by it."""
    query = QueryDict(context["query"], mutable=True)
    current = query.get("ordering", "")
    query["ordering"] = f"-{field}" if current == field else field
    query.pop("page", None)
    return "?" + query.urlencode()


@register.simple_tag(takes_context=True)
def sort_mark(context, field):
    current = QueryDict(context["query"]).get("ordering", "")
    return "▲" if current == field else "▼" if current == f"-{field}" else ""


@register.filter
def points_size(value):
    """A gap's size without its sign, for text that says "behind" or "ahead" in words."""
    return formatting.points(None if value is None else abs(value)).lstrip("+")


class CachedPartNode(template.Node):
    def __init__(self, nodelist, part):
        self.nodelist, self.part = nodelist, part

    def render(self, context):
        part = self.part.resolve(context)
        if part is None:
            return self.nodelist.render(context)
        return mark_safe(part.render(lambda: str(self.nodelist.render(context))))  # noqa: S308 (rendered here)


@register.tag
def cached_part(parser, token):
    """``{% cached_part part %}…{% endcached_part %}``: the enclosed HTML from the figures cache
    while the data under it is unchanged (``core.caching.Part``, made by the view; None
    renders it afresh)."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% cached_part %} takes one argument, a caching.Part")
    nodelist = parser.parse(("endcached_part",))
    parser.delete_first_token()
    return CachedPartNode(nodelist, parser.compile_filter(bits[1]))
