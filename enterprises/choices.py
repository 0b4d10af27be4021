from django.db import models
from django.utils.translation import gettext_lazy as _


class EnterpriseImportKind(models.TextChoices):
    """The Excel import this app registers (apps.py)."""

    ENTERPRISES = "enterprises", _("enterprise list")
