"""Token authentication for scripts: knox's hashed tokens, remembering when each was last used."""

from datetime import timedelta

from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.throttling import AnonRateThrottle

# Recording every use would write on every request; once a minute is enough to show "last used".
LAST_USED_RESOLUTION = timedelta(minutes=1)


class FailedTokenThrottle(AnonRateThrottle):
    """Wrong tokens count against the caller's address with the anonymous budget, so guessing is slow."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "token-failures", "ident": self.get_ident(request)}


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle = FailedTokenThrottle()
            if not throttle.allow_request(request, None):  # type: ignore[arg-type]  # it reads no view
                raise exceptions.Throttled(throttle.wait()) from None
            raise

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token
