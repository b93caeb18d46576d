"""A small fake Stripe server of the project's own, for tests: the real ``stripe`` SDK talks to
it over HTTP on 127.0.0.1 (``STRIPE_API_BASE``), so tests exercise the SDK's wire format,
retries and error mapping exactly as in production, without patching anything.

Why our own and not localstripe: localstripe (1.15.10, read before choosing) covers
customers, PaymentIntents, refunds and signed webhooks, but has no Transfers and no Connect
accounts (cooperative payouts), no ``transfer_group``, and ignores ``Idempotency-Key``, so a
test that a retried task charges once would pass whether or not the code is right. Adding
those to it would mean a fork; the calls the project makes are few, so this fake serves
exactly them, and refuses any parameter it does not know, as Stripe does.

What it speaks (tests/payments/fake_stripe_resources.py holds the objects):

- ``Authorization: Bearer <key>`` (or basic auth with the key as user); a wrong key is 401.
- Form-encoded bodies with nested keys (``metadata[order]=7``), JSON answers in Stripe's
  shapes, errors as ``{"error": {"type", "code", "message", "param"}}`` with Stripe's status
  codes (400, 402 card_error, 404 resource_missing, 401), a ``Request-Id`` on every answer.
- ``Idempotency-Key`` on POSTs, as Stripe: the same key and parameters replay the first
  answer with ``Idempotent-Replayed: true`` and do nothing again; the same key with other
  parameters (or another endpoint) is a 400 ``idempotency_error``. A request refused while
  parsing is not saved, as on Stripe.
- PaymentIntents (create, retrieve, confirm, capture with ``amount_to_capture``, cancel),
  refunds (partial or full, never more than captured), transfers (to a known connected
  account, within the platform balance: captured - refunded - transferred, or ``top_up``;
  listed by ``transfer_group`` and ``destination``, newest first, as Stripe's lists),
  accounts, events.

Test helpers: ``create_account()``, ``confirm(pi_id, card)`` (the buyer's app confirming with
a test card; ``pm_card_chargeDeclined`` declines), ``cancel(pi_id)`` (someone in Stripe's
dashboard), ``forget_idempotency_keys()`` (24 hours later), ``drop_responses(n)`` (do the
work, then lose the answer: the SDK retries with the same key), ``fail_requests(n)``
(Stripe's 500 before doing anything), and events signed with Stripe's scheme:
``signature_header()``, ``deliver()``.
"""

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .fake_stripe_resources import StripeFailure, StripeState, invalid

API_KEY = "sk_test_shitun_fake"
WEBHOOK_SECRET = "whsec_shitun_fake"


@dataclass
class LoggedRequest:
    method: str
    path: str
    params: dict
    idempotency_key: str | None
    status: int | None  # None: the answer was dropped
    replayed: bool


def decode_form(body: str) -> dict:
    """Stripe's form encoding back into nested dicts and lists: ``metadata[order]=7`` and
    ``expand[0]=x``."""
    out: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body)):
        head, *path = re.findall(r"[^\[\]]+", key) or [key]
        node, name = out, head
        for part in path:
            node = node.setdefault(name, {})
            name = part
        node[name] = value
    return _lists(out)


def _lists(node):
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


class FakeStripe:
    def __init__(self, *, api_key: str = API_KEY, webhook_secret: str = WEBHOOK_SECRET):
        self.api_key, self.webhook_secret = api_key, webhook_secret
        self.lock = threading.RLock()  # one request at a time: no races inside the fake
        self.reset()
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeStripe":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.state = StripeState()
            self.requests: list[LoggedRequest] = []
            self._idempotent: dict[str, tuple] = {}
            self._drop = self._fail = 0
            self.errors: list[Exception] = []

    # --- test helpers --------------------------------------------------------------------------

    def objects(self, kind: str) -> list[dict]:
        with self.lock:
            return copy.deepcopy(self.state.of_kind(kind))

    def get(self, object_id: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.state.objects[object_id])

    def events(self, type_: str | None = None) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(e) for e in self.state.events if type_ in (None, e["type"])]

    def create_account(self, **params) -> str:
        with self.lock:
            return self.state.create_account(params)["id"]

    def confirm(self, pi_id: str, card: str = "pm_card_visa") -> dict:
        """The buyer's app confirms with a test card; returns the intent, or Stripe's error
        body when the card is declined."""
        with self.lock:
            try:
                return copy.deepcopy(self.state.confirm(pi_id, {"payment_method": card}))
            except StripeFailure as failure:
                return failure.body

    def cancel(self, pi_id: str) -> dict:
        """Someone cancels the intent in Stripe's dashboard."""
        with self.lock:
            return copy.deepcopy(
                self.state.cancel(pi_id, {"cancellation_reason": "requested_by_customer"})
            )

    def top_up(self, amount_fen: int) -> None:
        with self.lock:
            self.state.balance_fen += amount_fen

    def forget_idempotency_keys(self) -> None:
        """A day has passed: Stripe no longer knows the keys it was sent."""
        with self.lock:
            self._idempotent.clear()

    def drop_responses(self, count: int = 1) -> None:
        with self.lock:
            self._drop = count

    def fail_requests(self, count: int = 1) -> None:
        with self.lock:
            self._fail = count

    def signature_header(
        self, payload: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> str:
        """``Stripe-Signature`` as Stripe computes it: HMAC-SHA256 of ``"{t}.{body}"``."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        signed = f"{timestamp}.".encode() + payload
        key = (secret or self.webhook_secret).encode()
        return f"t={timestamp},v1={hmac.new(key, signed, hashlib.sha256).hexdigest()}"

    def signed(self, event: dict, **signing) -> tuple[bytes, str]:
        """An event as Stripe delivers it: the JSON body and its Stripe-Signature header."""
        payload = json.dumps(event, indent=2).encode()
        return payload, self.signature_header(payload, **signing)

    def deliver(self, event: dict, url: str, **signing) -> int:
        """POST a signed event to a webhook URL (a live server); returns the status."""
        payload, header = self.signed(event, **signing)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": header,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        request = urllib.request.Request(url, data=payload, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    # --- the API -------------------------------------------------------------------------------

    ROUTES = [
        ("POST", r"/v1/payment_intents", "create_payment_intent"),
        ("GET", r"/v1/payment_intents/(pi_\w+)", "payment_intent"),
        ("POST", r"/v1/payment_intents/(pi_\w+)/confirm", "confirm"),
        ("POST", r"/v1/payment_intents/(pi_\w+)/capture", "capture"),
        ("POST", r"/v1/payment_intents/(pi_\w+)/cancel", "cancel"),
        ("POST", r"/v1/refunds", "create_refund"),
        ("GET", r"/v1/refunds/(re_\w+)", "refund"),
        ("POST", r"/v1/transfers", "create_transfer"),
        ("GET", r"/v1/transfers", "list_transfers"),
        ("GET", r"/v1/transfers/(tr_\w+)", "transfer"),
        ("POST", r"/v1/accounts", "create_account"),
        ("GET", r"/v1/accounts/(acct_\w+)", "account"),
        ("GET", r"/v1/events/(evt_\w+)", "event"),
    ]

    def handle(self, method: str, target: str, headers, body: str):
        """(status, JSON body, extra headers), or None to drop the answer."""
        request_id = "req_" + secrets.token_hex(7)
        with self.lock:
            try:
                self._authenticate(headers.get("Authorization", ""))
                url = urlsplit(target)
                params = decode_form(body if method == "POST" else url.query)
            except ValueError:  # not form-encoded, or a basic-auth header that is not base64
                failure = invalid("Invalid request.", code="parameter_invalid_empty")
                return failure.status, failure.body, {"Request-Id": request_id}
            except StripeFailure as failure:
                return failure.status, failure.body, {"Request-Id": request_id}
            key = headers.get("Idempotency-Key") if method == "POST" else None
            log = LoggedRequest(method, url.path, params, key, None, False)
            self.requests.append(log)
            status, answer, extra = self._execute(log, request_id)
            log.status, log.replayed = status, "Idempotent-Replayed" in extra
            if self._drop:
                self._drop -= 1
                log.status = None
                return None
            return status, answer, extra

    def _execute(self, log: LoggedRequest, request_id: str) -> tuple[int, dict, dict]:
        method, path, params, key = log.method, log.path, log.params, log.idempotency_key
        if self._fail:
            self._fail -= 1
            error = {"type": "api_error", "message": "An unknown error occurred."}
            return 500, {"error": error}, {"Request-Id": request_id}
        if key is not None and key in self._idempotent:
            return self._replay(key, method, path, params)
        try:
            status, answer, saved = self._dispatch(method, path, params, request_id, key)
        except Exception as exc:  # a bug of the fake: the fixture fails the test
            self.errors.append(exc)
            status, saved = 500, False
            answer = {"error": {"type": "api_error", "message": repr(exc)}}
        if key is not None and saved:
            self._idempotent[key] = (method, path, params, status, answer, request_id)
        return status, answer, {"Request-Id": request_id}

    def _authenticate(self, header: str) -> None:
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "basic":
            credential = base64.b64decode(credential).decode(errors="replace").partition(":")[0]
        elif scheme.lower() != "bearer":
            credential = ""
        if not credential:
            raise StripeFailure(401, "invalid_request_error", "You did not provide an API key.")
        if not hmac.compare_digest(credential.encode(), self.api_key.encode()):
            message = f"Invalid API Key provided: {credential[:8]}****"
            raise StripeFailure(401, "invalid_request_error", message)

    def _replay(self, key: str, method: str, path: str, params: dict):
        first_method, first_path, first_params, status, answer, first_id = self._idempotent[key]
        if (first_method, first_path, first_params) != (method, path, params):
            message = (
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request."
            )
            error = {"type": "idempotency_error", "message": message}
            return 400, {"error": error}, {"Request-Id": "req_" + secrets.token_hex(7)}
        replay = {"Idempotent-Replayed": "true", "Original-Request": first_id}
        return status, copy.deepcopy(answer), {"Request-Id": first_id, **replay}

    def _dispatch(self, method, path, params, request_id, key) -> tuple[int, dict, bool]:
        """(status, body, whether Stripe would keep it under the idempotency key)."""
        for route_method, pattern, name in self.ROUTES:
            match = re.fullmatch(pattern, path)
            if route_method != method or not match:
                continue
            try:
                if name.startswith("list_"):  # a list, filtered by the query's parameters
                    return 200, copy.deepcopy(getattr(self.state, name)(params)), True
                if method == "GET":  # GET routes are named for the kind of object they read
                    return 200, copy.deepcopy(self.state.get(name, match[1])), True
                request = {"id": request_id, "idempotency_key": key}
                result = getattr(self.state, name)(*match.groups(), params, request=request)
                return 200, copy.deepcopy(result), True
            except StripeFailure as failure:
                return failure.status, copy.deepcopy(failure.body), failure.saved
        message = f"Unrecognized request URL ({method}: {path})."
        return 404, {"error": {"type": "invalid_request_error", "message": message}}, False


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        answer = self.fake.handle(self.command, self.path, self.headers, body)
        if answer is None:  # the work is done, the answer is lost on the way back
            self.close_connection = True
            return
        status, payload, extra = answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format, *args):  # quiet: pytest shows failures, not access logs
        pass
