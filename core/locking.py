"""Optimistic locking: a record carries a version; a write locks the row and refuses it when the
version the editor read is no longer the current one, so concurrent edits never silently overwrite."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, is_typeddict

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


def field_names(allowed: Iterable[str] | type) -> frozenset[str]:
    """The keys a service accepts: a list of names, or the TypedDict that types its input (so the
    type and the runtime check share one list)."""
    if isinstance(allowed, type):
        if not is_typeddict(allowed):
            raise TypeError(f"{allowed!r} is not a TypedDict")
        return frozenset(allowed.__annotations__)
    return frozenset(allowed)


def check_fields(data: Mapping[str, Any], allowed: Iterable[str] | type) -> None:
    """A service sets only the fields it names: anything else is a programming error, not input."""
    unknown = set(data) - field_names(allowed)
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)}")


def stamp(instance: Model, user: Any, reason: str = "") -> None:
    """Tell the history who made the change and, when given, why (simple-history's hooks)."""
    instance._history_user = user  # type: ignore[attr-defined]
    if reason:
        instance._change_reason = reason  # type: ignore[attr-defined]


def apply_changes(
    instance: _M,
    data: Mapping[str, Any],
    *,
    user: Any,
    expected_version: int | None = None,
    allowed: Iterable[str] | type | None = None,
    check: Callable[[_M], object] | None = None,
    rule: Callable[[_M, list[str]], Iterable[str] | None] | None = None,
    always: bool = False,
    clean: bool = True,
    reason: str = "",
    save: Callable[[_M, list[str]], object] | None = None,
    copy_back: bool = True,
) -> _M:
    """Change a saved record the way every service does, inside the caller's transaction (and its
    ``core.history.recording`` context); hand back the locked row, saved.

    In order: refuse keys outside ``allowed``; lock the row, refusing it (``StaleVersion``) when
    ``expected_version`` is not the current one; ``check(locked)`` (who may, from which status);
    set ``data``; ``full_clean()`` unless ``clean`` is off; ``rule(locked, changed)``, the
    service's own rule, which may set more fields and return their names; bump ``version`` (when
    the model has one); stamp ``user`` and ``reason`` for the history; save only the changed
    fields (and ``version``, ``updated_at``), or call ``save(locked, fields)`` instead; finally
    ``copy_state`` into ``instance`` unless ``copy_back`` is off.

    A field counts as changed when its value differs after ``full_clean``, which may respell it;
    when nothing differs, nothing is cleaned or saved, unless ``always`` (a transition, whose
    every field in ``data`` is written).
    """
    if allowed is not None:
        check_fields(data, allowed)
    model = type(instance)
    locked = lock_current(model, instance.pk, expected_version)
    if check is not None:
        check(locked)
    attnames = {name: model._meta.get_field(name).attname for name in data}  # type: ignore[union-attr]
    before = {name: getattr(locked, attname) for name, attname in attnames.items()}
    for name, value in data.items():
        setattr(locked, name, value)
    touched = always or any(getattr(locked, attnames[name]) != before[name] for name in data)
    if touched:
        if clean:
            locked.full_clean()
        changed = list(data) if always else [n for n in data if getattr(locked, attnames[n]) != before[n]]
        if rule is not None:
            changed += [name for name in rule(locked, changed) or () if name not in changed]
        if changed:
            _save(locked, changed, user=user, reason=reason, save=save)
    if copy_back:
        copy_state(locked, instance)
    return locked


def _save(
    locked: _M, changed: list[str], *, user: Any, reason: str, save: Callable[[_M, list[str]], object] | None
) -> None:
    concrete = {field.name for field in type(locked)._meta.concrete_fields}
    fields = list(changed)
    if "version" in concrete:
        locked.version += 1  # type: ignore[attr-defined]
        fields.append("version")
    if "updated_at" in concrete:
        fields.append("updated_at")
    stamp(locked, user, reason)
    if save is not None:
        save(locked, fields)
    else:
        locked.save(update_fields=fields)


class NeedsConfirmation(ValidationError):
    """A write the service's checks hold back until the user confirms it: nothing was saved. The
    same call, confirmed, saves it. ``warnings`` (each with a ``code`` and a ``message``) read as
    ``field``'s errors."""

    def __init__(self, warnings: list, *, field: str):
        self.warnings = list(warnings)
        super().__init__({field: [ValidationError(w.message, code=w.code) for w in self.warnings]})
