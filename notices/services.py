"""The outbox: notices are written in the transaction of the change that causes them and sent
after it commits: one message per batch written, which the worker turns into one Celery task
per notice (queue, fan_out); a sweep re-queues what was never sent.

- ``notify`` fans events out to recipients and channels (catalog.TABLE), renders each text in
  its reader's language, and writes the rows: unique per (event, recipient, channel), so
  seeing a cause twice writes nothing twice. Inbox rows are the message itself: sent at once.
- ``notice_send`` (the task) locks the row (skip_locked), sends through its channel and
  records the attempt: run twice, or by two workers at once, it sends once.
- Failures retry with exponential backoff and jitter; after NOTICE_MAX_ATTEMPTS the notice is
  failed, listed to staff, and ``notice_replay`` tries it again.
"""

import datetime
import json
import logging
import random
from collections.abc import Iterable

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from backend import formatting
from backend.errors import Conflict

from . import catalog, channels, recipients
from .events import Event
from .models import Notice
from .recipients import Resolution

logger = logging.getLogger(__name__)


def language_of(user: User | None) -> str:
    """zh-Hans unless the reader chose otherwise (User.language)."""
    if user is None:
        return ""
    return user.language or settings.NOTICE_LANGUAGE


def _formatted(params: dict) -> dict:
    """The text's variables as the active language writes them: money as ¥1,234.50, dates
    and times in the language's format, everything else as text."""
    out = {}
    for key, value in params.items():
        if isinstance(value, dict):  # a name in both languages
            english = translation.get_language() == "en"
            value = value["en"] if english else value["zh"]
        elif isinstance(value, datetime.datetime):
            value = formatting.date(timezone.localtime(value).date())
            value = f"{value} {timezone.localtime(params[key]).strftime('%H:%M')}"
        elif isinstance(value, datetime.date):
            value = formatting.date(value)
        elif key in ("total", "amount") and value != "":
            value = formatting.money(value)
        out[key] = str(value)
    return out


PLACEHOLDERS = ("order", "organisation", "store", "cooperative", "total", "amount", "date")
PLACEHOLDERS += ("note", "run", "subject", "body", "url")


def render(event: Event, language: str) -> tuple[str, str, dict]:
    """Subject, body and the template's variables, in ``language``."""
    with translation.override(language or settings.NOTICE_LANGUAGE):
        return _rendered(event)


def _rendered(event: Event) -> tuple[str, str, dict]:
    """render() in the active language."""
    text = event.text or catalog.TEXTS[event.type]
    params = dict.fromkeys(PLACEHOLDERS, "") | _formatted(event.params)
    subject = str(text.subject) % params
    body = str(text.body) % params
    return subject[:200], body, params


def notify(*, events: Iterable[Event]) -> list[int]:
    """Write the notices of ``events``, inside the caller's transaction; the ones to send are
    queued when it commits (and only then: a rolled-back change sends nothing). Answers the
    ids of the notices (written now, or already there for a cause seen again).

    On PostgreSQL it costs ONE statement whatever the events, groups and recipients: an
    INSERT … SELECT joining each event's (group, channel) rows with the UNION ALL of their
    recipients (issue 8: placing an order and each move count their queries). Texts are
    rendered here once per event and language, and the row takes its reader's."""
    events = list(events)
    if not events:
        return []
    now = timezone.now()
    if connection.vendor == "postgresql" and all(
        recipients.batched(group) for event in events for group in event.groups()
    ):
        written = _write_joined(events, now)
    else:  # the embedded default (SQLite), or a per-event resolver: resolve, then insert
        written = _write_resolved(events, now)
    to_send = [pk for pk, channel in written if channel != catalog.INBOX]
    if to_send:
        transaction.on_commit(lambda: queue(to_send))
    return [pk for pk, _channel in written]


def _texts(events: list[Event]) -> list[dict]:
    """Per event, {language: [subject, body, params]} for every language a reader may have:
    each language switched to once for all the events (switching per event and language was
    most of the rendering's CPU on a placement; issue 8)."""
    texts: list[dict] = [{} for _event in events]
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for index, event in enumerate(events):
                texts[index][code] = list(_rendered(event))
    return texts


JOINED = """
WITH e AS (SELECT %s::jsonb AS events), t AS (
    SELECT x.*,
        CASE WHEN x.bare THEN '{{"": ["", "", {{}}]}}'::jsonb ELSE e.events -> x.ev -> 0 END
            AS texts,
        e.events -> x.ev -> 1 AS payload
    FROM e, jsonb_to_recordset(%s::jsonb) AS x(
        ord int, event_key text, event_type text, grp text, scope bigint, channel text,
        ev int, bare boolean
    )
), r AS ({union}), s AS (
    SELECT DISTINCT ON (t.event_key, rkey, t.channel)
        t.event_key, t.event_type, t.channel, t.texts, t.payload, lang,
        CASE WHEN r.r_group = %s THEN NULL ELSE r.r_id END AS user_id,
        rkey
    FROM t
    JOIN r ON r.r_group = t.grp AND r.r_scope = t.scope
    CROSS JOIN LATERAL (
        SELECT
            CASE WHEN r.r_group = %s THEN %s ELSE %s END || r.r_id::text AS rkey,
            CASE WHEN r.r_group = %s THEN ''
                 ELSE COALESCE(NULLIF(r.r_language, ''), %s) END AS lang
    ) k
    WHERE (t.channel <> %s OR r.r_email <> '')
      AND (r.r_group <> %s OR r.r_extra::jsonb @> jsonb_build_array(t.event_type))
    ORDER BY t.event_key, rkey, t.channel, t.ord
)
INSERT INTO notices_notice (
    event_key, event_type, user_id, recipient_key, channel, language, subject, body, params,
    payload, status, attempts, next_attempt_at, last_error, created_at, sent_at
)
SELECT
    s.event_key, s.event_type, s.user_id, s.rkey, s.channel, s.lang,
    COALESCE(s.texts -> s.lang, s.texts -> %s) ->> 0,
    COALESCE(s.texts -> s.lang, s.texts -> %s) ->> 1,
    COALESCE(s.texts -> s.lang, s.texts -> %s) -> 2,
    s.payload,
    CASE WHEN s.channel = %s THEN 'sent' ELSE 'pending' END,
    0, %s, '', %s,
    CASE WHEN s.channel = %s THEN %s::timestamptz END
FROM s
ON CONFLICT (event_key, recipient_key, channel) DO UPDATE SET event_type = EXCLUDED.event_type
RETURNING id, channel
"""


def _write_joined(events: list[Event], now) -> list[tuple[int, str]]:
    """The one statement: a cause seen again (a reminder job run twice) updates nothing and
    sends nothing new; DO UPDATE makes PostgreSQL answer the ids of rows already there too.
    A person in two groups (an approver is a buyer member too) gets each channel once. Each
    event's texts and webhook body go once, in their own array, which its (group, channel)
    rows name by index: repeated on every row, they made a placement's statement four times
    as long, for Python to encode and PostgreSQL to parse."""
    rows, scopes, texts_and_bodies = [], {}, []
    for index, (event, texts) in enumerate(zip(events, _texts(events), strict=True)):
        texts_and_bodies.append([texts, event.webhook_body()])
        for group, wanted in event.groups().items():
            scope = recipients.scope_of(group, event)
            if scope is None:
                continue
            scopes.setdefault(group, set()).add(scope)
            for channel in sorted(wanted):
                rows.append(
                    {
                        "ord": len(rows),
                        "event_key": event.key,
                        "event_type": event.type,
                        "grp": group,
                        "scope": scope,
                        "channel": channel,
                        "ev": index,
                        "bare": channel == catalog.WEBHOOK,  # a webhook has no text
                    }
                )
    union = recipients.union_sql(scopes)
    if union is None:
        return []
    union_sql, union_params = union
    systems = catalog.PARTNER_SYSTEMS
    default = settings.NOTICE_LANGUAGE
    params = [
        json.dumps(texts_and_bodies, cls=DjangoJSONEncoder, ensure_ascii=False),
        json.dumps(rows, ensure_ascii=False),
        *union_params,
        systems,
        systems,
        recipients.key_prefix(systems),
        "user:",
        systems,
        default,
        catalog.EMAIL,
        systems,
        default,
        default,
        default,
        catalog.INBOX,
        now,
        now,
        catalog.INBOX,
        now,
    ]
    with connection.cursor() as cursor:
        cursor.execute(JOINED.format(union=union_sql), params)
        return cursor.fetchall()


def _write_resolved(events: list[Event], now) -> list[tuple[int, str]]:
    resolve = Resolution(events)
    rows: dict[tuple[str, str, str], Notice] = {}
    texts: dict[tuple[str, str], tuple[str, str, dict]] = {}
    for event in events:
        for group, wanted in event.groups().items():
            for recipient in resolve(group, event):
                for channel in sorted(wanted):
                    if channel == catalog.EMAIL and not (recipient.user and recipient.user.email):
                        continue
                    key = (event.key, recipient.key, channel)
                    if key in rows:
                        continue  # in two groups (an approver is a buyer member too)
                    language = language_of(recipient.user)
                    if channel == catalog.WEBHOOK:
                        subject, body, params = "", "", {}
                    else:  # rendered once per event and language
                        text_key = (event.key, language)
                        if text_key not in texts:
                            texts[text_key] = render(event, language)
                        subject, body, params = texts[text_key]
                    inbox = channel == catalog.INBOX
                    rows[key] = Notice(
                        event_key=event.key,
                        event_type=event.type,
                        user=recipient.user,
                        recipient_key=recipient.key,
                        channel=channel,
                        language=language,
                        subject=subject,
                        body=body,
                        params=params,
                        payload=event.webhook_body(),
                        status=Notice.Status.SENT if inbox else Notice.Status.PENDING,
                        sent_at=now if inbox else None,
                        next_attempt_at=now,
                        created_at=now,
                    )
    if not rows:
        return []
    notices = Notice.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["event_key", "recipient_key", "channel"],
        update_fields=["event_type"],
    )
    return [(n.pk, n.channel) for n in notices]


def queue(notice_ids: list[int], countdown: float | None = None) -> int:
    """Hand notices to Celery in ONE message whatever their number: a notice's own send task,
    or for several a queue_notices task that the worker turns into one send task each
    (fan_out). A publish costs a request about 0.7 ms of CPU, and an order to three
    cooperatives sends seven notices (issue 8). The broker may be down (Redis restarting):
    then they wait in the outbox for the sweep, and the request that caused them goes on.
    Answers how many were queued."""
    from .tasks import queue_notices, send_notice

    if not notice_ids:
        return 0
    try:
        if len(notice_ids) == 1:
            send_notice.apply_async((notice_ids[0],), countdown=countdown, retry=False)
        else:
            queue_notices.apply_async((list(notice_ids),), countdown=countdown, retry=False)
    except Exception:  # kombu's connection errors vary by transport
        logger.warning(
            "broker unreachable: %s notices wait for the sweep", len(notice_ids), exc_info=True
        )
        return 0
    return len(notice_ids)


def fan_out(notice_ids: list[int]) -> int:
    """In the worker: one send task per notice, so that a slow receiver holds up no other
    notice and each retries on its own. Answers how many were queued; once the broker
    refuses one (queue logs it), the rest wait for the sweep."""
    for queued, notice_id in enumerate(notice_ids):
        if not queue([notice_id]):
            return queued
    return len(notice_ids)


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before try ``attempts + 1``: exponential with jitter (half fixed, half random,
    so a burst of failures does not retry in step), at least what the receiver asked."""
    ceiling = min(
        settings.NOTICE_RETRY_MAX_SECONDS, settings.NOTICE_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    )
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.NOTICE_RETRY_MAX_SECONDS))
    return delay


def notice_send(*, notice_id: int) -> str:
    """Send one notice if it is due and nobody else is sending it; record the attempt.
    Answers the notice's status after this run ("skipped" when it was not ours to send)."""
    retry_in = None
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=notice_id, status=Notice.Status.PENDING)
            .first()
        )
        now = timezone.now()
        if notice is None or notice.next_attempt_at > now:
            return "skipped"  # sent, failed, being sent by another worker, or not due yet
        channel = channels.get(notice.channel)
        if channel is None:
            attempt = channels.Attempt(channels.RETRY, detail=f"no {notice.channel} channel")
        else:
            try:
                attempt = channel.send(notice)
            except Exception as exc:  # a bug in a channel must not lose the notice
                logger.exception("channel %s raised on notice %s", notice.channel, notice.pk)
                attempt = channels.Attempt(channels.RETRY, detail=repr(exc)[:500])
        notice.attempts += 1
        notice.last_status_code = attempt.status_code
        notice.last_latency_ms = attempt.latency_ms
        notice.last_error = attempt.detail[:500]
        if attempt.outcome == channels.SENT:
            notice.status, notice.sent_at = Notice.Status.SENT, timezone.now()
        elif attempt.outcome == channels.RETRY and notice.attempts < settings.NOTICE_MAX_ATTEMPTS:
            retry_in = backoff(notice.attempts, attempt.retry_after)
            notice.next_attempt_at = now + datetime.timedelta(seconds=retry_in)
        else:
            notice.status = Notice.Status.FAILED
            logger.warning("notice %s failed: %s", notice.pk, attempt.detail)
        notice.save(
            update_fields=[
                "status",
                "sent_at",
                "attempts",
                "next_attempt_at",
                "last_status_code",
                "last_latency_ms",
                "last_error",
            ]
        )
        if retry_in is not None:
            transaction.on_commit(lambda: queue([notice.pk], countdown=retry_in))
        # A channel that keeps score of its recipient (a webhook endpoint's failures in a row)
        # hears each notice's final outcome once: sent, or failed after its last try.
        settled = getattr(channel, "settled", None)
        if settled is not None and notice.status != Notice.Status.PENDING:
            settled(notice, attempt)
    return notice.status


def notices_sweep(*, now: datetime.datetime | None = None) -> int:
    """Queue again every pending notice due for longer than NOTICE_SWEEP_AFTER_SECONDS: its
    message was never queued (the broker was down at commit) or was lost. A notice still on
    its way is only sent once: the task skips what is sent or locked."""
    now = now or timezone.now()
    due_before = now - datetime.timedelta(seconds=settings.NOTICE_SWEEP_AFTER_SECONDS)
    ids = list(
        Notice.objects.filter(status=Notice.Status.PENDING, next_attempt_at__lte=due_before)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: settings.NOTICE_SWEEP_BATCH]
    )
    return fan_out(ids)  # the sweep runs in the worker: no message in between


@transaction.atomic
def notice_replay(*, notice: Notice) -> Notice:
    """Staff try a failed notice again, with a fresh round of attempts."""
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != Notice.Status.FAILED:
        raise Conflict(
            _("Only a failed notice can be replayed."),
            fields={
                "status": [
                    _("This notice is %(status)s.") % {"status": notice.get_status_display()}
                ]
            },
            current_status=notice.status,
        )
    notice.status, notice.attempts, notice.next_attempt_at = (
        Notice.Status.PENDING,
        0,
        timezone.now(),
    )
    notice.save(update_fields=["status", "attempts", "next_attempt_at"])
    transaction.on_commit(lambda: queue([notice.pk]))
    return notice


def notice_mark_read(*, notice: Notice) -> Notice:
    """Idempotent: a notice read twice keeps the first time."""
    if notice.read_at is None:
        notice.read_at = timezone.now()
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=notice.read_at)
    return notice


def notices_mark_all_read(*, user: User) -> int:
    return Notice.objects.filter(user=user, channel=catalog.INBOX, read_at__isnull=True).update(
        read_at=timezone.now()
    )
