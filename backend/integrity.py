"""Which IntegrityErrors are ours to answer with a 409.

The database constraints the project's models declare (``Meta.constraints``, unique fields,
the range checks of positive integer fields) guard invariants that a concurrent request can
break between a service's check and its write: that is a conflict for the client to look
at. Any other IntegrityError (a NOT NULL or foreign-key violation, a constraint of a
third-party app) means the code wrote something it should not have: a bug, answered 500 and
logged at ERROR.

PostgreSQL names the violated constraint (``diag.constraint_name``). SQLite, the embedded
default, only says so in the message: ``CHECK constraint failed: <name>``, ``UNIQUE
constraint failed: <table>.<column>, …`` or ``… failed: index '<name>'``.
"""

import re
from functools import cache
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, models


def _project_models():
    root = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if root in path.parents and "site-packages" not in path.parts:
            yield from config.get_models()


@cache
def known_constraints() -> tuple[frozenset[str], frozenset[tuple[str, frozenset[str]]]]:
    """(constraint names, unique column sets as (table, columns)) the project declares."""
    names: set[str] = set()
    unique_columns: set[tuple[str, frozenset[str]]] = set()
    for model in _project_models():
        table = model._meta.db_table
        for constraint in model._meta.constraints:
            names.add(constraint.name)
            if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
                columns = {model._meta.get_field(name).column for name in constraint.fields}
                unique_columns.add((table, frozenset(columns)))
        for field in model._meta.local_fields:
            if field.unique and not field.primary_key:
                names.add(f"{table}_{field.column}_key")  # PostgreSQL's name for UNIQUE
                unique_columns.add((table, frozenset([field.column])))
            if field.db_check(connection):
                names.add(f"{table}_{field.column}_check")  # e.g. PositiveSmallIntegerField
    return frozenset(names), frozenset(unique_columns)


_SQLITE_NAMED = re.compile(r"(?:CHECK|UNIQUE) constraint failed: (?:index ')?([\w]+)'?$")
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: ((?:\w+\.\w+(?:, )?)+)$")


def is_known_violation(exc: IntegrityError) -> bool:
    """True if ``exc`` broke a constraint the project's models declare."""
    names, unique_columns = known_constraints()
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:  # PostgreSQL
        return diag.constraint_name in names
    message = str(exc).strip()
    columns = _SQLITE_COLUMNS.match(message)
    if columns:
        pairs = [item.split(".") for item in columns.group(1).split(", ")]
        tables = {table for table, _column in pairs}
        return (
            len(tables) == 1
            and (
                tables.pop(),
                frozenset(column for _table, column in pairs),
            )
            in unique_columns
        )
    named = _SQLITE_NAMED.match(message)
    return bool(named) and named.group(1) in names
