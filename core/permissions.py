"""The permission base: each rule is written once, as the rows a user may act on.

An app declares a rule as its *scope*: a function from the user to a filter on one model's rows —
``Q()`` for every row, ``None`` for none. Both questions the pages ask come from that one
definition, so a list and a yes/no check can never disagree:

* ``restrict(user, action, rows)``: the rows of a list, an export or a picker;
* ``allowed(user, action, obj)``: whether one object passes, read off the object in Python for the
  plain field comparisons the rules use (no query: list pages ask it once per row), from the
  database otherwise.

::

    @rule("project.edit", Project)
    def edit_scope(user) -> Q | None:
        return Q(staff_in_charge=user) if has_role(user, Role.STAFF) else None
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, Q, QuerySet

Scope = Callable[[Any], Q | None]


@dataclass(frozen=True)
class Rule:
    """Who may do one thing (``action``) to the rows of ``model``: the rows ``scope(user)`` selects."""

    action: str
    model: type[Model]
    scope: Scope


_rules: dict[str, Rule] = {}


def rule(action: str, model: type[Model]) -> Callable[[Scope], Scope]:
    """Register the decorated scope as the rule of ``action`` (one rule per action)."""

    def register(scope: Scope) -> Scope:
        if action in _rules and _rules[action].scope is not scope:
            raise ValueError(f"The rule of {action!r} is already defined.")
        _rules[action] = Rule(action, model, scope)
        return scope

    return register


def scope(user: Any, action: str) -> Q | None:
    """The filter on the rows ``user`` may do ``action`` to: ``Q()`` for every row, None for none."""
    return _rules[action].scope(user)


def restrict(user: Any, action: str, queryset: QuerySet | None = None) -> QuerySet:
    """``queryset`` (by default every row of the rule's model) narrowed to the rows ``user`` may do
    ``action`` to."""
    definition = _rules[action]
    rows = definition.model._default_manager.all() if queryset is None else queryset
    condition = definition.scope(user)
    return rows.none() if condition is None else rows.filter(condition)


def allowed(user: Any, action: str, obj: Model) -> bool:
    """Whether ``user`` may do ``action`` to ``obj``: whether ``restrict`` would keep it."""
    condition = scope(user, action)
    return condition is not None and matches(obj, condition)


def matches(obj: Model, condition: Q) -> bool:
    """Whether ``obj`` passes ``condition``: read off its fields when the condition only compares
    them (``field=value``, ``field__in=values``, a foreign key with its id or object), else asked of
    the database."""
    verdict = _evaluate(obj, condition)
    if verdict is None:
        return type(obj)._default_manager.filter(condition, pk=obj.pk).exists()
    return verdict


def _evaluate(obj: Model, node: Q) -> bool | None:
    """The condition's verdict on ``obj``, or None where Python cannot tell without the database."""
    verdicts = []
    for child in node.children:
        if isinstance(child, Q):
            verdict = _evaluate(obj, child)
        else:
            path, value = cast(tuple[str, Any], child)  # a Q's leaves are (lookup, value) pairs
            verdict = _compare(obj, path, value)
        if verdict is None:
            return None
        verdicts.append(verdict)
    result = all(verdicts) if node.connector == Q.AND else any(verdicts)
    return not result if node.negated else result


def _compare(obj: Model, path: str, value: Any) -> bool | None:
    name, _, lookup = path.partition("__")
    if lookup not in ("", "exact", "in"):
        return None
    try:
        field = obj._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not getattr(field, "concrete", False) or field.many_to_many:
        return None
    actual = getattr(obj, field.attname)  # type: ignore[union-attr]  # a concrete field has one
    if lookup == "in":
        if isinstance(value, QuerySet):  # a subquery: the database reads it
            return None
        return actual in {_key(item) for item in value}
    return actual == _key(value)


def _key(value: Any) -> Any:
    """A model instance compares by its primary key, as the database compares a foreign key."""
    return value.pk if isinstance(value, Model) else value
