"""Where a change came from, stamped on every history row.

django-simple-history records who changed what and when; this adds how: the web pages, the API,
the admin, an Excel import (and which one) or a command, plus the bulk operation a row belongs to
(one grid save, one batch approval). The values travel in a context variable that the middleware,
the importer and the bulk services set, and the historical models read it through their field
defaults, so ``bulk_create_with_history`` rows get it as well as single saves.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.db import models
from django.utils.translation import gettext_lazy as _


class Origin(models.TextChoices):
    WEB = "web", _("web page")
    API = "api", _("API")
    ADMIN = "admin", _("admin site")
    IMPORT = "import", _("Excel import")
    COMMAND = "command", _("command")


@dataclass(frozen=True)
class Context:
    # Without a request or an import the change comes from code run by hand: a management command.
    origin: str = Origin.COMMAND
    import_id: int | None = None
    batch: uuid.UUID | None = None


# Context is frozen: the default is never mutated, only replaced.
_current: ContextVar[Context] = ContextVar("zone_history_context", default=Context())  # noqa: B039


def current() -> Context:
    return _current.get()


@contextmanager
def recording(*, origin: str | None = None, import_record=None, batch: bool = False):
    """Stamp the history rows written inside the block.

    ``batch=True`` gives the rows one shared id so a grid save or a batch approval reads as one
    operation; a batch already open is kept, so nested services join the outer one."""
    now = _current.get()
    changes = {}
    if origin:
        changes["origin"] = origin
    if import_record is not None:
        changes.update(origin=Origin.IMPORT, import_id=import_record.pk)
    if batch and now.batch is None:
        changes["batch"] = uuid.uuid4()
    token = _current.set(replace(now, **changes))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


# Field defaults: module-level callables, so migrations can name them.
def current_origin() -> str:
    return _current.get().origin


def current_import_id() -> int | None:
    return _current.get().import_id


def current_batch() -> uuid.UUID | None:
    return _current.get().batch


class HistoryContext(models.Model):
    """The base of every historical model: how each recorded change was made."""

    history_origin = models.CharField(
        _("made via"), max_length=10, choices=Origin, default=current_origin, db_index=True
    )
    history_import = models.ForeignKey(
        "zone_portal.ImportRecord",
        verbose_name=_("Excel import"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        default=current_import_id,
        related_name="+",
    )
    history_batch = models.UUIDField(_("bulk operation"), null=True, blank=True, default=current_batch)

    class Meta:
        abstract = True


class HistoryOriginMiddleware:
    """Requests stamp their changes as made in the admin, through the API or on the web pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        origin = (
            Origin.ADMIN
            if path.startswith("/admin/")
            else Origin.API
            if path.startswith("/api/")
            else Origin.WEB
        )
        with recording(origin=origin):
            return self.get_response(request)


def tracked(**options):
    """A model's change history, stamped with how each change was made."""
    from simple_history.models import HistoricalRecords

    return HistoricalRecords(bases=[HistoryContext], **options)
