"""What the fake Stripe server knows and how its objects move: PaymentIntents, refunds,
transfers, connected accounts, the platform balance and events, in Stripe's JSON shapes and
with Stripe's refusals (type, code, param, message). No HTTP here: tests/payments/fake_stripe.py
serves it. Only the parameters the project sends are accepted; another one is refused as
Stripe refuses an unknown parameter, so a typo in payments/stripe_gateway.py fails a test."""

import copy
import secrets
import time
from typing import Any

PI_CANCELLABLE = {
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "requires_capture",
    "processing",
}
CANCELLATION_REASONS = {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}
# Stripe's test payment methods: what a buyer's card does when the intent is confirmed.
DECLINING_CARDS = {
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
}


class StripeFailure(Exception):
    """An error answer in Stripe's shape. ``saved``: Stripe keeps the answer of a request
    that began to execute under its idempotency key, not one refused while parsing."""

    def __init__(
        self, status: int, type_: str, message: str, *, code=None, param=None, saved=True, **extra
    ):
        super().__init__(message)
        self.status, self.saved = status, saved
        error = {"type": type_, "message": message, "code": code, "param": param, **extra}
        self.body = {"error": {k: v for k, v in error.items() if v is not None}}


def invalid(message: str, *, code: str, param=None, saved=True, **extra) -> StripeFailure:
    return StripeFailure(
        400, "invalid_request_error", message, code=code, param=param, saved=saved, **extra
    )


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def check_params(params: dict, allowed: set[str], required: set[str] = frozenset()) -> None:
    for name in params:
        if name not in allowed:
            raise invalid(
                f"Received unknown parameter: {name}",
                code="parameter_unknown",
                param=name,
                saved=False,
            )
    for name in sorted(required - set(params)):
        raise invalid(
            f"Missing required param: {name}.", code="parameter_missing", param=name, saved=False
        )


def integer(params: dict, name: str, *, default=None) -> int:
    if name not in params:
        return default
    value = params[name]
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise invalid(
            f"Invalid integer: {value}", code="parameter_invalid_integer", param=name, saved=False
        )
    if int(value) < 1:
        raise invalid(
            "This value must be greater than or equal to 1.",
            code="parameter_invalid_integer",
            param=name,
            saved=False,
        )
    return int(value)


def metadata(params: dict) -> dict[str, str]:
    value = params.get("metadata", {})
    if not isinstance(value, dict):
        raise invalid(
            "Invalid object", code="parameter_invalid_empty", param="metadata", saved=False
        )
    return {k: v for k, v in value.items() if v != ""}  # "" unsets a key, as on Stripe


class StripeState:
    def __init__(self):
        self.objects: dict[str, dict[str, Any]] = {}  # id -> object, of every kind
        self.events: list[dict[str, Any]] = []
        self.balance_fen = 0  # available to transfer: captured - refunded - transferred
        self._refunded: dict[str, int] = {}  # payment intent id -> fen refunded

    # --- lookups and events --------------------------------------------------------------------

    def get(self, kind: str, object_id: str, param: str = "id") -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise StripeFailure(
                404,
                "invalid_request_error",
                f"No such {kind}: '{object_id}'",
                code="resource_missing",
                param=param,
            )
        return obj

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects.values() if obj["object"] == kind]

    def _add(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("created", int(time.time()))
        obj.setdefault("livemode", False)
        self.objects[obj["id"]] = obj
        return obj

    def emit(self, type_: str, obj: dict[str, Any], request: dict | None = None) -> dict:
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": request or {"id": None, "idempotency_key": None},
            "type": type_,
        }
        self.events.append(event)
        self.objects[event["id"]] = event
        return event

    # --- accounts (Connect) --------------------------------------------------------------------

    def create_account(self, params: dict, request=None) -> dict:
        # Accounts are made by tests, not the project: take what Stripe takes, check little.
        account = self._add(
            {
                "id": new_id("acct"),
                "object": "account",
                "type": params.get("type", "express"),
                "country": params.get("country", "CN"),
                "email": params.get("email"),
                "charges_enabled": True,
                "payouts_enabled": True,
                "metadata": metadata(params),
            }
        )
        self.emit("account.updated", account, request)
        return account

    # --- payment intents -----------------------------------------------------------------------

    def create_payment_intent(self, params: dict, request=None) -> dict:
        check_params(
            params,
            {
                "amount",
                "currency",
                "capture_method",
                "metadata",
                "transfer_group",
                "description",
                "payment_method",
            },
            {"amount", "currency"},
        )
        capture_method = params.get("capture_method", "automatic_async")
        if capture_method not in {"automatic", "automatic_async", "manual"}:
            raise invalid(
                f"Invalid capture_method: {capture_method}",
                code="parameter_invalid_string",
                param="capture_method",
                saved=False,
            )
        pi_id = new_id("pi")
        intent = self._add(
            {
                "id": pi_id,
                "object": "payment_intent",
                "amount": integer(params, "amount"),
                "amount_capturable": 0,
                "amount_received": 0,
                "currency": params["currency"].lower(),
                "capture_method": capture_method,
                "client_secret": f"{pi_id}_secret_{secrets.token_urlsafe(18)}",
                "status": "requires_payment_method",
                "metadata": metadata(params),
                "transfer_group": params.get("transfer_group"),
                "description": params.get("description"),
                "payment_method": params.get("payment_method"),
                "latest_charge": None,
                "last_payment_error": None,
                "canceled_at": None,
                "cancellation_reason": None,
            }
        )
        self.emit("payment_intent.created", intent, request)
        return intent

    def confirm(self, pi_id: str, params: dict, request=None) -> dict:
        """What a buyer's app does with the client secret and a card; tests call it."""
        check_params(params, {"payment_method", "return_url"})
        intent = self.get("payment_intent", pi_id, "intent")
        if intent["status"] not in {"requires_payment_method", "requires_confirmation"}:
            raise self._unexpected_state(intent, "confirmed", "requires_payment_method")
        card = params.get("payment_method") or intent["payment_method"] or "pm_card_visa"
        intent["payment_method"] = card
        if card in DECLINING_CARDS:
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": DECLINING_CARDS[card],
                "message": "Your card was declined.",
            }
            intent.update(status="requires_payment_method", last_payment_error=error)
            self.emit("payment_intent.payment_failed", intent, request)
            raise StripeFailure(
                402,
                "card_error",
                error["message"],
                code="card_declined",
                decline_code=error["decline_code"],
                param="payment_method",
                payment_intent=copy.deepcopy(intent),
            )
        intent.update(latest_charge=new_id("ch"), last_payment_error=None)
        if intent["capture_method"] == "manual":
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            self.emit("payment_intent.amount_capturable_updated", intent, request)
        else:
            self._received(intent, intent["amount"])
            self.emit("payment_intent.succeeded", intent, request)
        return intent

    def capture(self, pi_id: str, params: dict, request=None) -> dict:
        check_params(params, {"amount_to_capture", "metadata"})
        intent = self.get("payment_intent", pi_id, "intent")
        if intent["status"] != "requires_capture":
            raise self._unexpected_state(intent, "captured", "requires_capture")
        amount = integer(params, "amount_to_capture", default=intent["amount_capturable"])
        if amount > intent["amount_capturable"]:
            raise invalid(
                f"The amount_to_capture ({amount}) is more than the amount "
                f"capturable ({intent['amount_capturable']}).",
                code="amount_too_large",
                param="amount_to_capture",
            )
        intent["amount_capturable"] = 0
        self._received(intent, amount)
        self.emit("payment_intent.succeeded", intent, request)
        return intent

    def cancel(self, pi_id: str, params: dict, request=None) -> dict:
        check_params(params, {"cancellation_reason"})
        intent = self.get("payment_intent", pi_id, "intent")
        reason = params.get("cancellation_reason")
        if reason is not None and reason not in CANCELLATION_REASONS:
            raise invalid(
                f"Invalid cancellation_reason: {reason}",
                saved=False,
                code="parameter_invalid_string",
                param="cancellation_reason",
            )
        if intent["status"] not in PI_CANCELLABLE:
            raise self._unexpected_state(intent, "canceled", ", ".join(sorted(PI_CANCELLABLE)))
        intent.update(
            status="canceled",
            amount_capturable=0,
            cancellation_reason=reason,
            canceled_at=int(time.time()),
        )
        self.emit("payment_intent.canceled", intent, request)
        return intent

    def _received(self, intent: dict, amount: int) -> None:
        intent.update(status="succeeded", amount_received=amount)
        self.balance_fen += amount

    @staticmethod
    def _unexpected_state(intent: dict, verb: str, allowed: str) -> StripeFailure:
        return invalid(
            f"This PaymentIntent could not be {verb} because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
            f"may be {verb}: {allowed}.",
            code="payment_intent_unexpected_state",
            payment_intent=copy.deepcopy(intent),
        )

    # --- refunds -------------------------------------------------------------------------------

    def create_refund(self, params: dict, request=None) -> dict:
        check_params(params, {"payment_intent", "amount", "reason", "metadata"}, {"payment_intent"})
        intent = self.get("payment_intent", params["payment_intent"], "payment_intent")
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise invalid(
                f"Invalid reason: {reason}",
                code="parameter_invalid_string",
                param="reason",
                saved=False,
            )
        if intent["status"] != "succeeded":
            raise invalid(
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        left = intent["amount_received"] - self._refunded.get(intent["id"], 0)
        if left == 0:
            raise invalid(
                f"Charge {intent['latest_charge']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = integer(params, "amount", default=left)
        if amount > left:
            raise invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        self._refunded[intent["id"]] = self._refunded.get(intent["id"], 0) + amount
        self.balance_fen -= amount
        refund = self._add(
            {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "currency": intent["currency"],
                "charge": intent["latest_charge"],
                "payment_intent": intent["id"],
                "reason": reason,
                "status": "succeeded",
                "metadata": metadata(params),
            }
        )
        self.emit("refund.created", refund, request)
        charge = {
            "id": intent["latest_charge"],
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount_received"],
            "amount_refunded": self._refunded[intent["id"]],
            "payment_intent": intent["id"],
            "refunded": left == amount,
        }
        self.emit("charge.refunded", charge, request)
        return refund

    # --- transfers (Connect payouts) -----------------------------------------------------------

    def create_transfer(self, params: dict, request=None) -> dict:
        check_params(
            params,
            {"amount", "currency", "destination", "transfer_group", "metadata", "description"},
            {"amount", "currency", "destination"},
        )
        amount = integer(params, "amount")
        destination = params["destination"]
        account = self.objects.get(destination)
        if account is None or account["object"] != "account":
            raise invalid(
                f"No such destination: '{destination}'",
                code="resource_missing",
                param="destination",
            )
        if amount > self.balance_fen:
            raise invalid(
                "You have insufficient available funds in your Stripe account.",
                code="balance_insufficient",
            )
        self.balance_fen -= amount
        transfer = self._add(
            {
                "id": new_id("tr"),
                "object": "transfer",
                "amount": amount,
                "currency": params["currency"].lower(),
                "destination": destination,
                "transfer_group": params.get("transfer_group"),
                "description": params.get("description"),
                "reversed": False,
                "metadata": metadata(params),
            }
        )
        self.emit("transfer.created", transfer, request)
        return transfer

    def list_transfers(self, params: dict) -> dict:
        """``GET /v1/transfers``: Stripe's list object, newest first, filtered as asked."""
        check_params(params, {"transfer_group", "destination", "limit"})
        limit = integer(params, "limit", default=10)
        if limit > 100:
            raise invalid(
                "This value must be less than or equal to 100.",
                code="parameter_invalid_integer",
                param="limit",
                saved=False,
            )
        found = [
            transfer
            for transfer in reversed(self.of_kind("transfer"))
            if all(
                transfer[name] == params[name]
                for name in ("transfer_group", "destination")
                if name in params
            )
        ]
        return {
            "object": "list",
            "data": found[:limit],
            "has_more": len(found) > limit,
            "url": "/v1/transfers",
        }
