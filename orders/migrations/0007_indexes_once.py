"""Foreign keys indexed as the first column of a composite index lose their own index (the
order's organisation, a part's order and cooperative, a line's order), and approved_by,
reorder_of and standing_order are indexed only where set: an order of three parts writes 14
index entries fewer. The foreign keys stay as they are (backend/online_indexes.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from backend import online_indexes

# Django's names for the fields' own indexes (schema_editor._create_index_name).
DROPPED = [
    ("orders_fulfilment", "cooperative_id", "orders_fulfilment_cooperative_id_e37d6df4"),
    ("orders_fulfilment", "order_id", "orders_fulfilment_order_id_09315447"),
    ("orders_order", "approved_by_id", "orders_order_approved_by_id_d6f46c4f"),
    ("orders_order", "organisation_id", "orders_order_organisation_id_46ef4fe7"),
    ("orders_order", "reorder_of_id", "orders_order_reorder_of_id_8a38b6e2"),
    ("orders_order", "standing_order_id", "orders_order_standing_order_id_cd94f59e"),
    ("orders_orderline", "order_id", "orders_orderline_order_id_17f8f3ef"),
]
PARTIAL = [
    models.Index(
        condition=models.Q(**{f"{field}__isnull": False}), fields=[field], name=f"order_{field}_idx"
    )
    for field in ("approved_by", "reorder_of", "standing_order")
]


def forwards(apps, schema_editor):
    # The partial indexes first: a lookup by approver always has an index to use.
    online_indexes.add_indexes(schema_editor, apps.get_model("orders", "Order"), PARTIAL)
    online_indexes.drop_indexes(schema_editor, [name for _table, _column, name in DROPPED])


def backwards(apps, schema_editor):
    online_indexes.create_column_indexes(schema_editor, DROPPED)
    online_indexes.drop_indexes(schema_editor, [index.name for index in PARTIAL])


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("buyers", "0003_buyerorganisation_net_terms_days"),
        ("orders", "0006_purchase_imports"),
        ("suppliers", "0003_cooperative_stripe_account"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='fulfilment',
                    name='cooperative',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='fulfilments', to='suppliers.cooperative', verbose_name='cooperative'),
                ),
                migrations.AlterField(
                    model_name='fulfilment',
                    name='order',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='fulfilments', to='orders.order', verbose_name='order'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='approved_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='orders_approved', to=settings.AUTH_USER_MODEL, verbose_name='approved by'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='organisation',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='buyers.buyerorganisation', verbose_name='buyer organisation'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='reorder_of',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reorders', to='orders.order', verbose_name='reorder of'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='standing_order',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='orders', to='orders.standingorder', verbose_name='standing order'),
                ),
                migrations.AlterField(
                    model_name='orderline',
                    name='order',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='orders.order', verbose_name='order'),
                ),
                *(migrations.AddIndex(model_name="order", index=index) for index in PARTIAL),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
