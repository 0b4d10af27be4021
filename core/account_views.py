"""The signed-in user's display settings (适老化): the text size every page is shown at."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.models import User
from core.services import user_set_text_size


class DisplaySettingsForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["text_size"]
        widgets = {"text_size": forms.RadioSelect}


@login_required
def display_settings(request):
    """Only ever the signed-in user's own settings: the page takes no user from the request."""
    form = DisplaySettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user_set_text_size(user=request.user, text_size=form.cleaned_data["text_size"])
        messages.success(request, _("Your display settings are saved."))
        return redirect("display_settings")
    return render(request, "core/display_settings.html", {"form": form})
