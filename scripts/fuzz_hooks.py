"""Schemathesis hooks for scripts/fuzz_api.py, loaded through SCHEMATHESIS_HOOKS.

Two jobs, both about data the schema calls valid (schemathesis's positive cases):

- ``REFUSALS`` is the one list of refusals OpenAPI cannot say, each with its reason. A 400 to
  a positive case passes only when every field its error names is listed here for that
  operation; a 422 only when it is the Idempotency-Key reused with another body. Anything
  else fails ``positive_data_acceptance`` (schemathesis.toml no longer expects 400 or 422).
- ``map_case`` steers positive cases to rows that exist, so they reach the real logic instead
  of a 404 or a 400 for an unknown id: path ids and ids in bodies become ids of the demo data
  the role can see (``FUZZ_WORLD``, collected by fuzz_api.py through the API), and values
  whose validity depends on a row (a quantity on the listing's grid, a date after today) are
  moved onto it. Negative cases are left alone.
"""

import copy
import datetime
import itertools
import json
import os
import re
import sys
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import schemathesis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from backend.validators import credit_code_check_character

# What fuzz_api.py collected for this run's role: {"ids": {resource: [id, ...]}, ...}.
WORLD = json.loads(os.environ.get("FUZZ_WORLD") or "{}")


@dataclass(frozen=True)
class Refusal:
    operations: str  # regex over "METHOD /path" (the schema's path template)
    fields: str  # regex over a dotted path of error.fields
    reason: str

    def allows(self, operation: str, field: str) -> bool:
        return bool(re.fullmatch(self.operations, operation) and re.fullmatch(self.fields, field))


ANY_WRITE = r"(POST|PUT|PATCH) /api/v1/.*"
ORDER_LINES = r"POST /api/v1/orders/|(POST|PUT|PATCH) /api/v1/standing-orders/.*"

# Refusals of schema-valid data that depend on the database or on today, not on the request's
# shape. Each is answered with a 400 naming the field (and, where it is a rule, said in the
# field's description).
REFUSALS = [
    Refusal(
        rf"{ANY_WRITE}|GET /api/v1/.*",
        r"(store|listing|product|category|parent|cooperative|organisation|household|partner"
        r"|managers(\.\d+)?|certifications(\.\d+)?"
        r"|(lines|contributions)\.\d+\.(listing|household))",
        "An id in a body or a filter that names no row, or a row the caller may not use (a "
        "listing not on sale, a store closed): the schema says it is an integer, only the "
        "database knows which exist.",
    ),
    Refusal(
        r"(POST|PUT|PATCH) /api/v1/standing-orders/.*",
        r"lines\.\d+\.listing",
        "A listing whose lead time is longer than the standing order's lead days: the "
        "listing's (said in lead_days' description).",
    ),
    Refusal(
        r"GET /api/v1/.*",
        r"cursor",
        "A cursor not taken from a previous page: opaque by design.",
    ),
    Refusal(
        ORDER_LINES,
        r"lines(\.\d+\.listing)?",
        "The same listing on two lines: OpenAPI's uniqueItems compares whole lines, not one "
        "of their fields.",
    ),
    Refusal(
        ORDER_LINES,
        r"lines\.\d+\.quantity",
        "A quantity below the listing's minimum or off its order increment (both the "
        "listing's, said in the field's description).",
    ),
    Refusal(
        r"(POST|PUT|PATCH) /api/v1/(cooperatives|buyers)/.*",
        r"credit_code",
        "A unified social credit code whose check character does not match: computed over "
        "the first 17 (the pattern says the form; the description the check).",
    ),
    Refusal(
        r"(PUT|PATCH) /api/v1/categories/\{id\}/",
        r"parent",
        "A parent that is the category itself or one below it: a cycle only the rows show.",
    ),
    Refusal(
        r"(POST|PUT|PATCH) /api/v1/households/.*",
        r"poverty_registration_no",
        "A registration number without on_poverty_list, or none with it: a rule between two "
        "fields (said in their descriptions), and in a PATCH between the body and the row.",
    ),
    Refusal(
        r"(POST|PUT|PATCH) /api/v1/(listings|negotiated-prices)/.*",
        r"tiers",
        "A tier table whose tiers start at the same quantity, whose first starts above the "
        "listing's minimum order, or where more costs more per unit: rules across items "
        "and the listing (said in the field's description).",
    ),
    Refusal(
        r"(POST|PUT|PATCH) /api/v1/negotiated-prices/.*",
        r"valid_until",
        "A range that ends before it starts: a rule between two fields (and in a PATCH "
        "between the body and the row).",
    ),
    Refusal(
        r"(POST|PUT|PATCH) /api/v1/lots/.*",
        r"contributions|harvest_date",
        "A household named twice or of another cooperative than the listing's, contributions "
        "that do not add up to the lot's quantity, a harvest date after today: rules across "
        "items, the rows and the date (said in the descriptions).",
    ),
    Refusal(
        r"POST /api/v1/fulfilments/\{id\}/(confirm|deliver)/",
        r"lines",
        "A line of another fulfilment, more than was ordered (confirm) or confirmed "
        "(deliver), nothing confirmed at all, less accepted without a note: the fulfilment's "
        "rows decide (said in the body's description).",
    ),
    Refusal(
        r"POST /api/v1/bank-transfers/(\{id\}/allocate/)?",
        r"allocations(\.\d+\.(order|amount))?|received_on",
        "An order that is not the paying organisation's, more than an order still owes or "
        "than the transfer has left, an order named twice, a transfer dated after today: "
        "what orders owe and what a transfer has left are the rows', the date today's.",
    ),
    Refusal(
        r"(POST|PATCH) /api/v1/shipments/.*",
        r"fulfilment|window_start|window_end|carrier_name",
        "A fulfilment that is not between confirmation and delivery or already has its "
        "shipment, a window in the past or ending before it starts, a carrier's shipment "
        "without the carrier's name: the part's status, the clock and rules between two "
        "fields (said in their descriptions).",
    ),
    Refusal(
        r"POST /api/v1/purchase-imports/",
        r"file",
        "A file that cannot be read as a purchase list (its columns, encoding, rows, a "
        "formula, not a workbook): the bytes inside a binary field, said in its description.",
    ),
    Refusal(
        r"POST /api/v1/payments/",
        r"order",
        "An order naming no row, or one the caller's organisation did not place: only the "
        "database knows which exist.",
    ),
    Refusal(
        r"POST /api/v1/refunds/",
        r"payment|fulfilment",
        "A payment or part naming no row, a part of another order than the payment's, an "
        "adjustment without its part: the rows decide, and a rule between two fields (said "
        "in the body's description).",
    ),
    Refusal(
        r"POST /api/v1/partner-keys/",
        r"partner",
        "No partner account named, where one must be: staff always name it, an approver when "
        "the organisation has none or several (which accounts exist is the database's; said "
        "in the field's description).",
    ),
    Refusal(
        r"(POST|PATCH) /api/v1/webhook-endpoints/.*",
        r"url",
        "A URL whose host does not resolve, or resolves to a private or loopback address (the "
        "SSRF guard): DNS answers that, not the schema.",
    ),
    Refusal(
        r"POST /api/v1/settlement-runs/",
        r"period_end",
        "A period ending after today: today's date.",
    ),
    *(
        Refusal(
            rf"(POST|PUT|PATCH) /api/v1/{resource}/.*",
            fields,
            "A value another row already holds (a unique field): a 400 naming it.",
        )
        for resource, fields in [
            ("categories", "slug"),
            ("products", "name_zh"),
            ("cooperatives", "name_zh|credit_code|stripe_account"),
            ("buyers", "name_zh|credit_code"),
            ("stores", "name"),  # within its organisation
            ("households", "poverty_registration_no"),
            ("bank-transfers", "bank_reference"),  # within the paying organisation
        ]
    ),
]

MAX_QUANTITY = Decimal("99999999.999")  # below products.serializers.MAX_QUANTITY

# Which part of the API a field of a body names rows of.
FIELD_RESOURCES = {
    "store": "stores",
    "product": "products",
    "category": "categories",
    "parent": "categories",
    "cooperative": "cooperatives",
    "organisation": "buyers",
    "household": "households",
    "listing": "listings",
    "managers": "managers",
    "certifications": "certifications",
    "lot": "lots",
    "order": "orders",
    "fulfilment": "fulfilments",
    "payment": "payments",
    "partner": "partner-accounts",  # the partner account a new API key acts as
}


def refusal_allowed(operation: str, status: int, body) -> bool:
    """Whether a refusal of schema-valid data is one REFUSALS names (or the reused key)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return False
    if status == 422:
        return error.get("code") == "idempotency_key_reused"
    fields = error.get("fields") or {}
    if status != 400 or not fields:
        return False
    return all(any(r.allows(operation, field) for r in REFUSALS) for field in fields)


def _operation(case) -> str:
    return f"{case.method.upper()} {case.operation.path}"


# As malformed_corpus.PROVIDER_OFF: a payment provider switched off here.
PROVIDER_OFF = {"rail_unavailable", "stripe_unavailable"}


def _provider_off(case, response) -> bool:
    """A 503 the operation documents, from a payment provider switched off here (the fuzz
    runs without Stripe keys): the rail's endpoints say so, in the one error shape."""
    if response.status_code != 503:
        return False
    documented = case.operation.definition.raw.get("responses", {})
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return "503" in documented and isinstance(error, dict) and error.get("code") in PROVIDER_OFF


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keep every failure but a refusal of positive data that REFUSALS explains, and the
    documented 503 of a payment provider that is off here."""
    if type(failure).__name__ in ("ServerError", "RejectedPositiveData") and _provider_off(
        case, response
    ):
        return False
    if type(failure).__name__ != "RejectedPositiveData":
        return True
    try:
        body = response.json()
    except ValueError:
        return True
    if refusal_allowed(_operation(case), response.status_code, body):
        return False
    return True


# --- steering -----------------------------------------------------------------------------------
def _pick(options: list, seed) -> object:
    """One of the options, chosen by the generated value (stable across processes, so the
    fixed seed gives the same run)."""
    return options[zlib.crc32(repr(seed).encode()) % len(options)]


def _ids(resource: str) -> list:
    return WORLD.get("ids", {}).get(resource) or []


def _real(resource: str, value):
    """A real id of the resource for the generated value, or the value if there is none."""
    options = _ids(resource)
    if not options or value in options:
        return value
    return _pick(options, value)


def _as_decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _on_grid(listing: dict, quantity) -> str:
    """The quantity if it is on the listing's grid, else a step of it near the generated one."""
    minimum, step = Decimal(listing["min"]), Decimal(listing["step"])
    wanted = _as_decimal(quantity)
    if wanted is not None and wanted >= minimum and (wanted - minimum) % step == 0:
        return quantity
    steps = int(wanted) % 4 if wanted is not None and wanted.is_finite() else 0
    return str(minimum + step * steps)


def _steer_lines(lines: list, listings: list[dict]) -> None:
    """Order and standing-order lines: each a different orderable listing, on its grid."""
    if not listings:
        return
    del lines[len(listings) :]  # one line per listing
    used: set[int] = set()
    for line in lines:
        if not isinstance(line, dict):
            continue
        free = [item for item in listings if item["id"] not in used] or listings
        listing = next((item for item in free if item["id"] == line.get("listing")), None)
        listing = listing or _pick(free, line.get("listing"))
        used.add(listing["id"])
        line["listing"] = listing["id"]
        if "quantity" in line:
            line["quantity"] = _on_grid(listing, line["quantity"])


def _steer_tiers(tiers: list, minimum) -> None:
    """A tier table: each tier starts at its own quantity, the first at or below the listing's
    minimum order, and a larger quantity never costs more per unit."""
    items = [t for t in tiers if isinstance(t, dict) and _as_decimal(t.get("min_quantity"))]
    items = list({_as_decimal(t["min_quantity"]): t for t in items}.values())
    items.sort(key=lambda t: _as_decimal(t["min_quantity"]))
    if not items:
        return
    if minimum is not None and _as_decimal(items[0]["min_quantity"]) > _as_decimal(minimum):
        items[0]["min_quantity"] = str(minimum)
    for lower, higher in itertools.pairwise(items):
        lower_price = _as_decimal(lower.get("unit_price"))
        higher_price = _as_decimal(higher.get("unit_price"))
        if lower_price is not None and higher_price is not None and higher_price > lower_price:
            higher["unit_price"] = lower["unit_price"]
    tiers[:] = items


def _steer_contributions(body: dict, lot_id) -> None:
    """A lot's contributions: households of the listing's cooperative, each once, adding up
    to the lot's quantity."""
    listing = body.get("listing")
    cooperative = WORLD.get("listing_cooperative", {}).get(str(listing))
    members = [
        int(h) for h, c in WORLD.get("household_cooperative", {}).items() if c == cooperative
    ]
    if not members:
        return
    items, seen, total = [], set(), Decimal(0)
    for item in body["contributions"]:
        quantity = _as_decimal(item.get("quantity")) if isinstance(item, dict) else None
        if quantity is None or total + quantity > MAX_QUANTITY:
            continue  # the lot's quantity stays within its own bound
        household = item.get("household")
        household = household if household in members else _pick(members, household)
        if household in seen:
            continue
        seen.add(household)
        item["household"] = household
        items.append(item)
        total += quantity
    if items:
        body["contributions"] = items
        body["quantity"] = str(total)


UNIQUE = {
    "categories": ("slug",),
    "products": ("name_zh",),
    "cooperatives": ("name_zh", "credit_code", "stripe_account"),
    "buyers": ("name_zh", "credit_code"),
    "stores": ("name",),
    "households": ("poverty_registration_no",),
}
_serial = itertools.count(1)


def _steer_unique(body: dict, operation: str) -> None:
    """Unique values made unique (a short serial number added), so the fuzzing phase's
    minimal values ("0", "00") are not all taken by the coverage phase's."""
    resource = _resource(operation.split(" ", 1)[1])
    for name in UNIQUE.get(resource, ()):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        serial = next(_serial)
        if name == "credit_code":
            first17 = f"93522326{serial:09d}"
            body[name] = first17 + credit_code_check_character(first17)
        elif name == "stripe_account":  # acct_ and letters or digits only
            body[name] = f"{value[:240]}S{serial}"
        elif name == "poverty_registration_no":
            body[name] = f"{value[:24]}{serial:06d}"
        else:
            body[name] = f"{value.strip()[:40]}-{serial}"


def _named(body: dict, listing: dict) -> bool:
    return any(
        isinstance(line, dict) and line.get("listing") == listing["id"] for line in body["lines"]
    )


def _steer_ids(body: dict) -> None:
    """Ids by field name, in nested items too (a lot's contributions name households)."""
    for value in body.values():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _steer_ids(item)
    for name, resource in FIELD_RESOURCES.items():
        if name not in body:
            continue
        value = body[name]
        if isinstance(value, list):
            body[name] = list(dict.fromkeys(_real(resource, item) for item in value))
        elif value is not None:
            body[name] = _real(resource, value)


def _steer_body(case, path_id) -> None:
    body = case.body
    if not isinstance(body, dict):
        return
    operation = _operation(case)
    today = datetime.date.fromisoformat(WORLD.get("today", datetime.date.today().isoformat()))
    _steer_ids(body)
    own_listings = WORLD.get("own_listings")
    if own_listings and operation == "POST /api/v1/negotiated-prices/" and body.get("listing"):
        body["listing"] = _pick(own_listings, body["listing"])  # a manager prices their own
    stores = WORLD.get("in_use", {}).get("stores")
    if "orders/" in operation and body.get("store") is not None and stores:
        body["store"] = _pick(stores, body["store"])  # the store writes to stores leave open
    if re.fullmatch(ORDER_LINES, operation) and isinstance(body.get("lines"), list):
        _steer_lines(body["lines"], WORLD.get("orderable", []))
        # A standing order's lead days cover its listings' lead times.
        leads = [item["lead"] for item in WORLD.get("orderable", []) if _named(body, item)]
        if leads and operation.startswith(("POST /api/v1/standing-orders/", "PUT", "PATCH")):
            body["lead_days"] = max(body.get("lead_days") or 0, *leads)
        if body.get("requested_delivery_date") is not None:
            body["requested_delivery_date"] = (today + datetime.timedelta(days=10)).isoformat()
    if isinstance(body.get("tiers"), list) and body["tiers"]:
        listing = body.get("listing") or (path_id if "/listings/" in operation else None)
        minimum = body.get("min_order_quantity") or WORLD.get("listing_min", {}).get(str(listing))
        _steer_tiers(body["tiers"], minimum)
    if body.get("valid_from") and body.get("valid_until"):
        first, last = sorted([body["valid_from"], body["valid_until"]])
        body["valid_from"], body["valid_until"] = first, last
    for name in ("harvest_date", "received_on", "period_end"):  # no later than today
        if isinstance(body.get(name), str) and body[name] > today.isoformat():
            body[name] = today.isoformat()
    if body.get("window_start") is not None or body.get("window_end") is not None:
        # A delivery window is ahead of now and ends after it starts.
        start = datetime.datetime.combine(today + datetime.timedelta(days=2), datetime.time(9))
        body["window_start"] = f"{start.isoformat()}+08:00"
        body["window_end"] = f"{(start + datetime.timedelta(hours=3)).isoformat()}+08:00"
    if isinstance(body.get("contributions"), list):
        _steer_contributions(body, path_id)
    if "/webhook-endpoints/" in operation and isinstance(body.get("url"), str):
        # A receiver on this host (nobody listens on port 9): a generated host name would
        # send the server asking DNS, and the fuzz contacts nothing but 127.0.0.1.
        body["url"] = f"http://127.0.0.1:9/fuzz/{zlib.crc32(body['url'].encode()):08x}"
    if "/partner-keys/" in operation and isinstance(body.get("expiry_date"), str):
        body["expiry_date"] = f"{(today + datetime.timedelta(days=30)).isoformat()}T00:00:00+08:00"
    _steer_unique(body, operation)
    if operation.startswith(("POST /api/v1/households/", "PUT /api/v1/households/")):
        if not body.get("on_poverty_list"):
            body["poverty_registration_no"] = ""
        elif not body.get("poverty_registration_no"):
            body["on_poverty_list"] = False
    if operation == "POST /api/v1/refunds/":
        # A refund's part is of the payment's order, and an adjustment names one.
        parts = WORLD.get("payment_parts", {}).get(str(body.get("payment"))) or []
        if body.get("fulfilment") is not None or body.get("reason") == "adjustment":
            body["fulfilment"] = _pick(parts, body.get("fulfilment")) if parts else None
    move = operation.removesuffix("/").rsplit("/", 1)[-1]
    if move in ("confirm", "deliver") and isinstance(body.get("lines"), list):
        _steer_fulfilment_lines(body, path_id, move)
    if operation.startswith("POST /api/v1/fulfilments/") and isinstance(body.get("picks"), list):
        body.pop("picks")  # first in, first out: which lot holds what is the database's


def _steer_fulfilment_lines(body: dict, fulfilment_id, move: str) -> None:
    """Confirm and deliver name lines of this fulfilment, each once, within what was ordered
    (confirm) or confirmed (deliver); something is confirmed; less accepted says why, and all
    accepted names no issue."""
    lines = WORLD.get("fulfilment_lines", {}).get(str(fulfilment_id)) or []
    if not lines:
        return
    steered, seen = [], set()
    for entry in body["lines"]:
        if not isinstance(entry, dict):
            continue
        line = next((item for item in lines if item["id"] == entry.get("line")), None)
        line = line or _pick(lines, entry.get("line"))
        if line["id"] in seen:
            continue
        seen.add(line["id"])
        entry["line"] = line["id"]
        name, most = "quantity", Decimal(line["quantity"])
        if move == "deliver":
            name, most = "accepted_quantity", Decimal(line["confirmed_quantity"] or most)
        value = _as_decimal(entry.get(name))
        if value is not None and value > most:
            entry[name] = str(most)
        if move == "deliver" and _as_decimal(entry.get(name)) == most:
            entry["issue"] = ""
        elif move == "deliver" and not str(entry.get("note", "")).strip():
            entry["note"] = "less arrived"
        steered.append(entry)
    if move == "confirm" and len(steered) == len(lines):
        if all(_as_decimal(entry.get("quantity")) == 0 for entry in steered):
            steered[0]["quantity"] = lines[0]["quantity"]
    body["lines"] = steered


def _resource(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/", 1)[0]


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    # Generated values can be shared between cases and mapped again: steer copies.
    for part in ("body", "query", "headers", "path_parameters"):
        setattr(case, part, copy.deepcopy(getattr(case, part)))
    path_id = None
    if case.path_parameters and "id" in case.path_parameters:
        resource = _resource(case.operation.path)
        path_id = _real(resource, case.path_parameters["id"])
        in_use = WORLD.get("in_use", {}).get(resource) or []
        spare = [i for i in _ids(resource) if i not in in_use]
        if case.method.upper() in ("PUT", "PATCH", "DELETE") and spare and path_id in in_use:
            path_id = _pick(spare, path_id)
        case.path_parameters["id"] = path_id
    if case.path_parameters and "prefix" in case.path_parameters:  # a partner key's
        case.path_parameters["prefix"] = _real("partner-keys", case.path_parameters["prefix"])
    if case.path_parameters and "fulfilment" in case.path_parameters:  # a delivery note's
        case.path_parameters["fulfilment"] = _real(
            "fulfilments", case.path_parameters["fulfilment"]
        )
    if isinstance(case.query, dict):
        _steer_ids(case.query)  # filters by id (?listing=, ?organisation=)
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str):
        # Schemathesis reuses generated keys across bodies (a 422 each time): one key per
        # request, so a key reused is the same request replayed.
        request = json.dumps([case.formatted_path, case.body], sort_keys=True, default=str)
        case.headers["Idempotency-Key"] = f"{key[:200]}-{zlib.crc32(request.encode()):08x}"
    if case.operation.path == "/api/v1/auth/token/" and isinstance(case.body, dict):
        # Credentials are the database's: a generated phone and password name nobody.
        case.body.update(WORLD.get("login", {}))
    else:
        _steer_body(case, path_id)
    return case


# --- diagnosis ----------------------------------------------------------------------------------
REFUSALS_LOG = os.environ.get("FUZZ_REFUSALS_LOG")


@schemathesis.hook
def after_call(context, case, response):
    """With FUZZ_REFUSALS_LOG set, write every refusal of positive data to that file."""
    if not REFUSALS_LOG or case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code < 400 or response.status_code in (401, 403, 409, 429):
        return
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        error = {"code": "not json"}
    with open(REFUSALS_LOG, "a") as log:
        entry = {
            "role": WORLD.get("role"),
            "operation": _operation(case),
            "status": response.status_code,
            "code": error.get("code"),
            "fields": error.get("fields"),
            "body": case.body if isinstance(case.body, dict | list) else None,
        }
        log.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
