"""The reference data every app shares: responsible units, parks, clusters, industries and leaders."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import optional_link
from core.history import tracked
from core.models import TimeStampedModel


class NamedReference(TimeStampedModel):
    """A reference record known by a unique name: listed and shown by it."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name


class Department(NamedReference):
    """A responsible unit (责任单位): 发改, 自然资源, 住建, 生态环境, 税务 …

    Users belong to one; projects, milestones and problems are assigned to one.
    """

    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    history = tracked(excluded_fields=["created_at", "updated_at"])

    class Meta(NamedReference.Meta):
        db_table = "zone_portal_department"  # kept from before the app split
        verbose_name = _("responsible unit")
        verbose_name_plural = _("responsible units")

    def __str__(self):
        return self.short_name or self.name


class Park(NamedReference):
    """A park (园区) inside the zone, such as 健康食品产业园."""

    alias = models.CharField(
        _("other name"), max_length=100, blank=True, help_text=_("Another name the park is known by.")
    )
    area_km2 = models.DecimalField(_("area (km²)"), max_digits=8, decimal_places=2, null=True, blank=True)
    description = models.TextField(_("description"), blank=True)

    history = tracked(excluded_fields=["created_at", "updated_at"])

    class Meta(NamedReference.Meta):
        db_table = "zone_portal_park"  # kept from before the app split
        verbose_name = _("park")
        verbose_name_plural = _("parks")


class Cluster(NamedReference):
    """An industrial cluster (产业集群), such as 健康食品 or 生物医药."""

    description = models.TextField(_("description"), blank=True)

    history = tracked(excluded_fields=["created_at", "updated_at"])

    class Meta(NamedReference.Meta):
        db_table = "zone_portal_cluster"  # kept from before the app split
        verbose_name = _("industrial cluster")
        verbose_name_plural = _("industrial clusters")


class Industry(NamedReference):
    """An industry (产业) within a cluster, such as 食品加工 within 健康食品."""

    cluster = models.ForeignKey(
        Cluster,
        verbose_name=_("industrial cluster"),
        on_delete=models.PROTECT,
        related_name="industries",
    )
    is_leading = models.BooleanField(
        _("leading industry"), default=False, help_text=_("One of the zone's leading industries.")
    )
    is_strategic_emerging = models.BooleanField(_("strategic emerging industry"), default=False)

    history = tracked(excluded_fields=["created_at", "updated_at"])

    class Meta(NamedReference.Meta):
        db_table = "zone_portal_industry"  # kept from before the app split
        ordering = ["cluster__name", "name"]
        verbose_name = _("industry")
        verbose_name_plural = _("industries")


class Leader(TimeStampedModel):
    """A zone leader responsible for projects or enterprises (分包/包联领导).

    Many leaders never log in, so the link to a user account is optional.
    """

    name = models.CharField(_("name"), max_length=50)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = optional_link(Department, _("responsible unit"), related_name="leaders")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leader",
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    history = tracked(excluded_fields=["created_at", "updated_at"])

    class Meta:
        db_table = "zone_portal_leader"  # kept from before the app split
        ordering = ["name"]
        verbose_name = _("leader")
        verbose_name_plural = _("leaders")
        constraints = [
            models.UniqueConstraint(
                fields=["name", "title"], name="%(app_label)s_%(class)s_unique_name_title"
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.title}）" if self.title else self.name
