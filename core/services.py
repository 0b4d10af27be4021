"""Writes on users' accounts that more than one page or form makes."""

from django.db import transaction

from core.models import ApiToken, User


def tokens_revoke_all(*, user: User) -> int:
    """Revoke every API token of ``user``; how many there were. Called wherever a password is set
    (core.forms): a new password must also end what the old one let a script do."""
    deleted, _by_model = ApiToken.objects.filter(user=user).delete()
    return deleted


@transaction.atomic
def user_set_text_size(*, user: User, text_size: str) -> None:
    """Set the text size ``user`` reads every page at (core.models.TextSize); the change is
    recorded in the user's history by the save."""
    user.text_size = text_size
    others = [field.name for field in User._meta.fields if field.name != "text_size"]
    user.full_clean(exclude=others, validate_unique=False, validate_constraints=False)
    user.save(update_fields=["text_size"])
