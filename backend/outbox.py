"""The door to the one outbox. A domain app that changed something people must hear of calls
``record(source, rows)`` inside the transaction that wrote the rows; the outbox (the notices
app, which sits above every domain app and registers itself here at start-up) writes its
notice rows in that same transaction, and they are sent after commit. So orders, logistics
and payments name what happened, never who is told or how, and import nothing above them.

Sources and their rows:
  "order_event"      OrderEvent rows (saved, with their ids)
  "payment_received" Payment rows whose collected amount grew
  "refund_paid"      Refund rows that succeeded
  "statement_paid"   Statement rows paid out
  "standing_order_report"  orders' StandingReport (a standing order's run, stop or misses)
"""

from collections.abc import Callable, Iterable
from typing import Any

Listener = Callable[[str, list[Any]], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Called once per listener at start-up (an AppConfig.ready())."""
    if listener not in _listeners:
        _listeners.append(listener)


def record(source: str, rows: Iterable[Any]) -> None:
    """Tell the outbox what was written; call it inside the transaction that wrote ``rows``,
    so a rolled-back change leaves nothing to send."""
    rows = list(rows)
    if not rows:
        return
    for listener in _listeners:
        listener(source, rows)
