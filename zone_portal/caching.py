"""Caching the dashboard's figures until the data under them changes.

The cache is Django's (Redis when REDIS_URL is set, so every app server shares it; local memory
otherwise). A cached figure's key carries the data version: the newest change-history id of the
tables the figures read. Every write to those tables records history (the test suite checks that
after every test, ``history_is_complete``), so an approval, a returned report, an edited plan, a
moved project or a project put in a batch changes the version and the next request computes afresh:
nothing is invalidated by hand, and a write path cannot forget to.

One query reads the version. FIGURES_CACHE_SECONDS bounds how long a figure can outlive a race
that the version cannot see: a transaction that took an older history id and commits after a
newer one was read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

KEY_PREFIX = "figures"


def _history_tables(extra: tuple = ()) -> list[str]:
    from projects.models import AnnualPlan, Batch, BatchMembership, MonthlyProgress, Project
    from zone_portal.models import Industry

    # Industry: the cluster grouping reads an industry's cluster. Batch and BatchMembership: the
    # 三个一批 filters (?batch=, ?batch_role=) select projects by their memberships.
    models = (Project, AnnualPlan, MonthlyProgress, Industry, Batch, BatchMembership, *extra)
    return [model.history.model._meta.db_table for model in models]


def data_version(using: str = DEFAULT_DB_ALIAS, extra: tuple = ()) -> str:
    """The newest history id of each table the figures read (the projects' tables and the
    ``extra`` tracked models), as one string, from the database the figures are read from (a
    replica may lag the primary)."""
    connection = connections[using]
    q = connection.ops.quote_name
    tables = _history_tables(extra)
    columns = ", ".join(f"(SELECT MAX({q('history_id')}) FROM {q(table)})" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        return "-".join(str(value or 0) for value in cursor.fetchone())


def queryset_key(queryset) -> tuple:
    """A queryset's database, SQL and parameters, to key figures computed from it."""
    sql, params = queryset.query.sql_with_params()
    return queryset.db, sql, tuple(map(str, params))


def cached_figures(key: tuple, compute: Callable[[], object], *, using: str, extra: tuple = ()):
    """``compute()``'s result for ``key`` at the current data version of database ``using`` (the
    one ``compute`` reads), from the cache when there. ``extra``: the tracked models ``compute``
    reads besides the projects' tables (milestones, problem tickets …), so their changes count."""
    timeout = settings.FIGURES_CACHE_SECONDS
    if not timeout:
        return compute()
    version = data_version(using, extra)
    digest = hashlib.sha256(repr((using, version, key)).encode()).hexdigest()
    cache_key = f"{KEY_PREFIX}:{digest}"
    value = cache.get(cache_key)
    if value is None:
        value = compute()
        cache.set(cache_key, value, timeout)
    return value
