import smtplib
import time

from django.core.mail import EmailMessage

from .base import FAILED, RETRY, SENT, Attempt


class EmailChannel:
    """Through Django's e-mail framework (EMAIL_URL: console on the embedded default, SMTP in
    production). The address is read at send time: a corrected address is used on retry."""

    name = "email"

    def send(self, notice) -> Attempt:
        address = notice.user.email if notice.user_id else ""
        if not address:
            return Attempt(FAILED, detail="no e-mail address")
        started = time.monotonic()
        try:
            EmailMessage(notice.subject, notice.body, to=[address]).send()
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            return Attempt(FAILED, latency_ms=_ms(started), detail=repr(exc)[:500])
        except (smtplib.SMTPException, OSError) as exc:  # the server, or the network: later
            return Attempt(RETRY, latency_ms=_ms(started), detail=repr(exc)[:500])
        return Attempt(SENT, latency_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
