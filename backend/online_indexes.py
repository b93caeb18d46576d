"""Index changes that do not lock a busy table, for migrations (issue 8's index clean-up).

Django's AlterField(db_index=False) drops a foreign key's constraint with its index and adds
the constraint back, which checks every row under a lock, and AddIndex builds an index while
writes wait. A migration that only drops or adds indexes changes Django's state on its own
(SeparateDatabaseAndState) and calls these from RunPython in a non-atomic migration: on
PostgreSQL the indexes are dropped and built CONCURRENTLY; elsewhere (SQLite, the embedded
default) plainly.
"""

from django.db import models


def _concurrently(schema_editor) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def drop_indexes(schema_editor, names: list[str]) -> None:
    for name in names:
        schema_editor.execute(
            f"DROP INDEX {_concurrently(schema_editor)}IF EXISTS {schema_editor.quote_name(name)}"
        )


def create_column_indexes(schema_editor, columns: list[tuple[str, str, str]]) -> None:
    """(table, column, index name): a plain single-column index each (what db_index made)."""
    quote = schema_editor.quote_name
    for table, column, name in columns:
        schema_editor.execute(
            f"CREATE INDEX {_concurrently(schema_editor)}IF NOT EXISTS {quote(name)} "
            f"ON {quote(table)} ({quote(column)})"
        )


def add_indexes(schema_editor, model, indexes: list[models.Index]) -> None:
    for index in indexes:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_index(model, index, concurrently=True)
        else:
            schema_editor.add_index(model, index)
