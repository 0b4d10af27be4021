from django.conf import settings

from core.history_views import can_read_change_log
from core.import_views import can_import
from core.roles import ROLE_LABELS, has_role, roles_of, uses_admin_site
from dashboard.selectors import UNIT_SCOPED_ROLES, ZONE_WIDE_ROLES
from projects.permissions import can_create_project, can_publish_months, can_review


def portal(request):
    """What the page frame needs: the zone's name and which menu entries the user has."""
    user = getattr(request, "user", None)
    # The unminified build has a source map; production serves the minified one.
    echarts_js = "vendor/echarts/echarts.js" if settings.DEBUG else "vendor/echarts/echarts.min.js"
    if user is None or not user.is_authenticated:
        return {"zone_name": settings.ZONE_NAME, "echarts_js": echarts_js}
    roles = roles_of(user)
    return {
        "zone_name": settings.ZONE_NAME,
        "echarts_js": echarts_js,
        "nav": {
            "log_progress": can_create_project(user),
            "review": can_review(user),
            "months": can_publish_months(user),
            "imports": can_import(user),
            "change_log": can_read_change_log(user),
            "admin": uses_admin_site(user),
            "dashboard": has_role(user, *ZONE_WIDE_ROLES)
            or (has_role(user, *UNIT_SCOPED_ROLES) and user.department_id),
        },
        "role_labels": [ROLE_LABELS[role] for role in sorted(roles)],
    }
