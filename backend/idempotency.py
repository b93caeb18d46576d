"""``Idempotency-Key`` on POSTs that create something.

The same key with the same request answers the original response and creates nothing more;
the same key with a different request is a 422. The key row is written once, with the answer,
in the same transaction as what the request creates: a failed request leaves no key (so it
can be retried), and two concurrent requests with one key serialise on the unique index, so
the second's work is rolled back and it answers the first's answer. Keys are kept
IDEMPOTENCY_KEY_TTL (at least 24 hours).
"""

import functools
import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import status
from rest_framework.response import Response

from .errors import DomainError
from .integrity import violated_constraint
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
# Printable ASCII, as UUIDs and every client library's keys are: a header's bytes arrive
# decoded as Latin-1, so anything else is mojibake that could never be sent again the same.
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # also published in the schema
_KEY = re.compile(KEY_PATTERN)


class IdempotencyKeyReused(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "idempotency_key_reused"


def _value(value) -> str:
    """How a value of the body counts in the fingerprint: an uploaded file by its content (a
    retry sends the same bytes; another file under the same name is another request)."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return f"{value.name}:{digest.hexdigest()}"
    return str(value)


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=_value)
    raw = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            gettext(
                "The %(header)s was already used for a different request; use a new key for a "
                "new request."
            )
            % {"header": HEADER},
            fields={HEADER: [gettext("Used for a different request.")]},
        )
    return Response(
        record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
    )


class IdempotentCreateMixin:
    """For viewsets: makes ``create`` (and any action wrapped with ``idempotent``) honour the
    Idempotency-Key header."""

    def create(self, request, *args, **kwargs):
        return idempotent(
            request, lambda: super(IdempotentCreateMixin, self).create(request, *args, **kwargs)
        )


def _fresh_record(request, key: str):
    fresh_after = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    record = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    return record, (record is not None and record.created_at >= fresh_after), fresh_after


@functools.cache
def _insert_statement(vendor: str) -> tuple[str, tuple]:
    fields = tuple(field for field in IdempotencyKey._meta.concrete_fields if not field.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = quote(IdempotencyKey._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", fields


def _insert(record: IdempotencyKey) -> None:
    """INSERT the new key's row, each value as the ORM would write it (``pre_save`` sets
    created_at): one statement built once, where ``objects.create`` compiled it anew on every
    placed order (issue 8). Nothing reads the new row's id."""
    sql, fields = _insert_statement(connection.vendor)
    params = [
        field.get_db_prep_save(field.pre_save(record, True), connection=connection)
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def idempotent(request, handler, *, kept=None, look_first: bool = True) -> Response:
    """Answer ``handler()`` once per key, and its first answer to the same request again.

    ``kept(body)``: what of the answer is kept for replays, when it holds a secret that must
    be shown once and never stored (a new API key): a replay then answers the body without it.

    ``look_first`` False (write first) skips the lookup before the work: the key's row is
    written at the end as always, and a key already used shows as the unique index refusing
    it, which rolls the work back and answers from the row then. For a handler whose every
    effect is in the database transaction (placing an order), it saves a query per new
    request, the common case, at the cost of a replay doing its work before rolling it back.
    Never for a handler with an effect outside the database (a provider's API)."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not _KEY.fullmatch(key):
        raise DomainError(
            gettext("Idempotency-Key must be 1 to 255 printable ASCII characters."),
            fields={HEADER: [gettext("Invalid.")]},
        )
    fingerprint = _fingerprint(request)
    existing, fresh_after = None, timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    if look_first:
        existing, fresh, fresh_after = _fresh_record(request, key)
        if fresh:
            return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            if existing is not None:  # expired: the key may be used again
                IdempotencyKey.objects.filter(pk=existing.pk, created_at__lt=fresh_after).delete()
            response = handler()  # errors raise, and roll the work back: the key stays free
            # Written once, with the answer, in the work's transaction. A concurrent request
            # with the same key waits here on the unique index until this one commits.
            _insert(
                IdempotencyKey(
                    user=request.user,
                    key=key,
                    fingerprint=fingerprint,
                    response_status=response.status_code,
                    response_body=kept(response.data) if kept else response.data,
                )
            )
            return response
    except IntegrityError as exc:
        if violated_constraint(exc) != "idempotency_key_unique":
            raise  # the work itself hit a constraint
        existing, fresh, _fresh_after = _fresh_record(request, key)
        if existing is None:
            raise
        if not fresh:  # written first over an expired key: look first, which frees it
            return idempotent(request, handler, kept=kept)
        return _replay(existing, fingerprint)
    except Exception:
        # A request racing another with the same key may fail only because the other took
        # the stock first (or, written first, a replay fails where the first succeeded): if
        # the other's answer is there now, it is this request's too.
        existing, fresh, _fresh_after = _fresh_record(request, key)
        if not fresh:
            raise
        return _replay(existing, fingerprint)


def purge_expired_keys() -> int:
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL - timedelta(hours=1)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
