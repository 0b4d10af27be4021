"""The Redis cache, made optional: when Redis cannot be reached the portal carries on without it.

Everything the portal keeps in the cache can be done without it: sessions are "cached_db" (read
from the database on a miss, and written there anyway), a dashboard figure is computed afresh, a
job's progress is read from its row, and the API throttles count nothing (they let the request
through). So a cache error is answered as a miss — ``get`` returns the default, writes do nothing —
and logged once as a warning, instead of failing the request.

Each failure would otherwise cost the request a connection attempt, up to ``socket_connect_timeout``
when the host does not answer at all; after one, this process skips Redis for ``RETRY_SECONDS`` and
then tries it again.

A session ended while Redis was away (a logout) is deleted from the database only; if the same
Redis comes back with its old copy (a restart from its saved data, a network partition), that copy
must not sign the user in again. So the process remembers the keys it could not delete and deletes
them before its first use of Redis once it answers. Another process may read Redis first: a
logout's copy can outlive the outage there until the process that ended it next uses the cache.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0

# Per process, shared by its threads (Django makes one cache object per thread), by the servers'
# list: the monotonic time until which Redis is not tried again, and the keys whose deletion it
# missed (a logout's session), deleted before anything else once it answers.
_skip_until: dict[tuple[str, ...], float] = {}
_missed_deletes: dict[tuple[str, ...], set] = {}
MAX_MISSED_DELETES = 10_000
_lock = threading.Lock()


def _remember_deletes(servers: tuple[str, ...], name: str, args: tuple) -> None:
    if name not in ("delete", "delete_many") or not args:
        return
    keys = [args[0]] if name == "delete" else list(args[0])
    with _lock:
        missed = _missed_deletes.setdefault(servers, set())
        missed.update(keys[: max(0, MAX_MISSED_DELETES - len(missed))])


def _forgiving(name: str, miss):
    """``RedisCacheClient.<name>``, answering ``miss(*args)`` instead of raising a Redis error."""
    method = getattr(RedisCacheClient, name)

    def call(self, *args, **kwargs):
        servers = tuple(self._servers)
        if time.monotonic() < _skip_until.get(servers, 0.0):
            _remember_deletes(servers, name, args)
            return miss(*args)
        try:
            if _missed_deletes.get(servers):
                # Before anything is read: a session ended while Redis was away must not come back.
                with _lock:
                    missed = list(_missed_deletes.get(servers, ()))
                RedisCacheClient.delete_many(self, missed)
                with _lock:
                    _missed_deletes.get(servers, set()).difference_update(missed)
            result = method(self, *args, **kwargs)
        except RedisError as error:
            _remember_deletes(servers, name, args)
            with _lock:
                first = servers not in _skip_until
                _skip_until[servers] = time.monotonic() + RETRY_SECONDS
            if first:
                logger.warning(
                    "The Redis cache cannot be reached (%s: %s): working without it — sessions are read "
                    "from the database, API throttles are not counted, pages are computed afresh.",
                    type(error).__name__,
                    error,
                )
            return miss(*args)
        if servers in _skip_until:
            with _lock:
                if _skip_until.pop(servers, None) is not None:
                    logger.warning("The Redis cache answers again.")
        return result

    call.__name__ = name
    return call


def _key_not_found(*args):
    # incr() of a missing key raises ValueError; while Redis is away, every key is missing.
    raise ValueError("Key not found (the Redis cache cannot be reached).")


class ForgivingRedisCacheClient(RedisCacheClient):
    add = _forgiving("add", lambda *args: False)
    get = _forgiving("get", lambda key, default: default)
    set = _forgiving("set", lambda *args: None)
    touch = _forgiving("touch", lambda *args: False)
    delete = _forgiving("delete", lambda *args: False)
    get_many = _forgiving("get_many", lambda *args: {})
    has_key = _forgiving("has_key", lambda *args: False)
    incr = _forgiving("incr", _key_not_found)
    set_many = _forgiving("set_many", lambda *args: [])
    delete_many = _forgiving("delete_many", lambda *args: None)
    clear = _forgiving("clear", lambda *args: False)


class ForgivingRedisCache(RedisCache):
    """Django's RedisCache whose errors are cache misses (see the module)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ForgivingRedisCacheClient

    def ping(self) -> None:
        """Ask Redis itself, past the skip window (for /healthz); raises RedisError if it does not answer."""
        self._cache.get_client(write=True).ping()  # type: ignore[attr-defined]  # RedisCache's client, undeclared
