"""The zone's reference data by the names imported files give it (the enterprise list and the
project ledger name the same parks, industries and units the same ways)."""

from __future__ import annotations

from core.importing import by_name
from reference.models import Department, Industry, Park


class References:
    """Parks (also by alias), industries, and units (also by short name) by normalised name, each
    table loaded once for a whole file."""

    def __init__(self) -> None:
        self.parks: dict[str, Park] = by_name(Park.objects.all(), also="alias")
        self.industries: dict[str, Industry] = by_name(Industry.objects.all())
        self.units: dict[str, Department] = by_name(Department.objects.all(), also="short_name")
