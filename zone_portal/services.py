"""Writes on users' accounts that more than one page or form makes."""

from zone_portal.models import ApiToken


def tokens_revoke_all(*, user) -> int:
    """Revoke every API token of ``user``; how many there were. Called wherever a password is set
    (zone_portal.forms): a new password must also end what the old one let a script do."""
    deleted, _by_model = ApiToken.objects.filter(user=user).delete()
    return deleted
