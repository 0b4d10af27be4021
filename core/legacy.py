"""Carrying databases made before the app split (docs/architecture.md, "Moving a model") forward.

Models that moved to another app kept their tables (``Meta.db_table``); what still names the old app
is renamed here, by the moving app's migrations: the content types (so permissions, admin log entries
and anything pointing at a content type stay attached) and queued background tasks' import paths."""

from collections.abc import Callable

from django.apps.registry import Apps
from django.contrib.contenttypes.models import ContentType
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def content_types_moved(old_label: str, new_label: str) -> Callable:
    """A RunPython step: the content types of ``new_label``'s models that still carry ``old_label``
    take the new label. A fresh database has none to rename; one that already has the new type (its
    models were used before this ran) keeps it."""

    def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        content_types = apps.get_model("contenttypes", "ContentType").objects.using(
            schema_editor.connection.alias
        )
        names = [model._meta.model_name for model in apps.get_app_config(new_label).get_models()]
        taken = set(
            content_types.filter(app_label=new_label, model__in=names).values_list("model", flat=True)
        )
        content_types.filter(app_label=old_label, model__in=set(names) - taken).update(app_label=new_label)
        ContentType.objects.clear_cache()

    return forwards


def task_paths_moved(old_prefix: str, new_prefix: str) -> Callable:
    """A RunPython step: queued tasks (django-tasks' database backend) name their function by import
    path; those under a module that moved are pointed at its new place."""

    def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        results = apps.get_model("django_tasks_database", "DBTaskResult").objects.using(
            schema_editor.connection.alias
        )
        for result in results.filter(task_path__startswith=old_prefix).only("task_path"):
            result.task_path = new_prefix + result.task_path[len(old_prefix) :]
            result.save(update_fields=["task_path"])

    return forwards
