"""The Redis cache, made optional: when Redis cannot be reached the portal carries on without it.

Everything the portal keeps in the cache can be done without it: sessions are "cached_db" (read
from the database on a miss, and written there anyway), a dashboard figure is computed afresh, a
job's progress is read from its row, and the API throttles count nothing (they let the request
through). So a cache error is answered as a miss — ``get`` returns the default, writes do nothing —
and logged once as a warning, instead of failing the request.

Each failure would otherwise cost the request a connection attempt, up to ``socket_connect_timeout``
when the host does not answer at all; after one, this process skips Redis for ``RETRY_SECONDS`` and
then tries it again.

One consequence to know: a session changed while Redis was away (a logout, a password change) is
changed in the database only; if the same Redis comes back with its old copy, that copy is served
until it expires or the session is saved again.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0

# Per process, shared by its threads (Django makes one cache object per thread): the servers' list
# → the monotonic time until which Redis is not tried again.
_skip_until: dict[tuple[str, ...], float] = {}
_lock = threading.Lock()


def _forgiving(name: str, miss):
    """``RedisCacheClient.<name>``, answering ``miss(*args)`` instead of raising a Redis error."""
    method = getattr(RedisCacheClient, name)

    def call(self, *args, **kwargs):
        servers = tuple(self._servers)
        if time.monotonic() < _skip_until.get(servers, 0.0):
            return miss(*args)
        try:
            result = method(self, *args, **kwargs)
        except RedisError as error:
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
        self._cache.get_client(write=True).ping()
