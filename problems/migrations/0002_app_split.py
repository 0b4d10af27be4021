"""problems's models came from ``enterprises`` (docs/architecture.md): their content types take the new app's
label, and the constraints named after the old app are named after the new one."""
from django.conf import settings
from django.db import migrations, models

from core.legacy import content_types_moved


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ('enterprises', '0001_squashed_0004_history_origin'),
        ('problems', '0001_initial'),
        ('projects', '0001_squashed_0008_progress_open_index'),
        ('reference', '0002_app_split'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(content_types_moved("enterprises", "problems"), migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name='problemticket',
            name='enterprises_problemticket_assigned_has_unit',
        ),
        migrations.RemoveConstraint(
            model_name='problemticket',
            name='enterprises_problemticket_resolved_has_resolution',
        ),
        migrations.RemoveConstraint(
            model_name='problemticket',
            name='enterprises_problemticket_rated_has_satisfaction',
        ),
        migrations.AddConstraint(
            model_name='problemticket',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['assigned', 'in_progress', 'under_review']), _negated=True), ('unit__isnull', False), _connector='OR'), name='problems_problemticket_assigned_has_unit'),
        ),
        migrations.AddConstraint(
            model_name='problemticket',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['resolved', 'rated']), _negated=True), models.Q(('resolution', ''), _negated=True), _connector='OR'), name='problems_problemticket_resolved_has_resolution'),
        ),
        migrations.AddConstraint(
            model_name='problemticket',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'rated'), _negated=True), models.Q(('satisfaction', ''), _negated=True), _connector='OR'), name='problems_problemticket_rated_has_satisfaction'),
        ),
    ]
