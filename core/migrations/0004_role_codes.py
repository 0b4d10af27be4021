"""Roles go by a code stored with their group (core.models.RoleGroup), no longer by the group's name:
the existing groups take the code of the role their name meant."""

import django.db.models.deletion
from django.db import migrations, models

# The role groups' names before this migration (core.roles.GROUP_NAMES then), frozen here.
NAMES = {
    "admin": "管理员",
    "leader": "领导",
    "reviewer": "审核员",
    "staff": "项目专员",
    "unit": "责任单位",
    "supervisor": "督办",
}


def attach_codes(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    RoleGroup = apps.get_model("core", "RoleGroup")
    roles = {name: code for code, name in NAMES.items()}
    RoleGroup.objects.bulk_create(
        RoleGroup(group=group, code=roles[group.name]) for group in Group.objects.filter(name__in=roles)
    )


def restore_names(apps, schema_editor):
    """Back to roles by name: a group renamed since takes its role's name again, where it is free."""
    Group = apps.get_model("auth", "Group")
    RoleGroup = apps.get_model("core", "RoleGroup")
    for row in RoleGroup.objects.select_related("group"):
        name = NAMES[row.code]
        if row.group.name != name and not Group.objects.filter(name=name).exists():
            row.group.name = name
            row.group.save(update_fields=["name"])


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('core', '0003_app_split'),
    ]

    operations = [
        migrations.CreateModel(
            name='RoleGroup',
            fields=[
                ('group', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='role', serialize=False, to='auth.group', verbose_name='group')),
                ('code', models.CharField(choices=[('admin', 'administrator'), ('leader', 'leader'), ('reviewer', 'reviewer'), ('staff', 'project staff'), ('unit', 'responsible unit'), ('supervisor', 'supervision office')], max_length=20, unique=True, verbose_name='role')),
            ],
            options={
                'verbose_name': 'group role',
                'verbose_name_plural': 'group roles',
                'ordering': ['code'],
                'default_permissions': (),
            },
        ),
        migrations.RunPython(attach_codes, restore_names),
    ]
