"""The one interface every channel speaks (e-mail, SMS, inbox, and the partners app's
webhooks): send one notice, answer what happened. A channel never raises for a failure it
can name; it answers ``retry`` (try again later, with backoff) or ``failed`` (no point)."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Attempt:
    outcome: str  # "sent" | "retry" | "failed"
    status_code: int | None = None
    latency_ms: int | None = None
    detail: str = ""
    retry_after: float | None = None  # seconds, when the receiver said (HTTP 429 Retry-After)


SENT, RETRY, FAILED = "sent", "retry", "failed"


class Channel(Protocol):
    name: str

    def send(self, notice) -> Attempt: ...

    # Optional: ``settled(notice, attempt)`` is called, in the send's transaction, when a
    # notice ends (sent, or failed after its last try); never for a retry still to come.
