from django.conf import settings

from projects.permissions import can_create_project, can_review
from zone_portal.roles import ROLE_LABELS, is_admin, roles_of


def portal(request):
    """What the page frame needs: the zone's name and which menu entries the user has."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"zone_name": settings.ZONE_NAME}
    roles = roles_of(user)
    return {
        "zone_name": settings.ZONE_NAME,
        "nav": {
            "log_progress": can_create_project(user),
            "review": can_review(user),
            "admin": is_admin(user) or user.is_staff,
        },
        "role_labels": [ROLE_LABELS[role] for role in sorted(roles)],
    }
