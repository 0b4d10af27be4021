"""Enterprise, visit and problem-ticket pages. Thin: selectors read, forms check, services write."""

from __future__ import annotations

from core.lookups import lookup_response, lookup_view, search, search_term
from enterprises import permissions
from enterprises.models import Enterprise


@lookup_view
def enterprise_lookup(request):
    """Enterprises for a picker, by name, short name or unified social credit code (the list's
    search), for whoever may read the enterprise list."""
    permissions.ensure_can_read_enterprises(request.user)
    rows = Enterprise.objects.only("pk", "name")
    return lookup_response(search(rows, search_term(request), ["name", "short_name", "credit_code"]))
