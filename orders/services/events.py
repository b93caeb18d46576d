"""Order events that are not lifecycle moves (a run assignment, a shipment recorded, a delay).
Other apps write them here, so every event of an order is one kind of row in one table, and
orders needs to know nothing of who writes them."""

from accounts.models import User

from ..models import EventKind, Fulfilment, OrderEvent


def fulfilment_event_record(
    *, fulfilment: Fulfilment, kind: str, actor: User | None, note: str = ""
) -> OrderEvent:
    """Record that ``kind`` happened to the part, leaving its status as it is. The caller holds
    the fulfilment's lock (order → fulfilment), inside its own transaction."""
    if kind == EventKind.STATUS or kind not in EventKind.values:
        raise ValueError(f"not an event kind beside the lifecycle: {kind!r}")
    return OrderEvent.objects.create(
        order_id=fulfilment.order_id,
        fulfilment=fulfilment,
        actor=actor,
        from_status=fulfilment.status,
        to_status=fulfilment.status,
        kind=kind,
        note=note[:500],
    )
