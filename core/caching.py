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

A figure missing from the cache is computed by one request at a time (``FIGURES_COMPUTE_WAIT``):
after a write, or with an empty cache, twenty leaders opening the dashboard at once would otherwise
each compute the same seconds-long figures side by side on the same cores, and all wait for all.
The others wait for the first one's result. The lock is an entry in the same cache (atomic ``add``
in Redis; per process in local memory); while the cache cannot be reached no one waits.

Whole rendered parts of pages (the dashboard's body) are cached the same way, through the
``{% cached_part %}`` template tag and ``Part``: their key names everything the part's HTML depends
on besides the data (the reader's scope, the query string, the language, the day).
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

KEY_PREFIX = "figures"


# The tracked models whose every change makes every cached figure stale, registered by the apps that
# own the figures (``track``, from their AppConfig.ready()): core knows no domain.
_FIGURE_MODELS: list[type] = []


def track(*models: type) -> None:
    """Cached figures are stale once any of ``models`` (tracked by the change history) changes."""
    _FIGURE_MODELS.extend(model for model in models if model not in _FIGURE_MODELS)
    _history_tables.cache_clear()


@functools.lru_cache(maxsize=64)
def _history_tables(extra: tuple = ()) -> tuple[str, ...]:
    # Cached: simple_history's ``Model.history`` builds a manager class on every access (20 ms for
    # the dashboard's fourteen tables, on every request).
    models = (*_FIGURE_MODELS, *extra)
    return tuple(model.history.model._meta.db_table for model in models)


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
        value = _compute_once(cache_key, compute, timeout)
    return value


POLL_SECONDS = 0.05


def _compute_once(cache_key: str, compute: Callable[[], object], timeout: int):
    """``compute()``, stored under ``cache_key``, by one caller at a time: a caller that finds
    another computing it waits for that result (up to FIGURES_COMPUTE_WAIT seconds, then computes
    it itself: the first may have died)."""
    lock_key: str | None = f"{cache_key}:computing"
    wait = settings.FIGURES_COMPUTE_WAIT
    if wait and not cache.add(lock_key, 1, wait):
        deadline = time.monotonic() + wait
        # No lock to be seen (the first one finished, or the cache is away): compute without waiting.
        while cache.get(lock_key) is not None and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            value = cache.get(cache_key)
            if value is not None:
                return value
        value = cache.get(cache_key)
        if value is not None:
            return value
        lock_key = None
    try:
        value = compute()
        cache.set(cache_key, value, timeout)
    finally:
        if wait and lock_key:
            cache.delete(lock_key)
    return value


@dataclass(frozen=True)
class Part:
    """A part of a page cached whole by ``{% cached_part %}``: ``key`` names all its HTML depends on
    besides the data of the tracked ``extra`` models and the projects' tables, read from ``using``."""

    key: tuple
    using: str = DEFAULT_DB_ALIAS
    extra: tuple = ()

    def render(self, render: Callable[[], str]) -> str:
        return cached_figures(
            ("part", templates_version(), *self.key), render, using=self.using, extra=self.extra
        )


def templates_version() -> str:
    """The portal's templates' newest change: a part rendered by the templates of the previous
    release is not served by the next one (the cache, in Redis, outlives a deploy). Read once per
    process, or on every render while DEBUG is on (templates edited under runserver)."""
    if settings.DEBUG:
        return _templates_version()
    return _templates_version_once()


def _templates_version() -> str:
    from django.template import engines

    newest = 0.0
    for engine in engines.all():
        for folder in getattr(engine, "dirs", ()):
            for path in Path(folder).rglob("*.html"):
                newest = max(newest, path.stat().st_mtime)
    return str(newest)


_templates_version_once = functools.cache(_templates_version)
