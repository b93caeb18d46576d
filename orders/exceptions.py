"""Domain exceptions of orders; backend.errors maps them to the one JSON error shape."""

from backend.errors import Conflict, DomainError


class InsufficientStock(Conflict):
    """Some lines ask for more than is available; nothing was reserved."""

    code = "insufficient_stock"


class BelowMinimumOrderValue(DomainError):
    code = "below_minimum_order_value"
