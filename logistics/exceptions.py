"""Domain exceptions of logistics; backend.errors maps them to the one JSON error shape."""

from orders.lifecycle import IllegalTransition


class NotShippable(IllegalTransition):
    """The part is not at a stage where its shipment can be recorded or delayed: before
    confirmation, after delivery, or ended (409 illegal_transition, with its status)."""
