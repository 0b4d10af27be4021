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


def reference_serializer(model_class, field_names):
    meta = type("Meta", (), {"model": model_class, "fields": ["id", *field_names]})
    return type(f"{model_class.__name__}Serializer", (serializers.ModelSerializer,), {"Meta": meta})


DepartmentSerializer = reference_serializer(Department, ["name", "short_name", "phone", "is_active"])
ParkSerializer = reference_serializer(Park, ["name", "alias", "area_km2", "description"])
ClusterSerializer = reference_serializer(Cluster, ["name", "description"])
IndustrySerializer = reference_serializer(
    Industry, ["name", "cluster", "is_leading", "is_strategic_emerging"]
)
LeaderSerializer = reference_serializer(Leader, ["name", "title", "department", "phone"])


@extend_schema_view(list=extend_schema(summary="Responsible units (责任单位)"))
class DepartmentViewSet(ReferenceViewSet):
    queryset = Department.objects.order_by("name", "pk")
    serializer_class = DepartmentSerializer


@extend_schema_view(list=extend_schema(summary="Parks (园区)"))
class ParkViewSet(ReferenceViewSet):
    queryset = Park.objects.order_by("name", "pk")
    serializer_class = ParkSerializer


@extend_schema_view(list=extend_schema(summary="Industrial clusters (产业集群)"))
class ClusterViewSet(ReferenceViewSet):
    queryset = Cluster.objects.order_by("name", "pk")
    serializer_class = ClusterSerializer


@extend_schema_view(list=extend_schema(summary="Industries (产业)"))
class IndustryViewSet(ReferenceViewSet):
    queryset = Industry.objects.order_by("name", "pk")
    serializer_class = IndustrySerializer


@extend_schema_view(list=extend_schema(summary="Leaders (分包/包联领导)"))
class LeaderViewSet(ReferenceViewSet):
    queryset = Leader.objects.order_by("name", "pk")
    serializer_class = LeaderSerializer


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
