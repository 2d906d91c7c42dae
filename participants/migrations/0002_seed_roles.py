"""Seed the product's roles as groups holding real permissions."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

ROLE_PERMISSIONS = {
    "Create users": (
        "participants.create_users",
        "participants.view_participant",
        "imports.add_importbatch",
        "imports.view_importbatch",
        "participants.change_participant",
        "participants.add_participant",
    ),
    "Supervisor": (
        "participants.supervise",
        "participants.view_participant",
        "participants.view_nino",
        "imports.view_importbatch",
    ),
    "Compliance QA": (
        "participants.compliance_qa",
        "participants.view_participant",
        "participants.view_nino",
        "participants.view_access_log",
        "imports.view_importbatch",
    ),
    "Ability to set PRaP version": (
        "participants.set_prap_version",
        "participants.view_participant",
    ),
}


def seed_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after all migrations; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def unseed_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0001_initial"),
        ("imports", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed_roles, unseed_roles)]
