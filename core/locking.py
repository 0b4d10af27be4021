"""Optimistic locking: a record carries a version; a write locks the row and refuses it when the
version the editor read is no longer the current one, so concurrent edits never silently overwrite."""

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

_M = TypeVar("_M", bound=Model)


class StaleVersion(ValidationError):
    """Someone else saved the record after the editor loaded it."""


def lock_current(model: type[_M], pk: Any, expected_version: int | None) -> _M:
    """Lock a row for the rest of the transaction and refuse it if it moved on."""
    # Model itself declares no `objects`; every versioned model does.
    locked: Any = model.objects.select_for_update().get(pk=pk)  # type: ignore[attr-defined]
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(
            _(
                "Someone else saved this %(what)s after you opened it (at %(when)s). "
                "Reload the page to see their changes, then make yours again."
            )
            % {
                "what": model._meta.verbose_name,
                "when": timezone.localtime(locked.updated_at).strftime("%Y-%m-%d %H:%M"),
            },
            code="stale",
        )
    return locked


def copy_state(source: Model, target: Model) -> None:
    """Bring the caller's instance up to date with the saved row, related objects included."""
    if source is not target:
        target.__dict__.update({k: v for k, v in source.__dict__.items() if not k.startswith("_")})
        # Related objects the caller had loaded (an old unit, stage …) must not outlive the change.
        target._state.fields_cache = dict(source._state.fields_cache)


def check_fields(data: dict[str, Any], allowed: Iterable[str]) -> None:
    """A service sets only the fields it names: anything else is a programming error, not input."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)}")


class NeedsConfirmation(ValidationError):
    """A write the service's checks hold back until the user confirms it: nothing was saved. The
    same call, confirmed, saves it. ``warnings`` (each with a ``code`` and a ``message``) read as
    ``field``'s errors."""

    def __init__(self, warnings: list, *, field: str):
        self.warnings = list(warnings)
        super().__init__({field: [ValidationError(w.message, code=w.code) for w in self.warnings]})
