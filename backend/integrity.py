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
def known_constraints() -> tuple[frozenset[str], dict[tuple[str, frozenset[str]], str]]:
    """(constraint names, {(table, unique columns): name}) the project's models declare."""
    names: set[str] = set()
    unique_columns: dict[tuple[str, frozenset[str]], str] = {}
    for model in _project_models():
        table = model._meta.db_table
        for constraint in model._meta.constraints:
            names.add(constraint.name)
            if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
                columns = {model._meta.get_field(name).column for name in constraint.fields}
                unique_columns[(table, frozenset(columns))] = constraint.name
        for field in model._meta.local_fields:
            if field.unique and not field.primary_key:
                name = f"{table}_{field.column}_key"  # PostgreSQL's name for UNIQUE
                names.add(name)
                unique_columns[(table, frozenset([field.column]))] = name
            if field.db_check(connection):
                names.add(f"{table}_{field.column}_check")  # e.g. PositiveSmallIntegerField
    return frozenset(names), unique_columns


_SQLITE_NAMED = re.compile(r"(?:CHECK|UNIQUE) constraint failed: (?:index ')?(\w+)'?$")
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: ((?:\w+\.\w+(?:, )?)+)$")


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint ``exc`` broke, if the database says (None for NOT NULL
    and foreign keys on SQLite). A unique constraint SQLite names by its columns gets the
    name the models give it."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:  # PostgreSQL
        return diag.constraint_name
    message = str(exc).strip()
    columns = _SQLITE_COLUMNS.match(message)
    if columns:
        pairs = [item.split(".") for item in columns.group(1).split(", ")]
        tables = {table for table, _column in pairs}
        if len(tables) != 1:
            return None
        key = (tables.pop(), frozenset(column for _table, column in pairs))
        return known_constraints()[1].get(key)
    named = _SQLITE_NAMED.match(message)
    return named.group(1) if named else None


def is_known_violation(exc: IntegrityError) -> bool:
    """True if ``exc`` broke a constraint the project's models declare."""
    return violated_constraint(exc) in known_constraints()[0]
