"""The status every caller of the role matrix should get from an endpoint."""

from tests.api.conftest import ROLES

CALLERS = [*ROLES, None]  # None: anonymous


def expected_codes(allowed, ok: int, hidden=()) -> dict:
    """``ok`` for the ``allowed``, 404 for the ``hidden`` (the record is outside what they may read),
    401 for the anonymous caller and 403 for everyone else, the user without a role included."""
    codes = {}
    for who in CALLERS:
        if who is None:
            codes[who] = 401
        elif who in hidden:
            codes[who] = 404
        elif who in allowed:
            codes[who] = ok
        else:
            codes[who] = 403
    return codes
