from celery import shared_task

from .services.standing import standing_orders_place_due
from .services.transitions import expire_reservations as expire


@shared_task
def expire_reservations() -> int:
    """Give back the stock of orders nobody confirmed or approved in time."""
    return expire()


@shared_task
def place_standing_orders() -> int:
    """Place today's standing orders (once per period, however often this runs)."""
    return standing_orders_place_due()
