"""The signed-in user's API tokens: create one (its secret shown once), see when each was used, revoke."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.api.tokens import create_token
from core.forms import BootstrapFormMixin
from core.models import ApiToken
from core.roles import roles_of

# The secret is kept in the (server-side) session only until the page has shown it once.
SECRET_KEY_IN_SESSION = "new_api_token"
LIFETIMES = [
    ("30", gettext_lazy("30 days")),
    ("90", gettext_lazy("90 days")),
    ("365", gettext_lazy("1 year")),
    ("", gettext_lazy("Does not expire")),
]


class TokenForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. 省平台同步."),
    )
    days = forms.TypedChoiceField(
        label=gettext_lazy("Valid for"),
        choices=LIFETIMES,
        coerce=int,
        empty_value=None,
        initial="90",
        required=False,
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the token a name."))
        return name


def _ensure_role(user) -> None:
    if not roles_of(user):
        raise PermissionDenied(_("You have no role in this portal yet: ask an administrator."))


@login_required
def token_list(request):
    """The user's tokens and the form for a new one; a new secret is shown on this page once."""
    _ensure_role(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, secret = create_token(
            request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
        )
        request.session[SECRET_KEY_IN_SESSION] = {"key": token.token_key, "secret": secret}
        return redirect("api_tokens")
    new = request.session.pop(SECRET_KEY_IN_SESSION, None)
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created", "token_key")
    response = render(
        request,
        "core/api_tokens.html",
        {"form": form, "tokens": tokens, "new": new, "section": "tokens"},
    )
    # It may show a new secret: not even the browser's history may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, key):
    token = get_object_or_404(ApiToken, user=request.user, token_key=key)
    name = token.name
    token.delete()
    messages.success(
        request, _("Token “%(name)s” revoked: scripts using it can no longer sign in.") % {"name": name}
    )
    return redirect("api_tokens")
