"""Every line of the project's Stripe code: the rest of the project calls these functions with
plain values (ids, integer fen, keys) and gets small frozen dataclasses back, never a Stripe
object, and catches the gateway's own exceptions, never the SDK's.

- **Off without a key.** With no ``STRIPE_API_KEY`` (the embedded default) ``is_enabled()`` is
  false and every call raises ``StripeUnavailable``: a 503 ``stripe_unavailable`` in the API's
  one error shape. Bank transfers and settlement do not need Stripe.
- **Money** crosses this edge as integer fen (``backend.money.to_fen``) in CNY.
- **Retries.** Every call that creates or moves money takes an ``idempotency_key``; Stripe
  answers a repeat of the same key and parameters with the first answer and refuses the same
  key with other parameters (``IdempotencyConflict``). The SDK retries lost connections and
  Stripe's 409/5xx itself (``MAX_NETWORK_RETRIES``) with the same key, so a retried call never
  charges, refunds or pays out twice. Build keys with ``idempotency_key()``.
- **Webhooks.** ``construct_event`` checks ``Stripe-Signature`` against the raw body with the
  endpoint secret and a ``WEBHOOK_TOLERANCE`` against replays, before anything is parsed.

Tests drive this module over HTTP against tests/payments/fake_stripe.py (``STRIPE_API_BASE``).
"""

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext
from rest_framework import status

from backend.errors import DomainError

logger = logging.getLogger(__name__)

CURRENCY = "cny"
# The SDK retries a lost connection, a 409 and a 5xx this many times, with the same
# idempotency key and exponential backoff (0.5 s, 1 s, ...).
MAX_NETWORK_RETRIES = 2
# (connect, read) seconds: a worker must not hang on Stripe for the SDK's default 80 s.
TIMEOUT = (5, 30)
# Stripe's own default: a signed delivery older than this is refused (replay protection).
WEBHOOK_TOLERANCE = 300
CAPTURE_METHODS = ("manual", "automatic")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
# Stripe knows three refund reasons; the project's own (a quality rejection, a short
# delivery) travel in the refund's metadata as "reason".
STRIPE_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


# --- Errors -----------------------------------------------------------------------------------


class GatewayError(DomainError):
    """Stripe refused the request as sent: the intent is not in a state that allows it, the
    amount is more than is left, the connected account is unknown. ``provider_code`` is
    Stripe's code (``payment_intent_unexpected_state``, ``amount_too_large``, ...)."""

    status_code = status.HTTP_409_CONFLICT
    code = "stripe_refused"

    def __init__(self, message: str, *, provider_code: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.provider_code = provider_code


class CardDeclined(GatewayError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    code = "card_declined"


class IdempotencyConflict(GatewayError):
    """The same idempotency key was sent before with other parameters: a key must name one
    effect (derive it from the order and the amount, not the order alone)."""

    code = "stripe_idempotency_conflict"


class StripeUnavailable(GatewayError):
    """The Stripe rail is off (no key), or Stripe could not be reached or is failing."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "stripe_unavailable"


class WebhookSignatureInvalid(DomainError):
    """A webhook delivery whose Stripe-Signature is missing, wrong or too old."""

    code = "invalid_signature"


# --- Plain data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentIntent:
    """``status``: requires_payment_method, requires_confirmation, requires_action,
    processing, requires_capture, canceled or succeeded."""

    id: str
    status: str
    amount_fen: int
    amount_capturable_fen: int
    amount_received_fen: int
    currency: str
    capture_method: str
    client_secret: str | None
    latest_charge: str | None = None
    cancellation_reason: str | None = None
    last_error_code: str | None = None  # why the last attempt failed (a decline code)
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refund:
    id: str
    status: str  # pending, requires_action, succeeded, failed or canceled
    amount_fen: int
    payment_intent_id: str
    reason: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transfer:
    id: str
    amount_fen: int
    destination_account: str
    transfer_group: str | None
    reversed: bool
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """A verified webhook event. ``data_object`` is the object as Stripe sent it (a dict);
    ``object_id`` its id, the key by which a handler finds our row."""

    id: str
    type: str
    created: int
    livemode: bool
    object_id: str | None
    data_object: Mapping[str, Any]
    account: str | None = None  # the connected account, for Connect events


# --- Configuration ----------------------------------------------------------------------------


def is_enabled() -> bool:
    return bool(settings.STRIPE_API_KEY)


def idempotency_key(*parts: object) -> str:
    """One key per effect, from what names it: ``idempotency_key("payment_intent", order.pk,
    amount_fen)``. Stripe keeps keys 24 hours and takes up to 255 characters."""
    key = "shitun:" + ":".join(str(part) for part in parts)
    if not parts or len(key) > 255:
        raise ValueError("an idempotency key needs 1 to 255 characters of parts")
    return key


def transfer_group_for(order_id: int) -> str:
    """The transfer group that ties an order's charge to the payouts made from it."""
    return f"order_{order_id}"


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base, "connect": api_base, "files": api_base},
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT),
    )


def _client() -> stripe.StripeClient:
    if not is_enabled():
        raise StripeUnavailable(gettext("Card payments through Stripe are not set up here."))
    return _client_for(settings.STRIPE_API_KEY, settings.STRIPE_API_BASE)


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Turn the SDK's exceptions into the gateway's, so no caller imports stripe."""
    try:
        yield
    except stripe.CardError as exc:
        decline = (exc.error and exc.error.decline_code) or exc.code or "card_declined"
        raise CardDeclined(
            gettext("The card was declined (%(reason)s).") % {"reason": decline},
            provider_code=decline,
        ) from exc
    except stripe.IdempotencyError as exc:
        logger.error("Stripe idempotency conflict: %s", exc.user_message or exc)
        raise IdempotencyConflict(
            gettext("This payment request was already sent to Stripe with other details."),
            provider_code="idempotency_error",
        ) from exc
    except stripe.InvalidRequestError as exc:
        # Stripe's own message can name the platform's balance or accounts: it goes to the
        # log, the client gets Stripe's code.
        logger.warning("Stripe refused a request: %s (%s)", exc.user_message, exc.code)
        raise GatewayError(
            gettext("Stripe refused the request (%(code)s).") % {"code": exc.code or "refused"},
            provider_code=exc.code,
        ) from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        # Our key is wrong or lacks a permission: an operator must act, not the client.
        logger.error("Stripe refused our API key: %s", exc.user_message)
        raise StripeUnavailable(_unavailable_message(), provider_code="authentication") from exc
    except stripe.StripeError as exc:  # connection lost, rate limited, Stripe's 5xx
        logger.warning("Stripe unavailable after retries: %r", exc)
        raise StripeUnavailable(_unavailable_message(), provider_code=exc.code) from exc


def _unavailable_message() -> str:
    # Not "nothing was charged": Stripe may have done it and lost the answer. A retry with
    # the same idempotency key is safe either way.
    return gettext("Stripe cannot be reached just now; try again later.")


def _options(key: str) -> dict[str, str]:
    if not key:
        raise ValueError("every Stripe call that writes needs an idempotency key")
    return {"idempotency_key": key}


def _fen(amount_fen: int) -> int:
    # bool is an int; a Decimal or float here means a caller skipped to_fen.
    if type(amount_fen) is not int or amount_fen <= 0:
        raise ValueError(f"amounts go to Stripe as a positive int of fen, not {amount_fen!r}")
    return amount_fen


def _metadata(obj: Any) -> dict[str, str]:
    return dict(obj.get("metadata") or {})


def _payment_intent(obj: Any) -> PaymentIntent:
    obj = obj.to_dict()  # plain dicts from here: no SDK object leaves this module
    error = obj.get("last_payment_error")
    charge = obj.get("latest_charge")
    return PaymentIntent(
        id=obj["id"],
        status=obj["status"],
        amount_fen=obj["amount"],
        amount_capturable_fen=obj.get("amount_capturable") or 0,
        amount_received_fen=obj.get("amount_received") or 0,
        currency=obj["currency"],
        capture_method=obj["capture_method"],
        client_secret=obj.get("client_secret"),
        latest_charge=charge if isinstance(charge, str) or charge is None else charge["id"],
        cancellation_reason=obj.get("cancellation_reason"),
        last_error_code=error and (error.get("decline_code") or error.get("code")),
        metadata=_metadata(obj),
    )


def _refund(obj: Any) -> Refund:
    obj = obj.to_dict()  # plain dicts from here: no SDK object leaves this module
    return Refund(
        id=obj["id"],
        status=obj["status"],
        amount_fen=obj["amount"],
        payment_intent_id=obj["payment_intent"],
        reason=obj.get("reason"),
        metadata=_metadata(obj),
    )


def _transfer(obj: Any) -> Transfer:
    obj = obj.to_dict()  # plain dicts from here: no SDK object leaves this module
    return Transfer(
        id=obj["id"],
        amount_fen=obj["amount"],
        destination_account=obj["destination"],
        transfer_group=obj.get("transfer_group"),
        reversed=bool(obj.get("reversed")),
        metadata=_metadata(obj),
    )


# --- Calls ------------------------------------------------------------------------------------


def create_payment_intent(
    *,
    order_id: int,
    amount_fen: int,
    idempotency_key: str,
    capture_method: str = "manual",
    metadata: Mapping[str, str] | None = None,
) -> PaymentIntent:
    """One PaymentIntent for an order, in CNY. Manual capture holds the amount on the card
    until ``capture`` takes what was delivered and accepted."""
    if capture_method not in CAPTURE_METHODS:
        raise ValueError(f"capture_method must be one of {CAPTURE_METHODS}")
    params = {
        "amount": _fen(amount_fen),
        "currency": CURRENCY,
        "capture_method": capture_method,
        "metadata": {**(metadata or {}), "order": str(order_id)},
        "transfer_group": transfer_group_for(order_id),
    }
    with _stripe_errors():
        obj = _client().v1.payment_intents.create(params, _options(idempotency_key))
    return _payment_intent(obj)


def retrieve_payment_intent(payment_intent_id: str) -> PaymentIntent:
    with _stripe_errors():
        return _payment_intent(_client().v1.payment_intents.retrieve(payment_intent_id))


def confirm_payment_intent(
    *, payment_intent_id: str, payment_method: str, idempotency_key: str
) -> PaymentIntent:
    """Confirm on the server with a payment method the buyer saved (charging a net-terms
    order when it falls due). A buyer's app usually confirms itself with the client secret;
    then Stripe's webhook tells us. A declined card raises ``CardDeclined`` (402)."""
    with _stripe_errors():
        obj = _client().v1.payment_intents.confirm(
            payment_intent_id, {"payment_method": payment_method}, _options(idempotency_key)
        )
    return _payment_intent(obj)


def capture(
    *, payment_intent_id: str, idempotency_key: str, amount_to_capture_fen: int | None = None
) -> PaymentIntent:
    """Take the held amount, or less of it (a short confirmation, a shortfall, a rejection);
    Stripe releases the rest. None takes all of it."""
    params = {}
    if amount_to_capture_fen is not None:
        params["amount_to_capture"] = _fen(amount_to_capture_fen)
    with _stripe_errors():
        obj = _client().v1.payment_intents.capture(
            payment_intent_id, params, _options(idempotency_key)
        )
    return _payment_intent(obj)


def cancel(
    *, payment_intent_id: str, idempotency_key: str, reason: str = "requested_by_customer"
) -> PaymentIntent:
    """Release an uncaptured intent (an order cancelled or rejected before capture)."""
    if reason not in CANCELLATION_REASONS:
        raise ValueError(f"reason must be one of {CANCELLATION_REASONS}")
    with _stripe_errors():
        obj = _client().v1.payment_intents.cancel(
            payment_intent_id, {"cancellation_reason": reason}, _options(idempotency_key)
        )
    return _payment_intent(obj)


def refund(
    *,
    payment_intent_id: str,
    amount_fen: int,
    idempotency_key: str,
    reason: str,
    metadata: Mapping[str, str] | None = None,
) -> Refund:
    """Give back part or all of what was captured. ``reason`` is ours (``quality_rejection``,
    ``short_delivery``, ``cancelled``, ...) and goes into the refund's metadata; Stripe is
    told one of its own three."""
    params = {
        "payment_intent": payment_intent_id,
        "amount": _fen(amount_fen),
        "reason": reason if reason in STRIPE_REFUND_REASONS else "requested_by_customer",
        "metadata": {**(metadata or {}), "reason": reason},
    }
    with _stripe_errors():
        obj = _client().v1.refunds.create(params, _options(idempotency_key))
    return _refund(obj)


def create_transfer(
    *,
    destination_account: str,
    amount_fen: int,
    transfer_group: str,
    idempotency_key: str,
    metadata: Mapping[str, str] | None = None,
) -> Transfer:
    """Pay a cooperative's connected account (Stripe Connect) from the platform balance."""
    params = {
        "amount": _fen(amount_fen),
        "currency": CURRENCY,
        "destination": destination_account,
        "transfer_group": transfer_group,
        "metadata": dict(metadata or {}),
    }
    with _stripe_errors():
        obj = _client().v1.transfers.create(params, _options(idempotency_key))
    return _transfer(obj)


def list_transfers(
    *, transfer_group: str, destination_account: str | None = None
) -> list[Transfer]:
    """The transfers of a transfer group (to an account, if named), newest first (at most
    100: a group is one statement, paid by one transfer). How a retry finds a transfer whose
    answer was lost longer ago than Stripe keeps idempotency keys (24 hours)."""
    params: dict[str, Any] = {"transfer_group": transfer_group, "limit": 100}
    if destination_account:
        params["destination"] = destination_account
    with _stripe_errors():
        page = _client().v1.transfers.list(params)
    return [_transfer(obj) for obj in page.data]


def construct_event(payload: bytes, signature_header: str | None) -> Event:
    """Verify a webhook delivery against the raw body and return its event. Raises
    ``WebhookSignatureInvalid`` (400) before reading a byte of an unsigned, wrongly signed or
    stale body; ``StripeUnavailable`` (503) when no webhook secret is set, so Stripe retries
    later instead of giving up."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise StripeUnavailable(gettext("Stripe webhooks are not set up here."))
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret, WEBHOOK_TOLERANCE)
        body = json.loads(payload)
        data_object = body["data"]["object"]
        return Event(
            id=body["id"],
            type=body["type"],
            created=body["created"],
            livemode=bool(body.get("livemode")),
            object_id=data_object.get("id"),
            data_object=data_object,
            account=body.get("account"),
        )
    except stripe.SignatureVerificationError as exc:
        logger.warning("Stripe webhook refused: %s", exc.user_message or exc)
        raise WebhookSignatureInvalid(_signature_message()) from exc
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # Signed by someone holding the secret, yet not an event: refuse it all the same.
        logger.warning("Stripe webhook with a valid signature but no event: %r", exc)
        raise WebhookSignatureInvalid(_signature_message()) from exc


def _signature_message() -> str:
    return gettext("The Stripe-Signature header is missing, wrong or too old.")
