"""Password rules of our own, beside Django's (AUTH_PASSWORD_VALIDATORS in settings)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class LettersAndDigitsValidator:
    """A password holds at least one letter and at least one digit (Chinese characters count as letters)."""

    def validate(self, password, user=None):
        if not (any(char.isalpha() for char in password) and any(char.isdigit() for char in password)):
            raise ValidationError(
                _("The password must contain both letters and digits."), code="password_letters_and_digits"
            )

    def get_help_text(self):
        return _("Your password must contain both letters and digits.")
