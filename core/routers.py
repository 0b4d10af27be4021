"""Reads that may go to a PostgreSQL read replica (docs/deploy.md, "Read replicas").

Only code that asks for it reads from the replica: the dashboard's page, its API summary and its
Excel reports run inside ``read_from_replica()``. Everything else — and every write, even inside that
block — uses ``default``, so a page never reads back a stale copy of what it has just saved.
``DATABASE_ROUTERS`` names ``ReplicaRouter`` only when ``DATABASE_REPLICA_URL`` is set; without it,
``read_from_replica()`` changes nothing.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_DB_ALIAS = "replica"

# A context variable, not a thread-local: each gunicorn thread and each asyncio task has its own.
_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


@contextmanager
def read_from_replica():
    """Send the ORM's reads inside this block (or the decorated function) to the replica.

    For read-only work that may be a moment behind: replication lag is usually well under a second,
    but a read inside the block does not see a write made just before it."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


def replica_alias() -> str:
    """The alias reads go to now: the replica inside ``read_from_replica()`` when one is configured,
    except in a transaction on ``default``, whose reads must see its own writes and take part in it."""
    if (
        _reading_from_replica.get()
        and REPLICA_DB_ALIAS in settings.DATABASES
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return REPLICA_DB_ALIAS
    return DEFAULT_DB_ALIAS


class ReplicaRouter:
    """Reads inside ``read_from_replica()`` go to the replica; all else, writes and migrations to
    ``default``.

    The answer is always explicit: returning None would let Django follow an object's own database,
    so an object read from the replica and saved or followed later would keep using the replica."""

    def db_for_read(self, model, **hints):
        return replica_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both hold the same rows: an object read from either may point at one from the other.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA_DB_ALIAS, None}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica gets its tables from replication, never from `migrate`.
        return db == DEFAULT_DB_ALIAS
