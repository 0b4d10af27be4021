"""core's models came from ``zone_portal`` (docs/architecture.md): their content types take the new app's
label, and the constraints named after the old app are named after the new one."""
from django.db import migrations, models

from core.legacy import content_types_moved, task_paths_moved


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
        ('core', '0002_initial'),
    ]

    operations = [
        migrations.RunPython(content_types_moved("zone_portal", "core"), migrations.RunPython.noop),
        migrations.RunPython(task_paths_moved(
                ("zone_portal.tasks.generate_data_task", "demo.tasks.generate_data_task"),
                ("zone_portal.", "core."),
            ), migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name='job',
            name='zone_portal_job_done_within_total',
        ),
        migrations.AddConstraint(
            model_name='job',
            constraint=models.CheckConstraint(condition=models.Q(('progress_done__lte', models.F('progress_total')), ('progress_total', 0), _connector='OR'), name='core_job_done_within_total'),
        ),
    ]
