"""reference's models came from ``zone_portal`` (docs/architecture.md): their content types take the new app's
label, and the constraints named after the old app are named after the new one."""
from django.conf import settings
from django.db import migrations, models

from core.legacy import content_types_moved


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ('reference', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(content_types_moved("zone_portal", "reference"), migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name='leader',
            name='zone_portal_leader_unique_name_title',
        ),
        migrations.AddConstraint(
            model_name='leader',
            constraint=models.UniqueConstraint(fields=('name', 'title'), name='reference_leader_unique_name_title'),
        ),
    ]
