"""Password rules of our own, beside Django's (AUTH_PASSWORD_VALIDATORS in settings)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from zxcvbn import zxcvbn


class LettersAndDigitsValidator:
    """A password holds at least one letter and at least one digit (Chinese characters count as letters)."""

    def validate(self, password, user=None):
        if not (any(char.isalpha() for char in password) and any(char.isdigit() for char in password)):
            raise ValidationError(
                _("The password must contain both letters and digits."), code="password_letters_and_digits"
            )

    def get_help_text(self):
        return _("Your password must contain both letters and digits.")


class StrengthValidator:
    """A password zxcvbn estimates as easy to guess is refused, whatever its length and characters.

    zxcvbn scores 0–4 from how many guesses an attacker would need, trying dictionaries, keyboard
    patterns, repeats, dates and the user's own names (username, display name, e-mail) first, which
    is how "unit2unit2x1" or a display name typed three times scores 1. ``min_score`` 3 is the
    level zxcvbn's authors advise for accounts guarded by a slow hash, as Django's are."""

    # zxcvbn's estimate grows faster than linearly with the length; a prefix this long already
    # decides the score of any password a person types.
    ESTIMATED_LENGTH = 64
    USER_ATTRIBUTES = ("username", "display_name", "first_name", "last_name", "email")

    def __init__(self, min_score: int = 3):
        self.min_score = min_score

    def validate(self, password, user=None):
        known = []
        for name in self.USER_ATTRIBUTES:
            value = str(getattr(user, name, "") or "")
            if value:
                # The whole value and its parts: an e-mail address's name, a username's words.
                known += [value, *re.split(r"\W+", value)]
        result = zxcvbn(password[: self.ESTIMATED_LENGTH], user_inputs=[word for word in known if word])
        if result["score"] < self.min_score:
            raise ValidationError(
                _(
                    "This password is too easy to guess: it is made of common words, keyboard "
                    "patterns, repeats or your own names. Choose a longer, less predictable one."
                ),
                code="password_too_guessable",
            )

    def get_help_text(self):
        return _("Your password must not be easy to guess: avoid common words, repeats and your own names.")
