"""A user's own API tokens: list, create (the secret is shown once), revoke."""

import datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.models import ApiToken

MAX_TOKEN_DAYS = 3650


class TokenSerializer(serializers.ModelSerializer):
    id = serializers.CharField(
        source="token_key", read_only=True, help_text=_("The token's first characters.")
    )
    expires_in_days = serializers.IntegerField(
        write_only=True,
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        help_text=_("Days until the token stops working; empty for a token that does not expire."),
    )

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created", "expiry", "last_used_at", "expires_in_days"]
        read_only_fields = ["created", "expiry", "last_used_at"]


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text=_("The secret: shown this once, store it safely.")
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


def create_token(user, *, name: str, days: int | None) -> tuple[ApiToken, str]:
    """A new token for ``user``; the secret is returned once and only its hash is kept."""
    expiry = datetime.timedelta(days=days) if days else None
    return ApiToken.objects.create(user=user, expiry=expiry, name=name.strip())


@extend_schema_view(
    list=extend_schema(summary="Your API tokens"),
    create=extend_schema(
        summary="Create a token (its secret is shown once)", responses={201: NewTokenSerializer}
    ),
    destroy=extend_schema(summary="Revoke one of your tokens"),
)
class TokenViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Each user manages only their own tokens."""

    serializer_class = TokenSerializer
    lookup_field = "token_key"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"[A-Za-z0-9_]+"
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user).order_by("-created", "token_key")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance, secret = create_token(
            request.user,
            name=serializer.validated_data["name"],
            days=serializer.validated_data.get("expires_in_days"),
        )
        data = NewTokenSerializer(instance).data
        data["token"] = secret
        # The secret is in this answer only: no cache may keep it.
        return Response(data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})
