import time

from .. import sms
from .base import FAILED, RETRY, SENT, Attempt


class SmsChannel:
    """A short template with variables (the notice's event type and params) to the user's
    phone, through notices.sms's backend."""

    name = "sms"

    def send(self, notice) -> Attempt:
        started = time.monotonic()
        try:
            sms.backend().send(
                phone=notice.user.phone,
                template_code=notice.event_type,
                params=notice.params,
                text=notice.subject,
            )
        except sms.SmsError as exc:
            outcome = RETRY if exc.retryable else FAILED
            return Attempt(outcome, latency_ms=_ms(started), detail=str(exc)[:500])
        return Attempt(SENT, latency_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
