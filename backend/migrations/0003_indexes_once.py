"""The idempotency key's user is indexed as the first column of (user, key): its own index is
dropped, without touching the foreign key (backend/online_indexes.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from backend import online_indexes

# Django's name for the field's own index (schema_editor._create_index_name).
DROPPED = [("backend_idempotencykey", "user_id", "backend_idempotencykey_user_id_4987fc75")]


def forwards(apps, schema_editor):
    online_indexes.drop_indexes(schema_editor, [name for _table, _column, name in DROPPED])


def backwards(apps, schema_editor):
    online_indexes.create_column_indexes(schema_editor, DROPPED)


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("backend", "0002_verbose_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="idempotencykey",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
