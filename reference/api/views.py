"""Reference data every app shares: units, parks, clusters, industries, leaders and users.
Every role reads them; only administrators change them."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets

from core.api.permissions import HasZoneRole
from core.models import User
from core.roles import is_admin, roles_of, with_roles
from reference.models import Cluster, Department, Industry, Leader, Park


class AdminWritesPermission(HasZoneRole):
    message = _("Only administrators change reference data.")

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or is_admin(request.user)


class ReferenceViewSet(viewsets.ModelViewSet):
    permission_classes = [AdminWritesPermission]
    ordering_fields = None

    def perform_create(self, serializer):
        serializer.instance = serializer.Meta.model(**serializer.validated_data)
        serializer.instance.full_clean()
        serializer.instance.save()

    def perform_update(self, serializer):
        instance = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(instance, name, value)
        instance.full_clean()
        instance.save()


def reference_viewset(model_class, summary: str, field_names: list[str]):
    """The read/admin-write API of one kind of reference record, listed by name."""
    meta = type("Meta", (), {"model": model_class, "fields": ["id", *field_names]})
    serializer = type(f"{model_class.__name__}Serializer", (serializers.ModelSerializer,), {"Meta": meta})
    viewset = type(
        f"{model_class.__name__}ViewSet",
        (ReferenceViewSet,),
        {"queryset": model_class.objects.order_by("name", "pk"), "serializer_class": serializer},
    )
    return extend_schema_view(list=extend_schema(summary=summary))(viewset)


DepartmentViewSet = reference_viewset(
    Department, "Responsible units (责任单位)", ["name", "short_name", "phone", "is_active"]
)
ParkViewSet = reference_viewset(Park, "Parks (园区)", ["name", "alias", "area_km2", "description"])
ClusterViewSet = reference_viewset(Cluster, "Industrial clusters (产业集群)", ["name", "description"])
IndustryViewSet = reference_viewset(
    Industry, "Industries (产业)", ["name", "cluster", "is_leading", "is_strategic_emerging"]
)
LeaderViewSet = reference_viewset(Leader, "Leaders (分包/包联领导)", ["name", "title", "department", "phone"])


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True, help_text="The name shown in the portal.")
    roles = serializers.SerializerMethodField(help_text="admin, leader, reviewer, staff, unit, supervisor.")

    class Meta:
        model = User
        fields = ["id", "username", "name", "department", "roles"]

    def get_roles(self, user) -> list[str]:
        return sorted(roles_of(user))


@extend_schema_view(list=extend_schema(summary="Users: who can be put in charge of a project or problem"))
class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """People who sign in, with their unit and roles (no contact details: those stay in the admin)."""

    queryset = with_roles(User.objects.filter(is_active=True)).order_by("username", "pk")
    serializer_class = UserSerializer
