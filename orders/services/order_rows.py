"""A new order's rows (the order, a fulfilment per cooperative, its lines and events) written
in one statement on PostgreSQL.

Placing an order wrote them with four ORM inserts: four round trips to the database inside
the transaction that holds the listings' row locks, and four compilations, a fifth of a
placement's CPU. On PostgreSQL one statement of data-modifying CTEs writes them all and
returns every new id; the SQL is built from the models' own fields (their columns, types and
``pre_save``/``get_db_prep_save``), so a field added to a model is written here as the ORM
would write it. SQLite has no data-modifying CTEs: there the ORM writes them (the embedded
default). tests/orders/test_order_rows.py holds the two ways to the same rows.
"""

import functools

from django.db import connection
from django.db.models import Model

from ..models import Fulfilment, Order, OrderEvent, OrderLine

__all__ = ["order_rows_insert"]


def order_rows_insert(
    *,
    order: Order,
    fulfilments: list[Fulfilment],
    lines: list[OrderLine],
    events: list[OrderEvent],
    one_statement: bool | None = None,
    stock_update: tuple[str, list] | None = None,
) -> None:
    """Insert the unsaved rows of one new order and set their primary keys. Every fulfilment
    is of a different cooperative (a database constraint); each line belongs to one of them,
    each event to a different one (the ids come back keyed by cooperative, listing and
    fulfilment). ``one_statement`` None: on PostgreSQL. ``stock_update`` (SQL, parameters:
    products.stock.stocks_reserve_statement) runs in the same statement, as one more
    data-modifying CTE, or after the inserts."""
    if len({event.fulfilment.cooperative_id for event in events}) != len(events):
        raise ValueError("one event per fulfilment")
    if one_statement is None:
        one_statement = connection.vendor == "postgresql"
    if not one_statement:
        order.save(force_insert=True)
        Fulfilment.objects.bulk_create(fulfilments)
        OrderLine.objects.bulk_create(lines)
        OrderEvent.objects.bulk_create(events)
        if stock_update is not None:
            with connection.cursor() as cursor:
                cursor.execute(*stock_update)
        return
    params = _params(order=order, fulfilments=fulfilments, lines=lines, events=events)
    inserts = _statement(len(fulfilments), len(lines), len(events))
    if stock_update is not None:
        update_sql, update_params = stock_update
        inserts += f", moved_stock AS ({update_sql})"
        params += update_params
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {inserts} {_RETURNED}", params)
        returned = cursor.fetchall()
    by_cooperative = {fulfilment.cooperative_id: fulfilment for fulfilment in fulfilments}
    lines_by_listing = {line.listing_id: line for line in lines}
    events_by_fulfilment = {}
    for kind, pk, key in returned:
        if kind == "o":
            order.pk = pk
        elif kind == "f":
            by_cooperative[key].pk = pk
    for kind, pk, key in returned:
        if kind == "l":
            lines_by_listing[key].pk = pk
        elif kind == "e":
            events_by_fulfilment[key] = pk
    for event in events:
        event.pk = events_by_fulfilment[event.fulfilment.pk]
    for row in (order, *fulfilments, *lines, *events):
        row._state.adding, row._state.db = False, connection.alias
        for field in row._meta.concrete_fields:  # the ids of the rows just written
            if field.is_relation and getattr(row, field.attname) is None:
                related = field.get_cached_value(row, None)
                if related is not None:
                    setattr(row, field.name, related)  # as bulk_create does: keeps the cache


# Columns each new row takes from a row written before it in the same statement.
_JOINS = {
    Order: {},
    Fulfilment: {"order_id": "new_order.id"},
    OrderLine: {"order_id": "new_order.id", "fulfilment_id": "new_fulfilments.id"},
    OrderEvent: {"order_id": "new_order.id", "fulfilment_id": "new_fulfilments.id"},
}


@functools.cache
def _fields(model: type[Model]) -> tuple:
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


@functools.cache
def _own_fields(model: type[Model]) -> tuple:
    """The fields whose values come with the row (not from a row written before it)."""
    return tuple(field for field in _fields(model) if field.attname not in _JOINS[model])


def _values(row: Model, fields) -> list:
    """What the ORM would write for each field of a new row (auto_now dates included)."""
    return [
        field.get_db_prep_save(field.pre_save(row, True), connection=connection) for field in fields
    ]


def _params(*, order, fulfilments, lines, events) -> list:
    params = _values(order, _own_fields(Order))
    for fulfilment in fulfilments:
        params += _values(fulfilment, _own_fields(Fulfilment))
    for model, rows in ((OrderLine, lines), (OrderEvent, events)):
        own = _own_fields(model)
        for row in rows:  # the cooperative whose fulfilment the row joins
            params.append(row.fulfilment.cooperative_id)
            params += _values(row, own)
    return params


def _columns(model: type[Model]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _fields(model))
    return f"{quote(model._meta.db_table)} ({columns})"


def _insert_from(model, count: int, *, returning: str) -> str:
    """INSERT … SELECT of ``count`` rows as typed VALUES, the columns in _JOINS taken from the
    rows written before them. Lines and events come with their cooperative's id, and join
    the fulfilment written for it."""
    joins, own = _JOINS[model], _own_fields(model)
    casts = [f"CAST(%s AS {field.db_type(connection)})" for field in own]
    names = [f"v{i}" for i in range(len(own))]
    source = "new_order"
    if "fulfilment_id" in joins:
        casts, names = ["CAST(%s AS bigint)", *casts], ["v_key", *names]
        source += " JOIN new_fulfilments ON new_fulfilments.cooperative_id = v.v_key"
    selected = [
        joins[field.attname] if field.attname in joins else f"v.v{own.index(field)}"
        for field in _fields(model)
    ]
    row = f"({', '.join(casts)})"
    return (
        f"INSERT INTO {_columns(model)} SELECT {', '.join(selected)} "
        f"FROM (VALUES {', '.join([row] * count)}) AS v({', '.join(names)}) "
        f"CROSS JOIN {source} RETURNING {returning}"
    )


# What the statement answers: every new row's kind, id and key.
_RETURNED = (
    "SELECT 'o', id, NULL FROM new_order "
    "UNION ALL SELECT 'f', id, cooperative_id FROM new_fulfilments "
    "UNION ALL SELECT 'l', id, listing_id FROM new_lines "
    "UNION ALL SELECT 'e', id, fulfilment_id FROM new_events"
)


@functools.lru_cache(maxsize=256)
def _statement(fulfilments: int, lines: int, events: int) -> str:
    """The statement's CTEs for so many rows, built once (their text depends on nothing
    else)."""
    order_sql = (
        f"INSERT INTO {_columns(Order)} VALUES ({', '.join(['%s'] * len(_fields(Order)))}) "
        "RETURNING id"
    )
    fulfilment_sql = _insert_from(Fulfilment, fulfilments, returning="id, cooperative_id")
    line_sql = _insert_from(OrderLine, lines, returning="id, listing_id")
    event_sql = _insert_from(OrderEvent, events, returning="id, fulfilment_id")
    return (
        f"new_order AS ({order_sql}), new_fulfilments AS ({fulfilment_sql}), "
        f"new_lines AS ({line_sql}), new_events AS ({event_sql})"
    )
