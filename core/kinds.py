"""The kinds of background job and of Excel import. Core names its own; every other kind is
registered by the app that owns it, from its AppConfig.ready(), with what runs it (core.jobs,
core.tasks, core.imports), so a job's or an import's kind reads as a label without core knowing
the domains. The models' ``kind`` fields take their choices from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JOB_KINDS: dict[str, Any] = {}


@dataclass(frozen=True)
class ImportKind:
    """A kind of Excel import: ``module`` previews and applies it; ``title`` heads its upload page,
    ``help_template`` says there what the file must hold; ``asks_period`` adds the year and month."""

    value: str
    label: Any
    title: Any
    module: str
    help_template: str
    asks_period: bool = False
    position: int = 100  # where its button stands on the import list (lowest first, primary)


IMPORT_KINDS: dict[str, ImportKind] = {}


def job_kind_choices() -> list[tuple[str, Any]]:
    return list(JOB_KINDS.items())


def import_kind_choices() -> list[tuple[str, Any]]:
    return [(kind.value, kind.label) for kind in IMPORT_KINDS.values()]
