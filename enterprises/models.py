"""Enterprises of the zone, their honours and yearly figures, the visits paid to
them and the problems (问题工单) collected there."""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, optional_link
from core.history import tracked
from core.models import TimeStampedModel
from enterprises.validators import normalize_credit_code, validate_credit_code


class Honour(models.Model):
    """A title an enterprise can hold: 专精特新"小巨人", 高新技术企业, 头雁企业 …"""

    name = models.CharField(_("name"), max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(
        _("display order"), default=100, help_text=_("Lower numbers are listed first.")
    )

    history = tracked()

    class Meta:
        ordering = ["rank", "name"]
        verbose_name = _("honour")
        verbose_name_plural = _("honours")

    def __str__(self):
        return self.name


class Enterprise(TimeStampedModel):
    """A company in the zone: a project's builder, a visit's host, a problem's owner."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(
        _("short name"),
        max_length=50,
        blank=True,
        db_index=True,
        help_text=_("The name used in reports and ledgers, such as 天子铝业."),
    )
    parent = optional_link(
        "self",
        _("parent company"),
        related_name="subsidiaries",
        help_text=_("The group or investing company this enterprise belongs to."),
    )
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_credit_code],
        help_text=_("18 characters, GB 32100-2015."),
    )
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    industry = optional_link("reference.Industry", _("industry"), related_name="enterprises")
    park = optional_link("reference.Park", _("park"), related_name="enterprises")
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    is_above_scale = models.BooleanField(_("above-scale industrial enterprise"), default=False, db_index=True)
    honours = models.ManyToManyField(
        Honour, verbose_name=_("honours"), blank=True, related_name="enterprises"
    )
    on_white_list = models.BooleanField(_("on the “four guarantees” white list"), default=False)
    liaison_leader = optional_link(
        "reference.Leader", _("liaison leader"), related_name="liaison_enterprises"
    )
    liaison_unit = optional_link(
        "reference.Department", _("liaison unit"), related_name="liaison_enterprises"
    )
    description = models.TextField(_("description"), blank=True)

    history = tracked(m2m_fields=["honours"], excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("enterprises:detail", kwargs={"pk": self.pk})

    def clean(self):
        # Store codes in one spelling so the unique constraint sees duplicates.
        self.credit_code = normalize_credit_code(self.credit_code) or None
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError({"parent": _("An enterprise cannot belong to itself.")})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


class EnterpriseYearlyFigure(models.Model):
    """An enterprise's figures for one year: output value, revenue, taxes, employees."""

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="yearly_figures",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    output_value = MoneyField(_("output value (10k yuan)"), null=True, blank=True)
    revenue = MoneyField(_("revenue (10k yuan)"), null=True, blank=True)
    taxes = MoneyField(_("taxes paid (10k yuan)"), null=True, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)

    history = tracked()

    class Meta:
        ordering = ["enterprise", "-year"]
        verbose_name = _("yearly figures")
        verbose_name_plural = _("yearly figures")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "year"], name="%(app_label)s_%(class)s_unique_year"
            ),
            models.CheckConstraint(
                condition=models.Q(year__gte=1949, year__lte=2100),
                name="%(app_label)s_%(class)s_year_range",
            ),
            models.CheckConstraint(
                condition=(
                    (models.Q(output_value__isnull=True) | models.Q(output_value__gte=0))
                    & (models.Q(revenue__isnull=True) | models.Q(revenue__gte=0))
                    & (models.Q(taxes__isnull=True) | models.Q(taxes__gte=0))
                ),
                name="%(app_label)s_%(class)s_money_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.enterprise} {self.year}"
